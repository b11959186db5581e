//! Inclusion and consistency proofs (RFC 9162 2.1.3.1 / 2.1.4.1) computed from stored
//! perfect-subtree nodes. Owns the walk down RFC 9162's PATH and SUBPROOF recursions; never
//! rebuilds a subtree from its leaves.
//!
//! Both walks descend one level per step. At most one proof hash is a range that is not itself a
//! perfect subtree (the right sibling where the walk first turns left), and it costs one read per
//! set bit of its width; every other hash is a single stored node. So a proof for a tree of size
//! `n` reads at most about `2 * log2(n)` nodes.

use crate::hash::Hash32;
use crate::log::error::ProofError;
use crate::log::tree::{fetch, range_hash, NodeSource};

/// The audit path of leaf `index` in the tree of size `size`, the leaf's sibling first.
pub fn inclusion_proof(source: &impl NodeSource, index: u64, size: u64) -> Result<Vec<Hash32>, ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    // The current subtree is leaves [start, start + n) with the leaf at `m` inside it. Siblings
    // are found root first; the proof lists them leaf first.
    let (mut start, mut n, mut m) = (0u64, size, index);
    let mut path = Vec::new();
    while n > 1 {
        let k = split(n);
        if m < k {
            path.push(range_hash(source, start + k, start + n)?);
            n = k;
        } else {
            path.push(perfect(source, start, k)?);
            start += k;
            m -= k;
            n -= k;
        }
    }
    path.reverse();
    Ok(path)
}

/// The proof that the tree of size `first` is a prefix of the tree of size `second`.
///
/// From size 0, and between equal sizes, the proof is empty: every tree extends the empty one
/// (the C2SP witness protocol and Sigsum accept an empty proof from size 0, and so does
/// [`verify_consistency`](crate::log::verify::verify_consistency)), and a tree is its own prefix.
pub fn consistency_proof(source: &impl NodeSource, first: u64, second: u64) -> Result<Vec<Hash32>, ProofError> {
    if first > second {
        return Err(ProofError::SizesOutOfOrder { first, second });
    }
    if first == 0 || first == second {
        return Ok(Vec::new());
    }
    // SUBPROOF(m, D[start, start + n), complete): `complete` is false once the walk has gone
    // right, after which the old tree's subtree root itself must be in the proof.
    let (mut start, mut n, mut m, mut complete) = (0u64, second, first, true);
    let mut proof = Vec::new();
    loop {
        if m == n {
            if !complete {
                proof.push(range_hash(source, start, start + n)?);
            }
            break;
        }
        let k = split(n);
        if m <= k {
            proof.push(range_hash(source, start + k, start + n)?);
            n = k;
        } else {
            proof.push(perfect(source, start, k)?);
            start += k;
            m -= k;
            n -= k;
            complete = false;
        }
    }
    proof.reverse();
    Ok(proof)
}

/// The largest power of two strictly below `n` (n >= 2): where RFC 9162 splits a tree.
fn split(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// The stored perfect subtree of `width` (a power of two) leaves starting at leaf `start`.
fn perfect(source: &impl NodeSource, start: u64, width: u64) -> Result<Hash32, ProofError> {
    let level = width.trailing_zeros() as u8;
    fetch(source, level, start >> level)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_is_the_largest_power_of_two_below() {
        assert_eq!(split(2), 1);
        assert_eq!(split(3), 2);
        assert_eq!(split(4), 2);
        assert_eq!(split(5), 4);
        assert_eq!(split(u64::MAX), 1 << 63);
        assert_eq!(split((1 << 63) + 1), 1 << 63);
        assert_eq!(split(1 << 63), 1 << 62);
    }
}
