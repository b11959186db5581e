//! The audit names what is wrong with a ledger's database: copies of a stopped ledger corrupted
//! logically through the RocksDB API (a record's bytes, a bill state, an index entry, a tree
//! node, the registry) and physically (a flipped byte in an SST file), each audited offline;
//! the Audit RPC for auditors; and a damaged block answered INTERNAL `DATABASE_DAMAGED` with no
//! server path.
use crate::common;

use common::*;
use ebl_core::ids::BillId;
use ebl_ledger::audit::{audit_folder, scratch_folder, Fault};
use ebl_ledger::pb;
use ebl_ledger::store::entry::{decode_record, encode_record, StoredEntry};
use ebl_ledger::store::keys;
use ebl_ledger::wire::entry::{decode_signatures, encoded_signatures};
use std::path::Path;
use tonic::Code;

/// A stopped ledger with the journey's cast, an auditor and one bill, and its data folder.
async fn stopped_ledger() -> (TestLedger, tempfile::TempDir, BillId) {
    let (mut l, bill) = ledger_with_bill("AUDIT-1").await;
    l.register("eu-auditor", pb::Role::Auditor, lei("EUAUD000000000000009"), &[]).await;
    let size = l.store().next_seq().unwrap();
    l.checkpoint_of_size(size).await;
    let data = l.stop().await;
    (l, data, bill)
}

/// A copy of `data` with `damage` done to its database through RocksDB, then audited.
fn audit_damaged(data: &Path, damage: impl FnOnce(&rocksdb::DB)) -> Result<ebl_ledger::audit::Audited, Fault> {
    let copy = tempfile::tempdir().unwrap();
    copy_dir(data, copy.path());
    {
        let db = rocksdb::DB::open_cf(&rocksdb::Options::default(), copy.path().join("db"), keys::SERVED_CFS).unwrap();
        damage(&db);
    }
    audit_folder(copy.path(), None, &scratch_folder())
}

fn put(db: &rocksdb::DB, cf: &str, k: &[u8], v: &[u8]) {
    db.put_cf(db.cf_handle(cf).unwrap(), k, v).unwrap();
}

fn get(db: &rocksdb::DB, cf: &str, k: &[u8]) -> Vec<u8> {
    db.get_cf(db.cf_handle(cf).unwrap(), k).unwrap().unwrap()
}

/// Changes stored record `seq` as `edit` says, in the store's own encoding.
fn edit_record(db: &rocksdb::DB, seq: u64, edit: impl FnOnce(&mut StoredEntry)) {
    let k = keys::seq_key(seq);
    let mut stored = decode_record(seq, &get(db, keys::CF_RECORDS, &k)).unwrap();
    edit(&mut stored);
    put(db, keys::CF_RECORDS, &k, &encode_record(&stored));
}

/// The first key of a column family whose key starts with `prefix`.
fn first_key(db: &rocksdb::DB, cf: &str, prefix: &[u8]) -> Vec<u8> {
    db.iterator_cf(db.cf_handle(cf).unwrap(), rocksdb::IteratorMode::Start)
        .map(|i| i.unwrap().0.to_vec())
        .find(|k| k.starts_with(prefix))
        .unwrap()
}

fn assert_fault(r: Result<ebl_ledger::audit::Audited, Fault>, part: &str, says: &[&str]) {
    let f = r.expect_err("the audit finds the fault");
    assert_eq!(f.part, part, "{f}");
    for s in says {
        assert!(f.what.contains(s), "{f} should say {s}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_names_each_logical_corruption() {
    let (_, data, bill) = stopped_ledger().await;
    let clean = audit_folder(data.path(), None, &scratch_folder()).unwrap();
    let size = ebl_ledger::store::Store::open_read_only(&data.path().join("db")).unwrap().next_seq().unwrap();
    assert_eq!((clean.records, clean.checkpoint), (size, size));
    assert!(clean.keys > 4 * size, "{clean:?}");

    // A record's payload: its hash and signatures no longer hold.
    assert_fault(
        audit_damaged(data.path(), |db| {
            edit_record(db, 3, |stored| {
                let last = stored.payload.len() - 1;
                stored.payload[last] ^= 1;
            });
        }),
        "record",
        &["record 3"],
    );
    // A record's receipt (its time), signatures intact: the stored record differs from the replay.
    assert_fault(
        audit_damaged(data.path(), |db| {
            edit_record(db, 2, |stored| stored.receipt.action = "TRANSFER");
        }),
        "record",
        &["record 2", "differs"],
    );
    // A registry record's bytes: the first record of the log.
    assert_fault(
        audit_damaged(data.path(), |db| {
            edit_record(db, 0, |stored| {
                let mut signatures = decode_signatures(&stored.signatures).unwrap();
                signatures[0].signature[0] ^= 1;
                stored.signatures = encoded_signatures(&signatures);
            });
        }),
        "record",
        &["record 0"],
    );
    // A bill's state: its holder changed.
    let bill_hex = hex::encode(bill.0 .0);
    assert_fault(
        audit_damaged(data.path(), |db| {
            let v = String::from_utf8(get(db, keys::CF_BILLS, &bill.0 .0)).unwrap();
            put(db, keys::CF_BILLS, &bill.0 .0, v.replacen("cq-machinery", "sg-buyer", 1).as_bytes());
        }),
        "state",
        &["bills", &bill_hex, "differs"],
    );
    // The registry's state: a party's registration.
    assert_fault(
        audit_damaged(data.path(), |db| {
            let v = String::from_utf8(get(db, keys::CF_PARTIES, b"cq-bank")).unwrap();
            put(db, keys::CF_PARTIES, b"cq-bank", v.replacen("BANK", "TRADER", 1).as_bytes());
        }),
        "registry",
        &["parties entry cq-bank", "differs"],
    );
    // An index entry removed, and one added.
    assert_fault(
        audit_damaged(data.path(), |db| {
            let k = first_key(db, keys::CF_INDEX, b"p");
            db.delete_cf(db.cf_handle(keys::CF_INDEX).unwrap(), &k).unwrap();
        }),
        "index",
        &["is missing"],
    );
    assert_fault(
        audit_damaged(data.path(), |db| {
            put(db, keys::CF_INDEX, &keys::party_bill_key("sg-buyer", &bill), b"");
        }),
        "index",
        &["is stored but no record makes it"],
    );
    // A tree node.
    assert_fault(
        audit_damaged(data.path(), |db| put(db, keys::CF_TREE, &keys::tree_key(1, 0), &[7; 32])),
        "tree",
        &["node at level 1 index 0", "differs"],
    );
}

/// Flips one byte near the start (in the first data block) of every SST file of `cf`.
fn flip_sst_bytes(db_dir: &Path, cf: &str) -> usize {
    let files: Vec<_> = {
        let db =
            rocksdb::DB::open_cf_for_read_only(&rocksdb::Options::default(), db_dir, keys::ALL_CFS, false).unwrap();
        db.live_files().unwrap().into_iter().filter(|f| f.column_family_name == cf).map(|f| f.name).collect()
    };
    for name in &files {
        let path = db_dir.join(name.trim_start_matches('/'));
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[10] ^= 0xff;
        std::fs::write(&path, bytes).unwrap();
    }
    files.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flipped_byte_in_an_sst_file_is_named_and_answered_internal_without_paths() {
    let (stopped, data, bill) = stopped_ledger().await;
    let copy = tempfile::tempdir().unwrap();
    copy_dir(data.path(), copy.path());
    // The graceful stop flushed every column family to its files.
    assert!(flip_sst_bytes(&copy.path().join("db"), keys::CF_RECORDS) > 0, "the records are in SST files");
    let f = audit_folder(copy.path(), None, &scratch_folder()).unwrap_err();
    assert_eq!(f.part, "storage", "{f}");
    assert!(f.what.contains("damaged") && !f.what.contains('/'), "{f}");
    assert!(f.detail.as_deref().unwrap_or("").contains(".sst"), "the operator learns the file: {f:?}");

    // Served: a read that meets the damaged block is INTERNAL, with a reason and no path; the
    // auditor's audit names it the same way.
    let mut l = TestLedger::reopen(copy, &stopped).await;
    let exporter = l.party("cq-machinery");
    let e = l.client.history(&exporter, bill).await.unwrap_err();
    assert_eq!((e.code(), reason_of(&e).as_str()), (Code::Internal, "DATABASE_DAMAGED"), "{e:?}");
    assert!(!e.message().contains('/') && !e.message().contains(".sst"), "{e:?}");
    let auditor = l.party("eu-auditor");
    let r = l.client.audit(&auditor).await.unwrap();
    assert!(!r.clean && r.fault_part == "storage" && !r.fault.contains('/'), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auditors_audit_the_running_ledger() {
    let (mut l, _) = ledger_with_bill("AUDIT-RPC").await;
    l.register("eu-auditor", pb::Role::Auditor, lei("EUAUD000000000000009"), &[]).await;
    let size = l.store().next_seq().unwrap();
    l.checkpoint_of_size(size).await;
    let auditor = l.party("eu-auditor");
    let r = l.client.audit(&auditor).await.unwrap();
    assert!(r.clean, "{r:?}");
    assert_eq!((r.records, r.checkpoint_size), (size, size));
    let operator = l.operator.clone();
    assert!(l.client.audit(&operator).await.unwrap().clean);
    // A party that is not an auditor may not.
    let exporter = l.party("cq-machinery");
    let e = l.client.audit(&exporter).await.unwrap_err();
    assert_eq!((e.code(), reason_of(&e).as_str()), (Code::PermissionDenied, "NOT_AUDITOR"));
    // Writes went on meanwhile and go on after.
    l.register("nl-customs", pb::Role::Customs, vec![], &["NL"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_title_tells_a_broken_chain_from_a_damaged_database() {
    let (stopped, data, bill) = stopped_ledger().await;
    let op = stopped.operator.clone();

    // A bill state that its records do not rebuild: CHAIN_BROKEN, as such.
    let changed = tempfile::tempdir().unwrap();
    copy_dir(data.path(), changed.path());
    {
        let db =
            rocksdb::DB::open_cf(&rocksdb::Options::default(), changed.path().join("db"), keys::SERVED_CFS).unwrap();
        let v = String::from_utf8(get(&db, keys::CF_BILLS, &bill.0 .0)).unwrap();
        put(&db, keys::CF_BILLS, &bill.0 .0, v.replacen("cq-machinery", "sg-buyer", 1).as_bytes());
    }
    let mut l = TestLedger::reopen(changed, &stopped).await;
    let e = l.client.verify_title(&op, bill).await.unwrap_err();
    assert_eq!((e.code(), reason_of(&e).as_str()), (Code::Internal, "CHAIN_BROKEN"), "{e:?}");
    l.stop().await;

    // The registry's block damaged: the replay cannot read a party. That is the database's
    // damage, never a broken chain (nor a party that is not registered).
    let damaged = tempfile::tempdir().unwrap();
    copy_dir(data.path(), damaged.path());
    assert!(flip_sst_bytes(&damaged.path().join("db"), keys::CF_PARTIES) > 0);
    let mut l = TestLedger::reopen(damaged, &stopped).await;
    let e = l.client.verify_title(&op, bill).await.unwrap_err();
    assert_eq!((e.code(), reason_of(&e).as_str()), (Code::Internal, "DATABASE_DAMAGED"), "{e:?}");
}
