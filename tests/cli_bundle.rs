//! `ebl title --statement`, `ebl bundle` and `ebl verify` as a bank runs them: the statement file
//! is the signed note exactly; the bundle fetched by the bank verifies offline (no server) with
//! the key `ebl log key` printed, given as a string or as a file; a changed file, the wrong key
//! or a too old statement fail with exit status 3 and name what failed.
use crate::common;

use common::*;
use ebl_core::log::SignedNote;
use ebl_core::statement::TitleStatement;
use ebl_ledger::pb::{self, record_payload::Action};
use std::process::{Command, Output};

fn ebl(server: &str, args: &[&str]) -> Output {
    Command::new(ebl_bin()).arg("--server").arg(server).args(args).output().expect("run ebl")
}

fn ok(out: Output) -> String {
    assert!(out.status.success(), "ebl failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// A check that failed: exit status 3 (refused), as docs/operations.md "Exit codes" says.
fn failed(out: Output) -> String {
    assert_eq!(out.status.code(), Some(3), "ebl must fail a check: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stderr).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bank_fetches_a_bundle_and_verifies_it_offline() {
    let (mut l, bill) = ledger_with_routed_bill("CLIBUNDLE-1").await;
    let exporter = l.party("cq-machinery");
    l.client.act(&exporter, bill, Some("cq-bank"), Action::EndorseToOrder(pb::EndorseToOrder {})).await.unwrap();
    l.client.act(&exporter, bill, Some("cq-bank"), Action::Transfer(pb::Transfer {})).await.unwrap();
    let depart = Action::Depart(pb::Depart { leg: 0, containers: ilstc_boxes(), conveyance: None });
    l.client.custody(&l.party("cr-chongqing"), bill, None, depart, &[]).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let bank_key = dir.path().join("bank.key");
    ebl_ledger::server::write_secret_key(&bank_key, &l.party("cq-bank").key).unwrap();
    let (file, statement, key_file) =
        (dir.path().join("bill.bundle.json"), dir.path().join("title.note"), dir.path().join("log.key"));
    let url = l.url.clone();
    let id = bill.to_string();
    let key = l.client.verifier_key().unwrap();
    let (f, s, kf) = (file.clone(), statement.clone(), key_file.clone());
    tokio::task::spawn_blocking(move || {
        let p = |p: &std::path::Path| p.to_str().unwrap().to_string();
        let reader = ["--as", "cq-bank", "--key", &p(&bank_key)];
        let title = ok(ebl(&url, &[&["title", "--bill", &id, "--statement", &p(&s)][..], &reader[..]].concat()));
        assert!(title.contains("signed statement bound to checkpoint"), "{title}");
        let fetched = ok(ebl(&url, &[&["bundle", "--bill", &id, "--out", &p(&f)][..], &reader[..]].concat()));
        assert!(fetched.contains("written to"), "{fetched}");
        let log_key = ok(ebl(&url, &["log", "key"]));
        std::fs::write(&kf, &log_key).unwrap();
        let log_key = log_key.trim_end().to_string();

        // Offline: the server address is unreachable.
        let offline = "http://127.0.0.1:1";
        let verdict = ok(ebl(offline, &["verify", &p(&f), "--log-key", &log_key]));
        assert!(verdict.starts_with("VERIFIED: bill"), "{verdict}");
        assert!(
            verdict.contains("possessor    cq-bank (cq-bank Ltd") && verdict.contains("entitled     cq-bank ("),
            "{verdict}"
        );
        let json: serde_json::Value =
            serde_json::from_str(&ok(ebl(offline, &["--json", "verify", &p(&f), "--log-key", &p(&kf)]))).unwrap();
        assert_eq!((json["verified"].as_bool(), json["records"]["title"].as_u64()), (Some(true), Some(3)));

        // The wrong key, a changed byte, a too old statement: each fails and says what.
        let other =
            ebl_core::log::VerifierKey::from_signing_key(ORIGIN, ebl_core::log::KeyKind::Ed25519, &common::key())
                .unwrap();
        let e = failed(ebl(offline, &["verify", &p(&f), "--log-key", &other.to_string()]));
        assert!(e.contains("FAILED: checkpoint: signature"), "{e}");
        let text = std::fs::read_to_string(&f).unwrap();
        let mut bundle = ebl_ledger::bundle::Bundle::from_json(&text).unwrap();
        let i = bundle.records.iter().position(|r| r.action == "TRANSFER").unwrap();
        bundle.records[i].server_time = bundle.records[i].server_time.replacen('.', ",", 1);
        let bad = p(&f) + ".bad";
        std::fs::write(&bad, bundle.to_json()).unwrap();
        let e = failed(ebl(offline, &["verify", &bad, "--log-key", &log_key]));
        assert!(e.contains(&format!("FAILED: records[{i}]")) && e.contains("receipt server_time"), "{e}");
        std::fs::write(&bad, text.replacen("\"copy\": true", "\"copy\": false", 1)).unwrap();
        assert!(failed(ebl(offline, &["verify", &bad, "--log-key", &log_key])).contains("FAILED: bundle: copy"));
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let e = failed(ebl(offline, &["verify", &p(&f), "--log-key", &log_key, "--max-age", "0"]));
        assert!(e.contains("FAILED: title statement: age"), "{e}");
        // Requiring a witness this ledger never had: the checkpoint is not cosigned by it.
        let w = ebl_core::log::VerifierKey::from_signing_key(
            "witness.example/w1",
            ebl_core::log::KeyKind::CosignatureV1,
            &common::key(),
        )
        .unwrap()
        .to_string();
        let args = ["verify", &p(&f), "--log-key", &log_key, "--witness-key", &w, "--min-witnesses", "1"];
        let e = failed(ebl(offline, &args));
        assert!(e.contains("FAILED: checkpoint: witnesses"), "{e}");
    })
    .await
    .unwrap();

    // The statement file is the signed note exactly, and opens with the pinned key.
    let note = SignedNote::parse(&std::fs::read_to_string(&statement).unwrap()).unwrap();
    let st = TitleStatement::open(&note, &key).unwrap();
    assert_eq!((st.title.bill, st.title.possessor.as_str()), (bill, "cq-bank"));
}
