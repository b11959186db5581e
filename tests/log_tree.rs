//! The log's tree in RocksDB: the store-backed tree against the core's `MemoryTree`, and the
//! writer really committing every accepted record's leaf in its batch.
use crate::common;

use common::*;
use ebl_core::hash::Hash32;
use ebl_core::log::{consistency_proof, inclusion_proof, leaf_hash, MemoryTree};
use ebl_ledger::pb;
use ebl_ledger::store::keys::Meta;
use ebl_ledger::store::{Batch, Store};
use ebl_ledger::wire::entry::stored_entry;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const MAX: u64 = 300;

/// Appends `leaves` to the store as the writer does: nodes from `append` in one synced batch.
fn commit_leaves(store: &Store, leaves: &[Hash32]) {
    let size = store.next_seq().unwrap();
    let appended = store.tree_append(size, leaves).unwrap();
    let mut b = Batch::new();
    b.tree_nodes(&appended.nodes);
    b.meta(Meta::NextSeq, &appended.size.to_be_bytes());
    store.commit(b).unwrap();
}

#[test]
fn store_tree_matches_memory_tree_for_every_size_and_proof() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut rng = StdRng::seed_from_u64(0x5eed_1095);
    let leaves: Vec<Hash32> =
        (0..MAX).map(|i| leaf_hash(format!("leaf {i} {}", rng.gen::<u64>()).as_bytes())).collect();

    // Fill the store in random batch sizes, one synced commit each, checking the root as it grows.
    let mut reference = MemoryTree::new();
    let mut commits = 0;
    while store.next_seq().unwrap() < MAX {
        let size = store.next_seq().unwrap() as usize;
        let n = rng.gen_range(1..=17).min(MAX as usize - size);
        commit_leaves(&store, &leaves[size..size + n]);
        commits += 1;
        let mut grown = MemoryTree::new();
        grown.append(&leaves[..size + n]).unwrap();
        assert_eq!(store.tree_root((size + n) as u64).unwrap(), grown.root(), "root after commit to {}", size + n);
    }
    assert!(commits > 20, "batches of varied sizes: {commits} commits");

    // Every size, every inclusion index and every consistency pair, against a MemoryTree grown one
    // leaf at a time (so at each step it holds exactly that size's nodes).
    for size in 1..=MAX {
        reference.append(&[leaves[size as usize - 1]]).unwrap();
        assert_eq!(store.tree_root(size).unwrap(), reference.root(), "root at {size}");
        for index in 0..size {
            assert_eq!(
                store.inclusion_proof(index, size).unwrap(),
                inclusion_proof(&reference, index, size).unwrap(),
                "inclusion of {index} in {size}"
            );
        }
        for first in 0..=size {
            assert_eq!(
                store.consistency_proof(first, size).unwrap(),
                consistency_proof(&reference, first, size).unwrap(),
                "consistency {first} -> {size}"
            );
        }
    }
    assert_eq!(store.leaf_hashes(0, MAX + 10).unwrap(), leaves, "level 0 holds the leaf hashes in order");
    assert_eq!(store.leaf_hashes(290, 5).unwrap(), leaves[290..295]);
    // A size beyond the tree is an error, not a made-up root.
    assert!(store.tree_root(MAX + 1).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writer_commits_one_leaf_per_accepted_record() {
    let (mut l, _bill) = ledger_with_bill("LOGTREE0001").await;
    // A batch of issues, with a duplicate and a refusal in it: neither is a leaf.
    let carrier = l.party("cq-mto");
    let mut records: Vec<pb::SignedRecord> = (2..=12)
        .map(|i| {
            let d = with_reference(doc_json(ILSTC), &format!("LOGTREE{i:04}"));
            l.issue_record(&carrier, &d, pb::DocumentProfile::DcsaEbl3, "cq-machinery", "", "")
        })
        .collect();
    records.push(records[0].clone());
    let mut forged = records[1].clone();
    forged.payload[0] ^= 1;
    records.push(forged);
    let out = l.client.grpc.submit_batch(pb::SubmitBatchRequest { records }).await.unwrap().into_inner();
    assert_eq!(out.results.len(), 13);

    let store = l.store();
    let size = store.next_seq().unwrap();
    assert_eq!(size, 8 + 1 + 11, "4 parties with a key each, one bill, 11 more");
    let mut tree = MemoryTree::new();
    for seq in 0..size {
        let entry = stored_entry(&store.record(seq).unwrap().unwrap().to_pb().unwrap()).unwrap();
        assert_eq!(entry.seq, seq);
        tree.append(&[entry.leaf_hash()]).unwrap();
    }
    assert_eq!(store.tree_root(size).unwrap(), tree.root());
    assert_eq!(store.leaf_hashes(0, size + 1).unwrap().len() as u64, size, "exactly one leaf per record");
}
