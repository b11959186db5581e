//! An in-memory [`View`] for tests of the core: records applied in order, no I/O.
#![allow(dead_code)]
use ebl_core::apply::{apply, Checked, Effect, Stamp, View};
use ebl_core::bill::BillState;
use ebl_core::custody::CustodyState;
use ebl_core::delegation::Grants;
use ebl_core::hash::Hash32;
use ebl_core::ids::{BillId, PartyId};
use ebl_core::registry::{KeyRecord, Party};
use ebl_core::sig::PublicKey;
use ebl_core::time::Timestamp;
use std::collections::HashMap;

/// Parties, keys, bills and the registry head, as the writer's overlay would hold them.
#[derive(Default, Clone, PartialEq, Debug)]
pub struct Mem {
    pub parties: HashMap<PartyId, Party>,
    pub keys: HashMap<PublicKey, KeyRecord>,
    pub bills: HashMap<BillId, BillState>,
    pub registry: Option<(u64, Hash32)>,
    pub delegations: HashMap<(PartyId, PartyId), Grants>,
    pub custody: HashMap<BillId, CustodyState>,
    /// (bill, position) -> hash of every title record applied.
    pub title_records: HashMap<(BillId, u64), Hash32>,
    pub seq: u64,
}

impl View for Mem {
    fn party(&self, id: &PartyId) -> Option<Party> {
        self.parties.get(id).cloned()
    }
    fn key(&self, key: &PublicKey) -> Option<KeyRecord> {
        self.keys.get(key).cloned()
    }
    fn bill(&self, id: &BillId) -> Option<BillState> {
        self.bills.get(id).cloned()
    }
    fn registry_head(&self) -> Option<(u64, Hash32)> {
        self.registry
    }
    fn delegation(&self, principal: &PartyId, agent: &PartyId) -> Grants {
        self.delegations.get(&(principal.clone(), agent.clone())).cloned().unwrap_or_default()
    }
    fn custody(&self, id: &BillId) -> Option<CustodyState> {
        self.custody.get(id).cloned()
    }
    fn title_hash_at(&self, id: &BillId, position: u64) -> Option<Hash32> {
        self.title_records.get(&(*id, position)).copied()
    }
}

impl Mem {
    pub fn run(&mut self, rec: &Checked, op: &PublicKey, time: Timestamp) -> ebl_core::Result<()> {
        let effects = apply(self, rec, Stamp { seq: self.seq, time }, op)?;
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
        if let ebl_core::ids::ChainId::Title(b) = rec.payload.chain {
            self.title_records.insert((b, rec.payload.position), rec.hash);
        }
        self.seq += 1;
        Ok(())
    }
}
