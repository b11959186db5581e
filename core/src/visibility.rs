//! Who may see a bill: the one rule behind reads (a bill you may not see is NOT_FOUND) and
//! writes (a record for a bill its actor may not see is refused exactly as one for a bill that
//! does not exist, so that no refusal tells a stranger that the bill exists, who holds it or
//! where its head is).

use crate::bill::BillState;
use crate::error::RuleError;
use crate::ids::{BillId, PartyId};
use crate::registry::{Party, Role};
use crate::route::Leg;

/// Whether `party` may see `bill`: auditors see every bill; customs the bills whose document or
/// route (`route`: the route in force, empty without one) names a place in their jurisdiction;
/// anyone else the bills it has been part of (issuer, recipient, actor, agent, named consignee
/// or endorsee), that it carries a leg of, or whose parties it acts for as an agent
/// (`acts_for(principal)`: a delegation from `principal` to `party` is in force).
pub fn may_see(party: &Party, bill: &BillState, route: &[Leg], acts_for: impl Fn(&PartyId) -> bool) -> bool {
    match party.registration.role {
        Role::Auditor => true,
        Role::Customs => {
            bill.locations.iter().any(|l| party.covers(l))
                || route.iter().any(|l| party.covers(&l.from.locode) || party.covers(&l.to.locode))
        }
        _ => {
            let me = &party.registration.party;
            bill.parties.contains(me) || route.iter().any(|l| &l.carrier == me) || bill.parties.iter().any(acts_for)
        }
    }
}

/// The one refusal for a bill that does not exist and for one the caller may not see: the same
/// reason and message, so that nothing tells them apart.
pub fn not_found(id: BillId) -> RuleError {
    RuleError::NotFound { what: format!("bill {id}") }
}
