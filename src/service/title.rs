//! Title statements and proof bundles, server side: a snapshot of a bill (its replay, and the
//! heads of its custody chain and of the registry), the latest checkpoint that covers them
//! (waited for briefly: checkpoints trail the tree by about 250 ms), the statement signed over
//! both, and the bundle assembled from the stored records with their inclusion proofs. Reads
//! only; the checkpoint is never signed on demand, the statement always is (it carries a time).

use super::Shared;
use crate::bundle::{Bundle, BundleRecord, ChainKind, BUNDLE_FORMAT, COPY_NOTICE};
use crate::checkpoint::SignedCheckpoint;
use crate::error::LedgerError;
use crate::replay::{replay_bill, Replayed};
use ebl_core::hash::Hash32;
use ebl_core::ids::{BillId, ChainId};
use ebl_core::statement::{ChainHead, StatedTitle, TitleStatement};
use ebl_core::time::Timestamp;
use std::sync::Arc;
use std::time::Duration;

/// Reason given when no checkpoint covers the bill's heads within [`CHECKPOINT_WAIT`].
pub const CHECKPOINT_PENDING: &str = "CHECKPOINT_PENDING";
/// How long a statement waits for a checkpoint that covers the heads it names.
pub const CHECKPOINT_WAIT: Duration = Duration::from_secs(3);

/// A bill as replayed, with the other heads a statement names.
pub struct Snapshot {
    /// The replay of the bill's records.
    pub replayed: Replayed,
    /// The custody chain's head, if any.
    pub custody_head: Option<ChainHead>,
    /// The registry chain's head.
    pub registry_head: ChainHead,
}

impl Snapshot {
    /// The smallest tree size that holds every head.
    pub fn needed(&self) -> u64 {
        let heads =
            [Some(self.replayed.state.head_seq), self.custody_head.map(|h| h.seq), Some(self.registry_head.seq)];
        heads.into_iter().flatten().max().unwrap_or(0) + 1
    }
}

fn head_of(shared: &Shared, position: u64, hash: Hash32) -> Result<ChainHead, LedgerError> {
    let seq =
        shared.store.seq_of(&hash)?.ok_or_else(|| LedgerError::Internal(format!("head {hash} has no log index")))?;
    Ok(ChainHead { position, seq, hash })
}

/// Replays bill `id` and reads the custody and registry heads (blocking).
pub fn snapshot(shared: &Shared, id: &BillId) -> Result<Snapshot, LedgerError> {
    let replayed = replay_bill(&shared.store, &shared.origin, &shared.operator, id)?;
    let custody_head = match replayed.custody.as_ref().and_then(|c| c.head) {
        Some((position, hash)) => Some(head_of(shared, position, hash)?),
        None => None,
    };
    let (position, hash) =
        shared.store.registry_head()?.ok_or_else(|| LedgerError::Internal("a bill without a registry".into()))?;
    let registry_head = head_of(shared, position, hash)?;
    Ok(Snapshot { replayed, custody_head, registry_head })
}

/// The latest checkpoint once its size is at least `size`, waiting up to [`CHECKPOINT_WAIT`].
pub async fn covering_checkpoint(shared: &Shared, size: u64) -> Result<Arc<SignedCheckpoint>, LedgerError> {
    super::intact(shared)?;
    let deadline = tokio::time::Instant::now() + CHECKPOINT_WAIT;
    loop {
        if let Some(cp) = shared.log.latest().filter(|c| c.size() >= size) {
            return Ok(cp);
        }
        if tokio::time::Instant::now() >= deadline {
            let refusal = shared.log.refusal().map(|r| format!(" (the signer refuses: {} {})", r.reason, r.message));
            return Err(LedgerError::Pending {
                reason: CHECKPOINT_PENDING,
                why: format!(
                    "no signed checkpoint covers log index {} yet{}: ask again shortly",
                    size - 1,
                    refusal.unwrap_or_default()
                ),
            });
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The statement on `snap` bound to `cp`, and its signed note (blocking).
pub fn statement(
    shared: &Shared,
    snap: &Snapshot,
    cp: &SignedCheckpoint,
) -> Result<(TitleStatement, String), LedgerError> {
    let state = &snap.replayed.state;
    let stored = shared
        .store
        .record(state.head_seq)?
        .ok_or_else(|| LedgerError::Internal(format!("head record {} missing", state.head_seq)))?;
    let entry = stored.log_entry();
    let st = TitleStatement {
        origin: shared.origin.clone(),
        // Never earlier than any record the ledger holds, whatever the clock did.
        time: Timestamp::now().max(shared.store.last_time()?),
        title: StatedTitle::of(state, snap.replayed.custody.as_ref()),
        custody_head: snap.custody_head,
        registry_head: snap.registry_head,
        operator: shared.operator,
        checkpoint_size: cp.size(),
        checkpoint_root: cp.checkpoint.root(),
        entry,
        proof: shared.store.inclusion_proof(state.head_seq, cp.size())?,
    };
    let note = shared.statements.sign(&st).map_err(|e| LedgerError::Internal(format!("statement: {e}")))?;
    Ok((st, note))
}

/// The proof bundle of `snap`: every record up to its heads, each with its inclusion proof in
/// `cp`, the document, the checkpoint and the statement (blocking).
pub fn bundle(shared: &Shared, snap: &Snapshot, cp: &SignedCheckpoint, note: String) -> Result<Bundle, LedgerError> {
    let state = &snap.replayed.state;
    let id = state.id;
    let mut order: Vec<(u64, ChainKind)> = Vec::new();
    let mut take = |chain: ChainId, kind: ChainKind, last: Option<u64>| -> Result<(), LedgerError> {
        let seqs = shared.store.chain_seqs(&chain, 0)?;
        let n = last.map(|p| p as usize + 1).unwrap_or(0).min(seqs.len());
        order.extend(seqs[..n].iter().map(|s| (*s, kind)));
        Ok(())
    };
    take(ChainId::Registry, ChainKind::Registry, Some(snap.registry_head.position))?;
    take(ChainId::Title(id), ChainKind::Title, Some(state.head_position))?;
    take(ChainId::Custody(id), ChainKind::Custody, snap.custody_head.map(|h| h.position))?;
    // An amended bill's ISSUE relies on the amendment it replaces (voided, so final): the bundle
    // carries every predecessor's records too, so the verifier can replay the whole line.
    let mut amendment = state.amendment;
    while amendment > 0 {
        amendment -= 1;
        let prev = BillId::derive(&state.issuer, &state.reference, amendment);
        for (chain, kind) in [(ChainId::Title(prev), ChainKind::Title), (ChainId::Custody(prev), ChainKind::Custody)] {
            order.extend(shared.store.chain_seqs(&chain, 0)?.into_iter().map(|s| (s, kind)));
        }
    }
    order.sort();
    let mut records = Vec::with_capacity(order.len());
    for (seq, kind) in order {
        let stored = shared.store.record(seq)?.ok_or_else(|| LedgerError::Internal(format!("record {seq} missing")))?;
        let proof = shared.store.inclusion_proof(seq, cp.size())?;
        let stored = stored.to_pb().map_err(|e| LedgerError::Internal(format!("record {seq}: {e}")))?;
        records.push(BundleRecord::from_stored(kind, &stored, proof.into_iter().map(|h| h.0.to_vec()).collect()));
    }
    Ok(Bundle {
        format: BUNDLE_FORMAT.into(),
        copy: true,
        notice: COPY_NOTICE.into(),
        origin: shared.origin.clone(),
        bill_id: id.to_string(),
        created_at: Timestamp::now().to_rfc3339(),
        // With the witnesses' cosignatures gathered so far: a verifier may require k of them.
        checkpoint: shared.log.note_of(cp),
        statement: note,
        document: super::document_of(shared, state)?,
        records,
    })
}
