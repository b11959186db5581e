//! An in-memory ledger state: a [`View`] that records are applied to in log order, with no I/O.
//! Offline verifiers (a proof bundle's replay) rebuild the registry and a bill with it, through
//! the same [`apply`] the writer runs; it owns nothing but the maps and the folding of effects.

use crate::apply::{apply, Checked, Effect, Stamp, View};
use crate::bill::BillState;
use crate::custody::CustodyState;
use crate::delegation::Grants;
use crate::error::{ApplyError, Unreadable};
use crate::hash::Hash32;
use crate::ids::{BillId, ChainId, PartyId};
use crate::registry::{KeyRecord, Party};
use crate::sig::PublicKey;
use std::collections::HashMap;

/// Parties, keys, delegations, bills, custody and chain heads, built by applying records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryState {
    /// Registered parties.
    pub parties: HashMap<PartyId, Party>,
    /// Registered keys with their validity by log position.
    pub keys: HashMap<PublicKey, KeyRecord>,
    /// Grants by (principal, agent).
    pub delegations: HashMap<(PartyId, PartyId), Grants>,
    /// Bills' title states.
    pub bills: HashMap<BillId, BillState>,
    /// Bills' custody states.
    pub custody: HashMap<BillId, CustodyState>,
    /// The registry chain's head.
    pub registry: Option<(u64, Hash32)>,
    /// (bill, position) -> hash of each title record applied.
    pub title_records: HashMap<(BillId, u64), Hash32>,
}

/// Every lookup is answered: a memory state is never unreadable.
impl View for MemoryState {
    fn party(&self, id: &PartyId) -> Result<Option<Party>, Unreadable> {
        Ok(self.parties.get(id).cloned())
    }
    fn key(&self, key: &PublicKey) -> Result<Option<KeyRecord>, Unreadable> {
        Ok(self.keys.get(key).cloned())
    }
    fn bill(&self, id: &BillId) -> Result<Option<BillState>, Unreadable> {
        Ok(self.bills.get(id).cloned())
    }
    fn registry_head(&self) -> Result<Option<(u64, Hash32)>, Unreadable> {
        Ok(self.registry)
    }
    fn delegation(&self, principal: &PartyId, agent: &PartyId) -> Result<Grants, Unreadable> {
        Ok(self.delegations.get(&(principal.clone(), agent.clone())).cloned().unwrap_or_default())
    }
    fn custody(&self, id: &BillId) -> Result<Option<CustodyState>, Unreadable> {
        Ok(self.custody.get(id).cloned())
    }
    fn title_hash_at(&self, id: &BillId, position: u64) -> Result<Option<Hash32>, Unreadable> {
        Ok(self.title_records.get(&(*id, position)).copied())
    }
}

impl MemoryState {
    /// Applies `rec` at `stamp` (order-dependent checks and rules, as the writer does) and folds
    /// its effects in; on a refusal nothing changes.
    pub fn apply(&mut self, rec: &Checked, stamp: Stamp, operator: &PublicKey) -> crate::Result<()> {
        let effects = apply(self, rec, stamp, operator).map_err(|e| match e {
            ApplyError::Rule(r) => r,
            ApplyError::Unreadable(u) => unreachable!("a memory state is always readable: {u}"),
        })?;
        for e in effects {
            match e {
                Effect::Party(p) => {
                    self.parties.insert(p.registration.party.clone(), p);
                }
                Effect::Key(k, r) => {
                    self.keys.insert(k, r);
                }
                Effect::Bill(b) => {
                    self.bills.insert(b.id, *b);
                }
                Effect::RegistryHead(p, h) => self.registry = Some((p, h)),
                Effect::Delegation(p, a, g) => {
                    self.delegations.insert((p, a), g);
                }
                Effect::Custody(c) => {
                    self.custody.insert(c.bill, *c);
                }
            }
        }
        if let ChainId::Title(b) = rec.payload.chain {
            self.title_records.insert((b, rec.payload.position), rec.hash);
        }
        Ok(())
    }
}
