//! Rebuilding a bill from its stored records: every record rehashed and linked to the one before,
//! the title rules applied again in order, and the result compared with the stored state.
//! Signatures are not verified again (they were, once, on arrival); hashes are.

use crate::error::LedgerError;
use crate::store::Store;
use crate::wire::payload::decode_record;
use ebl_core::apply::{apply, check_content, Stamp, View};
use ebl_core::bill::BillState;
use ebl_core::delegation::Grants;
use ebl_core::hash::Hash32;
use ebl_core::ids::{BillId, ChainId, PartyId};
use ebl_core::record::record_hash;
use ebl_core::registry::{KeyRecord, Party};
use ebl_core::sig::PublicKey;
use ebl_core::time::Timestamp;

/// The result of a successful replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replayed {
    /// The state rebuilt from the records alone.
    pub state: BillState,
    /// How many records were rehashed and applied.
    pub records: u64,
}

/// The registry as stored (keys carry their validity by log position) and the bill as rebuilt.
struct ReplayView<'a> {
    store: &'a Store,
    /// The bill being replayed, and its state so far.
    id: BillId,
    bill: Option<BillState>,
}

impl View for ReplayView<'_> {
    fn party(&self, id: &PartyId) -> Option<Party> {
        self.store.party(id).ok().flatten()
    }
    fn key(&self, key: &PublicKey) -> Option<KeyRecord> {
        self.store.key(key).ok().flatten()
    }
    /// The replayed bill as replayed so far; any other bill (an amendment's predecessor, final
    /// once voided) as stored.
    fn bill(&self, id: &BillId) -> Option<BillState> {
        if *id == self.id {
            self.bill.clone()
        } else {
            self.store.bill(id).ok().flatten()
        }
    }
    fn registry_head(&self) -> Option<(u64, Hash32)> {
        None
    }
    /// As stored: every grant keeps its life by log position, judged at the record's own.
    fn delegation(&self, principal: &PartyId, agent: &PartyId) -> Grants {
        self.store.delegation(principal, agent).unwrap_or_default()
    }
}

fn broken(position: usize, why: impl std::fmt::Display) -> LedgerError {
    LedgerError::Internal(format!("CHAIN_BROKEN at position {position}: {why}"))
}

/// Replays bill `id` from its records and checks the result equals the stored state.
pub fn replay_bill(store: &Store, origin: &str, operator: &PublicKey, id: &BillId) -> Result<Replayed, LedgerError> {
    let seqs = store.chain_seqs(&ChainId::Title(*id), 0)?;
    let mut view = ReplayView { store, id: *id, bill: None };
    let mut prev: Option<Hash32> = None;
    for (i, seq) in seqs.iter().enumerate() {
        let stored = store.record(*seq)?.ok_or_else(|| broken(i, "record missing"))?;
        let (rec, receipt) = stored.record.zip(stored.receipt).ok_or_else(|| broken(i, "record or receipt missing"))?;
        let hash = record_hash(&rec.payload);
        if hash.0.as_slice() != receipt.record_hash.as_slice() {
            return Err(broken(i, "payload does not hash to its receipt's record hash"));
        }
        let (payload, sigs) = decode_record(&rec).map_err(|e| broken(i, e))?;
        if payload.position != i as u64 || payload.prev != prev {
            return Err(broken(i, "position or previous hash does not link"));
        }
        let checked = check_content(rec.payload, payload, sigs, origin).map_err(|e| broken(i, e))?;
        let time = Timestamp::parse("server_time", &receipt.server_time).map_err(|e| broken(i, e))?;
        let effects = apply(&view, &checked, Stamp { seq: *seq, time }, operator).map_err(|e| broken(i, e))?;
        for e in effects {
            if let ebl_core::apply::Effect::Bill(b) = e {
                view.bill = Some(*b);
            }
        }
        prev = Some(hash);
    }
    let state =
        view.bill.ok_or_else(|| LedgerError::Rule(ebl_core::RuleError::NotFound { what: format!("bill {id}") }))?;
    match store.bill(id)? {
        Some(stored) if stored == state => Ok(Replayed { state, records: seqs.len() as u64 }),
        _ => Err(LedgerError::Internal(format!(
            "CHAIN_BROKEN: bill {id} rebuilt from its records differs from its stored state"
        ))),
    }
}
