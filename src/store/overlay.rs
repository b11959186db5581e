//! The writer's view of state during one group commit: the store, plus what earlier records of
//! the same batch changed and is not yet written. Implements the core's [`View`].

use super::{Store, StoreError};
use ebl_core::apply::{Effect, View};
use ebl_core::bill::BillState;
use ebl_core::custody::CustodyState;
use ebl_core::delegation::Grants;
use ebl_core::hash::Hash32;
use ebl_core::ids::ChainId;
use ebl_core::ids::{BillId, PartyId};
use ebl_core::registry::{KeyRecord, Party};
use ebl_core::sig::PublicKey;
use std::cell::RefCell;
use std::collections::HashMap;

/// Store-backed state with pending changes on top.
pub struct Overlay<'a> {
    store: &'a Store,
    parties: HashMap<PartyId, Party>,
    keys: HashMap<PublicKey, KeyRecord>,
    bills: HashMap<BillId, BillState>,
    registry_head: Option<(u64, Hash32)>,
    delegations: HashMap<(PartyId, PartyId), Grants>,
    custody: HashMap<BillId, CustodyState>,
    /// Chain positions taken by earlier records of the group: (chain, position) -> hash.
    chains: HashMap<(ChainId, u64), Hash32>,
    // RefCell: View's lookups take &self and return plain Options; a storage failure during one
    // is remembered here and turned into UNAVAILABLE by the writer rather than a rule refusal.
    failure: RefCell<Option<StoreError>>,
}

impl<'a> Overlay<'a> {
    /// A view of `store` with nothing pending.
    pub fn new(store: &'a Store) -> Result<Self, StoreError> {
        Ok(Overlay {
            store,
            parties: HashMap::new(),
            keys: HashMap::new(),
            bills: HashMap::new(),
            registry_head: store.registry_head()?,
            delegations: HashMap::new(),
            custody: HashMap::new(),
            chains: HashMap::new(),
            failure: RefCell::new(None),
        })
    }

    /// Records effects as pending.
    pub fn absorb(&mut self, effects: &[Effect]) {
        for e in effects {
            match e {
                Effect::Party(p) => {
                    self.parties.insert(p.registration.party.clone(), p.clone());
                }
                Effect::Key(k, r) => {
                    self.keys.insert(*k, r.clone());
                }
                Effect::Bill(b) => {
                    self.bills.insert(b.id, (**b).clone());
                }
                Effect::RegistryHead(p, h) => self.registry_head = Some((*p, *h)),
                Effect::Delegation(p, a, g) => {
                    self.delegations.insert((p.clone(), a.clone()), g.clone());
                }
                Effect::Custody(c) => {
                    self.custody.insert(c.bill, (**c).clone());
                }
            }
        }
    }

    /// Records that an accepted record of the group took `position` of `chain`.
    pub fn took(&mut self, chain: ChainId, position: u64, hash: Hash32) {
        self.chains.insert((chain, position), hash);
    }

    /// The first storage failure seen by a lookup since the last call, if any.
    pub fn take_failure(&self) -> Option<StoreError> {
        self.failure.borrow_mut().take()
    }

    fn lookup<T>(&self, r: Result<Option<T>, StoreError>) -> Option<T> {
        r.unwrap_or_else(|e| {
            self.failure.borrow_mut().get_or_insert(e);
            None
        })
    }
}

impl View for Overlay<'_> {
    fn party(&self, id: &PartyId) -> Option<Party> {
        self.parties.get(id).cloned().or_else(|| self.lookup(self.store.party(id)))
    }

    fn key(&self, key: &PublicKey) -> Option<KeyRecord> {
        self.keys.get(key).cloned().or_else(|| self.lookup(self.store.key(key)))
    }

    fn bill(&self, id: &BillId) -> Option<BillState> {
        self.bills.get(id).cloned().or_else(|| self.lookup(self.store.bill(id)))
    }

    fn registry_head(&self) -> Option<(u64, Hash32)> {
        self.registry_head
    }

    fn custody(&self, id: &BillId) -> Option<CustodyState> {
        self.custody.get(id).cloned().or_else(|| self.lookup(self.store.custody(id)))
    }

    fn title_hash_at(&self, id: &BillId, position: u64) -> Option<Hash32> {
        let chain = ChainId::Title(*id);
        self.chains.get(&(chain, position)).copied().or_else(|| self.lookup(self.store.chain_hash(&chain, position)))
    }

    fn delegation(&self, principal: &PartyId, agent: &PartyId) -> Grants {
        match self.delegations.get(&(principal.clone(), agent.clone())) {
            Some(g) => g.clone(),
            None => self.lookup(self.store.delegation(principal, agent).map(Some)).unwrap_or_default(),
        }
    }
}
