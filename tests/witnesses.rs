//! Witnesses, end to end on 127.0.0.1: the real ledger pushes each checkpoint to two in-process
//! witnesses and serves their verified cosignatures; a witness restarted from its state refuses
//! an old size and never cosigns a checkpoint inconsistent with what it cosigned, even one signed
//! with the ledger's own key; a witness that is down stops neither records nor checkpoints.
use crate::common;

use common::*;
use ebl_core::hash::Hash32;
use ebl_core::log::witness::{AddCheckpoint, SIZE_CONTENT_TYPE};
use ebl_core::log::{
    consistency_proof, leaf_hash, require_witnesses, Checkpoint, MemoryTree, NoteSignature, SignedNote,
};
use ebl_ledger::pb;

fn file_checkpoint(l: &TestLedger) -> String {
    std::fs::read_to_string(l.data_dir().join("checkpoint")).unwrap()
}

/// What the witness's state file says it last cosigned for the ledger.
/// A ledger started, then restarted pushing to two fresh witnesses for its key.
async fn ledger_with_two_witnesses() -> (TestLedger, TestWitness, TestWitness) {
    let mut l = TestLedger::start().await;
    let key = l.log_key().await;
    let w1 = TestWitness::start("witness.example/w1", vec![key.clone()]).await;
    let w2 = TestWitness::start("witness.example/w2", vec![key]).await;
    let l = l.with_witnesses(vec![w1.target(), w2.target()]).await;
    (l, w1, w2)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkpoints_carry_both_witnesses_cosignatures_which_verify() {
    let (mut l, w1, w2) = ledger_with_two_witnesses().await;
    journey_cast(&mut l).await;
    let view = l.cosigned_checkpoint(8, 2).await;
    let log_key = l.log_key().await;
    let keys = [w1.verifier_key(), w2.verifier_key()];

    // The served note: the ledger's signed note, then both cosignature lines (standard form).
    let note = SignedNote::parse(&view.note).unwrap();
    let opened = Checkpoint::open(&note, &log_key, &keys).unwrap();
    assert_eq!(require_witnesses(&opened, 2).unwrap(), vec![w1.name.clone(), w2.name.clone()]);
    assert_eq!((opened.checkpoint.size(), opened.checkpoint.root().0.to_vec()), (8, view.root.clone()));
    let own = file_checkpoint(&l);
    assert!(view.note.starts_with(&own), "the ledger's note, then the witness lines:\n{}", view.note);
    assert_eq!(SignedNote::parse(&own).unwrap().signatures().len(), 1, "the file keeps the ledger's note only");
    // The structured list is the same lines, each verified, in witness-name order.
    let names: Vec<&str> = view.cosignatures.iter().map(|c| c.witness.as_str()).collect();
    assert_eq!(names, [w1.name.as_str(), w2.name.as_str()]);
    for (c, k) in view.cosignatures.iter().zip(&keys) {
        assert!(view.note.contains(&c.line));
        assert_eq!(c.key_id, k.id());
        assert!(c.time > 1_700_000_000, "a real timestamp: {}", c.time);
        let line = NoteSignature::parse_line(c.line.trim_end()).unwrap();
        assert_eq!(u64::from_be_bytes(line.signature[..8].try_into().unwrap()), c.time);
    }
    // Both witnesses recorded the size they cosigned, durably.
    assert_eq!(w1.witnessed().size(), 8);
    assert_eq!(w2.witnessed().root(), opened.checkpoint.root());

    // Each new checkpoint is pushed with a consistency proof and cosigned again.
    l.register("sg-customs", pb::Role::Customs, vec![], &["SG"]).await;
    let next = l.cosigned_checkpoint(10, 2).await;
    let opened = Checkpoint::open(&SignedNote::parse(&next.note).unwrap(), &log_key, &keys).unwrap();
    require_witnesses(&opened, 2).unwrap();
    assert_eq!(w1.witnessed().size(), 10);
    // `ebl log checkpoint`'s source, the plain GetCheckpoint, serves the cosigned note too.
    assert_eq!(l.client.checkpoint().await.unwrap(), next);

    // A tampered served note fails: one changed byte in the body, or in either witness line.
    for target in ["\n10\n", &next.cosignatures[0].line[30..40], &next.cosignatures[1].line[40..50]] {
        let at = next.note.find(target).unwrap() + 2;
        let mut bad = next.note.clone().into_bytes();
        bad[at] = if bad[at] == b'A' { b'B' } else { b'A' };
        let bad = String::from_utf8(bad).unwrap();
        let ok = SignedNote::parse(&bad)
            .and_then(|n| Checkpoint::open(&n, &log_key, &keys))
            .and_then(|o| require_witnesses(&o, 2));
        assert!(ok.is_err(), "tampered at {at} still verifies:\n{bad}");
    }
}

/// The checkpoint of a tree of `size` leaves unrelated to the ledger's, signed with its key.
fn forged(l: &TestLedger, size: u64) -> (MemoryTree, String) {
    let mut t = MemoryTree::new();
    let leaves: Vec<Hash32> = (0..size).map(|i| leaf_hash(format!("forged {i}").as_bytes())).collect();
    t.append(&leaves).unwrap();
    let note = Checkpoint::new(ORIGIN, size, t.root()).unwrap().sign(&l.ledger_secret_key()).unwrap().to_string();
    (t, note)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_witness_refuses_an_old_size_and_never_cosigns_a_fork() {
    let mut l = TestLedger::start().await;
    let w = TestWitness::start("witness.example/w1", vec![l.log_key().await]).await;
    let mut l = l.with_witnesses(vec![w.target()]).await;
    journey_cast(&mut l).await;
    let view = l.cosigned_checkpoint(8, 1).await;
    let w = w.restart().await;
    let cosigned = w.witnessed();
    assert_eq!(cosigned.size(), 8);

    // A stale old size: 409 with the size it last cosigned, as the spec's content type.
    let a = w.post(AddCheckpoint::body(0, &[], &view.note)).await;
    assert_eq!((a.status, a.content_type.as_deref(), a.body.as_str()), (409, Some(SIZE_CONTENT_TYPE), "8\n"));
    // A fork the ledger's key signed, larger, with a proof valid for the forged tree: 422.
    let (t, note) = forged(&l, 11);
    let a = w.post(AddCheckpoint::body(8, &consistency_proof(&t, 8, 11).unwrap(), &note)).await;
    assert_eq!(a.status, 422, "{a:?}");
    // The same size with another root: 409 (and not the size answer).
    let (_, note) = forged(&l, 8);
    let a = w.post(AddCheckpoint::body(8, &[], &note)).await;
    assert_eq!(a.status, 409, "{a:?}");
    assert_ne!(a.content_type.as_deref(), Some(SIZE_CONTENT_TYPE));
    // A smaller fork from the true old size: old > size, 400; from 0: 409.
    let (_, note) = forged(&l, 5);
    assert_eq!(w.post(AddCheckpoint::body(8, &[], &note)).await.status, 400);
    assert_eq!(w.post(AddCheckpoint::body(0, &[], &note)).await.status, 409);
    // Not the ledger's key: 403. Unknown origin: 404. Garbage: 400.
    let other = Checkpoint::new(ORIGIN, 9, Hash32([1; 32])).unwrap().sign(&key()).unwrap().to_string();
    assert_eq!(w.post(AddCheckpoint::body(8, &[], &other)).await.status, 403);
    let stranger = Checkpoint::new("other.example/log", 1, Hash32([1; 32])).unwrap().sign(&key()).unwrap();
    assert_eq!(w.post(AddCheckpoint::body(0, &[], &stranger.to_string())).await.status, 404);
    assert_eq!(w.post("hello".into()).await.status, 400);
    // None of it moved the witness.
    assert_eq!(w.witnessed(), cosigned);

    // The true checkpoint from the right size is cosigned again; and after the ledger restarts
    // (its pusher forgets the witness's size), it learns it from the 409 and goes on.
    assert_eq!(w.post(AddCheckpoint::body(8, &[], &view.note)).await.status, 200);
    let mut l = l.restart().await;
    l.register("sg-customs", pb::Role::Customs, vec![], &["SG"]).await;
    let next = l.cosigned_checkpoint(10, 1).await;
    let opened = Checkpoint::open(&SignedNote::parse(&next.note).unwrap(), &l.log_key().await, &[w.verifier_key()]);
    require_witnesses(&opened.unwrap(), 1).unwrap();
    assert_eq!(w.witnessed().size(), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_witness_that_is_down_stops_neither_records_nor_checkpoints() {
    let (l, w1, mut w2) = ledger_with_two_witnesses().await;
    w2.stop().await;
    let mut l = l.restart().await;
    journey_cast(&mut l).await;
    // Records were accepted (journey_cast unwraps every receipt); checkpoints are signed and the
    // live witness cosigns them.
    let plain = l.checkpoint_of_size(8).await;
    let view = l.cosigned_checkpoint(8, 1).await;
    assert_eq!(view.cosignatures.len(), 1);
    assert_eq!(view.cosignatures[0].witness, w1.name);
    assert_eq!(plain.root, view.root);
    let e = l.client.checkpoint_with(2).await.unwrap_err();
    assert_eq!(e.code(), tonic::Code::NotFound, "{e:?}");
    assert_eq!(l.info().await.checkpoint_refusal, "");

    // Once the witness is back, the pusher's retry brings its cosignature too.
    let w2 = w2.start_again().await;
    let view = l.cosigned_checkpoint(8, 2).await;
    let opened = Checkpoint::open(
        &SignedNote::parse(&view.note).unwrap(),
        &l.log_key().await,
        &[w1.verifier_key(), w2.verifier_key()],
    )
    .unwrap();
    require_witnesses(&opened, 2).unwrap();
}
