//! The states the writer reads for nearly every record (parties, keys, bills' title and custody
//! states), decoded and kept between commands, so that applying a record reads and decodes
//! from RocksDB only what it has not seen lately. The apply path owns it (it is the state
//! machine's, in a cluster): it is filled from apply's own reads, and given each command's new
//! states once the command's batch is written (never before: a batch that fails to write changes
//! nothing here, and empties it, since part of it may have reached the engine). Emptied when a
//! write goes around apply (a snapshot installed). The checks before the writer read parties and
//! keys from it, without filling it; reads for callers never touch it, so that what a reader may
//! not see costs what a missing bill costs.
//!
//! Each map is bounded, and emptied when full: refilling costs the reads it saves.

use ebl_core::bill::BillState;
use ebl_core::custody::CustodyState;
use ebl_core::ids::{BillId, PartyId};
use ebl_core::registry::{KeyRecord, Party};
use ebl_core::sig::PublicKey;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

/// Most parties, and most keys, kept.
pub const MAX_REGISTRY: usize = 65_536;
/// Most bills kept (title states, and custody states apart).
pub const MAX_BILLS: usize = 32_768;

/// The cache (see the module's documentation).
#[derive(Default)]
pub struct StateCache {
    // std Mutex: taken by the applying thread only, never across an await.
    maps: Mutex<Maps>,
}

#[derive(Default)]
struct Maps {
    parties: Bounded<PartyId, Party>,
    keys: Bounded<PublicKey, KeyRecord>,
    bills: Bounded<BillId, BillState>,
    custody: Bounded<BillId, CustodyState>,
}

/// A command's new states, to keep once its batch is written.
#[derive(Debug, Default)]
pub struct States {
    /// Parties registered or changed.
    pub parties: HashMap<PartyId, Party>,
    /// Keys added, rotated or revoked.
    pub keys: HashMap<PublicKey, KeyRecord>,
    /// Bills' title states.
    pub bills: HashMap<BillId, BillState>,
    /// Bills' custody states.
    pub custody: HashMap<BillId, CustodyState>,
}

/// A map of at most as many entries as its kind allows (`None`: known to be absent), emptied
/// when full.
struct Bounded<K, V> {
    map: HashMap<K, Option<V>>,
}

impl<K, V> Default for Bounded<K, V> {
    fn default() -> Self {
        Bounded { map: HashMap::new() }
    }
}

impl<K: Eq + Hash, V: Clone> Bounded<K, V> {
    fn get(&self, k: &K) -> Option<Option<V>> {
        self.map.get(k).cloned()
    }

    fn keep(&mut self, k: K, v: Option<V>, max: usize) {
        if self.map.len() >= max && !self.map.contains_key(&k) {
            self.map.clear();
        }
        self.map.insert(k, v);
    }
}

/// The cache's lookups and its fill, one pair per kind of state.
macro_rules! kind {
    ($get:ident, $keep:ident, $field:ident, $k:ty, $v:ty, $max:expr) => {
        /// The state kept for this id: `Some(None)` if known to be absent, `None` if not kept.
        pub fn $get(&self, id: &$k) -> Option<Option<$v>> {
            self.maps.lock().expect("state cache lock poisoned").$field.get(id)
        }

        /// Keeps what the store holds for this id (read by the applying thread).
        pub fn $keep(&self, id: $k, v: Option<$v>) {
            self.maps.lock().expect("state cache lock poisoned").$field.keep(id, v, $max);
        }
    };
}

impl StateCache {
    kind!(party, keep_party, parties, PartyId, Party, MAX_REGISTRY);
    kind!(key, keep_key, keys, PublicKey, KeyRecord, MAX_REGISTRY);
    kind!(bill, keep_bill, bills, BillId, BillState, MAX_BILLS);
    kind!(custody, keep_custody, custody, BillId, CustodyState, MAX_BILLS);

    /// Keeps a written command's new states.
    pub fn absorb(&self, s: States) {
        let mut m = self.maps.lock().expect("state cache lock poisoned");
        s.parties.into_iter().for_each(|(k, v)| m.parties.keep(k, Some(v), MAX_REGISTRY));
        s.keys.into_iter().for_each(|(k, v)| m.keys.keep(k, Some(v), MAX_REGISTRY));
        s.bills.into_iter().for_each(|(k, v)| m.bills.keep(k, Some(v), MAX_BILLS));
        s.custody.into_iter().for_each(|(k, v)| m.custody.keep(k, Some(v), MAX_BILLS));
    }

    /// Forgets everything (the store was written around apply).
    pub fn clear(&self) {
        *self.maps.lock().expect("state cache lock poisoned") = Maps::default();
    }
}
