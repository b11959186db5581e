//! Rebuilding a bill from its stored records: the records of its title chain and its custody
//! chain, in log order, every one rehashed and linked to the one before on its chain, the rules
//! applied again, and the results compared with the stored title and custody states.
//! Signatures are not verified again (they were, once, on arrival); hashes are.

use crate::error::LedgerError;
use crate::store::Store;
use crate::wire::payload::decode_record;
use ebl_core::apply::{apply, check_content, Effect, Stamp, View};
use ebl_core::bill::BillState;
use ebl_core::custody::CustodyState;
use ebl_core::delegation::Grants;
use ebl_core::hash::Hash32;
use ebl_core::ids::{BillId, ChainId, PartyId};
use ebl_core::record::record_hash;
use ebl_core::registry::{KeyRecord, Party};
use ebl_core::sig::PublicKey;
use ebl_core::{ApplyError, Unreadable};
use std::collections::HashMap;

/// The result of a successful replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replayed {
    /// The title state rebuilt from the records alone.
    pub state: BillState,
    /// The custody state rebuilt from the records alone (`None`: no route).
    pub custody: Option<CustodyState>,
    /// How many records were rehashed and applied (both chains).
    pub records: u64,
}

/// The registry as stored (keys and delegations carry their validity by log position) and the
/// bill as rebuilt so far.
struct ReplayView<'a> {
    store: &'a Store,
    id: BillId,
    bill: Option<BillState>,
    custody: Option<CustodyState>,
    title: HashMap<u64, Hash32>,
}

impl View for ReplayView<'_> {
    fn party(&self, id: &PartyId) -> Result<Option<Party>, Unreadable> {
        Ok(self.store.party(id)?)
    }
    fn key(&self, key: &PublicKey) -> Result<Option<KeyRecord>, Unreadable> {
        Ok(self.store.key(key)?)
    }
    /// The replayed bill as replayed so far; any other bill (an amendment's predecessor, final
    /// once voided) as stored.
    fn bill(&self, id: &BillId) -> Result<Option<BillState>, Unreadable> {
        if *id == self.id {
            Ok(self.bill.clone())
        } else {
            Ok(self.store.bill(id)?)
        }
    }
    fn registry_head(&self) -> Result<Option<(u64, Hash32)>, Unreadable> {
        Ok(None)
    }
    /// As stored: every grant keeps its life by log position, judged at the record's own.
    fn delegation(&self, principal: &PartyId, agent: &PartyId) -> Result<Grants, Unreadable> {
        Ok(self.store.delegation(principal, agent)?)
    }
    fn custody(&self, id: &BillId) -> Result<Option<CustodyState>, Unreadable> {
        if *id == self.id {
            Ok(self.custody.clone())
        } else {
            Ok(self.store.custody(id)?)
        }
    }
    fn title_hash_at(&self, id: &BillId, position: u64) -> Result<Option<Hash32>, Unreadable> {
        Ok((*id == self.id).then(|| self.title.get(&position).copied()).flatten())
    }
}

fn broken(seq: u64, why: impl std::fmt::Display) -> LedgerError {
    LedgerError::ChainBroken(format!("at log index {seq}: {why}"))
}

/// How many times a replay is tried while the bill keeps moving under it.
const ATTEMPTS: usize = 5;

/// Replays bill `id` from its records and checks the result equals the stored state. Records
/// are immutable, but the writer may extend either chain while the replay reads them: a failure
/// while the bill's heads moved is a race, not a broken chain, and the replay is tried again.
pub fn replay_bill(store: &Store, origin: &str, operator: &PublicKey, id: &BillId) -> Result<Replayed, LedgerError> {
    let heads = || -> Result<_, LedgerError> {
        Ok((store.bill(id)?.map(|b| b.head_seq), store.custody(id)?.and_then(|c| c.head)))
    };
    for _ in 0..ATTEMPTS {
        let before = heads()?;
        match replay_once(store, origin, operator, id) {
            Err(_) if heads()? != before => continue,
            done => return done,
        }
    }
    Err(LedgerError::Unavailable(format!("bill {id} kept changing while it was being verified: ask again")))
}

fn replay_once(store: &Store, origin: &str, operator: &PublicKey, id: &BillId) -> Result<Replayed, LedgerError> {
    let mut order: Vec<(u64, ChainId, u64)> = Vec::new();
    for chain in [ChainId::Title(*id), ChainId::Custody(*id)] {
        for (position, seq) in store.chain_seqs(&chain, 0)?.into_iter().enumerate() {
            order.push((seq, chain, position as u64));
        }
    }
    order.sort();
    let mut view = ReplayView { store, id: *id, bill: None, custody: None, title: HashMap::new() };
    let mut prev: HashMap<ChainId, Hash32> = HashMap::new();
    for (seq, chain, position) in &order {
        let stored = store.record(*seq)?.ok_or_else(|| broken(*seq, "record missing"))?;
        let hash = record_hash(&stored.payload);
        if hash != stored.receipt.hash {
            return Err(broken(*seq, "payload does not hash to its receipt's record hash"));
        }
        let rec = stored.signed_record().map_err(|e| broken(*seq, e))?;
        let (payload, sigs) = decode_record(&rec).map_err(|e| broken(*seq, e))?;
        if payload.chain != *chain || payload.position != *position || payload.prev != prev.get(chain).copied() {
            return Err(broken(*seq, "chain, position or previous hash does not link"));
        }
        let checked = check_content(rec.payload, payload, sigs, origin).map_err(|e| broken(*seq, e))?;
        let effects =
            apply(&view, &checked, Stamp { seq: *seq, time: stored.receipt.time }, operator).map_err(|e| match e {
                // A read that failed says nothing about the chain.
                ApplyError::Unreadable(u) => LedgerError::from(u),
                ApplyError::Rule(r) => broken(*seq, r),
            })?;
        for e in effects {
            match e {
                Effect::Bill(b) if b.id == *id => view.bill = Some(*b),
                Effect::Custody(c) if c.bill == *id => view.custody = Some(*c),
                _ => {}
            }
        }
        if let ChainId::Title(_) = chain {
            view.title.insert(*position, hash);
        }
        prev.insert(*chain, hash);
    }
    let state =
        view.bill.ok_or_else(|| LedgerError::Rule(ebl_core::RuleError::NotFound { what: format!("bill {id}") }))?;
    if store.bill(id)?.as_ref() != Some(&state) || store.custody(id)? != view.custody {
        return Err(LedgerError::ChainBroken(format!(
            "bill {id} rebuilt from its records differs from its stored state"
        )));
    }
    Ok(Replayed { state, custody: view.custody, records: order.len() as u64 })
}
