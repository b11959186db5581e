//! The log's two error types: [`ProofError`] for the Merkle tree (a missing stored node, an
//! overflow, a proof that does not verify) and [`NoteError`] for the text formats and their
//! signatures. Each variant says what failed; neither is folded into the core's `RuleError`, since
//! the store and the verifier tools map them to their own refusals.

/// Why a tree operation, or a proof's verification, failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The node source could not be read (storage failed): not a fact about the tree.
    #[error(transparent)]
    Unreadable(#[from] crate::error::Unreadable),
    /// The node source lacks a node the operation needs (the tree is smaller than claimed, or the
    /// store is damaged).
    #[error("tree node at level {level}, index {index} is not stored")]
    MissingNode {
        /// Level of the perfect subtree (0 = leaf).
        level: u8,
        /// Its index within the level.
        index: u64,
    },
    /// Appending would take the tree size past `u64::MAX`.
    #[error("appending {adding} leaves to a tree of size {size} overflows u64")]
    TreeFull {
        /// Current size.
        size: u64,
        /// Leaves in the batch.
        adding: u64,
    },
    /// An inclusion proof was asked for, or given, for a leaf the tree does not hold.
    #[error("leaf index {index} is not below the tree size {size}")]
    IndexOutOfRange {
        /// The leaf index.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// A consistency proof was asked for, or given, from a larger tree to a smaller one.
    #[error("first tree size {first} is larger than second tree size {second}")]
    SizesOutOfOrder {
        /// The first (older) size.
        first: u64,
        /// The second (newer) size.
        second: u64,
    },
    /// The proof is longer than any proof for a u64-sized tree can be.
    #[error("proof has {len} hashes, more than the {max} a u64-sized tree can need")]
    ProofTooLong {
        /// Hashes given.
        len: usize,
        /// The bound.
        max: usize,
    },
    /// The proof has hashes left over after reaching the root for these sizes.
    #[error("proof has more hashes than these tree sizes need")]
    ExtraHashes,
    /// The proof ran out of hashes before reaching the root for these sizes.
    #[error("proof has fewer hashes than these tree sizes need")]
    MissingHashes,
    /// A consistency proof between two different non-zero sizes must hold at least one hash.
    #[error("consistency proof between different non-zero sizes is empty")]
    EmptyProof,
    /// A consistency proof between equal sizes, or from size 0, must be empty.
    #[error("consistency proof from size {first} to size {second} must be empty, got {len} hashes")]
    UnexpectedHashes {
        /// The first size.
        first: u64,
        /// The second size.
        second: u64,
        /// Hashes given.
        len: usize,
    },
    /// The root recomputed from an inclusion proof differs from the given root.
    #[error("root recomputed from the inclusion proof differs from the given root")]
    RootMismatch,
    /// The first tree's root recomputed from a consistency proof differs from the given one.
    #[error("first root recomputed from the consistency proof differs from the given first root")]
    FirstRootMismatch,
    /// The second tree's root recomputed from a consistency proof differs from the given one.
    #[error("second root recomputed from the consistency proof differs from the given second root")]
    SecondRootMismatch,
}

/// Why a key, note, checkpoint, cosignature or tlog-proof was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    /// A key name (or checkpoint origin) is empty or holds a space, a `+` or a control character.
    #[error("key name {name:?}: {why}")]
    BadKeyName {
        /// The name as given.
        name: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// A verifier key string is malformed, its key ID does not match, or its key is weak.
    #[error("verifier key: {why}")]
    BadVerifierKey {
        /// What is wrong with it.
        why: String,
    },
    /// Note text to sign is not newline-terminated UTF-8 free of control characters.
    #[error("note text: {why}")]
    BadText {
        /// What is wrong with it.
        why: &'static str,
    },
    /// A signed note does not follow the signed-note format.
    #[error("signed note: {why}")]
    MalformedNote {
        /// What is wrong with it.
        why: String,
    },
    /// A signature line from a known key does not verify, which rejects the whole note.
    #[error("signature by {name} (key ID {key_id}) does not verify: {why}")]
    BadSignature {
        /// The key name on the line.
        name: String,
        /// The key ID, 8 hex digits.
        key_id: String,
        /// What failed.
        why: &'static str,
    },
    /// No signature line comes from a known key.
    #[error("no signature from a known key")]
    NoKnownSignature,
    /// A checkpoint body is not in the strict tlog-checkpoint form.
    #[error("checkpoint: {why}")]
    MalformedCheckpoint {
        /// What is wrong with it.
        why: String,
    },
    /// A key was given in a role its kind cannot fill (e.g. a cosigner key as the log key).
    #[error("key {name}: {why}")]
    WrongKeyKind {
        /// The key name.
        name: String,
        /// What was expected.
        why: &'static str,
    },
    /// The checkpoint's origin is not the log key's name.
    #[error("checkpoint origin {origin:?} is not the log key's name {key:?}")]
    OriginMismatch {
        /// The origin line.
        origin: String,
        /// The log key's name.
        key: String,
    },
    /// The checkpoint carries no verified signature from the log key itself.
    #[error("checkpoint carries no signature from the log key {name}")]
    MissingLogSignature {
        /// The log key's name.
        name: String,
    },
    /// A cosignature time above 2^63 - 1 (tlog-cosignature forbids it).
    #[error("cosignature time {time} exceeds 2^63 - 1")]
    TimeOutOfRange {
        /// The time given.
        time: u64,
    },
    /// Fewer witnesses than required cosigned the checkpoint (or their lines are unknown).
    #[error("checkpoint is cosigned by {got} of the required {need} witnesses ({names})")]
    TooFewCosigners {
        /// How many are required.
        need: usize,
        /// How many known witnesses cosigned.
        got: usize,
        /// Their names, comma separated (empty if none).
        names: String,
    },
    /// A tlog-proof text does not follow c2sp.org/tlog-proof@v1.
    #[error("tlog-proof line {line}: {why}")]
    MalformedProof {
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        why: String,
    },
    /// A tlog-proof's inclusion proof does not verify against its checkpoint.
    #[error("inclusion proof: {0}")]
    Inclusion(#[from] ProofError),
}
