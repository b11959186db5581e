//! Signed checkpoints: signed beside the write path after records arrive, verifiable with the
//! ledger's verifier key, kept in the database and in `data/checkpoint`, surviving a restart; and
//! a restored older database halts the log rather than fork it.
use crate::common;

use common::*;
use ebl_core::log::{Checkpoint, KeyKind, SignedNote, VerifierKey};
use ebl_ledger::checkpoint::LOG_BEHIND_CHECKPOINT;
use ebl_ledger::pb::{self, get_inclusion_proof_request::Leaf};
use ebl_ledger::store::keys::Meta;
use std::path::Path;
use std::time::{Duration, Instant};

fn file_checkpoint(data: &Path) -> String {
    std::fs::read_to_string(data.join("checkpoint")).unwrap()
}

/// Opens a served checkpoint with the verifier key the ledger publishes.
fn open(info: &pb::LedgerInfo, view: &pb::CheckpointView) -> Checkpoint {
    let key = VerifierKey::parse(&info.log_verifier_key).unwrap();
    Checkpoint::open(&SignedNote::parse(&view.note).unwrap(), &key, &[]).unwrap().checkpoint
}

/// Polls LedgerInfo until the signer reports `reason` as its refusal.
async fn refusal(l: &mut TestLedger, reason: &str) -> pb::LedgerInfo {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let info = l.info().await;
        if info.checkpoint_refusal == reason {
            return info;
        }
        assert!(Instant::now() < deadline, "signer never refused with {reason}: {info:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkpoints_follow_records_verify_and_survive_restart() {
    let mut l = TestLedger::start().await;
    // An empty ledger has its size-0 checkpoint.
    let empty = l.checkpoint_of_size(0).await;
    assert_eq!(empty.root, ebl_core::log::empty_root().0);
    journey_cast(&mut l).await;
    let size = l.store().next_seq().unwrap();
    assert_eq!(size, 8);
    let view = l.checkpoint_of_size(size).await;
    let info = l.info().await;

    // The verifier key: named by the origin, the ledger's public key, Ed25519 note signatures.
    let key = VerifierKey::parse(&info.log_verifier_key).unwrap();
    assert_eq!((key.name(), key.kind()), (ORIGIN, KeyKind::Ed25519));
    assert_eq!(key.verifying_key().to_bytes().to_vec(), info.ledger_public_key);
    assert!(info.log_verifier_key.starts_with(&format!("{ORIGIN}+")), "{}", info.log_verifier_key);

    let cp = open(&info, &view);
    assert_eq!((cp.origin(), cp.size(), cp.root().0.to_vec()), (ORIGIN, size, view.root.clone()));
    assert_eq!(cp.root(), l.store().tree_root(size).unwrap(), "signed over the stored tree");
    assert_eq!(info.checkpoint_size, size);
    assert_eq!(info.checkpoint_refusal, "");
    // The same note in the file outside the database and in the database.
    assert_eq!(file_checkpoint(&l.data_dir()), view.note);
    assert_eq!(l.store().meta(Meta::Checkpoint).unwrap().unwrap(), view.note.as_bytes());

    // After a restart the same checkpoint is served, and new records get a new one.
    let mut l = l.restart().await;
    let again = l.client.grpc.get_checkpoint(pb::GetCheckpointRequest::default()).await.unwrap().into_inner();
    assert_eq!(again, view);
    l.register("sg-customs", pb::Role::Customs, vec![], &["SG"]).await;
    let next = l.checkpoint_of_size(size + 2).await;
    assert_eq!(open(&l.info().await, &next).root(), l.store().tree_root(size + 2).unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restored_older_database_is_refused_rather_than_forked() {
    let mut l = TestLedger::start().await;
    l.register("cq-mto", pb::Role::Carrier, lei("CQMTO000000000000001"), &[]).await;
    l.checkpoint_of_size(2).await;
    let backup = tempfile::tempdir().unwrap();
    let saved = backup.path().join("db");
    let mut l = l.restart_with(|data| copy_dir(&data.join("db"), &saved)).await;
    l.register("cq-bank", pb::Role::Bank, lei("CQBANK00000000000003"), &[]).await;
    let published = l.checkpoint_of_size(4).await;

    // Put the older database back, as a restore from backup would.
    let mut l = l
        .restart_with(|data| {
            std::fs::remove_dir_all(data.join("db")).unwrap();
            copy_dir(&saved, &data.join("db"));
        })
        .await;
    assert_eq!(l.store().next_seq().unwrap(), 2, "the old database is back");
    let info = refusal(&mut l, LOG_BEHIND_CHECKPOINT).await;
    assert!(info.checkpoint_refusal_message.contains("2 leaves"), "{}", info.checkpoint_refusal_message);
    // The last good checkpoint is still served, never the database's smaller one.
    let served = l.client.grpc.get_checkpoint(pb::GetCheckpointRequest::default()).await.unwrap().into_inner();
    assert_eq!(served, published);
    assert_eq!(info.checkpoint_size, 4);
    // Proofs at the published size cannot be served from the smaller tree.
    let e = l.client.inclusion(Leaf::Index(0), None).await.unwrap_err();
    assert_eq!((e.code(), reason_of(&e).as_str()), (tonic::Code::FailedPrecondition, LOG_BEHIND_CHECKPOINT));

    // No new record can take the tree past the published size on another history: the log has
    // halted (tests/restore.rs shows all it refuses), and the file is never overwritten.
    let e = l
        .client
        .operator(
            &l.operator.clone(),
            ebl_ledger::client::register_party("sg-buyer", "Buyer", pb::Role::Trader, &[], lei("SGBUY000000000000004")),
        )
        .await
        .unwrap_err();
    assert_eq!((e.code(), reason_of(&e).as_str()), (tonic::Code::FailedPrecondition, LOG_BEHIND_CHECKPOINT));
    assert_eq!(l.store().next_seq().unwrap(), 2);
    assert_eq!(file_checkpoint(&l.data_dir()), published.note, "the file is never overwritten by a fork");
    // And across a restart too: the file still wins over the database's older checkpoint.
    let mut l = l.restart().await;
    let served = l.client.grpc.get_checkpoint(pb::GetCheckpointRequest::default()).await.unwrap().into_inner();
    assert_eq!(served, published);
    refusal(&mut l, LOG_BEHIND_CHECKPOINT).await;
}
