//! The order-free checks of arriving records, cheapest first: size, decoding, shape and content;
//! then whether each signer's key is registered to it (a lookup); only then the strict signature
//! checks. Records signed with keys the ledger does not know cost no cryptography. The writer
//! still judges key validity at each record's own place in the log.

use super::{blocking, Shared, MAX_PAYLOAD_BYTES};
use crate::error::LedgerError;
use crate::pb;
use crate::store::overlay::Overlay;
use crate::store::Store;
use crate::wire::payload::decode_record;
use ebl_core::apply::{check_content, check_signers, verify_signatures_with, Checked};
use ebl_core::ids::ChainId;
use ebl_core::record::Action;
use ebl_core::sig::{PublicKey, StrongKeys};
use ebl_core::RuleError;
use std::collections::HashSet;
use std::sync::Arc;

/// Size limit, decoding and content checks: everything before any signature is looked at.
pub fn arrive(rec: pb::SignedRecord, origin: &str) -> Result<Checked, LedgerError> {
    if rec.payload.len() > MAX_PAYLOAD_BYTES {
        return Err(RuleError::Limit {
            reason: "PAYLOAD_TOO_LARGE",
            why: format!("payload is {} bytes; the limit is {MAX_PAYLOAD_BYTES}", rec.payload.len()),
        }
        .into());
    }
    let (payload, sigs) = decode_record(&rec)?;
    Ok(check_content(rec.payload, payload, sigs, origin)?)
}

/// Each signer's key registered to it (keys in `added`, which verified registry records earlier
/// in the same batch add, are let through to the writer), then every signature strictly.
pub fn admit(
    store: &Store,
    operator: &PublicKey,
    rec: Checked,
    added: &HashSet<PublicKey>,
) -> Result<Checked, LedgerError> {
    let view = Overlay::checking(store)?;
    let unknown_to_batch = rec.signatures.iter().filter(|s| !added.contains(&s.key));
    let known = match check_signers(&view, unknown_to_batch, store.next_seq()?, operator) {
        Err(ebl_core::ApplyError::Unreadable(u)) => return Err(u.into()),
        other => other,
    };
    // A record already accepted is answered with its receipt whatever happened since, a key
    // revoked after it included: only its signatures are checked, and the writer answers.
    if known.is_err() && store.seq_of(&rec.hash)?.is_none() {
        known?;
    }
    verify_signatures_with(&rec, store.strong_keys())?;
    Ok(rec)
}

/// Every check before the writer for a batch, each record's answer in its place. Every record is
/// decoded first; the batch's registry records are admitted next, since the keys that those
/// which verify add may sign later records of the batch; then the rest. Each step runs on the
/// blocking pool as one task per core, each taking its share of the records in turn (one task
/// per record costs more in wake-ups and context switches than a check of its own). Every
/// signature is still checked, one by one.
pub async fn check_batch(shared: &Arc<Shared>, records: Vec<pb::SignedRecord>) -> Vec<Result<Checked, LedgerError>> {
    check_batch_after(shared, records, &HashSet::new()).await.0
}

/// [`check_batch`] for records that follow others of the same stream: `earlier` holds the keys
/// that verified registry records earlier in the stream add (which the writer may not have
/// written yet). Also returns the keys this batch's verified registry records add.
pub async fn check_batch_after(
    shared: &Arc<Shared>,
    records: Vec<pb::SignedRecord>,
    earlier: &HashSet<PublicKey>,
) -> (Vec<Result<Checked, LedgerError>>, Vec<PublicKey>) {
    let origin = shared.origin.clone();
    let arrived = on_cores(records, move |r| arrive(r, &origin)).await;
    let mut checked: Vec<Option<Result<Checked, LedgerError>>> = arrived.iter().map(|_| None).collect();
    let mut added = earlier.clone();
    let mut new = Vec::new();
    let mut rest = Vec::new();
    for (i, a) in arrived.into_iter().enumerate() {
        match a {
            Ok(rec) if rec.payload.chain == ChainId::Registry => {
                let (shared, before) = (shared.clone(), added.clone());
                let admitted = blocking(move || admit(&shared.store, &shared.operator, rec, &before)).await;
                if let Some(key) = admitted.as_ref().ok().and_then(keys_added) {
                    added.insert(key);
                    new.push(key);
                }
                checked[i] = Some(admitted);
            }
            other => rest.push((i, other)),
        }
    }
    let (places, rest): (Vec<usize>, Vec<_>) = rest.into_iter().unzip();
    let (shared, added) = (shared.clone(), Arc::new(added));
    let admitted = on_cores(rest, move |a| a.and_then(|rec| admit(&shared.store, &shared.operator, rec, &added))).await;
    for (i, r) in places.into_iter().zip(admitted) {
        checked[i] = Some(r);
    }
    (checked.into_iter().map(|c| c.expect("every record is checked once")).collect(), new)
}

/// `check` applied to every item, in order, on the blocking pool: one task per core, each taking
/// a contiguous share.
async fn on_cores<I, F>(items: Vec<I>, check: F) -> Vec<Result<Checked, LedgerError>>
where
    I: Send + 'static,
    F: Fn(I) -> Result<Checked, LedgerError> + Send + Sync + 'static,
{
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per_task = items.len().div_ceil(cores).max(1);
    let check = Arc::new(check);
    let mut items = items.into_iter();
    let mut tasks = Vec::new();
    loop {
        let share: Vec<I> = items.by_ref().take(per_task).collect();
        if share.is_empty() {
            break;
        }
        let (check, n) = (check.clone(), share.len());
        tasks.push((n, tokio::task::spawn_blocking(move || share.into_iter().map(|i| check(i)).collect::<Vec<_>>())));
    }
    let mut out = Vec::new();
    for (n, task) in tasks {
        match task.await {
            Ok(answers) => out.extend(answers),
            Err(e) => {
                let e = LedgerError::Internal(format!("blocking task failed: {e}"));
                out.extend((0..n).map(|_| Err(e.clone())));
            }
        }
    }
    out
}

/// The keys a registry record registers.
pub fn keys_added(rec: &Checked) -> Option<PublicKey> {
    match &rec.payload.action {
        Action::AddKey { key, .. } => Some(*key),
        Action::RotateKey { new, .. } => Some(*new),
        _ => None,
    }
}

/// Every order-free check of one record, with no registry: what any verifier can check of the
/// bytes alone (the wire-format vectors are held to this).
pub fn check_record(rec: pb::SignedRecord, origin: &str) -> Result<Checked, LedgerError> {
    check_record_with(rec, origin, &StrongKeys::new(16))
}

/// [`check_record`], with the keys already checked in `keys`.
pub fn check_record_with(rec: pb::SignedRecord, origin: &str, keys: &StrongKeys) -> Result<Checked, LedgerError> {
    let rec = arrive(rec, origin)?;
    verify_signatures_with(&rec, keys)?;
    Ok(rec)
}
