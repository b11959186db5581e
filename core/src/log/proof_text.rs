//! Offline proofs (c2sp.org/tlog-proof@v1): a header line, optional `extra <base64>`, `index <n>`,
//! the inclusion proof one base64 hash per line (leaf's sibling first), a blank line, then the
//! signed (and usually cosigned) checkpoint verbatim. Owns the strict text form and the check
//! that ties the three together; what the leaf is and what `extra` means are the application's.

use crate::hash::Hash32;
use crate::log::checkpoint::{Checkpoint, OpenedCheckpoint};
use crate::log::error::NoteError;
use crate::log::key::VerifierKey;
use crate::log::note::SignedNote;
use crate::log::text::{b64_decode, b64_encode, parse_decimal};
use crate::log::verify::{verify_inclusion, MAX_INCLUSION_PROOF};
use std::fmt;

/// The first line of every proof.
pub const HEADER: &str = "c2sp.org/tlog-proof@v1";

/// A proof that a leaf is in a log, verifiable offline against the log and witness keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlogProof {
    extra: Vec<u8>,
    index: u64,
    hashes: Vec<Hash32>,
    note: SignedNote,
    checkpoint: Checkpoint,
}

impl TlogProof {
    /// A proof of leaf `index` with its inclusion `hashes` in the checkpoint `note`. `extra` is
    /// unauthenticated application data; empty means none (the line is then omitted).
    pub fn new(extra: Vec<u8>, index: u64, hashes: Vec<Hash32>, note: SignedNote) -> Result<Self, NoteError> {
        let checkpoint = Checkpoint::parse(note.text())?;
        if hashes.len() > MAX_INCLUSION_PROOF {
            return Err(NoteError::MalformedProof {
                line: 0,
                why: format!("{} inclusion hashes, more than {MAX_INCLUSION_PROOF}", hashes.len()),
            });
        }
        Ok(TlogProof { extra, index, hashes, note, checkpoint })
    }

    /// The unauthenticated extra data (empty if none): never trust it without checking it.
    pub fn extra(&self) -> &[u8] {
        &self.extra
    }

    /// The leaf index.
    pub fn index(&self) -> u64 {
        self.index
    }

    /// The inclusion proof, leaf's sibling first.
    pub fn hashes(&self) -> &[Hash32] {
        &self.hashes
    }

    /// The signed checkpoint note.
    pub fn note(&self) -> &SignedNote {
        &self.note
    }

    /// The checkpoint the note carries (not yet verified).
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// Parses the text strictly: every line in its place, decimals without leading zeros, hashes
    /// of exactly 32 bytes, non-empty extra data, and a checkpoint without extension lines.
    pub fn parse(s: &str) -> Result<Self, NoteError> {
        let bad = |line: usize, why: &str| NoteError::MalformedProof { line, why: why.to_string() };
        // Split the header part from the note at the first blank line: hash lines are never
        // empty, and the note may hold further blank lines of its own.
        let (head, note) = s.split_once("\n\n").ok_or_else(|| bad(1, "no blank line before the checkpoint"))?;
        let mut lines = head.split('\n').enumerate().map(|(i, l)| (i + 1, l)).peekable();
        match lines.next() {
            Some((_, HEADER)) => {}
            _ => return Err(bad(1, &format!("expected {HEADER:?}"))),
        }
        let mut extra = Vec::new();
        if let Some(&(n, l)) = lines.peek() {
            if let Some(b64) = l.strip_prefix("extra ") {
                extra = b64_decode(b64).ok_or_else(|| bad(n, "extra is not canonical standard base64"))?;
                if extra.is_empty() {
                    return Err(bad(n, "an empty extra is written by omitting the line"));
                }
                lines.next();
            }
        }
        let index = match lines.next() {
            Some((n, l)) => l
                .strip_prefix("index ")
                .and_then(parse_decimal)
                .ok_or_else(|| bad(n, "expected \"index <decimal without leading zeros>\""))?,
            None => return Err(bad(2, "missing index line")),
        };
        let mut hashes = Vec::new();
        for (n, l) in lines {
            let h = b64_decode(l).and_then(|b| Hash32::from_slice(&b));
            hashes.push(h.ok_or_else(|| bad(n, "expected a 32-byte hash in canonical standard base64"))?);
            if hashes.len() > MAX_INCLUSION_PROOF {
                return Err(bad(n, &format!("more than {MAX_INCLUSION_PROOF} inclusion hashes")));
            }
        }
        let note = SignedNote::parse(note)?;
        Self::new(extra, index, hashes, note)
    }

    /// Opens the checkpoint (log signature required, cosignatures verified) and checks that
    /// `leaf_hash` is leaf `index` under its root. Returns the opened checkpoint so the caller
    /// can apply its witness policy.
    pub fn verify(
        &self,
        leaf_hash: &Hash32,
        log_key: &VerifierKey,
        witnesses: &[VerifierKey],
    ) -> Result<OpenedCheckpoint, NoteError> {
        let opened = Checkpoint::open(&self.note, log_key, witnesses)?;
        let cp = &opened.checkpoint;
        verify_inclusion(self.index, cp.size(), leaf_hash, &self.hashes, &cp.root())?;
        Ok(opened)
    }
}

impl fmt::Display for TlogProof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{HEADER}")?;
        if !self.extra.is_empty() {
            writeln!(f, "extra {}", b64_encode(&self.extra))?;
        }
        writeln!(f, "index {}", self.index)?;
        for h in &self.hashes {
            writeln!(f, "{}", b64_encode(&h.0))?;
        }
        writeln!(f)?;
        write!(f, "{}", self.note)
    }
}
