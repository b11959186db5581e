//! The Raft store (log on its own RocksDB, state machine over the ledger's RocksDB) against
//! openraft's own storage test suite, and a snapshot carried from one node's database to
//! another's.

use crate::common;
use ebl_core::log::{KeyKind, VerifierKey};
use ebl_ledger::raft::log::LogStore;
use ebl_ledger::raft::machine::{Ledger, Machine, Pending};
use ebl_ledger::raft::snapshot::Snapshots;
use ebl_ledger::raft::{StorageError, TypeConfig};
use ebl_ledger::store::Store;
use openraft::testing::{StoreBuilder, Suite};
use std::sync::Arc;

/// A fresh log and state machine, both on RocksDB in a temporary folder (the guard).
struct OnRocks;

fn ledger_on(dir: &std::path::Path) -> Ledger {
    let key = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
    Ledger {
        store: Arc::new(Store::open(&dir.join("db")).expect("open store")),
        operator: ebl_core::sig::PublicKey(ed25519_dalek::SigningKey::from_bytes(&[8; 32]).verifying_key().to_bytes()),
        origin: "test.example/ebl".into(),
        verifier: VerifierKey::from_signing_key("test.example/ebl", KeyKind::Ed25519, &key).unwrap(),
    }
}

impl StoreBuilder<TypeConfig, LogStore, Machine, tempfile::TempDir> for OnRocks {
    async fn build(&self) -> Result<(tempfile::TempDir, LogStore, Machine), StorageError> {
        let dir = tempfile::tempdir().expect("temporary folder");
        let log = LogStore::open(&dir.path().join("raft")).expect("open log");
        let ledger = ledger_on(dir.path());
        let snapshots = Snapshots::new(ledger.store.clone(), dir.path().join("raft-snapshots")).expect("folder");
        let machine = Machine::new(ledger, snapshots, Pending::default())?;
        Ok((dir, log, machine))
    }
}

#[test]
fn the_raft_store_passes_openrafts_storage_suite() {
    Suite::test_all(OnRocks).expect("openraft's storage suite");
}

#[tokio::test]
async fn a_snapshot_carries_one_nodes_ledger_to_another_in_chunks() {
    use openraft::storage::RaftStateMachine;
    use openraft::RaftSnapshotBuilder;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let machine = |dir: &std::path::Path| {
        let ledger = ledger_on(dir);
        let store = ledger.store.clone();
        let snapshots = Snapshots::new(store.clone(), dir.join("raft-snapshots")).unwrap();
        (store, Machine::new(ledger, snapshots, Pending::default()).unwrap())
    };
    let (from, mut source) = machine(a.path());
    let (to, mut target) = machine(b.path());
    // The source holds a real ledger's worth of records (a journey), the target something else.
    let (journey, _bill) = common::ledger_with_bill("CQSG-SNAPSHOT-1").await;
    let journey_store = journey.store_handle();
    let mut batch = ebl_ledger::store::Batch::new();
    for cf in ebl_ledger::store::keys::ALL_CFS {
        for item in journey_store.entries(cf) {
            let (k, v) = item.unwrap();
            batch.put_raw(cf, &k, &v);
        }
    }
    let id = openraft::LogId::new(openraft::CommittedLeaderId::new(3, 1), 42);
    batch.meta(ebl_ledger::store::keys::Meta::RaftApplied, &serde_json::to_vec(&Some(id)).unwrap());
    from.commit(batch).unwrap();
    let mut stale = ebl_ledger::store::Batch::new();
    stale.put_raw(ebl_ledger::store::keys::CF_BILLS, b"stale", b"must be gone");
    to.commit(stale).unwrap();

    let mut snap = source.get_snapshot_builder().await.build_snapshot().await.unwrap();
    assert_eq!(snap.meta.last_log_id, Some(id));
    let mut receiving = target.begin_receiving_snapshot().await.unwrap();
    let mut chunk = vec![0u8; 1000];
    let mut chunks = 0;
    loop {
        let n = snap.snapshot.read(&mut chunk).await.unwrap();
        if n == 0 {
            break;
        }
        receiving.write_all(&chunk[..n]).await.unwrap();
        chunks += 1;
    }
    assert!(chunks > 10, "a journey's image is sent in many chunks of 1000 bytes, not {chunks}");
    let mut progress = target.progress();
    target.install_snapshot(&snap.meta, receiving).await.unwrap();
    assert_eq!(to.digest().unwrap(), from.digest().unwrap());
    assert_eq!(to.logical_digest().unwrap(), journey_store.logical_digest().unwrap());
    assert_eq!(target.applied_state().await.unwrap().0, Some(id));
    assert!(progress.has_changed().unwrap());
    assert_eq!(progress.borrow_and_update().installs, 1);
    // The installed image is the target's snapshot now.
    let kept = target.get_current_snapshot().await.unwrap().expect("kept");
    assert_eq!(kept.meta.snapshot_id, snap.meta.snapshot_id);
}
