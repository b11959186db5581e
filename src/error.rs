//! The server's error type: a rule refusal from the core, or the ledger unable to write.
//! Mapped to `tonic::Status` in exactly one place, `api::status`.

use crate::store::StoreError;
use ebl_core::RuleError;

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// The request was refused by a rule; nothing changed.
    #[error(transparent)]
    Rule(#[from] RuleError),
    /// The ledger cannot write now (disk full, I/O error, shutting down); nothing changed.
    #[error("ledger unavailable: {0}")]
    Unavailable(String),
    /// What was asked needs something the ledger has not produced yet (e.g. a checkpoint that
    /// covers a new record); asking again shortly may succeed. Nothing changed.
    #[error("{why}")]
    Pending {
        /// Machine-readable reason, e.g. `CHECKPOINT_PENDING`.
        reason: &'static str,
        /// What is missing.
        why: String,
    },
    /// A bug or a damaged database.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for LedgerError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Rocks(e) => LedgerError::Unavailable(e.to_string()),
            e @ StoreError::Corrupt { .. } => LedgerError::Internal(e.to_string()),
        }
    }
}
