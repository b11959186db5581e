//! Reading the transparency log's Merkle tree from its column family (`tree`, see
//! [`keys::tree_key`](super::keys::tree_key)): the store as an `ebl_core::log::NodeSource`, and
//! roots, proofs and leaf hashes over it. Nodes are written only by the writer, in the commit
//! batch ([`Batch::tree_nodes`](super::Batch::tree_nodes)); this module never writes.
//!
//! The tree's size is the store's `next_seq`: every accepted record is one leaf, committed in the
//! same batch as the record, so the two never differ.

use super::keys::{tree_key, CF_TREE};
use super::{Store, StoreError};
use ebl_core::hash::Hash32;
use ebl_core::log::{self, NodeSource, ProofError};

/// The store as a node source: a read failure comes back as the core's `Unreadable`, and
/// through the proof functions as [`StoreError::Unreadable`], never as a missing node.
impl NodeSource for Store {
    fn node(&self, level: u8, index: u64) -> Result<Option<Hash32>, ebl_core::Unreadable> {
        Ok(self.get(CF_TREE, &tree_key(level, index))?.and_then(|v| Hash32::from_slice(&v)))
    }
}

/// A tree computation's result: a read failure keeps its error; any other proof error (a node
/// that should be stored and is not) is corruption.
fn run<T>(result: Result<T, ProofError>) -> Result<T, StoreError> {
    result.map_err(|e| match e {
        ProofError::Unreadable(u) => StoreError::Unreadable(u),
        e => StoreError::Corrupt { cf: CF_TREE, why: e.to_string() },
    })
}

impl Store {
    /// The tree's root at `size` (any size up to the current one).
    pub fn tree_root(&self, size: u64) -> Result<Hash32, StoreError> {
        run(log::root(self, size))
    }

    /// The inclusion proof of leaf `index` in the tree of `size` (caller checks `index < size
    /// <= next_seq`).
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash32>, StoreError> {
        run(log::inclusion_proof(self, index, size))
    }

    /// The consistency proof from `first` to `second` (caller checks `first <= second <=
    /// next_seq`).
    pub fn consistency_proof(&self, first: u64, second: u64) -> Result<Vec<Hash32>, StoreError> {
        run(log::consistency_proof(self, first, second))
    }

    /// What appending `leaves` to the current tree (of size `size`) writes.
    pub fn tree_append(&self, size: u64, leaves: &[Hash32]) -> Result<log::Appended, StoreError> {
        run(log::append(self, size, leaves))
    }

    /// Leaf hashes `[start, start + count)`, one range scan; fewer if the tree ends first.
    pub fn leaf_hashes(&self, start: u64, count: u64) -> Result<Vec<Hash32>, StoreError> {
        let mut out = Vec::new();
        let from = tree_key(0, start);
        // Level 0 (the leaves) ends where level 1 begins.
        for item in self.scan(CF_TREE, &from, Some(&[1])) {
            let (k, v) = item?;
            if out.len() as u64 >= count {
                break;
            }
            let expected = tree_key(0, start + out.len() as u64);
            if *k != expected[..] {
                return Err(StoreError::Corrupt {
                    cf: CF_TREE,
                    why: format!("leaf {} is missing", start + out.len() as u64),
                });
            }
            out.push(
                Hash32::from_slice(&v)
                    .ok_or(StoreError::Corrupt { cf: CF_TREE, why: "node is not 32 bytes".into() })?,
            );
        }
        Ok(out)
    }
}
