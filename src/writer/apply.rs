//! Apply: the deterministic step from (stored state, command) to the group's answers and writes.
//! No clock, no randomness, no protobuf: a node given the same commands in the same order makes
//! the same writes ([`crate::store::Store::logical_digest`] shows it).
//!
//! Each record of the command, in order: a record already in the ledger (or earlier in the same
//! command) is answered `Duplicate` with its sequence number and writes nothing; otherwise the
//! core's rules judge it at the next sequence number (the tree's size) and the command's time,
//! clamped so that the ledger's time never runs backwards. A refused record gets no sequence
//! number. The accepted records, their effects, the tree nodes their leaves complete, the new
//! size and time, and the command's index (even when every record was refused) go into one batch.
//! A storage read that fails fails the whole command, with nothing written: a read error must
//! never decide a record's fate, or two nodes could disagree.

use super::command::Command;
use crate::store::batch::Before;
use crate::store::keys::Meta;
use crate::store::overlay::Overlay;
use crate::store::{Batch, Store, StoreError};
use crate::wire::entry::checked_signatures;
use crate::wire::views::ReceiptInfo;
use ebl_core::apply::{apply, Checked, Stamp, View};
use ebl_core::hash::Hash32;
use ebl_core::log::LogEntry;
use ebl_core::sig::PublicKey;
use ebl_core::ApplyError;
use ebl_core::RuleError;
use std::collections::HashMap;

/// The ledger's answer to one record of a command (the wire layer turns it into a receipt).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Accepted now, with this receipt.
    Accepted(ReceiptInfo),
    /// Accepted before, at this sequence number: it is answered with its original receipt.
    Duplicate(u64),
}

/// What applying a command makes: one answer per record, in order, and the writes.
pub struct Applied {
    /// Each record's answer.
    pub answers: Vec<Result<Answer, RuleError>>,
    /// Everything the command writes, to be committed whole.
    pub batch: Batch,
    /// The tree's size after the command.
    pub size: u64,
    /// Whether the command accepted records (a command that did not changes nothing but the
    /// index of the last command applied, so its batch need not be synced).
    pub grew: bool,
}

/// Why a command could not be applied; nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum NotApplied {
    /// The command's index is not past the last one applied (it was applied already).
    #[error("command {index} is not after the last command applied ({last})")]
    Stale {
        /// The command's index.
        index: u64,
        /// The last command applied.
        last: u64,
    },
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Applies the command at log `index` (which must be past the last command applied) to `store`.
pub fn apply_command(store: &Store, operator: &PublicKey, index: u64, cmd: &Command) -> Result<Applied, NotApplied> {
    let last = store.last_command()?;
    if index <= last {
        return Err(NotApplied::Stale { index, last });
    }
    let first_seq = store.next_seq()?;
    let last_time = store.last_time()?;
    let time = cmd.time.max(last_time);
    let mut overlay = Overlay::writing(store)?;
    let mut batch = Batch::new();
    let mut leaves = Vec::new();
    let mut taken: HashMap<Hash32, u64> = HashMap::new();
    let mut answers = Vec::with_capacity(cmd.records.len());
    for rec in &cmd.records {
        let earlier = match taken.get(&rec.hash) {
            Some(seq) => Some(*seq),
            None => store.seq_of(&rec.hash)?,
        };
        let answer = match earlier {
            Some(seq) => Ok(Answer::Duplicate(seq)),
            None => {
                let stamp = Stamp { seq: first_seq + leaves.len() as u64, time };
                match stage(&mut batch, &mut overlay, rec, stamp, operator) {
                    Ok((receipt, leaf)) => {
                        leaves.push(leaf);
                        taken.insert(rec.hash, stamp.seq);
                        Ok(Answer::Accepted(receipt))
                    }
                    Err(ApplyError::Rule(e)) => Err(e),
                    Err(ApplyError::Unreadable(u)) => return Err(StoreError::Unreadable(u).into()),
                }
            }
        };
        answers.push(answer);
    }
    let size = first_seq + leaves.len() as u64;
    let grew = !leaves.is_empty();
    if grew {
        // The leaves' tree nodes, computed from the stored right edge of the tree: the tree then
        // has exactly `size` leaves, like the records.
        batch.tree_nodes(&store.tree_append(first_seq, &leaves)?.nodes);
        batch.meta(Meta::NextSeq, &size.to_be_bytes());
        batch.meta(Meta::LastTime, &(time.0 as u64).to_be_bytes());
    }
    batch.meta(Meta::LastCommand, &index.to_be_bytes());
    batch.keep_states(overlay.into_states());
    Ok(Applied { answers, batch, size, grew })
}

/// Applies `rec` at `stamp` over `overlay` and, if the rules accept it, stages it into `batch`
/// (the stored record with its receipt, and its effects) and into `overlay` for the records after
/// it. Returns its receipt and its leaf hash. Nothing is staged if it is refused.
fn stage(
    batch: &mut Batch,
    overlay: &mut Overlay,
    rec: &Checked,
    stamp: Stamp,
    operator: &PublicKey,
) -> Result<(ReceiptInfo, Hash32), ApplyError> {
    // The bill's states before the record, for the index entries it adds (read through the
    // overlay, which keeps them for the rules that read them next).
    let (bill, custody) = match rec.payload.chain.bill() {
        Some(id) => (overlay.bill(&id)?, overlay.custody(&id)?),
        None => (None, None),
    };
    let effects = apply(overlay, rec, stamp, operator)?;
    let receipt = ReceiptInfo {
        hash: rec.hash,
        chain: rec.payload.chain,
        position: rec.payload.position,
        seq: stamp.seq,
        time: stamp.time,
        action: rec.payload.action.name(),
    };
    // Encoded once: what the leaf commits to is exactly what is stored.
    let signatures = checked_signatures(rec);
    let leaf = LogEntry::new(rec.hash, &signatures, stamp.seq, stamp.time).leaf_hash();
    batch.record(rec, &receipt, &signatures);
    let before = Before { bill: bill.as_ref(), custody: custody.as_ref() };
    for e in &effects {
        batch.effect(e, &before);
    }
    overlay.absorb(&effects);
    overlay.took(rec.payload.chain, rec.payload.position, rec.hash);
    Ok((receipt, leaf))
}
