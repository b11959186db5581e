//! What a reader may see, answered from the indexes keyed by the reader, so that a bill the
//! reader may not see costs exactly what a missing one costs (the same reads, no decode) and a
//! list's cost depends only on the bills the reader may see.
//!
//! The indexes list every bill under each party that has been part of it or carries a leg of it
//! (`p`), and under each place and country its document or route names (`l`, `k`). A reader's
//! [`Sight`] is the index keys its bills are listed under; the rule itself
//! (`ebl_core::visibility`) is then applied to the bill found, since an index may list more
//! (a carrier of a route since re-planned).

use super::auth::Reader;
use super::Shared;
use crate::error::LedgerError;
use crate::store::keys::IndexKey;
use crate::store::Store;
use crate::wire::hash32;
use ebl_core::bill::BillState;
use ebl_core::custody::CustodyState;
use ebl_core::ids::{BillId, PartyId};
use ebl_core::registry::Role;
use ebl_core::visibility::not_found;

/// The index keys under which the bills a reader may see are listed.
pub enum Sight {
    /// Every bill (auditors and the operator).
    All,
    /// The bills listed under any of these.
    Under(Vec<SightKey>),
}

/// One index key of a reader's sight.
pub enum SightKey {
    /// Bills the party has been part of or carries a leg of.
    Party(PartyId),
    /// Bills naming a place of a jurisdiction: a country (2 letters) or a UN/LOCODE (5).
    Place(String),
}

impl SightKey {
    /// The index key.
    pub fn index(&self) -> IndexKey<'_> {
        match self {
            SightKey::Party(p) => IndexKey::Party(p.as_str()),
            SightKey::Place(j) if j.len() == 2 => IndexKey::Country(j),
            SightKey::Place(j) => IndexKey::Location(j),
        }
    }
}

/// The reader's sight: its own bills and those of the parties it is an agent for, or for
/// customs the places of its jurisdiction. Its cost depends on the registry, never on bills.
pub fn sight(store: &Store, reader: &Reader) -> Result<Sight, LedgerError> {
    let Reader::Party(p) = reader else { return Ok(Sight::All) };
    Ok(match p.registration.role {
        Role::Auditor => Sight::All,
        Role::Customs => Sight::Under(p.registration.jurisdiction.iter().cloned().map(SightKey::Place).collect()),
        _ => {
            let me = p.registration.party.clone();
            let principals = store.principals_of(&me)?;
            Sight::Under(std::iter::once(me).chain(principals).map(SightKey::Party).collect())
        }
    })
}

/// Loads a bill the reader may see, with its custody; anything else is NOT_FOUND, exactly like
/// a missing bill, after exactly the same reads.
pub fn visible_bill(
    shared: &Shared,
    reader: &Reader,
    bill_id: &[u8],
) -> Result<(BillState, Option<CustodyState>), LedgerError> {
    let id = BillId(hash32("bill_id", bill_id)?);
    let listed = match sight(&shared.store, reader)? {
        Sight::All => true,
        // Every key is looked up, so the reads do not depend on which one lists the bill.
        Sight::Under(keys) => keys
            .iter()
            .map(|k| shared.store.is_indexed(k.index(), &id))
            .try_fold(false, |any, listed| -> Result<bool, LedgerError> { Ok(listed? || any) })?,
    };
    if !listed {
        return Err(not_found(id).into());
    }
    load_visible(shared, reader, &id)?.ok_or_else(|| not_found(id).into())
}

/// A bill listed in the reader's sight, with its custody, if the visibility rule lets the reader
/// see it (`None` for a bill that does not exist or that the rule hides).
pub fn load_visible(
    shared: &Shared,
    reader: &Reader,
    id: &BillId,
) -> Result<Option<(BillState, Option<CustodyState>)>, LedgerError> {
    let Some(bill) = shared.store.bill(id)? else { return Ok(None) };
    let custody = shared.store.custody(id)?;
    let route = custody.as_ref().map(|c| c.route.as_slice()).unwrap_or_default();
    // Delegations are read only when the reader is not itself a party the rule lets see, and
    // before the rule runs: a failed read is answered as such, never as "not visible".
    let sees = reader.can_see(&bill, route, |_| false) || {
        let me = reader.party();
        let mut principals = Vec::new();
        for principal in &bill.parties {
            if shared.store.delegation(principal, &me)?.current().is_some() {
                principals.push(principal);
            }
        }
        reader.can_see(&bill, route, |p| principals.contains(&p))
    };
    Ok(sees.then_some((bill, custody)))
}
