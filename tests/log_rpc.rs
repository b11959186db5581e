//! The log's RPCs through the generated client against the real server: every record's inclusion
//! proof verifies against a signed checkpoint, consistency between two checkpoints verifies, leaf
//! hashes match the entries, and bad requests are refused with their status, reason and field.
use crate::common;

use common::*;
use ebl_core::hash::Hash32;
use ebl_core::log::{verify_consistency, verify_inclusion, Checkpoint, LogEntry, SignedNote};
use ebl_ledger::pb::{self, get_inclusion_proof_request::Leaf};
use ebl_ledger::wire::entry::stored_entry;
use tonic::Code;

fn hashes(v: &[Vec<u8>]) -> Vec<Hash32> {
    v.iter().map(|h| Hash32::from_slice(h).expect("32-byte hash")).collect()
}

/// Opens a served checkpoint with the ledger's published verifier key.
fn opened(l: &TestLedger, view: &pb::CheckpointView) -> Checkpoint {
    let key = l.client.verifier_key().unwrap();
    Checkpoint::open(&SignedNote::parse(&view.note).unwrap(), &key, &[]).unwrap().checkpoint
}

/// Asserts a refusal's code, reason and field.
fn refused<T>(r: Result<T, tonic::Status>, code: Code, reason: &str, field: &str) {
    let e = r.map(|_| ()).expect_err("must be refused");
    assert_eq!((e.code(), reason_of(&e).as_str(), field_of(&e).as_str()), (code, reason, field), "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_record_is_provably_in_the_signed_log() {
    let (mut l, _bill) = ledger_with_bill("LOGRPC0001").await;
    let first_size = l.store().next_seq().unwrap();
    let view = l.checkpoint_of_size(first_size).await;
    let first = opened(&l, &view);
    let carrier = l.party("cq-mto");
    for i in 2..=8 {
        let d = with_reference(doc_json(ILSTC), &format!("LOGRPC{i:04}"));
        let rec = l.issue_record(&carrier, &d, pb::DocumentProfile::DcsaEbl3, "cq-machinery", "", "");
        l.client.submit(rec).await.unwrap();
    }
    let size = l.store().next_seq().unwrap();
    let view = l.checkpoint_of_size(size).await;
    let second = opened(&l, &view);
    assert_eq!(second.size(), size);

    let leaves = l.client.leaf_hashes(0, size).await.unwrap();
    assert_eq!(leaves.hashes.len() as u64, size);
    for seq in 0..size {
        let stored = l.store().record(seq).unwrap().unwrap().to_pb().unwrap();
        let entry = stored_entry(&stored).unwrap();
        let record_hash = stored.receipt.as_ref().unwrap().record_hash.clone();
        assert_eq!(entry.record_hash.0.to_vec(), record_hash);
        // By index and by record hash, at the latest checkpoint's size (the default).
        let by_index = l.client.inclusion(Leaf::Index(seq), None).await.unwrap();
        let by_hash = l.client.inclusion(Leaf::RecordHash(record_hash), None).await.unwrap();
        assert_eq!(by_index, by_hash);
        assert_eq!((by_index.index, by_index.tree_size), (seq, size));
        assert_eq!(by_index.entry, entry.encode().to_vec(), "the served entry is the stored record's");
        assert_eq!(LogEntry::decode(&by_index.entry).unwrap().leaf_hash().0.to_vec(), by_index.leaf_hash);
        assert_eq!(leaves.hashes[seq as usize], by_index.leaf_hash);
        verify_inclusion(seq, size, &entry.leaf_hash(), &hashes(&by_index.hashes), &second.root()).unwrap();
        // And in the first checkpoint, for the records it holds.
        if seq < first.size() {
            let old = l.client.inclusion(Leaf::Index(seq), Some(first.size())).await.unwrap();
            verify_inclusion(seq, first.size(), &entry.leaf_hash(), &hashes(&old.hashes), &first.root()).unwrap();
        }
    }

    let c = l.client.consistency(first.size(), None).await.unwrap();
    assert_eq!((c.first, c.second), (first.size(), size));
    verify_consistency(first.size(), size, &first.root(), &second.root(), &hashes(&c.hashes)).unwrap();
    let same = l.client.consistency(size, Some(size)).await.unwrap();
    assert!(same.hashes.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_log_requests_are_refused_with_reason_and_field() {
    let (mut l, _bill) = ledger_with_bill("LOGRPC0100").await;
    let size = l.store().next_seq().unwrap();
    l.checkpoint_of_size(size).await;
    let before = l.digest();
    let c = &mut l.client;
    refused(c.inclusion(Leaf::Index(size), None).await, Code::InvalidArgument, "INVALID_FIELD", "index");
    refused(c.inclusion(Leaf::Index(0), Some(size + 1)).await, Code::InvalidArgument, "INVALID_FIELD", "tree_size");
    refused(
        c.inclusion(Leaf::RecordHash(vec![1; 31]), None).await,
        Code::InvalidArgument,
        "INVALID_FIELD",
        "record_hash",
    );
    refused(c.inclusion(Leaf::RecordHash(vec![1; 32]), None).await, Code::NotFound, "NOT_FOUND", "");
    let missing = c.grpc.get_inclusion_proof(pb::GetInclusionProofRequest { leaf: None, tree_size: None }).await;
    refused(missing.map(|r| r.into_inner()), Code::InvalidArgument, "INVALID_FIELD", "leaf");
    // The last record exists but is not in the tree of size 1.
    let last = l.store().record(size - 1).unwrap().unwrap().to_pb().unwrap().receipt.unwrap().record_hash;
    let c = &mut l.client;
    refused(c.inclusion(Leaf::RecordHash(last), Some(1)).await, Code::FailedPrecondition, "RECORD_NOT_IN_TREE", "");
    refused(c.consistency(2, Some(1)).await, Code::InvalidArgument, "INVALID_FIELD", "first");
    refused(c.consistency(0, Some(size + 1)).await, Code::InvalidArgument, "INVALID_FIELD", "second");
    refused(c.leaf_hashes(0, 1001).await, Code::ResourceExhausted, "LEAF_RANGE_TOO_LARGE", "");
    refused(c.leaf_hashes(size - 1, 2).await, Code::InvalidArgument, "INVALID_FIELD", "count");
    refused(c.leaf_hashes(u64::MAX, 1).await, Code::InvalidArgument, "INVALID_FIELD", "count");
    assert_eq!(l.digest(), before, "log reads change nothing");
}
