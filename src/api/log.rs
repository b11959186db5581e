//! The transparency log's RPCs: the latest checkpoint (served from [`LogState`], never signed on
//! demand). Public: no signed read, since the log shows hashes and checkpoints only.

use super::Shared;
use crate::checkpoint::SignedCheckpoint;
use crate::error::LedgerError;
use crate::pb;
use ebl_core::RuleError;
use std::sync::Arc;

/// The latest signed checkpoint, or NOT_FOUND before the first one.
pub fn latest(shared: &Shared) -> Result<Arc<SignedCheckpoint>, LedgerError> {
    shared.log.latest().ok_or_else(|| RuleError::NotFound { what: "signed checkpoint".into() }.into())
}

/// GetCheckpoint: the note exactly as signed, with its size and root.
pub fn checkpoint(shared: &Shared) -> Result<pb::CheckpointView, LedgerError> {
    let cp = latest(shared)?;
    Ok(pb::CheckpointView { note: cp.note.clone(), size: cp.checkpoint.size(), root: cp.checkpoint.root().0.to_vec() })
}
