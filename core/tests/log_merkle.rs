//! Differential tests of the log's Merkle tree (`ebl_core::log::{tree, proof, verify}`).
//!
//! Every root, inclusion proof and consistency proof for all tree sizes up to 300 is checked
//! against a naive recursive reference written here straight from RFC 9162's MTH, PATH and
//! SUBPROOF (hashing with `sha2` directly, not through the library), and against the independent
//! `ct-merkle` crate. Trees are built by appending in random batch sizes (fixed seed), proofs are
//! computed through a view that hides every node beyond the size asked for (as a store of that
//! size would) and counts reads, and every proof is verified and then tampered with.
//!
//! `ct-merkle` hashes its leaves as RFC 6962 does (SHA-256(0x00 || bytes)), so it is fed the same
//! leaf bytes and its roots and proof bytes (`as_bytes`, the concatenated hashes) compare directly
//! with ours. Its proofs come from its in-memory tree at its current size, so it is grown one leaf
//! at a time and queried for every (index, size) and (first, size) pair at each size.

use ct_merkle::mem_backed_tree::MemoryBackedTree;
use ebl_core::hash::Hash32;
use ebl_core::log::verify::{MAX_CONSISTENCY_PROOF, MAX_INCLUSION_PROOF};
use ebl_core::log::{
    append, consistency_proof, empty_root, inclusion_proof, leaf_hash, node_hash, root, verify_consistency,
    verify_inclusion, MemoryTree, Node, NodeSource, ProofError,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sha2::{Digest, Sha256};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;

const MAX: u64 = 300;

// ---- the naive reference (RFC 9162 2.1.1, 2.1.3.1, 2.1.4.1, word for word) ---------------------

fn sha(parts: &[&[u8]]) -> Hash32 {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    Hash32(h.finalize().into())
}

/// The largest power of two strictly below `n`.
fn k_of(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

struct Reference {
    leaves: Vec<Vec<u8>>,
    // MTH of the same range is asked for again and again across ~90,000 proofs; remembering it
    // keeps the run short without changing the recursion.
    memo: RefCell<HashMap<(usize, usize), Hash32>>,
}

impl Reference {
    fn new(leaves: Vec<Vec<u8>>) -> Self {
        Reference { leaves, memo: RefCell::new(HashMap::new()) }
    }

    /// MTH(D[a:b]).
    fn mth(&self, a: usize, b: usize) -> Hash32 {
        if let Some(h) = self.memo.borrow().get(&(a, b)) {
            return *h;
        }
        let h = match b - a {
            0 => sha(&[]),
            1 => sha(&[&[0x00], &self.leaves[a]]),
            n => {
                let k = k_of(n);
                sha(&[&[0x01], &self.mth(a, a + k).0, &self.mth(a + k, b).0])
            }
        };
        self.memo.borrow_mut().insert((a, b), h);
        h
    }

    /// PATH(m, D[a:b]).
    fn path(&self, m: usize, a: usize, b: usize) -> Vec<Hash32> {
        let n = b - a;
        if n == 1 {
            return vec![];
        }
        let k = k_of(n);
        if m < k {
            let mut p = self.path(m, a, a + k);
            p.push(self.mth(a + k, b));
            p
        } else {
            let mut p = self.path(m - k, a + k, b);
            p.push(self.mth(a, a + k));
            p
        }
    }

    /// PROOF(m, D[n]) = SUBPROOF(m, D[n], true).
    fn proof(&self, m: usize, n: usize) -> Vec<Hash32> {
        self.subproof(m, 0, n, true)
    }

    /// SUBPROOF(m, D[a:b], complete).
    fn subproof(&self, m: usize, a: usize, b: usize, complete: bool) -> Vec<Hash32> {
        let n = b - a;
        if m == n {
            return if complete { vec![] } else { vec![self.mth(a, b)] };
        }
        let k = k_of(n);
        if m <= k {
            let mut p = self.subproof(m, a, a + k, complete);
            p.push(self.mth(a + k, b));
            p
        } else {
            let mut p = self.subproof(m - k, a + k, b, false);
            p.push(self.mth(a, a + k));
            p
        }
    }
}

// ---- helpers ------------------------------------------------------------------------------------

/// A tree's nodes as a store of size `size` would hold them, counting reads.
struct View<'a> {
    tree: &'a MemoryTree,
    size: u64,
    reads: Cell<usize>,
}

impl<'a> View<'a> {
    fn new(tree: &'a MemoryTree, size: u64) -> Self {
        View { tree, size, reads: Cell::new(0) }
    }

    fn take_reads(&self) -> usize {
        self.reads.replace(0)
    }
}

impl NodeSource for View<'_> {
    fn node(&self, level: u8, index: u64) -> Result<Option<Hash32>, ebl_core::Unreadable> {
        self.reads.set(self.reads.get() + 1);
        let end = index.checked_add(1).and_then(|i| i.checked_mul(1u64.checked_shl(level as u32)?));
        match end {
            Some(end) if end <= self.size => self.tree.node(level, index),
            _ => Ok(None),
        }
    }
}

fn random_leaves(rng: &mut StdRng, n: u64) -> Vec<Vec<u8>> {
    (0..n)
        .map(|_| {
            let len = rng.gen_range(0..48);
            (0..len).map(|_| rng.gen()).collect()
        })
        .collect()
}

/// Appends `leaves` in random batches (1 to 40, sometimes 0), returning the tree and the
/// concatenation of every batch's nodes.
fn build(rng: &mut StdRng, leaves: &[Hash32]) -> (MemoryTree, Vec<Node>) {
    let mut tree = MemoryTree::new();
    let mut all = Vec::new();
    let mut done = 0;
    while done < leaves.len() {
        let batch = rng.gen_range(0..=40).min(leaves.len() - done);
        let before = tree.size();
        let view = View::new(&tree, before);
        let appended = append(&view, before, &leaves[done..done + batch]).unwrap();
        // Only the right edge of the existing tree is read: one node per set bit of its size.
        assert!(view.take_reads() <= before.count_ones() as usize, "append at {before} read too much");
        assert_eq!(appended.size, before + batch as u64);
        tree.apply(&appended);
        all.extend(appended.nodes);
        done += batch;
    }
    (tree, all)
}

fn ceil_log2(n: u64) -> usize {
    (64 - (n - 1).leading_zeros()) as usize
}

fn flip(h: &Hash32, bit: usize) -> Hash32 {
    let mut t = *h;
    t.0[bit / 8] ^= 1 << (bit % 8);
    t
}

/// Which proof hashes to corrupt: every one on an eighth of the pairs (and on all small trees),
/// one chosen at random on the others, which keeps the ~90,000 proofs' tamper runs to seconds
/// in a debug build.
fn flipped_positions(rng: &mut StdRng, len: usize, pair: u64) -> Vec<usize> {
    if len == 0 {
        vec![]
    } else if pair.is_multiple_of(8) || pair <= 128 {
        (0..len).collect()
    } else {
        vec![rng.gen_range(0..len)]
    }
}

fn concat(hashes: &[Hash32]) -> Vec<u8> {
    hashes.iter().flat_map(|h| h.0).collect()
}

struct Fixture {
    data: Vec<Vec<u8>>,
    hashes: Vec<Hash32>,
    reference: Reference,
    tree: MemoryTree,
    rng: StdRng,
}

fn fixture(seed: u64) -> Fixture {
    let mut rng = StdRng::seed_from_u64(seed);
    let data = random_leaves(&mut rng, MAX);
    let hashes: Vec<Hash32> = data.iter().map(|d| leaf_hash(d)).collect();
    let (tree, _) = build(&mut rng, &hashes);
    Fixture { reference: Reference::new(data.clone()), data, hashes, tree, rng }
}

// ---- the reference vectors ------------------------------------------------------------------------

#[test]
fn reference_tree_roots_by_size() {
    let leaves: Vec<Vec<u8>> =
        ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
            .iter()
            .map(|h| hex::decode(h).unwrap())
            .collect();
    let prefixes = ["e3b0c442", "6e340b9c", "fac54203", "aeb6bcfe", "d37ee418", "4e3bbb1f", "76e67dad", "ddb89be4"];
    let reference = Reference::new(leaves.clone());
    let mut tree = MemoryTree::new();
    for (size, prefix) in prefixes.iter().enumerate() {
        assert!(root(&tree, size as u64).unwrap().to_hex().starts_with(prefix), "size {size}");
        assert!(reference.mth(0, size).to_hex().starts_with(prefix), "reference, size {size}");
        if size < leaves.len() {
            tree.append(&[leaf_hash(&leaves[size])]).unwrap();
        }
    }
    let full = "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328";
    assert_eq!(tree.root().to_hex(), full);
    assert_eq!(reference.mth(0, 8).to_hex(), full);
    // The lone right edge has a shorter path; a power-of-two first size needs one hash.
    assert_eq!(inclusion_proof(&tree, 6, 7).unwrap().len(), 2);
    assert_eq!(inclusion_proof(&tree, 7, 8).unwrap().len(), 3);
    assert_eq!(consistency_proof(&tree, 4, 8).unwrap().len(), 1);
    assert_eq!(tree.node_count(), 15);
}

// ---- append ---------------------------------------------------------------------------------------

#[test]
fn append_in_any_batching_gives_the_same_nodes_and_roots() {
    let mut rng = StdRng::seed_from_u64(1);
    let data = random_leaves(&mut rng, MAX);
    let hashes: Vec<Hash32> = data.iter().map(|d| leaf_hash(d)).collect();
    let reference = Reference::new(data);
    // One leaf at a time: the canonical node sequence.
    let mut one_by_one = Vec::new();
    let mut tree = MemoryTree::new();
    for h in &hashes {
        one_by_one.extend(tree.append(std::slice::from_ref(h)).unwrap().nodes);
    }
    for size in 1..=MAX {
        let (tree, nodes) = build(&mut rng, &hashes[..size as usize]);
        assert_eq!(tree.size(), size);
        assert_eq!(tree.root(), reference.mth(0, size as usize), "root at {size}");
        // Same nodes, in the same order, whatever the batches.
        let expected: Vec<Node> = one_by_one.iter().filter(|n| (n.index + 1) << n.level <= size).copied().collect();
        assert_eq!(nodes, expected, "nodes at {size}");
        assert_eq!(tree.node_count() as u64, 2 * size - size.count_ones() as u64);
    }
    // Every node is the perfect subtree the storage model says it is.
    for n in &one_by_one {
        let (a, b) = ((n.index << n.level) as usize, ((n.index + 1) << n.level) as usize);
        assert_eq!(n.hash, reference.mth(a, b), "node ({}, {})", n.level, n.index);
    }
    assert_eq!(one_by_one.len() as u64, 2 * MAX - MAX.count_ones() as u64);
}

#[test]
fn append_needs_the_right_edge() {
    let mut tree = MemoryTree::new();
    tree.append(&[leaf_hash(b"a"), leaf_hash(b"b"), leaf_hash(b"c")]).unwrap();
    // Claiming a size the source does not hold is an error, not a panic.
    assert_eq!(append(&tree, 4, &[leaf_hash(b"d")]), Err(ProofError::MissingNode { level: 2, index: 0 }));
    assert_eq!(append(&View::new(&tree, 2), 3, &[]), Err(ProofError::MissingNode { level: 0, index: 2 }));
    assert_eq!(root(&tree, 4), Err(ProofError::MissingNode { level: 2, index: 0 }));
    assert_eq!(inclusion_proof(&tree, 0, 5), Err(ProofError::MissingNode { level: 0, index: 4 }));
    assert!(matches!(consistency_proof(&tree, 3, 6), Err(ProofError::MissingNode { .. })));
}

// ---- inclusion -------------------------------------------------------------------------------------

#[test]
fn every_inclusion_proof_matches_reference_and_ct_merkle_and_verifies() {
    let Fixture { data, hashes, reference, tree, mut rng } = fixture(2);
    let mut ct = MemoryBackedTree::<Sha256, Vec<u8>>::new();
    let mut max_reads = 0;
    for n in 1..=MAX {
        ct.push(data[n as usize - 1].clone());
        let view = View::new(&tree, n);
        let root_n = root(&view, n).unwrap();
        assert!(view.take_reads() <= n.count_ones() as usize);
        assert_eq!(root_n, reference.mth(0, n as usize), "root at {n}");
        assert_eq!(&root_n.0[..], &ct.root().as_bytes()[..], "ct-merkle root at {n}");
        for i in 0..n {
            let proof = inclusion_proof(&view, i, n).unwrap();
            let reads = view.take_reads();
            max_reads = max_reads.max(reads);
            assert!(reads <= 2 * ceil_log2(n).max(1), "PATH({i}, {n}) read {reads} nodes");
            assert_eq!(proof, reference.path(i as usize, 0, n as usize), "PATH({i}, {n})");
            assert_eq!(concat(&proof), ct.prove_inclusion(i as usize).as_bytes(), "ct-merkle PATH({i}, {n})");
            let leaf = &hashes[i as usize];
            assert_eq!(verify_inclusion(i, n, leaf, &proof, &root_n), Ok(()));
            tamper_inclusion(&mut rng, &reference, &hashes, i, n, &proof, &root_n);
        }
    }
    // For n = 300 a proof reads at most 18 of the 599 nodes.
    assert!(max_reads <= 2 * ceil_log2(MAX) && max_reads <= 4 * 64, "max reads {max_reads}");
}

fn tamper_inclusion(
    rng: &mut StdRng,
    r: &Reference,
    hashes: &[Hash32],
    i: u64,
    n: u64,
    proof: &[Hash32],
    root_n: &Hash32,
) {
    let leaf = &hashes[i as usize];
    for j in flipped_positions(rng, proof.len(), i + n) {
        let mut bad = proof.to_vec();
        bad[j] = flip(&bad[j], rng.gen_range(0..256));
        assert!(verify_inclusion(i, n, leaf, &bad, root_n).is_err(), "flipped hash {j} of PATH({i}, {n})");
    }
    assert_eq!(
        verify_inclusion(i, n, &flip(leaf, rng.gen_range(0..256)), proof, root_n),
        Err(ProofError::RootMismatch)
    );
    assert_eq!(
        verify_inclusion(i, n, leaf, proof, &flip(root_n, rng.gen_range(0..256))),
        Err(ProofError::RootMismatch)
    );
    // Another index of the same tree changes the left/right order somewhere: never accepted.
    if n > 1 {
        let other = (i + 1 + rng.gen_range(0..n - 1)) % n;
        assert!(verify_inclusion(other, n, leaf, proof, root_n).is_err(), "index {other} for PATH({i}, {n})");
    }
    assert_eq!(verify_inclusion(n, n, leaf, proof, root_n), Err(ProofError::IndexOutOfRange { index: n, size: n }));
    // Another size with its own root: accepted only if the proof is that size's proof too (the
    // path's shape can coincide, e.g. PATH(0, 5) and PATH(0, 6) both have three hashes, but then
    // the hashes differ unless the subtrees do not).
    for other in [n - 1, n + 1] {
        if other > i && other <= MAX {
            let other_root = r.mth(0, other as usize);
            let ok = verify_inclusion(i, other, leaf, proof, &other_root).is_ok();
            assert_eq!(ok, r.path(i as usize, 0, other as usize) == proof, "PATH({i}, {n}) as size {other}");
        }
    }
    let mut longer = proof.to_vec();
    longer.push(proof.first().copied().unwrap_or(*leaf));
    assert!(verify_inclusion(i, n, leaf, &longer, root_n).is_err());
    if !proof.is_empty() {
        assert_eq!(verify_inclusion(i, n, leaf, &proof[..proof.len() - 1], root_n), Err(ProofError::MissingHashes));
    }
}

// ---- consistency -----------------------------------------------------------------------------------

#[test]
fn every_consistency_proof_matches_reference_and_ct_merkle_and_verifies() {
    let Fixture { data, reference, tree, mut rng, .. } = fixture(3);
    let mut ct = MemoryBackedTree::<Sha256, Vec<u8>>::new();
    let roots: Vec<Hash32> = (0..=MAX).map(|n| root(&tree, n).unwrap()).collect();
    let mut max_reads = 0;
    for n in 1..=MAX {
        ct.push(data[n as usize - 1].clone());
        let view = View::new(&tree, n);
        for m in 1..=n {
            let proof = consistency_proof(&view, m, n).unwrap();
            let reads = view.take_reads();
            max_reads = max_reads.max(reads);
            assert!(reads <= 2 * ceil_log2(n) + 1, "PROOF({m}, {n}) read {reads} nodes");
            assert_eq!(proof, reference.proof(m as usize, n as usize), "PROOF({m}, {n})");
            let ct_proof = ct.prove_consistency((n - m) as usize);
            assert_eq!(concat(&proof), ct_proof.as_bytes(), "ct-merkle PROOF({m}, {n})");
            let (rm, rn) = (&roots[m as usize], &roots[n as usize]);
            assert_eq!(verify_consistency(m, n, rm, rn, &proof), Ok(()), "PROOF({m}, {n})");
            tamper_consistency(&mut rng, &reference, &roots, m, n, &proof);
        }
    }
    assert!(max_reads <= 2 * ceil_log2(MAX) + 1 && max_reads <= 4 * 64, "max reads {max_reads}");
}

fn tamper_consistency(rng: &mut StdRng, r: &Reference, roots: &[Hash32], m: u64, n: u64, proof: &[Hash32]) {
    let (rm, rn) = (&roots[m as usize], &roots[n as usize]);
    for j in flipped_positions(rng, proof.len(), m + n) {
        let mut bad = proof.to_vec();
        bad[j] = flip(&bad[j], rng.gen_range(0..256));
        assert!(verify_consistency(m, n, rm, rn, &bad).is_err(), "flipped hash {j} of PROOF({m}, {n})");
    }
    assert!(verify_consistency(m, n, &flip(rm, rng.gen_range(0..256)), rn, proof).is_err());
    assert!(verify_consistency(m, n, rm, &flip(rn, rng.gen_range(0..256)), proof).is_err());
    // Other sizes with their own roots: accepted only where the reference proof is the same.
    for (a, b) in [(m - 1, n), (m + 1, n), (m, n + 1), (m, n - 1)] {
        if a >= 1 && a <= b && b <= MAX && (a, b) != (m, n) {
            let ok = verify_consistency(a, b, &roots[a as usize], &roots[b as usize], proof).is_ok();
            assert_eq!(ok, r.proof(a as usize, b as usize) == proof, "PROOF({m}, {n}) as ({a}, {b})");
        }
    }
    let mut longer = proof.to_vec();
    longer.push(*rm);
    assert!(verify_consistency(m, n, rm, rn, &longer).is_err());
    if !proof.is_empty() {
        assert!(verify_consistency(m, n, rm, rn, &proof[..proof.len() - 1]).is_err());
    }
    if m > 1 {
        assert_eq!(
            verify_consistency(n, m - 1, rn, rm, proof),
            Err(ProofError::SizesOutOfOrder { first: n, second: m - 1 })
        );
    }
}

// ---- edge cases --------------------------------------------------------------------------------------

#[test]
fn edge_cases() {
    let Fixture { hashes, tree, .. } = fixture(4);
    let (r1, r8, r300) = (root(&tree, 1).unwrap(), root(&tree, 8).unwrap(), tree.root());
    let empty = empty_root();
    // Size 0: no leaf to prove; the empty root.
    assert_eq!(root(&tree, 0), Ok(empty));
    assert_eq!(inclusion_proof(&tree, 0, 0), Err(ProofError::IndexOutOfRange { index: 0, size: 0 }));
    assert_eq!(verify_inclusion(0, 0, &hashes[0], &[], &empty), Err(ProofError::IndexOutOfRange { index: 0, size: 0 }));
    // Size 1: empty path, root = leaf hash.
    assert_eq!(inclusion_proof(&tree, 0, 1), Ok(vec![]));
    assert_eq!(r1, hashes[0]);
    assert_eq!(verify_inclusion(0, 1, &hashes[0], &[], &r1), Ok(()));
    assert_eq!(verify_inclusion(0, 1, &hashes[0], &[r1], &r1), Err(ProofError::ExtraHashes));
    // Index at or past the size.
    assert_eq!(inclusion_proof(&tree, 8, 8), Err(ProofError::IndexOutOfRange { index: 8, size: 8 }));
    assert_eq!(
        verify_inclusion(u64::MAX, 8, &hashes[0], &[], &r8),
        Err(ProofError::IndexOutOfRange { index: u64::MAX, size: 8 })
    );
    // Too long: refused before any hashing.
    let long = vec![hashes[1]; MAX_INCLUSION_PROOF + 1];
    assert_eq!(verify_inclusion(0, 8, &hashes[0], &long, &r8), Err(ProofError::ProofTooLong { len: 65, max: 64 }));
    let long = vec![hashes[1]; MAX_CONSISTENCY_PROOF + 1];
    assert_eq!(verify_consistency(3, 8, &r8, &r8, &long), Err(ProofError::ProofTooLong { len: 66, max: 65 }));
    // Wrong lengths at a fixed size.
    let p = inclusion_proof(&tree, 5, 8).unwrap();
    assert_eq!(verify_inclusion(5, 8, &hashes[5], &p[..2], &r8), Err(ProofError::MissingHashes));
    assert_eq!(
        verify_inclusion(5, 8, &hashes[5], &[p.clone(), vec![p[0]]].concat(), &r8),
        Err(ProofError::ExtraHashes)
    );
    // Equal sizes: empty proof and equal roots.
    assert_eq!(consistency_proof(&tree, 8, 8), Ok(vec![]));
    assert_eq!(verify_consistency(8, 8, &r8, &r8, &[]), Ok(()));
    assert_eq!(verify_consistency(8, 8, &r8, &r1, &[]), Err(ProofError::SecondRootMismatch));
    assert_eq!(
        verify_consistency(8, 8, &r8, &r8, &[r8]),
        Err(ProofError::UnexpectedHashes { first: 8, second: 8, len: 1 })
    );
    assert_eq!(verify_consistency(0, 0, &empty, &empty, &[]), Ok(()));
    // From size 0: the empty proof (C2SP witness rule), with the empty tree's root.
    assert_eq!(consistency_proof(&tree, 0, 300), Ok(vec![]));
    assert_eq!(verify_consistency(0, 300, &empty, &r300, &[]), Ok(()));
    assert_eq!(verify_consistency(0, 300, &r1, &r300, &[]), Err(ProofError::FirstRootMismatch));
    assert_eq!(
        verify_consistency(0, 300, &empty, &r300, &[r1]),
        Err(ProofError::UnexpectedHashes { first: 0, second: 300, len: 1 })
    );
    // Different non-zero sizes need a proof.
    assert_eq!(verify_consistency(3, 8, &r1, &r8, &[]), Err(ProofError::EmptyProof));
    // Out of order.
    assert_eq!(consistency_proof(&tree, 9, 8), Err(ProofError::SizesOutOfOrder { first: 9, second: 8 }));
    assert_eq!(verify_consistency(9, 8, &r8, &r8, &[r8]), Err(ProofError::SizesOutOfOrder { first: 9, second: 8 }));
    // First size a power of two: its root is implicit, and the wrong first root fails.
    for m in [1u64, 2, 4, 8, 16, 32, 64, 128, 256] {
        let proof = consistency_proof(&tree, m, 300).unwrap();
        assert!(!proof.contains(&root(&tree, m).unwrap()), "PROOF({m}, 300) holds the first root");
        assert_eq!(verify_consistency(m, 300, &root(&tree, m).unwrap(), &r300, &proof), Ok(()));
        // The implicit first root seeds both recomputations, so a wrong one shows in the second.
        assert_eq!(verify_consistency(m, 300, &r300, &r300, &proof), Err(ProofError::SecondRootMismatch));
    }
    assert_eq!(consistency_proof(&tree, 4, 8).unwrap(), vec![node_hash(&node(&tree, 1, 2), &node(&tree, 1, 3))]);
}

fn node(tree: &MemoryTree, level: u8, index: u64) -> Hash32 {
    tree.node(level, index).unwrap().unwrap()
}

// ---- sizes near u64::MAX ------------------------------------------------------------------------------

/// A tree of any size whose leaves are all the same: node (L, i) depends only on L, so every
/// node of a 2^64 - 1 leaf tree is at hand and proofs at the largest sizes can be generated.
struct Uniform([Hash32; 64]);

impl Uniform {
    fn new() -> Self {
        let mut levels = [leaf_hash(b"same"); 64];
        for l in 1..64 {
            levels[l] = node_hash(&levels[l - 1], &levels[l - 1]);
        }
        Uniform(levels)
    }
}

impl NodeSource for Uniform {
    fn node(&self, level: u8, _index: u64) -> Result<Option<Hash32>, ebl_core::Unreadable> {
        Ok(self.0.get(level as usize).copied())
    }
}

#[test]
fn sizes_near_u64_max_neither_overflow_nor_exceed_the_bounds() {
    let u = Uniform::new();
    let top = u64::MAX;
    let half = 1u64 << 63;
    for (i, n) in [(0, top), (top - 1, top), (half, top), (half - 1, half + 1), (top - 2, top - 1), (5, half)] {
        let proof = inclusion_proof(&u, i, n).unwrap();
        assert!(proof.len() <= MAX_INCLUSION_PROOF);
        assert_eq!(verify_inclusion(i, n, &u.0[0], &proof, &root(&u, n).unwrap()), Ok(()), "({i}, {n})");
    }
    assert_eq!(inclusion_proof(&u, 0, top).unwrap().len(), 64);
    for (m, n) in [(1, top), (top - 1, top), (half, top), (half - 1, half + 1), (half + 1, top), (3, half)] {
        let proof = consistency_proof(&u, m, n).unwrap();
        let (rm, rn) = (root(&u, m).unwrap(), root(&u, n).unwrap());
        assert_eq!(verify_consistency(m, n, &rm, &rn, &proof), Ok(()), "({m}, {n})");
    }
    // The longest consistency proof a u64 tree has: one more hash than inclusion's bound.
    assert_eq!(consistency_proof(&u, half - 1, half + 1).unwrap().len(), MAX_CONSISTENCY_PROOF);
    // Garbage at the largest sizes fails cleanly.
    let junk = vec![u.0[3]; 64];
    assert!(verify_inclusion(top - 1, top, &u.0[0], &junk, &u.0[5]).is_err());
    assert!(verify_consistency(top - 1, top, &u.0[0], &u.0[1], &[junk.clone(), vec![u.0[0]]].concat()).is_err());
    // Appending up to exactly u64::MAX completes the expected subtrees, and no further.
    let appended = append(&u, top - 3, &[u.0[0]; 3]).unwrap();
    assert_eq!(appended.size, top);
    for n in &appended.nodes {
        assert_eq!(n.hash, u.0[n.level as usize], "node ({}, {})", n.level, n.index);
    }
    assert_eq!(appended.nodes.len(), 4); // (0, top-3), (0, top-2), (1, (top-2)/2), (0, top-1)
    assert_eq!(append(&u, top, &[u.0[0]]), Err(ProofError::TreeFull { size: top, adding: 1 }));
}
