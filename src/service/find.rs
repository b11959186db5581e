//! FindBills: the bills a reader may see that name a container, a party or a place, a page at a
//! time. The reader's own bills are walked (its [`Sight`]) and each is checked against the
//! query's index, so bills the reader may not see are neither listed, nor counted against the
//! page's limit, nor read at all: the work depends only on what the reader may see.

use super::auth::Reader;
use super::visible::{load_visible, sight, Sight};
use super::{Shared, MAX_FOUND};
use crate::error::LedgerError;
use crate::store::keys::IndexKey;
use crate::store::StoreError;
use ebl_core::bill::BillState;
use ebl_core::ids::BillId;
use ebl_core::RuleError;

/// Most of the reader's bills one call looks at: a page may end early (with a `next`) so that
/// no call costs more than this, however many bills the reader may see.
pub const MAX_SCAN: usize = 10_000;

type Ids<'a> = Box<dyn Iterator<Item = Result<BillId, StoreError>> + 'a>;

/// What FindBills looks bills up by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FindBy {
    /// A container number.
    Container(String),
    /// A party id.
    Party(String),
    /// A UN/LOCODE.
    Location(String),
}

impl FindBy {
    /// The index key it looks up.
    fn index(&self) -> IndexKey<'_> {
        match self {
            FindBy::Container(c) => IndexKey::Container(c),
            FindBy::Party(p) => IndexKey::Party(p),
            FindBy::Location(l) => IndexKey::Location(l),
        }
    }
}

/// One page of bills found: in bill-id order, and where the next page starts, if there is one.
#[derive(Debug, Clone, Default)]
pub struct Found {
    /// The bills, each one the reader may see.
    pub bills: Vec<BillState>,
    /// The bill id after which the next page starts.
    pub next: Option<BillId>,
}

/// One page of the bills `reader` may see that `by` lists, after the bill `after`, at most
/// `limit` (1 to [`MAX_FOUND`]; 0 is [`MAX_FOUND`]).
pub fn find(
    shared: &Shared,
    reader: &Reader,
    by: &FindBy,
    after: Option<BillId>,
    limit: usize,
) -> Result<Found, LedgerError> {
    if let FindBy::Location(l) = by {
        if !ebl_core::document::is_locode(l) {
            return Err(RuleError::invalid("locode", format!("'{l}' is not a UN/LOCODE")).into());
        }
    }
    let key = by.index();
    let limit = match limit {
        0 => MAX_FOUND,
        n => n.min(MAX_FOUND),
    };
    let store = &shared.store;
    let sight = sight(store, reader)?;
    // The candidates in bill-id order, each with whether the query's index lists it: for a
    // reader who sees everything, the query's own index; otherwise the reader's own bills.
    let candidates: Box<dyn Iterator<Item = Result<(BillId, bool), StoreError>>> = match &sight {
        Sight::All => Box::new(store.indexed_bills(key, after.as_ref()).map(|id| id.map(|id| (id, true)))),
        Sight::Under(keys) => {
            let mine =
                union(keys.iter().map(|k| Box::new(store.indexed_bills(k.index(), after.as_ref())) as Ids).collect());
            Box::new(mine.map(move |id| {
                let id = id?;
                Ok((id, store.is_indexed(key, &id)?))
            }))
        }
    };
    let mut found = Found::default();
    let mut scanned = 0;
    for candidate in candidates {
        let (id, listed) = candidate?;
        scanned += 1;
        if listed {
            if let Some((b, _)) = load_visible(shared, reader, &id)? {
                found.bills.push(b);
            }
        }
        if found.bills.len() == limit || scanned == MAX_SCAN {
            found.next = Some(id);
            break;
        }
    }
    Ok(found)
}

/// The union of several bill-id-ordered streams, in order, each id once.
fn union<'a>(sources: Vec<Ids<'a>>) -> impl Iterator<Item = Result<BillId, StoreError>> + 'a {
    let mut heads: Vec<_> = sources.into_iter().map(Iterator::peekable).collect();
    std::iter::from_fn(move || {
        let mut least: Option<BillId> = None;
        for h in heads.iter_mut() {
            match h.peek() {
                Some(Err(_)) => return h.next(),
                Some(Ok(id)) if least.is_none_or(|l| *id < l) => least = Some(*id),
                _ => {}
            }
        }
        let least = least?;
        for h in heads.iter_mut() {
            h.next_if(|id| matches!(id, Ok(i) if *i == least));
        }
        Some(Ok(least))
    })
}
