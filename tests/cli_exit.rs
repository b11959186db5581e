//! How `ebl` ends, as scripts see it: an exit status per class of failure (docs/operations.md
//! "Exit codes"), the error as one JSON object on standard error with `--json` and nothing on
//! standard output, a reader that goes away (`ebl ... | head`) ending it quietly, and the shell
//! completion scripts.
use crate::common;

use common::*;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn ebl(server: &str, args: &[&str]) -> Output {
    Command::new(ebl_bin()).arg("--server").arg(server).args(args).output().expect("run ebl")
}

/// The JSON error of a failed `ebl --json ...`, after checking its exit status, that it is the
/// one line on standard error and that nothing went to standard output.
fn json_error(out: &Output, exit: i32) -> Value {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(exit), "{stderr}");
    assert!(out.stdout.is_empty(), "nothing on standard output: {}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    let v: Value = serde_json::from_str(&stderr).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    let error = &v["error"];
    assert_eq!(error["exit"], exit, "{v}");
    for key in ["class", "code", "reason", "field", "message"] {
        assert!(error.get(key).is_some(), "{key} missing: {v}");
    }
    assert!(!error["message"].as_str().unwrap().is_empty(), "{v}");
    error.clone()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_class_of_failure_has_its_exit_status_and_json_shape() {
    let (l, _bill) = ledger_with_bill("CLIEXIT-1").await;
    let dir = tempfile::tempdir().unwrap();
    let key = |who: &str| {
        let file = dir.path().join(format!("{who}.key"));
        ebl_ledger::server::write_secret_key(&file, &l.party(who).key).unwrap();
        p(&file).to_string()
    };
    let (carrier, exporter, bank) = (key("cq-mto"), key("cq-machinery"), key("cq-bank"));
    let stranger = dir.path().join("stranger.key");
    ebl_ledger::server::write_secret_key(&stranger, &common::key()).unwrap();
    let stranger = p(&stranger).to_string();
    let doc = dir.path().join("doc.json");
    std::fs::write(&doc, with_reference(doc_json(ILSTC), "CLIEXIT-1")).unwrap();
    let doc = p(&doc).to_string();
    let url = l.url.clone();
    let bill = "cq-mto/CLIEXIT-1";

    tokio::task::spawn_blocking(move || {
        let run = |args: &[&str]| ebl(&url, &[&["--json"], args].concat());

        // 2, usage: clap's own errors, and a flag value the command cannot use.
        let e = json_error(&run(&["bill", "show", "--as", "cq-bank", "--key", &bank, "--bill", bill, "--bogus"]), 2);
        assert_eq!((e["class"].as_str(), &e["code"]), (Some("usage"), &Value::Null), "{e}");
        assert!(e["message"].as_str().unwrap().contains("--bogus"), "{e}");
        let e = json_error(&run(&["bill", "show", "--as", "cq-bank", "--key", &bank, "--bill", "not-a-bill"]), 2);
        assert!(e["message"].as_str().unwrap().starts_with("--bill not-a-bill"), "{e}");
        let plain = ebl(&url, &["bill", "pledge", "--as", "cq-machinery", "--key", &exporter, "--bill", bill]);
        assert_eq!(plain.status.code(), Some(2), "without --json too: {plain:?}");
        assert!(String::from_utf8_lossy(&plain.stderr).contains("--to"), "{plain:?}");

        // 3, refused by a rule: a rule of the bill's state, an identity in use, a malformed field.
        let args = ["bill", "accept-surrender", "--as", "cq-mto", "--key", &carrier, "--bill", bill];
        let e = json_error(&run(&args), 3);
        assert_eq!(
            (e["class"].as_str(), e["code"].as_str(), e["reason"].as_str()),
            (Some("refused"), Some("FAILED_PRECONDITION"), Some("NOTHING_SURRENDERED")),
            "{e}"
        );
        let args = ["bill", "issue", "--as", "cq-mto", "--key", &carrier, "--document", &doc, "--to", "cq-machinery"];
        let e = json_error(&run(&args), 3);
        assert_eq!((e["code"].as_str(), e["reason"].as_str()), (Some("ALREADY_EXISTS"), Some("BILL_EXISTS")), "{e}");
        let args = ["bill", "transfer", "--as", "cq-machinery", "--key", &exporter, "--bill", bill, "--to", "No Such"];
        let e = json_error(&run(&args), 3);
        assert_eq!((e["code"].as_str(), e["field"].as_str()), (Some("INVALID_ARGUMENT"), Some("recipient")), "{e}");

        // 4, not found: a bill that does not exist, and one the reader may not see.
        let args = ["bill", "show", "--as", "cq-bank", "--key", &bank, "--bill", "cq-mto/NO-SUCH-BILL"];
        let e = json_error(&run(&args), 4);
        assert_eq!((e["class"].as_str(), e["code"].as_str()), (Some("not_found"), Some("NOT_FOUND")), "{e}");
        json_error(&run(&["bill", "show", "--as", "cq-bank", "--key", &bank, "--bill", bill]), 4);

        // 5, permission: a party without the right to act, and a key the registry does not know.
        let args = ["bill", "transfer", "--as", "cq-mto", "--key", &carrier, "--bill", bill, "--to", "cq-bank"];
        let e = json_error(&run(&args), 5);
        assert_eq!(
            (e["class"].as_str(), e["code"].as_str(), e["reason"].as_str()),
            (Some("permission"), Some("PERMISSION_DENIED"), Some("NOT_POSSESSOR")),
            "{e}"
        );
        let args = ["bill", "show", "--as", "cq-machinery", "--key", &stranger, "--bill", bill];
        let e = json_error(&run(&args), 5);
        assert_eq!(e["code"].as_str(), Some("UNAUTHENTICATED"), "{e}");

        // The readable form says the same on one line, with no JSON.
        let args = ["bill", "transfer", "--as", "cq-mto", "--key", &carrier, "--bill", bill, "--to", "cq-bank"];
        let plain = ebl(&url, &args);
        let text = String::from_utf8_lossy(&plain.stderr);
        assert_eq!(plain.status.code(), Some(5), "{text}");
        assert!(text.starts_with("ebl: refused: PERMISSION_DENIED NOT_POSSESSOR: "), "{text}");
    })
    .await
    .unwrap();
}

#[test]
fn a_ledger_that_cannot_be_reached_is_unavailable() {
    // A port that was free a moment ago: nobody listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}");
    let e = json_error(&ebl(&url, &["--json", "info"]), 6);
    assert_eq!((e["class"].as_str(), &e["code"]), (Some("unavailable"), &Value::Null), "{e}");
    assert!(e["message"].as_str().unwrap().contains(&url), "names the URL: {e}");
    let plain = ebl(&url, &["log", "checkpoint"]);
    assert_eq!(plain.status.code(), Some(6), "{plain:?}");
    // A URL with no scheme is a usage error, before anything is tried.
    let e = json_error(&ebl(&format!("127.0.0.1:{port}"), &["--json", "info"]), 2);
    assert!(e["message"].as_str().unwrap().contains("http://HOST:PORT"), "{e}");
}

/// Runs `ebl args` with its standard output a pipe whose reader is already closed.
fn with_reader_gone(args: &[&str]) -> Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    Command::new(ebl_bin()).args(args).stdout(writer).stderr(Stdio::piped()).output().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_that_goes_away_ends_ebl_quietly() {
    let (l, _bill) = ledger_with_bill("CLIEXIT-2").await;
    let dir = tempfile::tempdir().unwrap();
    let holder = dir.path().join("holder.key");
    ebl_ledger::server::write_secret_key(&holder, &l.party("cq-machinery").key).unwrap();
    let url = l.url.clone();
    let new_key = dir.path().join("new.key");
    tokio::task::spawn_blocking(move || {
        let history = ["--server", &url, "bill", "history", "--as", "cq-machinery", "--key", p(&holder), "--bill"];
        for args in [
            vec!["--server", &url, "info"],
            vec!["--server", &url, "--json", "log", "checkpoint"],
            [&history[..], &["cq-mto/CLIEXIT-2"]].concat(),
            vec!["completion", "bash"],
            vec!["keygen", "--out", p(&new_key)],
        ] {
            let out = with_reader_gone(&args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(!stderr.contains("panicked") && out.status.code() != Some(101), "{args:?}: {stderr}");
            assert_eq!((out.status.code(), stderr.as_ref()), (Some(0), ""), "{args:?} ends quietly");
        }
        assert!(new_key.exists(), "the work is done even when nobody reads what it says");
    })
    .await
    .unwrap();
}

#[test]
fn completion_scripts_name_the_commands_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let out = Command::new(ebl_bin()).args(["completion", shell]).output().unwrap();
        assert!(out.status.success(), "{shell}: {}", String::from_utf8_lossy(&out.stderr));
        let script = String::from_utf8(out.stdout).unwrap();
        for word in ["ebl", "bill", "custody", "accept-surrender", "server", "completion"] {
            assert!(script.contains(word), "the {shell} script does not mention {word}");
        }
    }
    let out = Command::new(ebl_bin()).args(["completion", "tcsh"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "an unknown shell is a usage error");
}

#[test]
fn the_exit_code_table_in_the_docs_is_the_one_the_cli_applies() {
    use ebl_ledger::cli::error::answer_class;
    let docs = std::fs::read_to_string(format!("{}/docs/operations.md", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let section = docs.split("\n## Exit codes\n").nth(1).expect("an \"Exit codes\" section");
    let codes: Vec<tonic::Code> = (1..=16).map(tonic::Code::from_i32).collect();
    let mut seen = std::collections::BTreeSet::new();
    for row in section.lines().take_while(|l| !l.starts_with("## ")).filter(|l| l.starts_with("| ")) {
        let cells: Vec<&str> = row.split(" | ").collect();
        let Ok(exit) = cells[0].trim_start_matches("| ").parse::<u8>() else { continue };
        let class = cells[1].trim_matches('`');
        let named = cells.last().unwrap().trim_end_matches(" |");
        // A reason given in the cell (`*_TOO_LARGE`: one of them) is the reason asked with.
        let reason = named.split('`').nth(1).map(|r| r.replace('*', "MESSAGE"));
        for code in &codes {
            let (got, name) = answer_class(*code, reason.as_deref());
            if named.split(|c: char| !(c.is_ascii_uppercase() || c == '_')).any(|w| w == name) {
                assert_eq!((got.exit(), got.name()), (exit, class), "{name} in the row of {exit}");
                seen.insert(name);
            }
        }
    }
    let all: std::collections::BTreeSet<_> = codes.iter().map(|c| answer_class(*c, None).1).collect();
    assert_eq!(seen, all, "every gRPC code is in the table");
}
