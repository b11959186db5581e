//! The transparency log, pure part: the RFC 9162 Merkle tree over stored perfect-subtree nodes,
//! its proofs and their verification, and the C2SP text formats a log and its witnesses exchange
//! (signed notes, checkpoints, Ed25519 cosignatures, offline tlog-proofs).
//!
//! This module computes and checks; it never stores, reads the clock or draws randomness. The
//! store implements [`NodeSource`] over its node column and writes what [`append`] returns in the
//! same batch as the records; times are parameters; signing keys are passed in.
//!
//! - [`entry`]: the log entry (what a leaf is) and its 80-byte encoding.
//! - [`tree`]: leaf and node hashing, the storage model, [`append`], [`root`], [`MemoryTree`].
//! - [`proof`]: inclusion and consistency proofs from stored nodes.
//! - [`verify`]: RFC 9162 proof verification.
//! - [`key`]: key names, key IDs and verifier key strings.
//! - [`note`]: signed notes: parse, format, sign, verify.
//! - [`checkpoint`]: the tlog-checkpoint body and opening a signed checkpoint.
//! - [`cosignature`]: tlog-cosignature/v1 (timestamped Ed25519 witness signatures).
//! - [`proof_text`]: the c2sp.org/tlog-proof@v1 offline proof.
//! - [`witness`]: the tlog-witness `add-checkpoint` protocol: request, checks, answers.
//! - [`error`]: [`ProofError`] (tree and proofs) and [`NoteError`] (text formats and signatures).

pub mod checkpoint;
pub mod cosignature;
pub mod entry;
pub mod error;
pub mod key;
pub mod note;
pub mod proof;
pub mod proof_text;
pub(crate) mod text;
pub mod tree;
pub mod verify;
pub mod witness;

pub use checkpoint::{require_witnesses, Checkpoint, OpenedCheckpoint};
pub use entry::LogEntry;
pub use error::{NoteError, ProofError};
pub use key::{KeyKind, VerifierKey};
pub use note::{NoteSignature, SignedNote, Verified};
pub use proof::{consistency_proof, inclusion_proof};
pub use proof_text::TlogProof;
pub use tree::{append, empty_root, leaf_hash, node_hash, root, Appended, MemoryTree, Node, NodeSource};
pub use verify::{verify_consistency, verify_inclusion};
