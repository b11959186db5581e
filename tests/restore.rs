//! Restores that would fork the log: a database restored behind the checkpoint the log published
//! (with the data folder's checkpoint file kept), a whole data folder restored (caught by the
//! checkpoint copy outside the folder, or by a witness), and a database on another history. In
//! each the log halts before anything is written: no record is acknowledged at a position the
//! published checkpoint commits to, and no proof, statement or bundle is served that would fail
//! against it. Then the ways out: `ebld recover` from a newer copy, and the supported backup and
//! restore, which lose nothing and fork nothing.
use crate::common;

use common::*;
use ebl_core::ids::BillId;
use ebl_ledger::checkpoint::{
    LOG_BEHIND_CHECKPOINT, LOG_BEHIND_WITNESS, LOG_DIVERGES_FROM_CHECKPOINT, WITNESS_SEES_FORK,
};
use ebl_ledger::client::sign;
use ebl_ledger::pb::{self, get_inclusion_proof_request::Leaf};
use ebl_ledger::server::Ledger;
use std::path::Path;
use tonic::Code;

/// A ledger with the journey's cast and one bill, all under a published checkpoint.
async fn published_ledger(reference: &str) -> (TestLedger, BillId) {
    let (mut l, bill) = ledger_with_bill(reference).await;
    let size = l.store().next_seq().unwrap();
    l.checkpoint_of_size(size).await;
    (l, bill)
}

/// Two more parties (four registry records: each party and its key), and the checkpoint that
/// covers them.
async fn grow(l: &mut TestLedger) -> pb::CheckpointView {
    l.register("sg-customs", pb::Role::Customs, vec![], &["SG"]).await;
    l.register("de-importer", pb::Role::Trader, lei("DEIMP000000000000005"), &[]).await;
    let size = l.store().next_seq().unwrap();
    l.checkpoint_of_size(size).await
}

fn replace_db(data: &Path, with: &Path) {
    std::fs::remove_dir_all(data.join("db")).unwrap();
    copy_dir(with, &data.join("db"));
}

/// Everything a halted log must refuse, and what it must still do.
async fn assert_halted(l: &mut TestLedger, reason: &str, published: &pb::CheckpointView, bill: BillId) {
    let info = l.info().await;
    assert_eq!((info.write_refusal.as_str(), info.checkpoint_refusal.as_str()), (reason, reason), "{info:?}");
    assert!(info.write_refusal_message.contains("ebld recover"), "{}", info.write_refusal_message);
    // The published checkpoint is what it serves, never the tree's own.
    let served = l.client.grpc.get_checkpoint(pb::GetCheckpointRequest::default()).await.unwrap().into_inner();
    assert_eq!(served, *published);

    // No write, whole or in a batch, and nothing changes.
    let (size, digest) = (l.store().next_seq().unwrap(), l.digest());
    let link = l.client.registry_link().await.unwrap();
    let rec = sign(
        &ebl_ledger::client::payload(
            ORIGIN,
            None,
            link,
            ebl_core::ids::OPERATOR,
            None,
            ebl_core::time::Timestamp::now(),
            ebl_ledger::client::register_party("nl-rotterdam-customs", "Customs", pb::Role::Customs, &["NL"], vec![]),
        ),
        &[&l.operator],
    );
    let e = l.client.submit(rec.clone()).await.unwrap_err();
    assert_eq!((e.code(), reason_of(&e).as_str()), (Code::FailedPrecondition, reason), "{e:?}");
    let batch = l.client.grpc.submit_batch(pb::SubmitBatchRequest { records: vec![rec] }).await.unwrap().into_inner();
    let Some(pb::submit_result::Outcome::Error(err)) = &batch.results[0].outcome else { panic!("{batch:?}") };
    assert_eq!((err.code.as_str(), err.reason.as_str()), ("FAILED_PRECONDITION", reason));
    assert_eq!((l.store().next_seq().unwrap(), l.digest()), (size, digest), "a refusal changes nothing");

    // No proof, statement or bundle.
    for e in [
        l.client.inclusion(Leaf::Index(0), None).await.unwrap_err(),
        l.client
            .grpc
            .get_consistency_proof(pb::GetConsistencyProofRequest { first: 1, second: None })
            .await
            .unwrap_err(),
        l.client.grpc.get_leaf_hashes(pb::GetLeafHashesRequest { start: 0, count: 1 }).await.unwrap_err(),
    ] {
        assert_eq!((e.code(), reason_of(&e).as_str()), (Code::FailedPrecondition, reason), "{e:?}");
    }
    let exporter = l.party("cq-machinery");
    let title = l.client.verify_title(&exporter, bill).await.unwrap();
    assert!(title.statement.is_empty() && title.statement_refusal.starts_with(reason), "{title:?}");
    let e = l.client.proof_bundle(&exporter, bill).await.unwrap_err();
    assert_eq!((e.code(), reason_of(&e).as_str()), (Code::FailedPrecondition, reason), "{e:?}");
    // Reads go on; health says writes are off.
    l.client.bill(&exporter, bill).await.unwrap();
    let not_serving = tonic_health::pb::health_check_response::ServingStatus::NotServing as i32;
    assert!(eventually(10, || async { write_health(&l.url).await == not_serving }).await, "write health");
    // The operator's metrics show the halt and the refused writes by their reason.
    assert_eq!(l.metric(&format!(r#"ebl_log_halted{{reason="{reason}"}}"#)).await, 1.0);
    assert_eq!(l.metric(&format!(r#"ebl_writes_refused{{reason="{reason}"}}"#)).await, 1.0);
    let refused = format!(r#"ebl_records_refused_total{{code="FAILED_PRECONDITION",reason="{reason}"}}"#);
    assert!(l.metric(&refused).await >= 2.0, "the record and the batch refused above");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_restored_behind_the_published_checkpoint_halts_until_recovered() {
    let (l, bill) = published_ledger("RESTORE-DB").await;
    let saved = tempfile::tempdir().unwrap();
    let mut l = l.restart_with(|data| copy_dir(&data.join("db"), &saved.path().join("db"))).await;
    let published = grow(&mut l).await;
    let newer = tempfile::tempdir().unwrap();

    // The older database back, the checkpoint file kept: the log halts before any write.
    let mut l = l
        .restart_with(|data| {
            copy_dir(&data.join("db"), &newer.path().join("db"));
            replace_db(data, &saved.path().join("db"));
        })
        .await;
    assert_halted(&mut l, LOG_BEHIND_CHECKPOINT, &published, bill).await;
    // And still after a restart: nothing in the database says otherwise.
    let mut l = l.restart().await;
    assert_halted(&mut l, LOG_BEHIND_CHECKPOINT, &published, bill).await;

    // An empty folder cannot fill the gap, nor can a copy of another ledger; nothing is taken.
    let other = TestLedger::start().await;
    let mut l = l
        .restart_with(|data| {
            let ledger = Ledger::open(data, None).unwrap();
            let size = ledger.store().next_seq().unwrap();
            let e = ebl_ledger::recover::recover(&ledger, tempfile::tempdir().unwrap().path()).unwrap_err();
            assert!(matches!(e, ebl_ledger::recover::RecoverError::Source(_)), "{e}");
            let e = ebl_ledger::recover::recover(&ledger, &other.data_dir()).unwrap_err();
            assert!(e.to_string().contains("not a copy of this ledger"), "{e}");
            assert_eq!(ledger.store().next_seq().unwrap(), size);

            // The newer copy does: its records come back with their original receipts, and the
            // tree is the one the log published.
            let r = ebl_ledger::recover::recover(&ledger, newer.path()).unwrap();
            assert_eq!((r.appended, r.size, r.published), (4, published.size, published.size));
            assert_eq!(ledger.store().tree_root(published.size).unwrap().0.to_vec(), published.root);
            let source = ebl_ledger::store::Store::open_read_only(&newer.path().join("db")).unwrap();
            for seq in 0..published.size {
                assert_eq!(ledger.store().record(seq).unwrap(), source.record(seq).unwrap(), "record {seq}");
            }
        })
        .await;
    let info = l.info().await;
    assert_eq!((info.write_refusal.as_str(), info.checkpoint_refusal.as_str()), ("", ""), "{info:?}");
    l.register("nl-customs", pb::Role::Customs, vec![], &["NL"]).await;
    let next = l.checkpoint_of_size(l.store().next_seq().unwrap()).await;
    let proof = l
        .client
        .grpc
        .get_consistency_proof(pb::GetConsistencyProofRequest { first: published.size, second: Some(next.size) })
        .await
        .unwrap()
        .into_inner();
    assert!(!proof.hashes.is_empty(), "the log goes on from what it published");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_restored_behind_with_a_witness_halts_and_the_witness_sees_no_fork() {
    let (mut l, bill) = published_ledger("RESTORE-DB-W").await;
    let w = TestWitness::start("witness.example/w1", vec![l.log_key().await]).await;
    let saved = tempfile::tempdir().unwrap();
    let l = l.with_witnesses(vec![w.target()]).await;
    let mut l = l.restart_with(|data| copy_dir(&data.join("db"), &saved.path().join("db"))).await;
    let grown = grow(&mut l).await;
    let published = l.cosigned_checkpoint(grown.size, 1).await;
    let cosigned = w.witnessed();

    let mut l = l.restart_with(|data| replace_db(data, &saved.path().join("db"))).await;
    // The checkpoint file halts the log; the witness is pushed the published checkpoint again,
    // and nothing else.
    let served = l.checkpoint_of_size(published.size).await;
    assert_eq!(served.root, published.root);
    assert_halted(&mut l, LOG_BEHIND_CHECKPOINT, &served, bill).await;
    assert_eq!(w.witnessed(), cosigned, "the witness never sees another tree");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_on_another_history_halts_at_start() {
    let (l, bill) = published_ledger("RESTORE-FORK").await;
    let (mut a, mut b) = l.twin().await;
    let published = grow(&mut a).await;
    b.register("cn-customs-qz", pb::Role::Customs, vec![], &["CNQZH"]).await;
    b.register("cq-customs", pb::Role::Customs, vec![], &["CNCKG"]).await;
    b.register("nl-customs", pb::Role::Customs, vec![], &["NL"]).await;
    let a_dir = a.stop().await;
    // b's database under a's published checkpoint: larger, but not an extension of it.
    let mut b = b
        .restart_with(|data| {
            std::fs::copy(a_dir.path().join("checkpoint"), data.join("checkpoint")).unwrap();
        })
        .await;
    // It serves the largest checkpoint signed under its key (its own), and nothing more.
    let served = b.client.grpc.get_checkpoint(pb::GetCheckpointRequest::default()).await.unwrap().into_inner();
    assert!(served.size > published.size, "{} > {}", served.size, published.size);
    assert_halted(&mut b, LOG_DIVERGES_FROM_CHECKPOINT, &served, bill).await;
    assert!(b.info().await.write_refusal_message.contains(&format!("size {}", published.size)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_folder_restored_is_caught_by_the_checkpoint_copy() {
    let elsewhere = tempfile::tempdir().unwrap();
    let copy = elsewhere.path().join("checkpoint");
    let (l, bill) = published_ledger("RESTORE-FOLDER").await;
    let mut l = l.with_checkpoint_copy(copy.clone()).await;
    let old = l.info().await.checkpoint_size;
    assert_eq!(
        ebl_ledger::checkpoint::read_file(&copy, &l.log_key().await).unwrap().unwrap().size(),
        old,
        "a new copy starts from the latest checkpoint"
    );
    let saved = tempfile::tempdir().unwrap();
    let mut l = l.restart_with(|data| copy_dir(data, saved.path())).await;
    let published = grow(&mut l).await;
    assert_eq!(std::fs::read_to_string(&copy).unwrap(), published.note, "written before it was served");

    // Database and checkpoint file both from the backup: they agree, the copy does not.
    let mut l = l
        .restart_with(|data| {
            replace_db(data, &saved.path().join("db"));
            std::fs::copy(saved.path().join("checkpoint"), data.join("checkpoint")).unwrap();
        })
        .await;
    assert_halted(&mut l, LOG_BEHIND_CHECKPOINT, &published, bill).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_folder_restored_is_caught_by_a_witness() {
    let (mut l, bill) = published_ledger("RESTORE-WITNESS").await;
    let w = TestWitness::start("witness.example/w1", vec![l.log_key().await]).await;
    let saved = tempfile::tempdir().unwrap();
    let mut l = l.with_witnesses(vec![w.target()]).await;
    let size = l.store().next_seq().unwrap();
    l.cosigned_checkpoint(size, 1).await;
    let mut l = l.restart_with(|data| copy_dir(data, saved.path())).await;
    let grown = grow(&mut l).await;
    let published = l.cosigned_checkpoint(grown.size, 1).await;

    // Without a copy the folder cannot tell; the witness has cosigned more than it holds, and
    // its first answer comes before the first write is taken.
    let mut l = l
        .restart_with(|data| {
            std::fs::remove_dir_all(data).unwrap();
            copy_dir(saved.path(), data);
        })
        .await;
    let info = l.info().await;
    assert_eq!(info.write_refusal, LOG_BEHIND_WITNESS, "{info:?}");
    // It serves what it had signed (the older checkpoint); the witness's word halts everything.
    let served = l.client.grpc.get_checkpoint(pb::GetCheckpointRequest::default()).await.unwrap().into_inner();
    assert_eq!(served.size, size);
    assert_halted(&mut l, LOG_BEHIND_WITNESS, &served, bill).await;
    assert!(published.size > served.size);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_witness_that_sees_a_fork_halts_the_log() {
    let (mut l, bill) = published_ledger("RESTORE-TWIN").await;
    let w = TestWitness::start("witness.example/w1", vec![l.log_key().await]).await;
    let mut l = l.with_witnesses(vec![w.target()]).await;
    let size = l.store().next_seq().unwrap();
    l.cosigned_checkpoint(size, 1).await;
    // Two ledgers from one folder. One grows and the witness cosigns it; the other grows
    // further on another history, out of the witness's sight, and then pushes to it.
    let (mut a, b) = l.twin().await;
    let mut b = b.with_witnesses(vec![]).await;
    let published = grow(&mut a).await;
    a.cosigned_checkpoint(published.size, 1).await;
    b.register("cn-customs-qz", pb::Role::Customs, vec![], &["CNQZH"]).await;
    b.register("cq-customs", pb::Role::Customs, vec![], &["CNCKG"]).await;
    b.register("nl-customs", pb::Role::Customs, vec![], &["NL"]).await;
    let forked = b.checkpoint_of_size(size + 6).await;
    // Its proof from the witness's size does not lead to the witness's root: 422, and the log
    // halts before its first write.
    let mut b = b.with_witnesses(vec![w.target()]).await;
    assert_halted(&mut b, WITNESS_SEES_FORK, &forked, bill).await;
    // The honest one goes on.
    assert_eq!(a.info().await.write_refusal, "");
    a.register("nl-importer", pb::Role::Trader, lei("NLIMP000000000000006"), &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_online_backup_restores_without_loss_or_fork() {
    let (mut l, bill) = published_ledger("BACKUP").await;
    let backups = tempfile::tempdir().unwrap();
    let to = backups.path().join("b1");
    // Only the operator may ask, only for an absolute path, only into a new folder.
    let exporter = l.party("cq-machinery");
    let e = l.client.backup(&exporter, to.to_str().unwrap()).await.unwrap_err();
    assert_eq!((e.code(), reason_of(&e).as_str()), (Code::PermissionDenied, "NOT_OPERATOR"));
    let operator = l.operator.clone();
    let e = l.client.backup(&operator, "relative/b1").await.unwrap_err();
    assert_eq!((e.code(), field_of(&e).as_str()), (Code::InvalidArgument, "to"));
    assert!(!backups.path().join("relative").exists());

    // While records keep arriving.
    let size = l.store().next_seq().unwrap();
    let done = l.client.backup(&operator, to.to_str().unwrap()).await.unwrap();
    assert_eq!((done.size, done.checkpoint_size), (size, size));
    let e = l.client.backup(&operator, to.to_str().unwrap()).await.unwrap_err();
    assert_eq!((e.code(), field_of(&e).as_str()), (Code::InvalidArgument, "to"));
    let published = grow(&mut l).await;

    // Restored over the live folder: the newer database is kept aside, the log halts, and
    // recovering from the kept database brings back every acknowledged record.
    let mut kept = None;
    let mut l = l
        .restart_with(|data| {
            let r = ebl_ledger::backup::restore(&to, data, None).unwrap();
            assert_eq!((r.size, r.behind), (size, Some(published.size)));
            kept = r.kept;
        })
        .await;
    let kept = kept.expect("the replaced database is kept");
    assert_halted(&mut l, LOG_BEHIND_CHECKPOINT, &published, bill).await;
    let mut l = l
        .restart_with(|data| {
            let ledger = Ledger::open(data, None).unwrap();
            assert_eq!(ebl_ledger::recover::recover(&ledger, &kept).unwrap().size, published.size);
        })
        .await;
    assert_eq!(l.info().await.write_refusal, "");
    l.register("nl-customs", pb::Role::Customs, vec![], &["NL"]).await;

    // Into an empty folder (a new machine): key, database and checkpoint come from the backup.
    let fresh = tempfile::tempdir().unwrap();
    let r = ebl_ledger::backup::restore(&to, &fresh.path().join("data"), None).unwrap();
    assert_eq!((r.size, r.kept, r.behind), (size, None, None));
    let restored = Ledger::open(&fresh.path().join("data"), None).unwrap();
    assert_eq!(restored.store().tree_root(size).unwrap(), l.store().tree_root(size).unwrap());
    // A backup of another ledger is refused and changes nothing.
    let mut other = TestLedger::start().await;
    let dir = other.stop().await;
    let e = ebl_ledger::backup::restore(&to, dir.path(), None).unwrap_err();
    assert!(e.to_string().contains("another ledger"), "{e}");
    assert!(!dir.path().join("db.restoring").exists());
}
