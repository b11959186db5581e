//! `ebl witness` as an operator runs it: `ebl witness key` prints the cosigner verifier key, and
//! the real binary serves add-checkpoint on 127.0.0.1 (a ledger checkpoint is cosigned, a stale
//! one gets 409 with the size), keeping its state in --state-dir across a restart.
use crate::common;

use common::*;
use ebl_core::log::witness::{parse_cosignatures, AddCheckpoint};
use ebl_core::log::{KeyKind, VerifierKey};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};

fn ebl() -> Command {
    Command::new(ebl_bin())
}

/// Starts `ebl witness` on a free port; returns the child and its base URL.
fn start_witness(key: &std::path::Path, log_key: &str, state: &std::path::Path) -> (Child, String) {
    let mut child = ebl()
        .args(["witness", "--listen", "127.0.0.1:0", "--name", "witness.example/w1", "--log", log_key])
        .arg("--key")
        .arg(key)
        .arg("--state-dir")
        .arg(state)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    // "ebl witness listening on 127.0.0.1:PORT as KEY"
    let addr = line.split_whitespace().nth(4).unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    (child, format!("http://{addr}"))
}

fn stop(mut child: Child) {
    // SIGTERM by pid, the way an operator stops it.
    Command::new("kill").arg(child.id().to_string()).status().unwrap();
    assert!(child.wait().unwrap().code().is_some(), "the witness exits cleanly on SIGTERM");
}

async fn post(url: &str, body: String) -> ebl_ledger::witness::client::HttpAnswer {
    let url = ebl_ledger::witness::client::Endpoint::new(url, None).unwrap();
    ebl_ledger::witness::client::add_checkpoint(&url, body, std::time::Duration::from_secs(10)).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_witness_binary_cosigns_and_keeps_its_state() {
    let mut l = TestLedger::start().await;
    journey_cast(&mut l).await;
    let view = l.checkpoint_of_size(8).await;
    let log_key = l.log_key().await.to_string();
    let dir = tempfile::tempdir().unwrap();
    let (key, state) = (dir.path().join("w1.key"), dir.path().join("state"));
    assert!(ebl().arg("keygen").arg("--out").arg(&key).output().unwrap().status.success());

    let out = ebl().args(["witness", "key", "--name", "witness.example/w1", "--key"]).arg(&key).output().unwrap();
    assert!(out.status.success());
    let printed = String::from_utf8(out.stdout).unwrap();
    let wkey = VerifierKey::parse(printed.trim_end()).unwrap();
    assert_eq!((wkey.name(), wkey.kind()), ("witness.example/w1", KeyKind::CosignatureV1));
    let secret = ebl_ledger::cli::keys::load(&key).unwrap();
    assert_eq!(wkey, VerifierKey::from_signing_key("witness.example/w1", KeyKind::CosignatureV1, &secret).unwrap());

    let (child, url) = start_witness(&key, &log_key, &state);
    let a = post(&url, AddCheckpoint::body(0, &[], &view.note)).await;
    assert_eq!(a.status, 200, "{a:?}");
    let body = &view.note[..view.note.find("\n\n").unwrap() + 1];
    assert_eq!(parse_cosignatures(body, &a.body, &wkey).unwrap().len(), 1);
    // Other paths and methods.
    let addr = url.trim_start_matches("http://").to_string();
    let raw = tokio::task::spawn_blocking(move || {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.write_all(b"GET /add-checkpoint HTTP/1.1\r\nHost: w\r\nConnection: close\r\n\r\n").unwrap();
        let mut r = String::new();
        s.read_to_string(&mut r).unwrap();
        r
    })
    .await
    .unwrap();
    assert!(raw.starts_with("HTTP/1.1 405"), "{raw}");
    stop(child);

    // Restarted on the same state: it remembers size 8.
    let (child, url) = start_witness(&key, &log_key, &state);
    let a = post(&url, AddCheckpoint::body(0, &[], &view.note)).await;
    assert_eq!((a.status, a.body.as_str()), (409, "8\n"));
    assert_eq!(post(&url, AddCheckpoint::body(8, &[], &view.note)).await.status, 200);
    stop(child);
}
