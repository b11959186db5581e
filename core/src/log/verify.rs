//! Proof verification exactly as RFC 9162 2.1.3.2 (inclusion) and 2.1.4.2 (consistency), for
//! clients, witnesses and offline tools. Owns the length bounds; touches no stored node.
//!
//! All arithmetic is on u64 and cannot overflow: the only subtractions are `size - 1` after
//! `index < size` is known, and `first - 1` after `first > 0`.

use crate::hash::Hash32;
use crate::log::error::ProofError;
use crate::log::tree::{empty_root, node_hash};

/// The longest inclusion proof a u64-sized tree can need: each hash consumes at least one bit of
/// `size - 1`.
pub const MAX_INCLUSION_PROOF: usize = 64;

/// The longest consistency proof a u64-sized tree can need. One more than for inclusion: the
/// first hash seeds both roots and each further hash consumes a bit of `second - 1`. It is
/// reached, e.g. from size 2^63 - 1 to 2^63 + 1.
pub const MAX_CONSISTENCY_PROOF: usize = 65;

/// Checks that `leaf_hash` is leaf `index` of the tree of size `size` with root `root`.
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf_hash: &Hash32,
    proof: &[Hash32],
    root: &Hash32,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    if proof.len() > MAX_INCLUSION_PROOF {
        return Err(ProofError::ProofTooLong { len: proof.len(), max: MAX_INCLUSION_PROOF });
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf_hash;
    for p in proof {
        if s == 0 {
            return Err(ProofError::ExtraHashes);
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            // Skip the levels where this node is a lone right edge with no sibling.
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(ProofError::MissingHashes);
    }
    if r != *root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// Checks that the tree of size `first` with root `first_root` is a prefix of the tree of size
/// `second` with root `second_root`.
///
/// Equal sizes need an empty proof and equal roots. From size 0 the proof must be empty (as the
/// C2SP witness protocol has it) and `first_root` must be the empty tree's root: a claim that the
/// empty tree has any other root is refused rather than ignored.
pub fn verify_consistency(
    first: u64,
    second: u64,
    first_root: &Hash32,
    second_root: &Hash32,
    proof: &[Hash32],
) -> Result<(), ProofError> {
    if first > second {
        return Err(ProofError::SizesOutOfOrder { first, second });
    }
    if first == 0 || first == second {
        if !proof.is_empty() {
            return Err(ProofError::UnexpectedHashes { first, second, len: proof.len() });
        }
        if first == 0 && *first_root != empty_root() {
            return Err(ProofError::FirstRootMismatch);
        }
        if first == second && first_root != second_root {
            return Err(ProofError::SecondRootMismatch);
        }
        return Ok(());
    }
    if proof.is_empty() {
        return Err(ProofError::EmptyProof);
    }
    if proof.len() > MAX_CONSISTENCY_PROOF {
        return Err(ProofError::ProofTooLong { len: proof.len(), max: MAX_CONSISTENCY_PROOF });
    }
    // A power-of-two first tree is a stored subtree of the second, so its root is the proof's
    // implicit first hash (RFC 9162 prepends it); otherwise the proof starts with it.
    let (seed, rest) = if first.is_power_of_two() { (*first_root, proof) } else { (proof[0], &proof[1..]) };
    let (mut f, mut s) = (first - 1, second - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (seed, seed);
    for c in rest {
        if s == 0 {
            return Err(ProofError::ExtraHashes);
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(ProofError::MissingHashes);
    }
    if fr != *first_root {
        return Err(ProofError::FirstRootMismatch);
    }
    if sr != *second_root {
        return Err(ProofError::SecondRootMismatch);
    }
    Ok(())
}
