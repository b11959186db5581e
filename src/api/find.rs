//! FindBills: the bills a reader may see that name a container, a party or a place, a page at a
//! time. The reader's own bills are walked (its [`Sight`]) and each is checked against the
//! query's index, so bills the reader may not see are neither listed, nor counted against the
//! page's limit, nor read at all: the work depends only on what the reader may see.

use super::auth::Reader;
use super::visible::{load_visible, sight, Sight};
use super::{Shared, MAX_FOUND};
use crate::error::LedgerError;
use crate::pb;
use crate::store::keys::IndexKey;
use crate::store::StoreError;
use crate::wire::hash32;
use ebl_core::ids::BillId;
use ebl_core::RuleError;

/// Most of the reader's bills one call looks at: a page may end early (with a `next`) so that
/// no call costs more than this, however many bills the reader may see.
pub const MAX_SCAN: usize = 10_000;

type Ids<'a> = Box<dyn Iterator<Item = Result<BillId, StoreError>> + 'a>;

/// One page of FindBills.
pub fn find(shared: &Shared, reader: &Reader, q: &pb::FindBillsRequest) -> Result<pb::BillList, LedgerError> {
    let key = match (q.container.as_str(), q.party.as_str(), q.locode.as_str()) {
        (c, "", "") if !c.is_empty() => IndexKey::Container(c),
        ("", p, "") if !p.is_empty() => IndexKey::Party(p),
        ("", "", l) if ebl_core::document::is_locode(l) => IndexKey::Location(l),
        _ => {
            return Err(RuleError::invalid(
                "envelope.request",
                "give exactly one of container, party, locode (a UN/LOCODE)",
            )
            .into())
        }
    };
    let after = if q.after.is_empty() { None } else { Some(BillId(hash32("envelope.request.after", &q.after)?)) };
    let limit = match q.limit as usize {
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
    let mut list = pb::BillList::default();
    let mut scanned = 0;
    for candidate in candidates {
        let (id, listed) = candidate?;
        scanned += 1;
        if listed {
            if let Some((b, _)) = load_visible(shared, reader, &id)? {
                list.bills.push(pb::BillSummary {
                    bill_id: b.id.0 .0.to_vec(),
                    issuer: b.issuer.to_string(),
                    reference: b.reference.clone(),
                    amendment: b.amendment,
                    status: b.status.name().into(),
                    possessor: b.possessor.to_string(),
                    entitled: b.entitled().to_string(),
                });
            }
        }
        if list.bills.len() == limit || scanned == MAX_SCAN {
            list.next = id.0 .0.to_vec();
            break;
        }
    }
    Ok(list)
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
