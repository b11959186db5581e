//! The transparency log's RPCs: the latest checkpoint (served from `LogState`, never signed on
//! demand), inclusion and consistency proofs, leaf hashes. Public: no signed read, since the log
//! shows hashes and checkpoints only. Every size asked for must be at most the latest
//! checkpoint's, so whatever is proved can be checked against a signed root.

use crate::checkpoint::{SignedCheckpoint, LOG_BEHIND_CHECKPOINT};
use crate::error::LedgerError;
use crate::pb;
use crate::service::{intact, Shared};
use crate::wire::log::{CheckpointQuery, ConsistencyQuery, InclusionQuery, Leaf, LeafRange};
use ebl_core::hash::Hash32;
use ebl_core::RuleError;
use std::sync::Arc;

/// The latest signed checkpoint, or NOT_FOUND before the first one.
pub fn latest(shared: &Shared) -> Result<Arc<SignedCheckpoint>, LedgerError> {
    shared.log.latest().ok_or_else(|| RuleError::NotFound { what: "signed checkpoint".into() }.into())
}

/// GetCheckpoint: the latest checkpoint (or the newest with `q.min_cosignatures` cosignatures),
/// the ledger's signed note followed by the witnesses' lines, with its size and root.
pub fn checkpoint(shared: &Shared, q: CheckpointQuery) -> Result<pb::CheckpointView, LedgerError> {
    latest(shared)?;
    let w = shared.log.witnessed(q.min_cosignatures).ok_or_else(|| RuleError::NotFound {
        what: format!("recent checkpoint cosigned by {} witnesses", q.min_cosignatures),
    })?;
    let cp = &w.signed.checkpoint;
    Ok(pb::CheckpointView {
        note: w.note(),
        size: cp.size(),
        root: cp.root().0.to_vec(),
        cosignatures: w
            .cosignatures
            .iter()
            .map(|c| pb::Cosignature {
                witness: c.witness.clone(),
                key_id: c.key_id.to_vec(),
                time: c.time,
                line: c.line.to_line(),
            })
            .collect(),
    })
}

/// The size asked for (default: the latest checkpoint's), refused if larger than the checkpoint,
/// and FAILED_PRECONDITION if the tree itself is behind it (a restored older database).
fn size_within_checkpoint(shared: &Shared, field: &str, asked: Option<u64>) -> Result<u64, LedgerError> {
    intact(shared)?;
    let signed = latest(shared)?.size();
    let size = asked.unwrap_or(signed);
    if size > signed {
        return Err(
            RuleError::invalid(field, format!("{size} is larger than the latest checkpoint's size {signed}")).into()
        );
    }
    let tree = shared.store.next_seq()?;
    if size > tree {
        return Err(RuleError::refused(
            LOG_BEHIND_CHECKPOINT,
            format!("the tree has {tree} leaves, fewer than the {size} asked for (the database is older than the log)"),
        )
        .into());
    }
    Ok(size)
}

fn hashes(v: Vec<Hash32>) -> Vec<Vec<u8>> {
    v.into_iter().map(|h| h.0.to_vec()).collect()
}

/// GetInclusionProof.
pub fn inclusion(shared: &Shared, q: InclusionQuery) -> Result<pb::InclusionProof, LedgerError> {
    let size = size_within_checkpoint(shared, "tree_size", q.tree_size)?;
    let index = match q.leaf {
        Leaf::Index(i) if i >= size => {
            return Err(RuleError::invalid("index", format!("{i} is not below the tree size {size}")).into())
        }
        Leaf::Index(i) => i,
        Leaf::Record(h) => {
            let seq = shared.store.seq_of(&h)?.ok_or_else(|| RuleError::NotFound { what: format!("record {h}") })?;
            if seq >= size {
                return Err(RuleError::refused(
                    "RECORD_NOT_IN_TREE",
                    format!("record {h} is leaf {seq}, not in the tree of size {size}: wait for a later checkpoint"),
                )
                .into());
            }
            seq
        }
    };
    let stored =
        shared.store.record(index)?.ok_or_else(|| LedgerError::Internal(format!("record {index} is missing")))?;
    let entry = stored.log_entry();
    let leaf = shared.store.leaf_hashes(index, 1)?;
    if leaf != [entry.leaf_hash()] {
        return Err(LedgerError::Internal(format!("leaf {index} does not hash its record's entry")));
    }
    Ok(pb::InclusionProof {
        index,
        tree_size: size,
        hashes: hashes(shared.store.inclusion_proof(index, size)?),
        leaf_hash: entry.leaf_hash().0.to_vec(),
        entry: entry.encode().to_vec(),
    })
}

/// GetConsistencyProof.
pub fn consistency(shared: &Shared, q: ConsistencyQuery) -> Result<pb::ConsistencyProof, LedgerError> {
    let second = size_within_checkpoint(shared, "second", q.second)?;
    if q.first > second {
        return Err(RuleError::invalid("first", format!("{} is larger than second ({second})", q.first)).into());
    }
    Ok(pb::ConsistencyProof {
        first: q.first,
        second,
        hashes: hashes(shared.store.consistency_proof(q.first, second)?),
    })
}

/// GetLeafHashes.
pub fn leaf_hashes(shared: &Shared, r: LeafRange) -> Result<pb::LeafHashes, LedgerError> {
    intact(shared)?;
    let signed = latest(shared)?.size();
    match r.start.checked_add(r.count) {
        Some(end) if end <= signed => {}
        _ => {
            let why = format!("start {} + count {} passes the latest checkpoint's size {signed}", r.start, r.count);
            return Err(RuleError::invalid("count", why).into());
        }
    }
    let got = shared.store.leaf_hashes(r.start, r.count)?;
    if (got.len() as u64) < r.count {
        let why = format!("the tree ends before leaf {}", r.start + r.count);
        return Err(RuleError::refused(LOG_BEHIND_CHECKPOINT, why).into());
    }
    Ok(pb::LeafHashes { start: r.start, hashes: hashes(got) })
}
