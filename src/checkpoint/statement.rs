//! The ledger key's second use: signing title statements. The API holds a [`StatementSigner`],
//! never the bare key, so what it can sign is a [`TitleStatement`] only: a text that starts with
//! the statement's domain tag and so can never pass for a checkpoint (whose first line is the
//! origin). Checkpoints stay the signer task's alone.

use ebl_core::log::NoteError;
use ebl_core::statement::TitleStatement;
use ed25519_dalek::SigningKey;

/// Signs title statements with the ledger key.
pub struct StatementSigner {
    key: SigningKey,
}

impl StatementSigner {
    /// A signer over the ledger's key (the one that signs checkpoints; its name is the origin).
    pub fn new(key: SigningKey) -> Self {
        StatementSigner { key }
    }

    /// The signed note of `statement`, as text.
    pub fn sign(&self, statement: &TitleStatement) -> Result<String, NoteError> {
        Ok(statement.sign(&self.key)?.to_string())
    }
}
