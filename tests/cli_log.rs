//! `ebl log key|checkpoint|proof` as a user runs them: standard texts printed exactly, and a
//! record's tlog-proof that verifies offline with nothing but the printed verifier key.
use crate::common;

use common::*;
use ebl_core::log::{leaf_hash, LogEntry, TlogProof, VerifierKey};
use ebl_ledger::wire::entry::stored_entry;
use std::process::{Command, Output};

fn ebl(server: &str, args: &[&str]) -> Output {
    Command::new(ebl_bin()).arg("--server").arg(server).args(args).output().expect("run ebl")
}

fn ok(out: Output) -> String {
    assert!(out.status.success(), "ebl failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_exports_key_checkpoint_and_an_offline_proof() {
    let (mut l, _bill) = ledger_with_bill("CLILOG0001").await;
    let size = l.store().next_seq().unwrap();
    let view = l.checkpoint_of_size(size).await;
    let info = l.info().await;
    let issued = l.store().record(size - 1).unwrap().unwrap().to_pb().unwrap();
    let entry = stored_entry(&issued).unwrap();
    let url = l.url.clone();
    let (key, note, proof, unknown) = tokio::task::spawn_blocking(move || {
        let key = ok(ebl(&url, &["log", "key"]));
        let note = ok(ebl(&url, &["log", "checkpoint"]));
        let proof = ok(ebl(&url, &["log", "proof", "--record", &entry.record_hash.to_hex()]));
        let unknown = ebl(&url, &["log", "proof", "--record", &"ab".repeat(32)]);
        (key, note, proof, unknown)
    })
    .await
    .unwrap();

    assert_eq!(key, format!("{}\n", info.log_verifier_key));
    assert_eq!(note, view.note, "the signed note, byte for byte");

    // Offline: the printed key and the proof text alone.
    let key = VerifierKey::parse(key.trim_end()).unwrap();
    let parsed = TlogProof::parse(&proof).unwrap();
    assert_eq!(parsed.to_string(), proof, "strict c2sp.org/tlog-proof@v1 text");
    assert_eq!(parsed.index(), size - 1);
    assert_eq!(parsed.note().to_string(), view.note);
    // The extra data is the 80-byte log entry: it names the record, and hashes to the leaf.
    let extra = LogEntry::decode(parsed.extra()).unwrap();
    assert_eq!(extra, entry);
    let opened = parsed.verify(&leaf_hash(parsed.extra()), &key, &[]).unwrap();
    assert_eq!(opened.checkpoint.size(), size);
    // A tampered proof fails.
    let mut bad = TlogProof::parse(&proof).unwrap().to_string().into_bytes();
    let at = bad.iter().position(|&b| b == b'\n').unwrap() + 8;
    bad[at] = if bad[at] == b'A' { b'B' } else { b'A' };
    let bad = TlogProof::parse(std::str::from_utf8(&bad).unwrap());
    assert!(bad.map(|p| p.verify(&leaf_hash(p.extra()), &key, &[]).is_err()).unwrap_or(true));

    assert!(!unknown.status.success());
    let err = String::from_utf8_lossy(&unknown.stderr);
    assert!(err.contains("not found"), "{err}");
}
