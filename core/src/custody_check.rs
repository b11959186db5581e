//! The check before the goods move on: whether a HANDOFF at the end of a leg, or the DELIVER at
//! the end of the last, would be refused now, and every reason why. Asked by leg, by the place
//! where a leg ends, or by one container (its current leg). Pure: the same rules as
//! [`crate::custody_rules`], less the record's own fields (signers, seals, recipient). Owns how
//! a question is resolved to a leg; changes no state.

use crate::bill::{BillState, Status, SurrenderKind};
use crate::custody::{Container, CustodyState, Stage};
use crate::custody_rules::{check_not_delivered, check_on_ledger, hold_refusal};
use crate::error::RuleError;

/// Which goods a check is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asked<'a> {
    /// The containers at the end of this leg.
    Leg(u32),
    /// The containers at the end of the leg that ends at this UN/LOCODE.
    Place(&'a str),
    /// This container, at the end of its current leg.
    Container(&'a str),
}

/// The answer: where the check was made, and what stops the goods there (empty: nothing).
#[derive(Debug, Clone, PartialEq)]
pub struct GoodsCheck {
    /// The leg whose end was checked; `None` when the question named no leg of the route.
    pub leg: Option<u32>,
    /// Where that leg ends (UN/LOCODE); empty with no leg.
    pub place: String,
    /// The leg is the last: the goods would be delivered there, not handed over.
    pub delivery: bool,
    /// Every reason the HANDOFF or DELIVER would be refused now, in the order the rules check.
    pub blockers: Vec<RuleError>,
}

/// What stops the goods asked about from moving on now.
pub fn check(state: &CustodyState, bill: &BillState, asked: Asked) -> GoodsCheck {
    let leg_no = match resolve(state, asked) {
        Ok(leg) => leg,
        Err(e) => return GoodsCheck { leg: None, place: String::new(), delivery: false, blockers: vec![e] },
    };
    let leg = &state.route[leg_no as usize];
    let delivery = leg_no as usize + 1 == state.route.len();
    let place = leg.to.locode.clone();
    let mut out = Vec::new();
    out.extend(check_on_ledger(bill).err());
    out.extend(check_not_delivered(state).err());
    let what = if delivery { "delivery" } else { "a handoff" };
    out.extend(state.hold_at(&place).map(|h| hold_refusal(h, &format!("{what} at {place}"))));
    if state.delivered_to.is_none() {
        let scope: Vec<(&String, &Container)> = match asked {
            Asked::Container(n) => state.containers.get_key_value(n).into_iter().collect(),
            _ => state.containers.iter().collect(),
        };
        out.extend(not_there(state, &scope, leg_no, &place));
    }
    if delivery && !surrender_accepted(bill) {
        out.push(RuleError::refused(
            "SURRENDER_NOT_ACCEPTED",
            "goods are delivered only after the bill's surrender for delivery is accepted (SACC)",
        ));
    }
    GoodsCheck { leg: Some(leg_no), place, delivery, blockers: out }
}

/// The leg a question is about: the leg named; the first leg ending at the place whose goods
/// have not all gone past it (else the last such leg); the container's current leg.
fn resolve(state: &CustodyState, asked: Asked) -> Result<u32, RuleError> {
    let last = state.route.len().saturating_sub(1);
    match asked {
        Asked::Leg(n) if (n as usize) < state.route.len() => Ok(n),
        Asked::Leg(n) => Err(RuleError::invalid("leg", format!("the route has legs 0 to {last}, not {n}"))),
        Asked::Place(p) => {
            let ending: Vec<u32> =
                (0..state.route.len() as u32).filter(|&i| state.route[i as usize].to.locode == p).collect();
            let waiting = ending.iter().copied().find(|&i| state.containers.values().any(|c| c.leg <= i));
            waiting.or(ending.last().copied()).ok_or_else(|| {
                let ends: Vec<&str> = state.route.iter().map(|l| l.to.locode.as_str()).collect();
                RuleError::invalid(
                    "place",
                    format!("no leg of the route ends at {p} (its legs end at {})", ends.join(", ")),
                )
            })
        }
        Asked::Container(n) => match state.containers.get(n) {
            Some(c) => Ok(c.leg),
            None => Err(RuleError::invalid("container", format!("'{n}' is not on this bill"))),
        },
    }
}

/// Unless a container of `scope` has arrived at the end of leg `leg_no`: why none is there, with
/// where they are instead (on the way, not yet on this leg, handed over past it, delivered).
fn not_there(state: &CustodyState, scope: &[(&String, &Container)], leg_no: u32, place: &str) -> Option<RuleError> {
    if scope.iter().any(|(_, c)| c.leg == leg_no && c.stage == Stage::Arrived) {
        return None;
    }
    let delivered: Vec<&str> =
        scope.iter().filter(|(_, c)| c.stage == Stage::Delivered).map(|(n, _)| n.as_str()).collect();
    if !delivered.is_empty() && delivered.len() == scope.len() {
        return Some(RuleError::refused("ALREADY_DELIVERED", format!("{} delivered", list(&delivered))));
    }
    let past: Vec<&(&String, &Container)> = scope.iter().filter(|(_, c)| c.leg > leg_no).collect();
    let why = if !past.is_empty() && past.len() == scope.len() {
        let now = &state.route[past[0].1.leg as usize];
        let names: Vec<&str> = past.iter().map(|(n, _)| n.as_str()).collect();
        format!(
            "{} arrived at {place} and {} handed over at the end of leg {leg_no}: on leg {} with '{}' now",
            list(&names),
            if names.len() == 1 { "was" } else { "were" },
            past[0].1.leg,
            now.carrier
        )
    } else {
        let whereabouts: Vec<String> = scope
            .iter()
            .map(|(n, c)| format!("'{n}' is {} on leg {} at {}", c.stage.name(), c.leg, c.location))
            .collect();
        format!("no container has arrived at {place} at the end of leg {leg_no} yet: {}", whereabouts.join("; "))
    };
    Some(RuleError::refused("CONTAINER_NOT_THERE", why))
}

fn list(names: &[&str]) -> String {
    names.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", ")
}

/// The bill's surrender for delivery was accepted: DELIVER may name its holder.
fn surrender_accepted(bill: &BillState) -> bool {
    bill.surrender.as_ref().is_some_and(|s| bill.status == Status::Accomplished && s.kind == SurrenderKind::Delivery)
}
