//! Merkle proof verification: [`verify_inclusion`] and [`verify_consistency`] on arbitrary
//! indexes, sizes (up to `u64::MAX`), hashes and proof lengths, and on proofs of a real tree.
//!
//! Asserts: no panic and no overflow on any input; for a tree of up to 300 leaves built with
//! [`MemoryTree`], the proofs [`inclusion_proof`] and [`consistency_proof`] give verify, and
//! changing any bit of a proof hash, the leaf or a root, or adding or dropping a hash, makes them
//! fail.

use super::Input;
use crate::hash::Hash32;
use crate::log::{
    consistency_proof, inclusion_proof, leaf_hash, verify_consistency, verify_inclusion, MemoryTree, ProofError,
};

/// The target's body.
pub fn run(data: &[u8]) {
    let mut input = Input::new(data);
    arbitrary(&mut input);
    real_tree(&mut input);
}

/// Proof hashes drawn from a small pool as often as from the input, so equal hashes occur.
fn hashes(input: &mut Input, n: usize) -> Vec<Hash32> {
    (0..n)
        .map(|_| match input.byte() {
            b @ 0..=127 => Hash32([b % 4; 32]),
            _ => input.hash(),
        })
        .collect()
}

fn arbitrary(input: &mut Input) {
    let (a, b) = (input.u64(), input.u64());
    let n = input.byte() as usize % 70;
    let proof = hashes(input, n);
    let (leaf, root, other) = (input.hash(), input.hash(), input.hash());
    let _ = verify_inclusion(a, b, &leaf, &proof, &root);
    let _ = verify_consistency(a, b, &root, &other, &proof);
}

fn real_tree(input: &mut Input) {
    let size = 1 + u64::from(input.u32() % 300);
    let mut tree = MemoryTree::new();
    let leaves: Vec<Hash32> = (0..size).map(|i| leaf_hash(&i.to_be_bytes())).collect();
    let first = u64::from(input.u32()) % (size + 1);
    tree.append(&leaves[..first as usize]).expect("appends");
    let first_root = tree.root();
    tree.append(&leaves[first as usize..]).expect("appends");
    let root = tree.root();
    let (flip_at, bit) = (input.byte() as usize, 1u8 << (input.byte() % 8));

    let index = input.u64() % size;
    let leaf = &leaves[index as usize];
    let proof = inclusion_proof(&tree, index, size).expect("an inclusion proof of a stored leaf");
    assert_eq!(verify_inclusion(index, size, leaf, &proof, &root), Ok(()), "inclusion {index} in {size}");
    for (i, bad) in mutations(&proof, flip_at, bit).into_iter().enumerate() {
        assert!(verify_inclusion(index, size, leaf, &bad, &root).is_err(), "inclusion mutation {i} verifies");
    }
    let mut bad_leaf = *leaf;
    bad_leaf.0[flip_at % 32] ^= bit;
    assert!(verify_inclusion(index, size, &bad_leaf, &proof, &root).is_err(), "another leaf verifies");
    let mut bad_root = root;
    bad_root.0[flip_at % 32] ^= bit;
    assert!(verify_inclusion(index, size, leaf, &proof, &bad_root).is_err(), "another root verifies");

    let proof = consistency_proof(&tree, first, size).expect("a consistency proof within the tree");
    assert_eq!(verify_consistency(first, size, &first_root, &root, &proof), Ok(()), "consistency {first} to {size}");
    for (i, bad) in mutations(&proof, flip_at, bit).into_iter().enumerate() {
        assert!(verify_consistency(first, size, &first_root, &root, &bad).is_err(), "consistency mutation {i}");
    }
    let mut bad_first = first_root;
    bad_first.0[flip_at % 32] ^= bit;
    assert!(verify_consistency(first, size, &bad_first, &root, &proof).is_err(), "another first root verifies");
    // From size 0 every tree is an extension: only the empty root is checked there.
    if first > 0 {
        assert!(verify_consistency(first, size, &first_root, &bad_root, &proof).is_err(), "another root verifies");
    }
    if first < size {
        let err = verify_consistency(size, first, &root, &first_root, &proof).unwrap_err();
        assert_eq!(err, ProofError::SizesOutOfOrder { first: size, second: first });
    }
}

/// The proof with one bit flipped, with a hash added, and with its last hash dropped.
fn mutations(proof: &[Hash32], flip_at: usize, bit: u8) -> Vec<Vec<Hash32>> {
    let mut out = Vec::new();
    if !proof.is_empty() {
        let mut flipped = proof.to_vec();
        flipped[flip_at / 32 % proof.len()].0[flip_at % 32] ^= bit;
        out.push(flipped);
        out.push(proof[..proof.len() - 1].to_vec());
    }
    let mut longer = proof.to_vec();
    longer.push(Hash32([bit; 32]));
    out.push(longer);
    out
}
