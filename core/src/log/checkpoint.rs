//! Checkpoints (c2sp.org/tlog-checkpoint): the note text `<origin>\n<size>\n<base64 root>\n` that
//! a log signs over its tree head, and opening a signed, cosigned checkpoint against a log key and
//! witness keys. Owns the body's strict format; the note's signature rules are `note`'s.
//!
//! Extension lines are refused, both when parsing and by construction: the spec discourages them
//! (monitors cannot audit them, and ML-DSA cosignatures do not sign them), Sigsum forbids them,
//! and this ledger has nothing to put there. A checkpoint thus has exactly one text form, which
//! parsing and formatting round-trip.

use crate::hash::Hash32;
use crate::log::error::NoteError;
use crate::log::key::{check_key_name, KeyKind, VerifierKey};
use crate::log::note::{SignedNote, Verified};
use crate::log::text::{b64_decode, b64_encode, parse_decimal};
use ed25519_dalek::SigningKey;
use std::fmt;

/// A log's tree head: origin, size and root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    origin: String,
    size: u64,
    root: Hash32,
}

/// A checkpoint whose log signature verified, with the cosignatures that verified beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedCheckpoint {
    /// The checkpoint.
    pub checkpoint: Checkpoint,
    /// The other known keys (witnesses) whose lines verified, the log's own line excluded.
    pub cosigners: Vec<Verified>,
}

impl Checkpoint {
    /// A checkpoint; the origin must be a valid key name (it is also the log key's name).
    pub fn new(origin: &str, size: u64, root: Hash32) -> Result<Self, NoteError> {
        check_key_name(origin)?;
        Ok(Checkpoint { origin: origin.to_string(), size, root })
    }

    /// The log's origin line.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The tree size.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The tree root at that size.
    pub fn root(&self) -> Hash32 {
        self.root
    }

    /// The note text: `<origin>\n<size>\n<base64 root>\n`.
    pub fn body(&self) -> String {
        self.to_string()
    }

    /// Parses a note text strictly: three lines, decimal size without leading zeros, a root of
    /// exactly 32 bytes in canonical base64, nothing after.
    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let bad = |why: &str| NoteError::MalformedCheckpoint { why: why.to_string() };
        let body = text.strip_suffix('\n').ok_or_else(|| bad("does not end with a newline"))?;
        let lines: Vec<&str> = body.split('\n').collect();
        if lines.len() > 3 {
            return Err(bad("extension lines after the root are not accepted"));
        }
        let [origin, size, root] = lines[..] else {
            return Err(bad("expected three lines: origin, tree size, root"));
        };
        check_key_name(origin)?;
        let size = parse_decimal(size).ok_or_else(|| bad("tree size is not a decimal without leading zeros"))?;
        let root = b64_decode(root).ok_or_else(|| bad("root is not canonical standard base64"))?;
        let root = Hash32::from_slice(&root).ok_or_else(|| bad(&format!("root is {} bytes, not 32", root.len())))?;
        Ok(Checkpoint { origin: origin.to_string(), size, root })
    }

    /// Signs the checkpoint with the log key (named by the origin): a note with one line.
    pub fn sign(&self, key: &SigningKey) -> Result<SignedNote, NoteError> {
        SignedNote::sign(&self.body(), &self.origin, key)
    }

    /// Opens a signed checkpoint: parses its text, requires a valid signature by `log_key` (whose
    /// name must be the origin) and verifies every line from a known key in `log_key` and
    /// `witnesses` (an unknown line is ignored; a known line that fails rejects). How many
    /// cosigners suffice is the caller's policy.
    pub fn open(
        note: &SignedNote,
        log_key: &VerifierKey,
        witnesses: &[VerifierKey],
    ) -> Result<OpenedCheckpoint, NoteError> {
        if log_key.kind() != KeyKind::Ed25519 {
            return Err(NoteError::WrongKeyKind {
                name: log_key.name().to_string(),
                why: "a log key signs notes with Ed25519 (type 0x01)",
            });
        }
        let checkpoint = Checkpoint::parse(note.text())?;
        if checkpoint.origin != log_key.name() {
            return Err(NoteError::OriginMismatch { origin: checkpoint.origin, key: log_key.name().to_string() });
        }
        let mut keys = Vec::with_capacity(witnesses.len() + 1);
        keys.push(log_key.clone());
        keys.extend_from_slice(witnesses);
        let is_log = |v: &Verified| v.name == log_key.name() && v.key_id == log_key.id();
        let verified = note.verify(&keys).map_err(|e| match e {
            NoteError::NoKnownSignature => NoteError::MissingLogSignature { name: log_key.name().to_string() },
            e => e,
        })?;
        if !verified.iter().any(is_log) {
            return Err(NoteError::MissingLogSignature { name: log_key.name().to_string() });
        }
        let cosigners = verified.into_iter().filter(|v| !is_log(v)).collect();
        Ok(OpenedCheckpoint { checkpoint, cosigners })
    }
}

/// Requires that at least `k` distinct witness keys cosigned an opened checkpoint: the k-of-n
/// policy of a verifier whose n witness keys were given to [`Checkpoint::open`]. Only
/// cosignature/v1 lines count (a plain note key among the witnesses proves nothing about
/// consistency), each key once. Returns the names of the witnesses that count.
pub fn require_witnesses(opened: &OpenedCheckpoint, k: usize) -> Result<Vec<String>, NoteError> {
    let mut names: Vec<String> = Vec::new();
    for v in &opened.cosigners {
        // The note already refuses two lines from one (name, key ID); this guards the count
        // against a cosigner list built some other way.
        if v.kind == KeyKind::CosignatureV1 && !names.contains(&v.name) {
            names.push(v.name.clone());
        }
    }
    if names.len() < k {
        return Err(NoteError::TooFewCosigners { need: k, got: names.len(), names: names.join(", ") });
    }
    Ok(names)
}

impl fmt::Display for Checkpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}\n{}\n{}\n", self.origin, self.size, b64_encode(&self.root.0))
    }
}
