//! The on-disk format is versioned. A database of another version is refused at start with a
//! clear error, never read. Each format's fixture (`tests/fixtures/ledger-v<N>`, made once with
//! `EBL_WRITE_FIXTURE=1 cargo test --test ledger format::`, never rewritten after) must read
//! identically in every later version, directly or after `ebld migrate`: its stored records byte
//! for byte in their public form, its leaf hashes and roots, its bills as GetBill shows them
//! (the golden dump next to it), its documents, a proof bundle that verifies, and a clean audit.
use crate::common;

use common::*;
use ebl_core::ids::BillId;
use ebl_ledger::client::Identity;
use ebl_ledger::migrate::{migrate, MigrateError, MIGRATING_DIR};
use ebl_ledger::server::Ledger;
use ebl_ledger::store::keys::{self, Meta, V1_CFS};
use ebl_ledger::store::{Store, SCHEMA_VERSION};
use sha2::Digest;
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture(version: u32) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/ledger-v{version}"))
}

fn golden(version: u32) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/ledger-v{version}.dump"))
}

/// What a version must read from a fixture: every stored record (its public protobuf form),
/// every leaf hash, the root at every size, and each bill as the operator's GetBill shows it.
async fn dump(l: &mut TestLedger) -> String {
    let store = l.store_handle();
    let size = store.next_seq().unwrap();
    let mut out = String::new();
    writeln!(out, "origin {}", l.client.origin()).unwrap();
    writeln!(out, "size {size}").unwrap();
    let leaves = store.leaf_hashes(0, size).unwrap();
    for seq in 0..size {
        let record = prost::Message::encode_to_vec(&store.record(seq).unwrap().unwrap().to_pb().unwrap());
        writeln!(out, "record {seq} {}", hex::encode(record)).unwrap();
        writeln!(out, "leaf {seq} {}", leaves[seq as usize]).unwrap();
        writeln!(out, "root {} {}", seq + 1, store.tree_root(seq + 1).unwrap()).unwrap();
    }
    let op = l.operator.clone();
    for (id, _) in store.entries(keys::CF_BILLS).map(Result::unwrap) {
        let id = BillId(ebl_core::hash::Hash32(id.as_ref().try_into().unwrap()));
        let view = l.client.bill(&op, id).await.unwrap();
        writeln!(out, "bill {}", flat_bill_json(&view)).unwrap();
    }
    out
}

/// A bill view as the golden dumps hold it: the flat JSON `ebl bill show --json` printed when
/// the fixtures were made (the CLI's shape has moved on since; the dumps never do).
fn flat_bill_json(b: &ebl_ledger::pb::BillView) -> serde_json::Value {
    let h = hex::encode;
    serde_json::json!({
        "bill_id": h(&b.bill_id), "issuer": b.issuer, "reference": b.reference, "amendment": b.amendment,
        "type_code": b.type_code, "kind": b.kind, "profile": b.profile, "status": b.status,
        "possessor": b.possessor, "entitled": b.entitled, "consignee": b.consignee, "endorsee": b.endorsee,
        "blank_endorsed": b.blank_endorsed, "endorsable": b.endorsable, "rejectable_by": b.rejectable_by,
        "surrender": b.surrender, "surrendered_by": b.surrendered_by, "paper_bill_number": b.paper_bill_number,
        "amends": h(&b.amends), "successor": h(&b.successor), "pledgee": b.pledgee, "pledgor": b.pledgor,
        "pledge_mode": b.pledge_mode, "pledge_enforced": b.pledge_enforced,
        "head": h(&b.head), "head_position": b.head_position, "head_seq": b.head_seq,
        "document_checksum": h(&b.document_checksum), "parties": b.parties, "locations": b.locations,
        "containers": b.containers, "pint_exportable": b.pint_exportable,
        "custody": b.custody.as_ref().map(ebl_ledger::cli::output::custody_json),
    })
}

/// A copy of a fixture's data folder.
fn copy_of(version: u32) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture(version), dir.path());
    dir
}

/// The data folder `dir` (a fixture's copy), served, read as its operator.
async fn serve(dir: tempfile::TempDir) -> (TestLedger, Vec<BillId>) {
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

/// Reads the served fixture as its golden dump says, checks each bill's document against its
/// checksum and its proof bundle offline, and audits it once stopped.
async fn reads_as(dir: tempfile::TempDir, version: u32) {
    let (mut l, bills) = serve(dir).await;
    assert_eq!(l.store().schema_version().unwrap(), Some(SCHEMA_VERSION));
    assert_eq!(dump(&mut l).await, std::fs::read_to_string(golden(version)).unwrap(), "the fixture reads as it did");
    let key = l.log_key().await;
    let op = l.operator.clone();
    assert!(bills.len() >= 2);
    for bill in &bills {
        let view = l.client.bill(&op, *bill).await.unwrap();
        let checksum = ebl_core::document::checksum(&view.document).unwrap();
        assert_eq!(checksum.0.to_vec(), view.document_checksum, "bill {bill}'s document is the one issued");
        let bundle = ebl_ledger::bundle::Bundle::from_json(&l.client.proof_bundle(&op, *bill).await.unwrap()).unwrap();
        ebl_ledger::bundle::verify::verify(&bundle, &key, ebl_core::time::Timestamp::now()).unwrap();
    }
    let size = l.store().next_seq().unwrap();
    let data = l.stop().await;
    let a = ebl_ledger::audit::audit_folder(data.path(), None, &ebl_ledger::audit::scratch_folder()).unwrap();
    assert_eq!(a.records, size);
}

/// SHA-256 over every file's name and bytes under `dir`, in name order.
fn files_digest(dir: &Path) -> String {
    let mut paths: Vec<PathBuf> = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else {
                paths.push(p);
            }
        }
    }
    paths.sort();
    let mut h = sha2::Sha256::new();
    for p in paths {
        h.update(p.strip_prefix(dir).unwrap().to_string_lossy().as_bytes());
        h.update(std::fs::read(&p).unwrap());
    }
    hex::encode(h.finalize())
}

/// Every key and value of a format 1 database.
fn v1_entries(db: &Path) -> Vec<(&'static str, Vec<u8>, Vec<u8>)> {
    let store = Store::open_read_only_with(db, &V1_CFS).unwrap();
    let mut out = Vec::new();
    for cf in V1_CFS {
        out.extend(store.entries(cf).map(|e| e.unwrap()).map(|(k, v)| (cf, k.to_vec(), v.to_vec())));
    }
    out
}

fn ebld(data: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ebld")).args(args).env("EBL_DATA_DIR", data).output().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn this_versions_fixture_opens_and_reads_identically() {
    if std::env::var_os("EBL_WRITE_FIXTURE").is_some() {
        write_fixture().await;
    }
    reads_as(copy_of(SCHEMA_VERSION), SCHEMA_VERSION).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_1_database_is_refused_untouched_then_migrated_by_ebld_migrate_and_reads_identically() {
    let dir = copy_of(1);
    let before = files_digest(dir.path());
    let e = Ledger::open(dir.path(), None).err().expect("refused").to_string();
    assert!(
        e.contains("on-disk format is version 1, this ebld reads version 2") && e.contains("`ebld migrate`"),
        "{e}"
    );
    let out = ebld(dir.path(), &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("run `ebld migrate`"), "{out:?}");
    assert_eq!(files_digest(dir.path()), before, "refusing it changed nothing");

    // The command docs/operations.md shows.
    let out = ebld(dir.path(), &["migrate"]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(said.contains("migrated 10 records from on-disk format version 1 to 2"), "{said}");
    let kept = dir.path().join("db.v1");
    assert!(said.contains(&kept.display().to_string()), "{said}");
    // The old database is kept as it was.
    let old = Store::open_read_only_with(&kept, &V1_CFS).unwrap();
    assert_eq!(old.next_seq().unwrap(), 10);
    assert_eq!(Store::format_of(&kept).unwrap(), Some(1));
    drop(old);
    assert!(!dir.path().join(MIGRATING_DIR).exists());
    // Once is enough.
    let again = ebld(dir.path(), &["migrate"]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("already on-disk format version 2: nothing to do"));
    reads_as(dir, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_migration_is_finished_by_running_it_again_and_never_opens_as_an_empty_ledger() {
    // Interrupted while building: what it left is rebuilt.
    let dir = copy_of(1);
    std::fs::create_dir_all(dir.path().join(MIGRATING_DIR)).unwrap();
    std::fs::write(dir.path().join(MIGRATING_DIR).join("000001.log"), b"half written").unwrap();
    assert_eq!(migrate(dir.path()).unwrap().records, 10);

    // Interrupted between moving the old database aside and putting the new one in place.
    std::fs::rename(dir.path().join("db"), dir.path().join(MIGRATING_DIR)).unwrap();
    let e = Ledger::open(dir.path(), None).err().expect("refused").to_string();
    assert!(e.contains("has no database: an upgrade was interrupted: run `ebld migrate` again"), "{e}");
    assert!(!dir.path().join("db").exists(), "no empty database was made in its place");
    let m = migrate(dir.path()).unwrap();
    assert_eq!((m.from, m.records), (1, 10));
    reads_as(dir, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_migration_whose_result_would_read_differently_replaces_nothing() {
    // A v1 database whose stored bill state its records do not make: the migration derives the
    // state again from the records, finds the difference, and leaves the folder as it was.
    let dir = copy_of(1);
    {
        let old = Store::open_any_format(&dir.path().join("db"), &V1_CFS).unwrap();
        let (id, state) = old.entries(keys::CF_BILLS).next().unwrap().unwrap();
        let tampered = String::from_utf8(state.to_vec()).unwrap().replace("cq-machinery", "cq-bank");
        let mut b = ebl_ledger::store::Batch::new();
        b.put_raw(keys::CF_BILLS, &id, tampered.as_bytes());
        old.commit(b).unwrap();
        old.flush().unwrap();
    }
    let before = v1_entries(&dir.path().join("db"));
    let e = migrate(dir.path()).unwrap_err();
    assert!(matches!(e, MigrateError::Differs(_)), "{e}");
    assert!(e.to_string().contains("bills entry") && e.to_string().contains("nothing was replaced"), "{e}");
    assert_eq!(Store::format_of(&dir.path().join("db")).unwrap(), Some(1));
    assert_eq!(v1_entries(&dir.path().join("db")), before);
    assert!(!dir.path().join("db.v1").exists());

    // A database in use (its lock held, as a serving ledger holds it) is not migrated.
    let dir = copy_of(1);
    let held = Store::open_any_format(&dir.path().join("db"), &V1_CFS).unwrap();
    let e = migrate(dir.path()).unwrap_err().to_string();
    assert!(e.contains("the database is in use (is the ledger running? stop it first)"), "{e}");
    drop(held);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_of_a_newer_format_version_is_refused_with_a_clear_error() {
    let mut l = TestLedger::start().await;
    journey_cast(&mut l).await;
    let data = l.stop().await;
    {
        let store = Store::open(&data.path().join("db")).unwrap();
        assert_eq!(store.schema_version().unwrap(), Some(SCHEMA_VERSION));
        let mut b = ebl_ledger::store::Batch::new();
        b.meta(Meta::SchemaVersion, &(SCHEMA_VERSION + 1).to_be_bytes());
        store.commit(b).unwrap();
    }
    let e = Ledger::open(data.path(), None).err().expect("refused").to_string();
    assert!(e.contains("on-disk format is version 3, this ebld reads version 2") && e.contains("newer ebld"), "{e}");
    let f = ebl_ledger::audit::audit_folder(data.path(), None, &ebl_ledger::audit::scratch_folder()).unwrap_err();
    assert!(f.what.contains("version 3"), "{f}");
    let m = migrate(data.path()).unwrap_err().to_string();
    assert!(m.contains("version 3") && m.contains("newer ebld"), "{m}");
    // And nothing was changed by trying.
    assert_eq!(Store::format_of(&data.path().join("db")).unwrap(), Some(SCHEMA_VERSION + 1));
}

/// Writes this version's fixture (a ledger with the journey's cast and two bills, stopped, so
/// its memtables are in SST files) and its golden dump. Run once per format version, never to
/// make a test pass; the fixtures of earlier versions are never rewritten.
async fn write_fixture() {
    let reference = format!("FIXTURE-V{SCHEMA_VERSION}");
    let (mut l, _) = ledger_with_bill(&reference).await;
    issue_ilstc(&mut l, &format!("{reference}-B")).await;
    let size = l.store().next_seq().unwrap();
    l.checkpoint_of_size(size).await;
    let operator = l.operator.clone();
    let data = l.stop().await;
    let to = fixture(SCHEMA_VERSION);
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
    let (mut l, _) = serve(copy_of(SCHEMA_VERSION)).await;
    std::fs::write(golden(SCHEMA_VERSION), dump(&mut l).await).unwrap();
}
