//! The server's error type: a rule refusal from the core, or the ledger unable to write.
//! Mapped to `tonic::Status` in exactly one place, `api::status`.

use crate::store::StoreError;
use ebl_core::RuleError;

/// Why a request failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LedgerError {
    /// The request was refused by a rule; nothing changed.
    #[error(transparent)]
    Rule(#[from] RuleError),
    /// The ledger cannot write now (disk full, I/O error, shutting down); nothing changed.
    #[error("ledger unavailable: {0}")]
    Unavailable(String),
    /// The ledger is refusing writes for a stated reason (e.g. `DISK_RESERVE`) until it clears;
    /// reads go on. Nothing changed.
    #[error("{why}")]
    Refusing {
        /// Machine-readable reason.
        reason: &'static str,
        /// Why, and what clears it.
        why: String,
    },
    /// The log has halted: the tree does not extend a checkpoint the log published, so nothing
    /// is written, signed or proved until the operator acts. Nothing changed.
    #[error("{why}")]
    Halted {
        /// Machine-readable reason, e.g. `LOG_BEHIND_CHECKPOINT`.
        reason: &'static str,
        /// What was found, and what ends it.
        why: String,
    },
    /// What was asked needs something the ledger has not produced yet (e.g. a checkpoint that
    /// covers a new record); asking again shortly may succeed. Nothing changed.
    #[error("{why}")]
    Pending {
        /// Machine-readable reason, e.g. `CHECKPOINT_PENDING`.
        reason: &'static str,
        /// What is missing.
        why: String,
    },
    /// A bug.
    #[error("internal error: {0}")]
    Internal(String),
    /// A bill's stored records do not rebuild its stored state (a hash, a link or a rule fails
    /// on replay): the ledger contradicts itself there. Asking again will not help.
    #[error("CHAIN_BROKEN {0}")]
    ChainBroken(String),
    /// The database is damaged (a block fails its checksum, a value does not decode): asking
    /// again will not help. The cause, with its file paths, goes to the log, not to the caller.
    #[error("the ledger's database is damaged; its operator must repair or restore it")]
    Damaged,
}

impl From<StoreError> for LedgerError {
    /// Storage failures reach the caller without server paths or engine detail: the log gets
    /// the whole cause, at ERROR.
    fn from(e: StoreError) -> Self {
        if e.is_damage() {
            tracing::error!(error = %e, "the database is damaged");
            return LedgerError::Damaged;
        }
        tracing::error!(error = %e, "storage failed");
        match &e {
            StoreError::Engine(e) => {
                LedgerError::Unavailable(format!("storage failed ({:?}); nothing was changed", e.kind))
            }
            _ => LedgerError::Unavailable("storage failed; nothing was changed".into()),
        }
    }
}

impl From<ebl_core::Unreadable> for LedgerError {
    fn from(u: ebl_core::Unreadable) -> Self {
        StoreError::Unreadable(u).into()
    }
}

impl From<ebl_core::ApplyError> for LedgerError {
    fn from(e: ebl_core::ApplyError) -> Self {
        match e {
            ebl_core::ApplyError::Rule(r) => LedgerError::Rule(r),
            ebl_core::ApplyError::Unreadable(u) => u.into(),
        }
    }
}
