//! `ebl monitor` as an auditor runs it, against the real ledger on 127.0.0.1: it reports
//! consistent growth across polls and across runs (its `--state` file), requires k witness
//! cosignatures when asked, and on a fork (a second ledger with the same key and origin and
//! another history) or a signature that does not verify, says exactly what failed and exits
//! non-zero.
use crate::common;

use common::*;
use ebl_ledger::pb;
use std::path::Path;
use std::process::{Command, Output};

fn monitor(server: &str, args: &[&str]) -> Output {
    Command::new(ebl_bin())
        .args(["--server", server, "monitor", "--interval", "0.2"])
        .args(args)
        .output()
        .expect("run ebl monitor")
}

async fn run(server: &str, args: Vec<String>) -> (bool, String, String) {
    let server = server.to_string();
    let out =
        tokio::task::spawn_blocking(move || monitor(&server, &args.iter().map(String::as_str).collect::<Vec<_>>()))
            .await
            .unwrap();
    (out.status.success(), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

fn args(key: &str, state: &Path, count: u32, extra: &[String]) -> Vec<String> {
    let mut v = vec![
        "--log-key".to_string(),
        key.to_string(),
        "--state".into(),
        state.display().to_string(),
        "--count".into(),
        count.to_string(),
    ];
    v.extend_from_slice(extra);
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_monitor_follows_consistent_growth_with_k_witnesses_across_runs() {
    let mut l = TestLedger::start().await;
    let key = l.log_key().await;
    let w1 = TestWitness::start("witness.example/w1", vec![key.clone()]).await;
    let w2 = TestWitness::start("witness.example/w2", vec![key.clone()]).await;
    let mut l = l.with_witnesses(vec![w1.target(), w2.target()]).await;
    journey_cast(&mut l).await;
    l.cosigned_checkpoint(8, 2).await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("monitor.state");
    let witnesses: Vec<String> = [&w1, &w2]
        .iter()
        .flat_map(|w| ["--witness-key".to_string(), w.verifier_key().to_string()])
        .chain(["--min-witnesses".to_string(), "2".to_string()])
        .collect();

    let (ok, out, err) = run(&l.url, args(&key.to_string(), &state, 2, &witnesses)).await;
    assert!(ok, "{out}\n{err}");
    assert!(out.contains("poll 1: checkpoint size 8"), "{out}");
    assert!(out.contains("cosigned by witness.example/w1, witness.example/w2"), "{out}");
    assert!(out.contains("first checkpoint seen"), "{out}");
    assert!(out.contains("poll 2: checkpoint size 8") && out.contains("unchanged"), "{out}");

    // The ledger grows; a later run starts from the state and checks the consistency proof.
    l.register("sg-customs", pb::Role::Customs, vec![], &["SG"]).await;
    l.register("cn-customs-qz", pb::Role::Customs, vec![], &["CNQZH"]).await;
    l.cosigned_checkpoint(12, 2).await;
    let (ok, out, err) = run(&l.url, args(&key.to_string(), &state, 1, &witnesses)).await;
    assert!(ok, "{out}\n{err}");
    assert!(out.contains("last seen (from state): size 8"), "{out}");
    assert!(out.contains("poll 1: checkpoint size 12") && out.contains("consistent with size 8 seen before"), "{out}");

    // Requiring a witness the ledger does not push to fails, naming the shortfall.
    let w3 = TestWitness::start("witness.example/w3", vec![key.clone()]).await;
    let extra = vec!["--witness-key".into(), w3.verifier_key().to_string(), "--min-witnesses".into(), "1".into()];
    let (ok, out, err) = run(&l.url, args(&key.to_string(), &state, 1, &extra)).await;
    assert!(!ok, "{out}");
    assert!(err.contains("witness cosignatures") && err.contains("0 of the required 1"), "{err}");
    // So does another key under the ledger's name.
    let impostor =
        ebl_core::log::VerifierKey::from_signing_key(ORIGIN, ebl_core::log::KeyKind::Ed25519, &common::key())
            .unwrap()
            .to_string();
    let (ok, _, err) = run(&l.url, args(&impostor, &dir.path().join("other"), 1, &[])).await;
    assert!(!ok);
    assert!(err.contains("does not verify") && err.contains(ORIGIN), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_monitor_detects_a_fork_under_the_same_key_and_origin() {
    let mut l = TestLedger::start().await;
    journey_cast(&mut l).await;
    l.checkpoint_of_size(8).await;
    let key = l.log_key().await.to_string();
    // Two ledgers from one data folder: same key, same origin, same first 8 records.
    let (mut a, mut b) = l.twin().await;
    a.register("sg-customs", pb::Role::Customs, vec![], &["SG"]).await;
    b.register("de-importer", pb::Role::Trader, lei("DEIMP000000000000005"), &[]).await;
    a.checkpoint_of_size(10).await;
    b.checkpoint_of_size(10).await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("monitor.state");

    let (ok, out, err) = run(&a.url, args(&key, &state, 1, &[])).await;
    assert!(ok, "{out}\n{err}");
    assert!(out.contains("poll 1: checkpoint size 10"), "{out}");
    let seen = std::fs::read_to_string(&state).unwrap();

    // The twin at the same size: another root.
    let (ok, out, err) = run(&b.url, args(&key, &state, 3, &[])).await;
    assert!(!ok, "{out}");
    assert!(out.contains("poll 1: FAILED: fork: the checkpoint of size 10 has root"), "{out}");
    assert!(err.contains("fork"), "{err}");
    assert_eq!(std::fs::read_to_string(&state).unwrap(), seen, "a failed poll does not move the state");

    // The twin larger: its consistency proof from 10 does not match the root seen.
    b.register("cn-customs-qz", pb::Role::Customs, vec![], &["CNQZH"]).await;
    b.checkpoint_of_size(12).await;
    let (ok, out, err) = run(&b.url, args(&key, &state, 1, &[])).await;
    assert!(!ok, "{out}");
    assert!(err.contains("the checkpoint of size 12 is not consistent with the checkpoint of size 10"), "{err}");

    // The honest ledger keeps passing.
    a.register("cq-customs", pb::Role::Customs, vec![], &["CNCKG"]).await;
    a.checkpoint_of_size(12).await;
    let (ok, out, err) = run(&a.url, args(&key, &state, 1, &[])).await;
    assert!(ok, "{out}\n{err}");
    assert!(out.contains("consistent with size 10 seen before"), "{out}");
}
