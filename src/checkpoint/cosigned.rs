//! Checkpoints with the cosignatures the witnesses returned for them: what GetCheckpoint serves.
//! Held in memory only (a restart pushes the latest checkpoint again and gathers them anew); the
//! ledger's own signed note on file and in the database is never changed by a witness.

use super::SignedCheckpoint;
use ebl_core::log::{NoteSignature, SignedNote};
use std::sync::Arc;

/// One witness's verified cosignature line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cosignature {
    /// The witness key's name.
    pub witness: String,
    /// The line's key ID.
    pub key_id: [u8; 4],
    /// The cosignature's time (Unix seconds).
    pub time: u64,
    /// The signature line.
    pub line: NoteSignature,
}

impl Cosignature {
    /// A verified cosignature line (72 bytes after the key ID: time || signature).
    pub fn from_line(line: NoteSignature) -> Option<Self> {
        let time = u64::from_be_bytes(line.signature.get(..8)?.try_into().ok()?);
        Some(Cosignature { witness: line.name.clone(), key_id: line.key_id, time, line })
    }
}

/// A checkpoint and the cosignatures gathered for it, in witness-name order.
#[derive(Debug, Clone)]
pub struct Witnessed {
    /// The ledger's checkpoint.
    pub signed: Arc<SignedCheckpoint>,
    /// The witnesses' lines, one per witness key.
    pub cosignatures: Vec<Cosignature>,
}

impl Witnessed {
    /// A checkpoint with no cosignature yet.
    pub fn new(signed: Arc<SignedCheckpoint>) -> Self {
        Witnessed { signed, cosignatures: Vec::new() }
    }

    /// Adds or replaces (same key) a witness's line.
    pub fn add(&mut self, c: Cosignature) {
        self.cosignatures.retain(|o| !(o.witness == c.witness && o.key_id == c.key_id));
        self.cosignatures.push(c);
        self.cosignatures.sort_by(|a, b| (&a.witness, a.key_id).cmp(&(&b.witness, b.key_id)));
    }

    /// The note as served: the ledger's signed note followed by the cosignature lines, in the
    /// standard signed-note form (one text, one blank line, all signature lines).
    pub fn note(&self) -> String {
        let Ok(mut note) = SignedNote::parse(&self.signed.note) else {
            return self.signed.note.clone();
        };
        for c in &self.cosignatures {
            // Only a duplicate (name, key ID) could fail, and `add` keeps one line per key.
            let _ = note.add_signature(c.line.clone());
        }
        note.to_string()
    }
}
