//! The `ebl` and `ebld` binaries as a user runs them: keys, offline-signed registry records,
//! a bill issued from a DCSA file and moved, title verified, JSON output, readable refusals.
use crate::common;

use common::*;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

fn ebl(server: &str, args: &[&str]) -> Output {
    Command::new(ebl_bin()).arg("--server").arg(server).args(args).output().expect("run ebl")
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "ebl failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn json(out: Output) -> Value {
    serde_json::from_str(&ok(out)).unwrap()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_walks_a_bill_end_to_end() {
    let l = TestLedger::start().await;
    let url = l.url.clone();
    let keys = tempfile::tempdir().unwrap();
    let kdir = keys.path().to_path_buf();
    let k = move |name: &str| kdir.join(format!("{name}.key"));
    // The test ledger's operator key, written where the CLI can read it.
    ebl_ledger::server::write_secret_key(&k("operator"), &l.operator.key).unwrap();
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(k("operator")).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600, "secret key files are private");

    tokio::task::spawn_blocking(move || {
        for (party, role) in [("cq-mto", "CARRIER"), ("cq-machinery", "TRADER"), ("cq-bank", "BANK")] {
            let out = json(ebl(&url, &["--json", "keygen", "--out", p(&k(party))]));
            assert_eq!(out["public_key"].as_str().unwrap().len(), 64);
            ok(ebl(
                &url,
                &[
                    "operator",
                    "register-party",
                    "--key",
                    p(&k("operator")),
                    "--party",
                    party,
                    "--role",
                    role,
                    "--name",
                    party,
                    "--code",
                    &format!("GLEIF:{party}:LEI"),
                ],
            ));
            let pubfile = format!("{}.pub", p(&k(party)));
            ok(ebl(
                &url,
                &["operator", "add-key", "--key", p(&k("operator")), "--party", party, "--public-key", &pubfile],
            ));
        }
        // A single ledger says it is not a cluster.
        assert_eq!(json(ebl(&url, &["--json", "cluster", "status"])), serde_json::json!({ "clustered": false }));
        assert_eq!(ok(ebl(&url, &["cluster", "status"])).trim(), "not a cluster: a single ledger");
        // Offline: sign a registration against a stated registry head, then submit the file.
        let info = json(ebl(&url, &["--json", "info"]));
        let reg = json(ebl(&url, &["--json", "registry", "--as", "cq-bank", "--key", p(&k("cq-bank"))]));
        let last = reg["records"].as_array().unwrap().last().unwrap();
        let position = (last["position"].as_u64().unwrap() + 1).to_string();
        let rec = k("auditor").with_extension("rec");
        ok(ebl(
            "http://127.0.0.1:1",
            &[
                "operator",
                "register-party",
                "--key",
                p(&k("operator")),
                "--party",
                "auditor",
                "--role",
                "AUDITOR",
                "--name",
                "Auditor",
                "--position",
                &position,
                "--prev",
                last["record_hash"].as_str().unwrap(),
                "--origin",
                info["origin"].as_str().unwrap(),
                "--out",
                p(&rec),
            ],
        ));
        let receipt = json(ebl(&url, &["--json", "submit", p(&rec)]));
        assert_eq!((receipt["action"].as_str(), receipt["duplicate"].as_bool()), (Some("REGISTER_PARTY"), Some(false)));
        assert_eq!(json(ebl(&url, &["--json", "submit", p(&rec)]))["duplicate"], true);

        let doc = format!("{}/examples/documents/{ILSTC}.json", env!("CARGO_MANIFEST_DIR"));
        let r = json(ebl(
            &url,
            &[
                "--json",
                "bill",
                "issue",
                "--as",
                "cq-mto",
                "--key",
                p(&k("cq-mto")),
                "--document",
                &doc,
                "--to",
                "cq-machinery",
            ],
        ));
        assert_eq!(r["action"], "ISSUE");
        let bill = format!("cq-mto/{}", reference_of(&std::fs::read(&doc).unwrap()));
        let as_ = |who: &str| vec!["--as".to_string(), who.to_string(), "--key".into(), p(&k(who)).to_string()];
        let run = |args: Vec<String>| ok(ebl(&url, &args.iter().map(String::as_str).collect::<Vec<_>>()));
        run([
            vec!["bill".into(), "endorse".into()],
            as_("cq-machinery"),
            vec!["--bill".into(), bill.clone(), "--to".into(), "cq-bank".into(), "--to-order".into()],
        ]
        .concat());
        run([
            vec!["bill".into(), "transfer".into()],
            as_("cq-machinery"),
            vec!["--bill".into(), bill.clone(), "--to".into(), "cq-bank".into()],
        ]
        .concat());
        let title = run([vec!["title".into()], as_("cq-bank"), vec!["--bill".into(), bill.clone()]].concat());
        assert!(
            title.contains("possessor  cq-bank (")
                && title.contains("entitled   cq-bank (")
                && title.contains("chain verified: true"),
            "{title}"
        );
        let t: Value = serde_json::from_str(&run([
            vec!["--json".into(), "title".into()],
            as_("cq-bank"),
            vec!["--bill".into(), bill.clone()],
        ]
        .concat()))
        .unwrap();
        assert_eq!(
            (t["bill"]["possessor"]["id"].as_str(), t["chain_verified"].as_bool(), t["records_checked"].as_u64()),
            (Some("cq-bank"), Some(true), Some(3))
        );
        let history: Value = serde_json::from_str(&run([
            vec!["--json".into(), "bill".into(), "history".into()],
            as_("cq-bank"),
            vec!["--bill".into(), bill.clone()],
        ]
        .concat()))
        .unwrap();
        let actions: Vec<_> =
            history.as_array().unwrap().iter().map(|r| r["action"].as_str().unwrap().to_string()).collect();
        assert_eq!(actions, ["ISSUE", "ENDORSE_TO_ORDER", "TRANSFER"]);
        let show = run(
            [vec!["bill".into(), "show".into()], as_("cq-machinery"), vec!["--bill".into(), bill.clone()]].concat()
        );
        assert!(show.contains("possessor  cq-bank"), "{show}");

        // A refusal is readable: code, reason and message, and the exit status of its class.
        let args = [
            vec!["bill".into(), "transfer".into()],
            as_("cq-machinery"),
            vec!["--bill".into(), bill.clone(), "--to".into(), "cq-bank".into()],
        ]
        .concat();
        let out = ebl(&url, &args.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(out.status.code(), Some(5));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("PERMISSION_DENIED") && err.contains("NOT_POSSESSOR"), "{err}");
    })
    .await
    .unwrap();
}

#[test]
fn ebld_refuses_to_serve_without_init_and_init_twice() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let keyfile = dir.path().join("op.key");
    let op = ebl_ledger::cli::keys::keygen(&keyfile).unwrap();
    let ebld = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_ebld")).args(args).env("EBL_DATA_DIR", &data).output().unwrap()
    };
    let out = ebld(&["--listen", "127.0.0.1:0"]);
    assert!(!out.status.success());
    // No silent default origin: it names the log forever.
    let out = ebld(&["init", "--operator-key", &op.to_hex()]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("--origin"), "{out:?}");
    assert!(!data.join("ledger.key").exists(), "nothing is created without an origin");
    assert!(String::from_utf8_lossy(&out.stderr).contains("ebld init"), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!data.join("ledger.key").exists(), "no key is created silently");
    let out = ebld(&["init", "--operator-key", &op.to_hex(), "--origin", "t.example/ebl"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(data.join("ledger.key").exists());
    let out = ebld(&["init", "--operator-key", &op.to_hex()]);
    assert!(!out.status.success(), "a second init is refused");
    // Serving with another operator key than the one recorded is refused.
    let other = ebl_ledger::cli::keys::keygen(&dir.path().join("other.key")).unwrap();
    let out = ebld(&["--listen", "127.0.0.1:0", "--operator-key", &other.to_hex()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not the operator key"));
}

/// Starts `ebld` on a free port over `data` (initialised), with its standard error piped; returns
/// it and its URL, read from the line it prints first.
fn spawn_ebld(data: &Path, op_pub: &str, args: &[&str]) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_ebld"))
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .env("EBL_DATA_DIR", data)
        .env("EBL_OPERATOR_KEY", op_pub)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    let addr = first.split_whitespace().nth(3).expect("ebld prints its address");
    (child, format!("http://{addr}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ebld_serves_and_stops_gracefully_on_sigterm_keeping_what_it_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let op_key = ebl_ledger::client::Identity::new("operator", key());
    let op_pub = hex::encode(op_key.public());
    let init = Command::new(env!("CARGO_BIN_EXE_ebld"))
        .args(["init", "--origin", "t.example/ebl", "--operator-key", &op_pub])
        .env("EBL_DATA_DIR", &data)
        .output()
        .unwrap();
    assert!(init.status.success());
    let (child, url) = spawn_ebld(&data, &op_pub, &["--log-format", "json"]);
    let mut c = ebl_ledger::client::Client::connect(url).await.unwrap();
    let r = c
        .operator(
            &op_key,
            ebl_ledger::client::register_party("cq-mto", "CQ MTO", ebl_ledger::pb::Role::Carrier, &[], vec![]),
        )
        .await
        .unwrap();
    assert_eq!(r.seq, 0);
    drop(c);
    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    // Wait off the runtime so the client side can still answer the server's HTTP/2 goodbye.
    let out = tokio::task::spawn_blocking(move || child.wait_with_output()).await.unwrap().unwrap();
    assert!(out.status.success(), "ebld exits cleanly on SIGTERM");
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("shutdown signal received") && log.contains("stopped"), "{log}");
    assert!(log.lines().all(|l| l.starts_with('{')), "json logs: {log}");
    assert!(!log.contains("drain deadline"), "an idle client does not hold the shutdown: {log}");
    // What was acknowledged is there after the stop.
    let ledger = ebl_ledger::server::Ledger::open(&data, None).unwrap();
    assert_eq!(ledger.store().next_seq().unwrap(), 1);
}

/// Runs a script of `scripts/` against its own ebld (on a free port, in a temporary folder) with
/// the binaries under test; returns its output, after asserting it succeeded. The scripts stop
/// with FAILED at the first step that does not go as the journey says.
fn run_script(name: &str) -> String {
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_ebld")).parent().unwrap().to_path_buf();
    assert!(bin.join("ebld").exists());
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new("bash")
        .arg(format!("{}/scripts/{name}", env!("CARGO_MANIFEST_DIR")))
        .env("EBL_BIN", &bin)
        .env("EBL_DEMO_DIR", dir.path().join("run"))
        .env("EBL_DEMO_PORT", "0")
        .env_remove("EBL_SERVER")
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{text}");
    text
}

#[test]
fn reference_journey_1_runs_with_the_cli_and_the_carriers_agent_accepts_the_surrender() {
    let text = run_script("demo.sh");
    assert!(text.contains("demo done"), "{text}");
    for seen in [
        "NOT_POSSESSOR",
        "HANDOFF MAY PROCEED at CNQZH (end of leg 0)",
        "were handed over at the end of leg 0",
        "DELIVERY STOPPED at SGSIN (end of leg 1, the last): CUSTOMS_HOLD",
        "DELIVERY MAY PROCEED at SGSIN",
        "container CQLU4518208\n  bill cq-mto/CLSC25CKGSIN000187/0 ACCOMPLISHED",
        "now DELIVERED on leg 1 with bbw-shipping at SGSIN",
        "CLSC25CKGSIN000187 #2 HANDOFF handed over at CNQZH at the end of leg 0 (CNCKG -> CNQZH) to bbw-shipping",
        "#5 CUSTOMS_HOLD HOLD, declaration SG2025-778812: inspection",
        "by sg-customs, signed by sg-customs",
        "SEAL_MISMATCH",
        "accepted HANDOFF",
        "CUSTOMS_HOLD",
        "OUTSIDE_DELEGATION",
        "accepted SACC",
        "by cq-mto (signed by its agent sg-agency)",
        "accepted DELIVER",
        "delivered  to sg-buyer",
        "VERIFIED: bill",
        "VERIFIED: title statement of bill",
    ] {
        assert!(text.contains(seen), "{seen} missing from the demo's output:\n{text}");
    }
}

#[test]
fn reference_journeys_2_to_5_run_with_the_cli() {
    let text = run_script("journeys.sh");
    assert!(text.contains("journeys 2-5 done"), "{text}");
    for seen in [
        "PLEDGED",
        "accepted SACC",
        "accepted ENFORCE_PLEDGE",
        "replaced by amendment",
        "CQMTO-PAPER-000190",
        "KEY_REVOKED",
        "accepted REJECT",
    ] {
        assert!(text.contains(seen), "{seen} missing from the journeys' output:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_restore_and_recover_with_the_commands() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let op_key = ebl_ledger::client::Identity::new("operator", key());
    let op_secret = dir.path().join("operator.key");
    ebl_ledger::server::write_secret_key(&op_secret, &op_key.key).unwrap();
    let op_pub = hex::encode(op_key.public());
    let ebld = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_ebld"))
            .args(args)
            .env("EBL_DATA_DIR", &data)
            .env("EBL_OPERATOR_KEY", &op_pub)
            .output()
            .unwrap()
    };
    ok(ebld(&["init", "--origin", "t.example/ebl"]));
    let (child, url) = spawn_ebld(&data, &op_pub, &[]);
    let mut c = ebl_ledger::client::Client::connect(url.clone()).await.unwrap();
    let register = |p: &str| ebl_ledger::client::register_party(p, p, ebl_ledger::pb::Role::Carrier, &[], vec![]);
    c.operator(&op_key, register("cq-mto")).await.unwrap();
    // An online backup, then a record it does not hold.
    let backup = dir.path().join("backup");
    let out = ok(ebl(&url, &["backup", "--key", p(&op_secret), "--to", p(&backup)]));
    assert!(out.contains("backed up 1 records"), "{out}");
    c.operator(&op_key, register("sg-carrier")).await.unwrap();
    let out = ok(ebl(&url, &["audit", "--as", "operator", "--key", p(&op_secret)]));
    assert!(out.starts_with("clean: 2 records re-verified and replayed"), "{out}");
    // Wait for the checkpoint that publishes it.
    while c.grpc.get_info(ebl_ledger::pb::GetInfoRequest {}).await.unwrap().into_inner().checkpoint_size < 2 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    drop(c);
    let busy = ebld(&["backup", "--to", p(&dir.path().join("busy"))]);
    assert!(!busy.status.success() && String::from_utf8_lossy(&busy.stderr).contains("in use"), "{busy:?}");
    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    let out = tokio::task::spawn_blocking(move || child.wait_with_output()).await.unwrap().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let out = ok(ebld(&["restore", "--from", p(&backup)]));
    assert!(out.contains("restored 1 records") && out.contains("will start halted"), "{out}");
    let kept = out.lines().find_map(|l| l.strip_prefix("the database it replaced is kept in ")).unwrap().to_string();
    let out = ok(ebld(&["recover", "--from", &kept]));
    assert!(out.contains("took back 1 records; the tree has 2 and extends the published checkpoint of 2"), "{out}");
    let out = ok(ebld(&["backup", "--to", p(&dir.path().join("offline"))]));
    assert!(out.contains("backed up 2 records (checkpoint 2)"), "{out}");
    let out = ok(ebld(&["audit"]));
    assert!(out.contains("clean: 2 records") && out.contains("extends checkpoint 2"), "{out}");
    let out = ok(ebld(&["audit", "--folder", p(&backup)]));
    assert!(out.contains("clean: 1 records"), "{out}");
}
