//! RFC 9162 Merkle tree hashing and the storage model. Owns [`leaf_hash`], [`node_hash`],
//! [`empty_root`], the [`NodeSource`] lookup, [`append`] (the nodes a batch of leaves completes)
//! and [`root`]. It reads nodes only through `NodeSource` and returns what to write: persisting is
//! the store's job.
//!
//! Storage model: the tree is kept as the hashes of its perfect subtrees. Node (level `L`, index
//! `i`) is the Merkle tree hash of leaves `[i * 2^L, (i + 1) * 2^L)`, and a tree of size `n` holds
//! exactly the nodes with `(i + 1) * 2^L <= n`. Nodes never change once written, so a prefix of the
//! tree is always readable from a larger one, and any root or proof costs O(log n) reads.
//!
//! The hashes are plain SHA-256 with RFC 6962's 0x00 / 0x01 prefixes rather than the ledger's
//! tagged hashes: the standard fixes them, and witnesses and monitors recompute them.

use crate::error::Unreadable;
use crate::hash::Hash32;
use crate::log::error::ProofError;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// A lookup of stored perfect-subtree hashes (the RocksDB store implements it over its node
/// column).
pub trait NodeSource {
    /// The hash of node (`level`, `index`), `None` if it is not stored, or the storage's failure.
    /// MUST NOT panic for a node outside the tree: callers turn `None` into
    /// [`ProofError::MissingNode`] and a failure into [`ProofError::Unreadable`].
    fn node(&self, level: u8, index: u64) -> Result<Option<Hash32>, Unreadable>;
}

impl<S: NodeSource + ?Sized> NodeSource for &S {
    fn node(&self, level: u8, index: u64) -> Result<Option<Hash32>, Unreadable> {
        (**self).node(level, index)
    }
}

/// One perfect-subtree node to persist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Node {
    /// Height of the subtree (0 = a leaf hash).
    pub level: u8,
    /// Index within the level.
    pub index: u64,
    /// Merkle tree hash of its leaves.
    pub hash: Hash32,
}

/// What appending a batch produces: the nodes to write and the tree's new size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    /// Every perfect subtree the batch completes, leaves included, in the order they complete.
    pub nodes: Vec<Node>,
    /// The size of the tree after the batch.
    pub size: u64,
}

/// The RFC 6962 leaf hash: SHA-256(0x00 || data).
pub fn leaf_hash(data: &[u8]) -> Hash32 {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(data);
    Hash32(h.finalize().into())
}

/// The RFC 6962 interior node hash: SHA-256(0x01 || left || right).
pub fn node_hash(left: &Hash32, right: &Hash32) -> Hash32 {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left.0);
    h.update(right.0);
    Hash32(h.finalize().into())
}

/// The root of the empty tree: SHA-256 of nothing.
pub fn empty_root() -> Hash32 {
    Hash32(Sha256::digest([]).into())
}

/// Computes the nodes that appending `leaves` (leaf hashes, see [`leaf_hash`]) to the tree of
/// size `size` held by `source` completes. Reads only the right edge of the existing tree (one
/// node per set bit of `size`), and returns the same nodes whatever the batching: appending
/// `a ++ b` at once yields exactly the nodes of appending `a`, then `b`.
pub fn append(source: &impl NodeSource, size: u64, leaves: &[Hash32]) -> Result<Appended, ProofError> {
    let adding = leaves.len() as u64;
    let new_size = size.checked_add(adding).ok_or(ProofError::TreeFull { size, adding })?;
    // The right edge: the perfect subtrees that make up the current tree, largest (leftmost)
    // first, so the smallest is on top of the stack where new leaves merge into it.
    let mut edge: Vec<(u8, Hash32)> = Vec::with_capacity(64);
    for level in (0..64u8).rev() {
        if (size >> level) & 1 == 1 {
            edge.push((level, fetch(source, level, (size >> level) - 1)?));
        }
    }
    let mut nodes = Vec::with_capacity(leaves.len() * 2);
    // Positions are computed as `size + offset` (at most `new_size - 1`): a `size..` range would
    // overflow stepping past the last leaf when `new_size` is `u64::MAX`.
    for (offset, leaf) in leaves.iter().enumerate() {
        let (mut level, mut index, mut hash) = (0u8, size + offset as u64, *leaf);
        nodes.push(Node { level, index, hash });
        // An odd index is a right child: its left sibling is the top of the edge (the edge holds
        // one subtree per set bit of `position`), and together they complete their parent.
        while index & 1 == 1 {
            let Some((left_level, left)) = edge.pop() else { break };
            debug_assert_eq!(left_level, level);
            hash = node_hash(&left, &hash);
            level += 1;
            index >>= 1;
            nodes.push(Node { level, index, hash });
        }
        edge.push((level, hash));
    }
    Ok(Appended { nodes, size: new_size })
}

/// The root of the tree of size `size` (any size the source holds), from at most one node read
/// per set bit of `size`.
pub fn root(source: &impl NodeSource, size: u64) -> Result<Hash32, ProofError> {
    if size == 0 {
        return Ok(empty_root());
    }
    range_hash(source, 0, size)
}

/// The Merkle tree hash of leaves `[start, end)`, assembled from the perfect subtrees that
/// decompose the range, combined right to left. Precondition (held by every subtree RFC 9162's
/// recursion visits): `start < end` and `start` is a multiple of the largest power of two not
/// above `end - start`, so each piece is an aligned stored node.
pub(crate) fn range_hash(source: &impl NodeSource, start: u64, end: u64) -> Result<Hash32, ProofError> {
    debug_assert!(start < end);
    let len = end - start;
    let mut acc: Option<Hash32> = None;
    let mut piece_end = end;
    // The smallest piece is rightmost and the innermost right child, so fold from it leftwards.
    for level in 0..64u8 {
        if (len >> level) & 1 == 1 {
            let width = 1u64 << level;
            let piece_start = piece_end - width;
            debug_assert_eq!(piece_start % width, 0, "unaligned range [{start}, {end})");
            let hash = fetch(source, level, piece_start >> level)?;
            acc = Some(match acc {
                None => hash,
                Some(right) => node_hash(&hash, &right),
            });
            piece_end = piece_start;
        }
    }
    acc.ok_or(ProofError::MissingNode { level: 0, index: start })
}

/// One node read, a missing node being an error rather than a panic.
pub(crate) fn fetch(source: &impl NodeSource, level: u8, index: u64) -> Result<Hash32, ProofError> {
    source.node(level, index)?.ok_or(ProofError::MissingNode { level, index })
}

/// An in-memory tree: a map of nodes that applies [`append`]'s output. For tests and offline
/// verification tools; the ledger's store keeps its nodes in RocksDB.
#[derive(Debug, Clone, Default)]
pub struct MemoryTree {
    nodes: HashMap<(u8, u64), Hash32>,
    size: u64,
}

impl MemoryTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends leaf hashes, returning what [`append`] computed (and this tree applied).
    pub fn append(&mut self, leaves: &[Hash32]) -> Result<Appended, ProofError> {
        let appended = append(self, self.size, leaves)?;
        self.apply(&appended);
        Ok(appended)
    }

    /// Writes the nodes of an [`append`] result computed against this tree.
    pub fn apply(&mut self, appended: &Appended) {
        for n in &appended.nodes {
            self.nodes.insert((n.level, n.index), n.hash);
        }
        self.size = appended.size;
    }

    /// The root at the current size.
    pub fn root(&self) -> Hash32 {
        // Every node of a tree built by `append` is present, so this cannot miss.
        root(self, self.size).unwrap_or_else(|_| empty_root())
    }

    /// The number of stored nodes (2n - popcount(n) for n leaves).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }
}

impl NodeSource for MemoryTree {
    fn node(&self, level: u8, index: u64) -> Result<Option<Hash32>, Unreadable> {
        Ok(self.nodes.get(&(level, index)).copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        assert!(empty_root().to_hex().starts_with("e3b0c442"));
        assert_eq!(root(&MemoryTree::new(), 0), Ok(empty_root()));
    }

    #[test]
    fn size_one_root_is_the_leaf_hash() {
        let mut t = MemoryTree::new();
        let l = leaf_hash(b"x");
        t.append(&[l]).unwrap();
        assert_eq!(t.root(), l);
        assert_eq!(t.node_count(), 1);
    }

    #[test]
    fn overflow_is_an_error() {
        let err = append(&MemoryTree::new(), u64::MAX, &[leaf_hash(b"")]).unwrap_err();
        assert_eq!(err, ProofError::TreeFull { size: u64::MAX, adding: 1 });
    }

    #[test]
    fn missing_nodes_are_errors() {
        assert_eq!(root(&MemoryTree::new(), 3), Err(ProofError::MissingNode { level: 0, index: 2 }));
        assert_eq!(append(&MemoryTree::new(), 2, &[]), Err(ProofError::MissingNode { level: 1, index: 0 }));
    }
}
