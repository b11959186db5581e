//! Configuration files: `ebld --config FILE` takes its flags' defaults from TOML (data folder
//! relative to the file), `ebl` takes a profile's server, party and key file (kubectl-like
//! contexts, `ebl config use`), and flags and `EBL_*` variables win over the file; a key that
//! is no setting is refused with exit 2, naming it.
use crate::common;

use common::*;
use std::io::BufRead;
use std::process::{Command, Output, Stdio};

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ebl_profiles_name_the_server_party_and_key_and_flags_win() {
    let (l, _bill) = ledger_with_bill("CONFIG-0001").await;
    let dir = tempfile::tempdir().unwrap();
    ebl_ledger::server::write_secret_key(&dir.path().join("exporter.key"), &l.party("cq-machinery").key).unwrap();
    let file = dir.path().join("config.toml");
    std::fs::write(
        &file,
        format!(
            "# the bank's desk\nprofile = \"bank\"\n\n[profiles.bank]\nserver = \"{}\"\nas = \"cq-machinery\"\nkey = \"exporter.key\"\n\n\
             [profiles.nowhere]\nserver = \"http://127.0.0.1:9\"\n",
            l.url
        ),
    )
    .unwrap();
    let f = file.to_str().unwrap().to_string();
    tokio::task::spawn_blocking(move || {
        let ebl = |args: &[&str]| {
            let mut c = Command::new(ebl_bin());
            c.env_remove("EBL_SERVER").env_remove("EBL_PROFILE").env("EBL_CONFIG", &f).args(args);
            c
        };
        // The profile gives the server, the party and its key file (relative to the file).
        let out = ebl(&["bill", "show", "--bill", "cq-mto/CONFIG-0001"]).output().unwrap();
        assert!(out.status.success(), "{}", text(&out));
        assert!(String::from_utf8_lossy(&out.stdout).contains("CONFIG-0001"), "{}", text(&out));
        // A bill that is not there is named as typed, with its id, and the reason said once.
        let out = ebl(&["bill", "show", "--bill", "cq-mto/NO-SUCH-BILL"]).output().unwrap();
        assert_eq!(out.status.code(), Some(4), "{}", text(&out));
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(said.contains("cq-mto/NO-SUCH-BILL (") && !said.contains("NOT_FOUND NOT_FOUND"), "{said}");
        // Another profile, by flag or variable: nobody listens there (exit 6).
        let out = ebl(&["--profile", "nowhere", "info"]).output().unwrap();
        assert_eq!(out.status.code(), Some(6), "{}", text(&out));
        let out = ebl(&["info"]).env("EBL_PROFILE", "nowhere").output().unwrap();
        assert_eq!(out.status.code(), Some(6), "{}", text(&out));
        // A flag and a variable win over the profile.
        let out = ebl(&["--profile", "nowhere", "--server", "http://127.0.0.1:9", "info"]).output().unwrap();
        assert_eq!(out.status.code(), Some(6));
        let out = ebl(&["info"]).env("EBL_SERVER", "http://127.0.0.1:9").output().unwrap();
        assert_eq!(out.status.code(), Some(6), "EBL_SERVER wins over the file: {}", text(&out));
        // `ebl config use` changes the default profile and keeps the file's comments.
        let out = ebl(&["config", "use", "nowhere"]).output().unwrap();
        assert!(out.status.success(), "{}", text(&out));
        let kept = std::fs::read_to_string(&f).unwrap();
        assert!(kept.contains("# the bank's desk") && kept.contains("profile = \"nowhere\""), "{kept}");
        assert_eq!(ebl(&["info"]).output().unwrap().status.code(), Some(6));
        let out = ebl(&["--json", "config", "show"]).output().unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            (v["profile"].as_str(), v["settings"]["server"].as_str()),
            (Some("nowhere"), Some("http://127.0.0.1:9"))
        );
        // No such profile, or a key that is no setting: exit 2, naming it.
        let out = ebl(&["--profile", "tokyo", "info"]).output().unwrap();
        assert!(out.status.code() == Some(2) && text(&out).contains("no profile 'tokyo'"), "{}", text(&out));
        let out = ebl(&["config", "use", "tokyo"]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        std::fs::write(&f, "profile = \"x\"\n[profiles.x]\nsevrer = \"http://127.0.0.1:9\"\n").unwrap();
        let out = ebl(&["info"]).output().unwrap();
        assert!(out.status.code() == Some(2) && text(&out).contains("'sevrer' is not a setting"), "{}", text(&out));
    })
    .await
    .unwrap();
}

#[test]
fn ebld_takes_its_settings_from_a_file_and_flags_win() {
    let dir = tempfile::tempdir().unwrap();
    let op = hex::encode(key().verifying_key().to_bytes());
    let file = dir.path().join("ebld.toml");
    std::fs::write(
        &file,
        format!("data-dir = \"data\"\noperator-key = \"{op}\"\norigin = \"t.example/ebl\"\nlisten = \"127.0.0.1:0\"\n"),
    )
    .unwrap();
    let ebld = |args: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_ebld"));
        c.env_remove("EBL_DATA_DIR").env_remove("EBL_LISTEN").arg("--config").arg(&file).args(args);
        c
    };
    // init reads the origin and the data folder (relative to the file) from it.
    let out = ebld(&["init"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(dir.path().join("data/ledger.key").exists());
    let mut child = ebld(&[]).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    assert!(first.starts_with("ebld listening on 127.0.0.1:") && first.contains("origin 't.example/ebl'"), "{first}");
    child.kill().unwrap();
    child.wait().unwrap();
    // A flag wins over the file: another data folder holds no ledger.
    let out = ebld(&["--data-dir", dir.path().join("elsewhere").to_str().unwrap()]).output().unwrap();
    assert!(!out.status.success() && text(&out).contains("ebld init"), "{}", text(&out));
    // A key that is no setting.
    std::fs::write(&file, "data-dir = \"data\"\nlisten-address = \"127.0.0.1:0\"\n").unwrap();
    let out = ebld(&[]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("'listen-address' is not a setting"), "{}", text(&out));
}
