//! The on-disk format is versioned. A database of another version is refused at start with a
//! clear error, never read. A database written by format version 1 (`tests/fixtures/ledger-v1`,
//! made once with `EBL_WRITE_FIXTURE=1 cargo test --test format`, never rewritten after) opens
//! and reads identically in this and every later version: its stored records byte for byte, its
//! leaf hashes and roots, its bills as GetBill shows them (the golden dump next to it), a proof
//! bundle that verifies, and a clean audit.
use crate::common;

use common::*;
use ebl_core::ids::BillId;
use ebl_ledger::client::Identity;
use ebl_ledger::server::Ledger;
use ebl_ledger::store::keys::{self, Meta};
use ebl_ledger::store::Store;
use std::fmt::Write;
use std::path::{Path, PathBuf};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ledger-v1")
}

fn golden() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ledger-v1.dump")
}

/// What a version must read from the fixture: every stored record (protobuf bytes), every leaf
/// hash, the root at every size, and each bill as the operator's GetBill shows it.
async fn dump(l: &mut TestLedger) -> String {
    let store = l.store_handle();
    let size = store.next_seq().unwrap();
    let mut out = String::new();
    writeln!(out, "origin {}", l.client.origin()).unwrap();
    writeln!(out, "size {size}").unwrap();
    let leaves = store.leaf_hashes(0, size).unwrap();
    for seq in 0..size {
        let record = prost::Message::encode_to_vec(&store.record(seq).unwrap().unwrap());
        writeln!(out, "record {seq} {}", hex::encode(record)).unwrap();
        writeln!(out, "leaf {seq} {}", leaves[seq as usize]).unwrap();
        writeln!(out, "root {} {}", seq + 1, store.tree_root(seq + 1).unwrap()).unwrap();
    }
    let op = l.operator.clone();
    for (id, _) in store.entries(keys::CF_BILLS).map(Result::unwrap) {
        let id = BillId(ebl_core::hash::Hash32(id.as_ref().try_into().unwrap()));
        let view = l.client.bill(&op, id).await.unwrap();
        writeln!(out, "bill {}", ebl_ledger::cli::output::bill_json(&view)).unwrap();
    }
    out
}

/// A copy of the fixture's data folder, served, read as its operator.
async fn serve_fixture() -> (TestLedger, Vec<BillId>) {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture(), dir.path());
    let key = ebl_ledger::server::read_secret_key(&dir.path().join("operator.key")).unwrap();
    let operator = Identity { party: ebl_core::ids::PartyId::operator(), key };
    let l = TestLedger::open_folder(dir, operator).await;
    let bills = l
        .store()
        .entries(keys::CF_BILLS)
        .map(|e| BillId(ebl_core::hash::Hash32(e.unwrap().0.as_ref().try_into().unwrap())))
        .collect();
    (l, bills)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_version_1_fixture_opens_and_reads_identically() {
    if std::env::var_os("EBL_WRITE_FIXTURE").is_some() {
        write_fixture().await;
    }
    let (mut l, bills) = serve_fixture().await;
    assert_eq!(l.store().schema_version().unwrap(), Some(1));
    assert_eq!(dump(&mut l).await, std::fs::read_to_string(golden()).unwrap(), "the fixture reads as it did");
    // Its proof bundles verify offline, and the audit finds it clean.
    let key = l.log_key().await;
    let op = l.operator.clone();
    assert!(!bills.is_empty());
    for bill in &bills {
        let bundle = ebl_ledger::bundle::Bundle::from_json(&l.client.proof_bundle(&op, *bill).await.unwrap()).unwrap();
        ebl_ledger::bundle::verify::verify(&bundle, &key, ebl_core::time::Timestamp::now()).unwrap();
    }
    let size = l.store().next_seq().unwrap();
    let data = l.stop().await;
    let a = ebl_ledger::audit::audit_folder(data.path(), None, &ebl_ledger::audit::scratch_folder()).unwrap();
    assert_eq!(a.records, size);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_of_another_format_version_is_refused_with_a_clear_error() {
    let mut l = TestLedger::start().await;
    journey_cast(&mut l).await;
    let data = l.stop().await;
    {
        let store = Store::open(&data.path().join("db")).unwrap();
        assert_eq!(store.schema_version().unwrap(), Some(ebl_ledger::store::SCHEMA_VERSION));
        let mut b = ebl_ledger::store::Batch::new();
        b.meta(Meta::SchemaVersion, &2u32.to_be_bytes());
        store.commit(b).unwrap();
    }
    let e = Ledger::open(data.path(), None).err().expect("refused").to_string();
    assert!(e.contains("on-disk format is version 2, this ebld reads version 1") && e.contains("newer ebld"), "{e}");
    let f = ebl_ledger::audit::audit_folder(data.path(), None, &ebl_ledger::audit::scratch_folder()).unwrap_err();
    assert!(f.what.contains("version 2"), "{f}");
    // And nothing was changed by trying.
    let store = Store::open_read_only(&data.path().join("db")).unwrap();
    assert_eq!(store.schema_version().unwrap(), Some(2));
}

/// Writes the fixture (a ledger with the journey's cast and bills, stopped, so its memtables are
/// in SST files) and its golden dump. Run once per format version, never to make a test pass.
async fn write_fixture() {
    let (mut l, _) = ledger_with_bill("FIXTURE-V1").await;
    issue_ilstc(&mut l, "FIXTURE-V1-B").await;
    let size = l.store().next_seq().unwrap();
    l.checkpoint_of_size(size).await;
    let operator = l.operator.clone();
    let data = l.stop().await;
    let to = fixture();
    let _ = std::fs::remove_dir_all(&to);
    std::fs::create_dir_all(to.join("db")).unwrap();
    for f in ["ledger.key", "checkpoint"] {
        std::fs::copy(data.path().join(f), to.join(f)).unwrap();
    }
    ebl_ledger::server::write_secret_key(&to.join("operator.key"), &operator.key).unwrap();
    for e in std::fs::read_dir(data.path().join("db")).unwrap() {
        let name = e.unwrap().file_name().into_string().unwrap();
        // Logs of RocksDB itself and the lock are not the database.
        if name.starts_with("LOG") || name == "LOCK" {
            continue;
        }
        std::fs::copy(data.path().join("db").join(&name), to.join("db").join(&name)).unwrap();
    }
    let (mut l, _) = serve_fixture().await;
    std::fs::write(golden(), dump(&mut l).await).unwrap();
}
