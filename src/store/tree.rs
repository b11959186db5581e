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
use rocksdb::{Direction, IteratorMode};
use std::cell::RefCell;

/// The store as a node source. A RocksDB read failure is logged and reads as a missing node
/// (`NodeSource` cannot carry errors); the core then reports `MissingNode`. The store's own
/// methods below keep the RocksDB error instead.
impl NodeSource for Store {
    fn node(&self, level: u8, index: u64) -> Option<Hash32> {
        match self.get(CF_TREE, &tree_key(level, index)) {
            Ok(v) => v.and_then(|v| Hash32::from_slice(&v)),
            Err(e) => {
                tracing::error!(error = %e, level, index, "tree node read failed");
                None
            }
        }
    }
}

/// One operation's view of the tree column that remembers the first read failure.
struct Nodes<'a> {
    store: &'a Store,
    // RefCell: NodeSource::node takes &self; the view lives for one call on one thread.
    failure: RefCell<Option<StoreError>>,
}

impl<'a> Nodes<'a> {
    fn new(store: &'a Store) -> Self {
        Nodes { store, failure: RefCell::new(None) }
    }

    /// Runs a tree computation, turning a read failure into its RocksDB error and any other
    /// proof error (a node that should be stored and is not) into corruption.
    fn run<T>(store: &'a Store, f: impl FnOnce(&Nodes<'a>) -> Result<T, ProofError>) -> Result<T, StoreError> {
        let nodes = Nodes::new(store);
        let result = f(&nodes);
        if let Some(e) = nodes.failure.borrow_mut().take() {
            return Err(e);
        }
        result.map_err(|e| StoreError::Corrupt { cf: CF_TREE, why: e.to_string() })
    }
}

impl NodeSource for Nodes<'_> {
    fn node(&self, level: u8, index: u64) -> Option<Hash32> {
        match self.store.get(CF_TREE, &tree_key(level, index)) {
            Ok(v) => v.and_then(|v| Hash32::from_slice(&v)),
            Err(e) => {
                self.failure.borrow_mut().get_or_insert(e);
                None
            }
        }
    }
}

impl Store {
    /// The tree's root at `size` (any size up to the current one).
    pub fn tree_root(&self, size: u64) -> Result<Hash32, StoreError> {
        Nodes::run(self, |n| log::root(n, size))
    }

    /// The inclusion proof of leaf `index` in the tree of `size` (caller checks `index < size
    /// <= next_seq`).
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash32>, StoreError> {
        Nodes::run(self, |n| log::inclusion_proof(n, index, size))
    }

    /// The consistency proof from `first` to `second` (caller checks `first <= second <=
    /// next_seq`).
    pub fn consistency_proof(&self, first: u64, second: u64) -> Result<Vec<Hash32>, StoreError> {
        Nodes::run(self, |n| log::consistency_proof(n, first, second))
    }

    /// What appending `leaves` to the current tree (of size `size`) writes.
    pub fn tree_append(&self, size: u64, leaves: &[Hash32]) -> Result<log::Appended, StoreError> {
        Nodes::run(self, |n| log::append(n, size, leaves))
    }

    /// Leaf hashes `[start, start + count)`, one range scan; fewer if the tree ends first.
    pub fn leaf_hashes(&self, start: u64, count: u64) -> Result<Vec<Hash32>, StoreError> {
        let mut out = Vec::new();
        let from = tree_key(0, start);
        for item in self.db().iterator_cf(self.cf(CF_TREE), IteratorMode::From(&from, Direction::Forward)) {
            let (k, v) = item?;
            if out.len() as u64 >= count || k.first() != Some(&0) {
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
