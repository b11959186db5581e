//! The writer's view of state during one group commit: the store, plus what earlier records of
//! the same batch changed and is not yet written. Implements the core's [`View`].

use super::cache::{StateCache, States};
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
use ebl_core::Unreadable;
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
    /// Bill and custody states as read from the store, kept for the next read of the same bill
    /// (the writer reads a bill's states before the rules read them again). Behind `pending`
    /// changes, which come first. A `RefCell`: reads take `&self`, and an overlay is used by one
    /// thread only.
    read: RefCell<Read>,
    /// Apply's cache of states between commands, consulted before the store: filled from the
    /// store's reads by [`Overlay::writing`] (apply's), read only by [`Overlay::checking`].
    cache: Option<&'a StateCache>,
    /// Whether the store's reads fill the cache (apply's view only).
    fills: bool,
}

#[derive(Default)]
struct Read {
    bills: HashMap<BillId, Option<BillState>>,
    custody: HashMap<BillId, Option<CustodyState>>,
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
            read: RefCell::default(),
            cache: None,
            fills: false,
        })
    }

    /// The view of the checks before the writer: like [`Overlay::new`], reading parties and keys
    /// from apply's cache where it holds them (committed states, as the store's), never filling
    /// it.
    pub fn checking(store: &'a Store) -> Result<Self, StoreError> {
        Ok(Overlay { cache: Some(store.state_cache()), ..Overlay::new(store)? })
    }

    /// The view apply writes through: like [`Overlay::new`], reading through the store's cache of
    /// apply's states (see [`super::cache`]). Only the apply path may use it.
    pub fn writing(store: &'a Store) -> Result<Self, StoreError> {
        Ok(Overlay { cache: Some(store.state_cache()), fills: true, ..Overlay::new(store)? })
    }

    /// The group's new states (the last of each id), for the cache once its batch is written.
    pub fn into_states(self) -> States {
        States { parties: self.parties, keys: self.keys, bills: self.bills, custody: self.custody }
    }

    fn stored_party(&self, id: &PartyId) -> Result<Option<Party>, StoreError> {
        through(self.cache, self.fills, |c| c.party(id), || self.store.party(id), |c, v| c.keep_party(id.clone(), v))
    }

    fn stored_key(&self, k: &PublicKey) -> Result<Option<KeyRecord>, StoreError> {
        through(self.cache, self.fills, |c| c.key(k), || self.store.key(k), |c, v| c.keep_key(*k, v))
    }

    fn stored_bill(&self, id: &BillId) -> Result<Option<BillState>, StoreError> {
        through(self.cache, self.fills, |c| c.bill(id), || self.store.bill(id), |c, v| c.keep_bill(*id, v))
    }

    fn stored_custody(&self, id: &BillId) -> Result<Option<CustodyState>, StoreError> {
        through(self.cache, self.fills, |c| c.custody(id), || self.store.custody(id), |c, v| c.keep_custody(*id, v))
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
}

/// A state from `cache` if it holds it; else from the store, then kept there if the view `fills`
/// it.
fn through<V: Clone>(
    cache: Option<&StateCache>,
    fills: bool,
    get: impl FnOnce(&StateCache) -> Option<Option<V>>,
    read: impl FnOnce() -> Result<Option<V>, StoreError>,
    keep: impl FnOnce(&StateCache, Option<V>),
) -> Result<Option<V>, StoreError> {
    let Some(cache) = cache else { return read() };
    if let Some(v) = get(cache) {
        return Ok(v);
    }
    let v = read()?;
    if fills {
        keep(cache, v.clone());
    }
    Ok(v)
}

impl View for Overlay<'_> {
    fn party(&self, id: &PartyId) -> Result<Option<Party>, Unreadable> {
        match self.parties.get(id) {
            Some(p) => Ok(Some(p.clone())),
            None => Ok(self.stored_party(id)?),
        }
    }

    fn key(&self, key: &PublicKey) -> Result<Option<KeyRecord>, Unreadable> {
        match self.keys.get(key) {
            Some(k) => Ok(Some(k.clone())),
            None => Ok(self.stored_key(key)?),
        }
    }

    fn bill(&self, id: &BillId) -> Result<Option<BillState>, Unreadable> {
        if let Some(b) = self.bills.get(id) {
            return Ok(Some(b.clone()));
        }
        if let Some(b) = self.read.borrow().bills.get(id) {
            return Ok(b.clone());
        }
        let b = self.stored_bill(id)?;
        self.read.borrow_mut().bills.insert(*id, b.clone());
        Ok(b)
    }

    fn registry_head(&self) -> Result<Option<(u64, Hash32)>, Unreadable> {
        Ok(self.registry_head)
    }

    fn custody(&self, id: &BillId) -> Result<Option<CustodyState>, Unreadable> {
        if let Some(c) = self.custody.get(id) {
            return Ok(Some(c.clone()));
        }
        if let Some(c) = self.read.borrow().custody.get(id) {
            return Ok(c.clone());
        }
        let c = self.stored_custody(id)?;
        self.read.borrow_mut().custody.insert(*id, c.clone());
        Ok(c)
    }

    fn title_hash_at(&self, id: &BillId, position: u64) -> Result<Option<Hash32>, Unreadable> {
        let chain = ChainId::Title(*id);
        match self.chains.get(&(chain, position)) {
            Some(h) => Ok(Some(*h)),
            None => Ok(self.store.chain_hash(&chain, position)?),
        }
    }

    fn delegation(&self, principal: &PartyId, agent: &PartyId) -> Result<Grants, Unreadable> {
        match self.delegations.get(&(principal.clone(), agent.clone())) {
            Some(g) => Ok(g.clone()),
            None => Ok(self.store.delegation(principal, agent)?),
        }
    }
}
