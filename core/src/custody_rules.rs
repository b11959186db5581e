//! Custody rules: what DEPART, ARRIVE, HANDOFF, DELIVER, CUSTOMS_HOLD, CUSTOMS_RELEASE and REROUTE
//! do to a bill's custody state, and when they are refused. Pure functions from (custody state,
//! title state, record) to a new custody state or a typed refusal. Signatures, keys, delegations,
//! the custody chain's head and the title head the signers saw are checked before these run (see
//! [`crate::apply`]). Custody never changes the title state.

use crate::bill::{BillState, Status, SurrenderKind};
use crate::custody::{CustodyState, Hold, Stage};
use crate::error::{Result, RuleError};
use crate::ids::PartyId;
use crate::record::{Action, Handoff, Payload};
use crate::registry::{Party, Role};
use crate::route::{check_chain, Conveyance, Leg};

/// What the rules need besides the two states.
pub struct Context<'a> {
    /// The bill's title state now.
    pub bill: &'a BillState,
    /// The party in whose name the record is.
    pub actor: &'a Party,
    /// The record's global sequence number.
    pub seq: u64,
    /// Looks a party up in the registry.
    pub party: &'a dyn Fn(&PartyId) -> Option<Party>,
}

/// Applies a custody record.
pub fn act(state: &CustodyState, p: &Payload, cx: &Context) -> Result<CustodyState> {
    let mut next = state.clone();
    check_on_ledger(cx.bill)?;
    match &p.action {
        Action::CustomsRelease { declaration, .. } => release(&mut next, p, declaration)?,
        action => {
            check_not_delivered(state)?;
            match action {
                Action::Depart { leg, containers, conveyance } => depart(&mut next, p, *leg, containers, conveyance)?,
                Action::Arrive { leg, containers } => arrive(&mut next, p, *leg, containers)?,
                Action::Handoff(h) => handoff(&mut next, p, h)?,
                Action::Deliver { containers } => deliver(&mut next, p, cx.bill, containers)?,
                Action::Reroute { from_leg, legs } => reroute(&mut next, p, cx, *from_leg, legs)?,
                Action::CustomsHold { declaration, reason } => hold(&mut next, p, cx, declaration, reason)?,
                other => return Err(RuleError::invalid("action", format!("{} is not a custody action", other.name()))),
            }
        }
    }
    Ok(next)
}

/// Custody is recorded on a bill until it is void (custody goes on on its amendment) or switched
/// to paper (the paper bill governs). A pending surrender does not stop the goods.
pub(crate) fn check_on_ledger(bill: &BillState) -> Result<()> {
    match bill.status {
        Status::Void => Err(RuleError::refused(
            "BILL_VOID",
            "the bill is void: its custody continues on the amended bill that replaced it",
        )),
        Status::SwitchedToPaper => Err(RuleError::refused(
            "BILL_SWITCHED_TO_PAPER",
            format!(
                "the bill was switched to paper bill {}: custody is recorded on paper",
                bill.paper_bill_number.as_deref().unwrap_or("?")
            ),
        )),
        _ => Ok(()),
    }
}

/// Delivered goods neither move nor are held again (a hold still standing may be released).
pub(crate) fn check_not_delivered(state: &CustodyState) -> Result<()> {
    match &state.delivered_to {
        Some(to) => Err(RuleError::refused("ALREADY_DELIVERED", format!("the goods were delivered to '{to}'"))),
        None => Ok(()),
    }
}

fn leg<'a>(state: &'a CustodyState, field: &str, i: u32) -> Result<&'a Leg> {
    state.route.get(i as usize).ok_or_else(|| {
        RuleError::invalid(field, format!("the route has legs 0 to {}, not {i}", state.route.len().saturating_sub(1)))
    })
}

fn check_carrier(p: &Payload, leg_no: u32, leg: &Leg) -> Result<()> {
    if p.actor != leg.carrier {
        return Err(RuleError::forbidden(
            "NOT_LEG_CARRIER",
            format!("leg {leg_no} is carried by '{}', not by '{}'", leg.carrier, p.actor),
        ));
    }
    Ok(())
}

fn on_hold(state: &CustodyState, place: &str, what: &str) -> Result<()> {
    match state.hold_at(place) {
        Some(h) => Err(hold_refusal(h, &format!("{what} at {place}"))),
        None => Ok(()),
    }
}

/// The refusal for a custody action or check on a bill issued without a route.
pub fn no_route() -> RuleError {
    RuleError::refused("NO_ROUTE", "the bill was issued without a route: the ledger tracks no custody for it")
}

/// The refusal for an action a customs hold stops, naming the hold.
pub fn hold_refusal(h: &Hold, what: &str) -> RuleError {
    RuleError::refused(
        "CUSTOMS_HOLD",
        format!("{what} is stopped by customs '{}' (declaration {}): {}", h.customs, h.declaration, h.reason),
    )
}

/// Checks the listed containers (known, each once, at `stage` on `leg_no` with `carrier`).
fn containers_at(
    state: &CustodyState,
    field: &str,
    list: &[String],
    leg_no: u32,
    stage: Stage,
    carrier: &PartyId,
) -> Result<()> {
    if list.is_empty() {
        return Err(RuleError::invalid(field, "name at least one container"));
    }
    for (i, n) in list.iter().enumerate() {
        let f = format!("{field}[{i}]");
        let c = state.containers.get(n).ok_or_else(|| RuleError::invalid(&f, format!("'{n}' is not on this bill")))?;
        if list[..i].contains(n) {
            return Err(RuleError::invalid(f, format!("'{n}' is named twice")));
        }
        if c.leg != leg_no || c.stage != stage || &c.carrier != carrier {
            return Err(RuleError::refused(
                "CONTAINER_NOT_THERE",
                format!(
                    "{f}: '{n}' is {} on leg {} with '{}', not {} on leg {leg_no} with '{carrier}'",
                    c.stage.name(),
                    c.leg,
                    c.carrier,
                    stage.name()
                ),
            ));
        }
    }
    Ok(())
}

fn depart(s: &mut CustodyState, p: &Payload, leg_no: u32, list: &[String], by: &Option<Conveyance>) -> Result<()> {
    let leg = leg(s, "depart.leg", leg_no)?.clone();
    check_carrier(p, leg_no, &leg)?;
    containers_at(s, "depart.containers", list, leg_no, Stage::Ready, &leg.carrier)?;
    if let Some(c) = by {
        let actual = Leg { conveyance: c.clone(), ..leg.clone() };
        check_chain("depart", std::slice::from_ref(&actual), None, None)
            .map_err(|e| RuleError::invalid("depart.conveyance", e.to_string()))?;
    }
    on_hold(s, &leg.from.locode, "departure")?;
    for n in list {
        let c = s.containers.get_mut(n).expect("checked");
        c.stage = Stage::InTransit;
        c.conveyance = Some(by.clone().unwrap_or_else(|| leg.conveyance.clone()));
    }
    Ok(())
}

fn arrive(s: &mut CustodyState, p: &Payload, leg_no: u32, list: &[String]) -> Result<()> {
    let leg = leg(s, "arrive.leg", leg_no)?.clone();
    check_carrier(p, leg_no, &leg)?;
    containers_at(s, "arrive.containers", list, leg_no, Stage::InTransit, &leg.carrier)?;
    for n in list {
        let c = s.containers.get_mut(n).expect("checked");
        c.stage = Stage::Arrived;
        c.location = leg.to.locode.clone();
    }
    Ok(())
}

fn handoff(s: &mut CustodyState, p: &Payload, h: &Handoff) -> Result<()> {
    let out = leg(s, "handoff.leg", h.leg)?.clone();
    let Some(inc) = s.route.get(h.leg as usize + 1).cloned() else {
        return Err(RuleError::invalid("handoff.leg", format!("leg {} is the last: deliver instead", h.leg)));
    };
    check_carrier(p, h.leg, &out)?;
    if p.recipient.as_ref() != Some(&inc.carrier) {
        return Err(RuleError::forbidden(
            "NOT_LEG_CARRIER",
            format!(
                "leg {} is carried by '{}': it takes the goods over, not the recipient named",
                h.leg + 1,
                inc.carrier
            ),
        ));
    }
    if h.place != out.to.locode {
        return Err(RuleError::refused(
            "PLACE_NOT_ON_ROUTE",
            format!("leg {} hands over at {}, not at {}", h.leg, out.to.locode, h.place),
        ));
    }
    containers_at(s, "handoff.containers", &h.containers, h.leg, Stage::Arrived, &out.carrier)?;
    on_hold(s, &h.place, "a handoff")?;
    check_seals(s, h)?;
    for n in &h.containers {
        let c = s.containers.get_mut(n).expect("checked");
        for check in h.seals.iter().filter(|k| &k.container == n) {
            if let Some(new) = &check.new_seal {
                let at = c.seals.iter().position(|x| x == &check.seal).expect("checked");
                c.seals[at] = new.clone();
            }
        }
        c.exceptions.extend(h.exceptions.iter().filter(|e| e.starts_with(&format!("{n}:"))).cloned());
        (c.leg, c.carrier, c.stage, c.location) =
            (h.leg + 1, inc.carrier.clone(), Stage::Ready, inc.from.locode.clone());
        c.conveyance = None;
    }
    Ok(())
}

/// Every seal of every container handed over is checked exactly once; a changed seal names its
/// replacement and why.
fn check_seals(s: &CustodyState, h: &Handoff) -> Result<()> {
    for (i, k) in h.seals.iter().enumerate() {
        let f = format!("handoff.seals[{i}]");
        if !h.containers.contains(&k.container) {
            return Err(RuleError::invalid(format!("{f}.container"), "not one of the containers handed over"));
        }
        let on = &s.containers[&k.container].seals;
        if !on.contains(&k.seal) {
            return Err(RuleError::refused(
                "SEAL_MISMATCH",
                format!("{f}: seal '{}' is not on '{}' (its seals are {})", k.seal, k.container, on.join(", ")),
            ));
        }
        if h.seals[..i].iter().any(|o| o.container == k.container && o.seal == k.seal) {
            return Err(RuleError::invalid(f, "seal checked twice"));
        }
        if k.new_seal.as_ref().is_some_and(|n| n.is_empty() || n.len() > 15) {
            return Err(RuleError::invalid(format!("{f}.new_seal"), "1-15 characters"));
        }
        if k.new_seal.is_some() && k.reason.trim().is_empty() {
            return Err(RuleError::invalid(format!("{f}.reason"), "a changed seal needs a reason"));
        }
    }
    for n in &h.containers {
        if let Some(missing) =
            s.containers[n].seals.iter().find(|x| !h.seals.iter().any(|k| &k.container == n && &k.seal == *x))
        {
            return Err(RuleError::refused(
                "SEAL_MISMATCH",
                format!("seal '{missing}' on '{n}' was not checked: every seal is checked at a handoff"),
            ));
        }
    }
    for (i, e) in h.exceptions.iter().enumerate() {
        if !h.containers.iter().any(|n| e.starts_with(&format!("{n}:"))) || e.len() > 500 {
            return Err(RuleError::invalid(
                format!("handoff.exceptions[{i}]"),
                "write 'CONTAINER: what was found' for a container handed over (at most 500 bytes)",
            ));
        }
    }
    Ok(())
}

fn deliver(s: &mut CustodyState, p: &Payload, bill: &BillState, list: &[String]) -> Result<()> {
    let last_no = (s.route.len() - 1) as u32;
    let last = s.route[last_no as usize].clone();
    check_carrier(p, last_no, &last)?;
    let accepted =
        bill.surrender.as_ref().filter(|su| bill.status == Status::Accomplished && su.kind == SurrenderKind::Delivery);
    let Some(surrender) = accepted else {
        return Err(RuleError::refused(
            "SURRENDER_NOT_ACCEPTED",
            "goods are delivered only after the bill's surrender for delivery is accepted (SACC)",
        ));
    };
    if p.recipient.as_ref() != Some(&surrender.by) {
        return Err(RuleError::invalid(
            "recipient",
            format!("the goods go to '{}', whose surrender for delivery was accepted", surrender.by),
        ));
    }
    containers_at(s, "deliver.containers", list, last_no, Stage::Arrived, &last.carrier)?;
    on_hold(s, &last.to.locode, "delivery")?;
    for n in list {
        s.containers.get_mut(n).expect("checked").stage = Stage::Delivered;
    }
    if s.containers.values().all(|c| c.stage == Stage::Delivered) {
        s.delivered_to = Some(surrender.by.clone());
    }
    Ok(())
}

fn hold(s: &mut CustodyState, p: &Payload, cx: &Context, declaration: &str, reason: &str) -> Result<()> {
    let customs = &cx.actor.registration;
    if customs.role != Role::Customs {
        return Err(RuleError::forbidden("NOT_CUSTOMS", format!("'{}' is not a CUSTOMS party", p.actor)));
    }
    // Customs whose jurisdiction the bill and its route touch nowhere never get here: for them
    // the bill does not exist (apply's visibility check answers NOT_FOUND first).
    if declaration.trim().is_empty() || declaration.len() > 35 {
        return Err(RuleError::invalid("customs_hold.declaration", "the declaration number, 1-35 characters"));
    }
    if s.holds.iter().any(|h| h.customs == p.actor && h.declaration == declaration) {
        return Err(RuleError::refused("HOLD_EXISTS", format!("declaration {declaration} is already held")));
    }
    s.holds.push(Hold {
        customs: p.actor.clone(),
        jurisdiction: customs.jurisdiction.clone(),
        declaration: declaration.to_string(),
        reason: reason.to_string(),
        since_seq: cx.seq,
    });
    Ok(())
}

fn release(s: &mut CustodyState, p: &Payload, declaration: &str) -> Result<()> {
    let Some(at) = s.holds.iter().position(|h| h.customs == p.actor && h.declaration == declaration) else {
        return Err(RuleError::refused(
            "NO_SUCH_HOLD",
            format!("'{}' holds nothing under declaration {declaration} on this bill", p.actor),
        ));
    };
    s.holds.remove(at);
    Ok(())
}

/// The issuing carrier re-plans the legs no container has started; the place of delivery stays
/// (it changes only by an accepted change-of-destination amendment).
fn reroute(s: &mut CustodyState, p: &Payload, cx: &Context, from_leg: u32, legs: &[Leg]) -> Result<()> {
    if p.actor != cx.bill.issuer {
        return Err(RuleError::forbidden(
            "NOT_ISSUER",
            format!("only the issuing carrier '{}' re-plans the route", cx.bill.issuer),
        ));
    }
    let in_use = s.legs_in_use();
    if from_leg < in_use || from_leg as usize >= s.route.len() {
        return Err(RuleError::refused(
            "LEG_STARTED",
            format!(
                "legs 0 to {} are under way or done; re-plan from leg {in_use} to {}",
                in_use.saturating_sub(1),
                s.route.len() - 1
            ),
        ));
    }
    let start = s.route[from_leg as usize].from.locode.clone();
    let end = s.route.last().expect("a custody route has legs").to.locode.clone();
    if legs.last().is_some_and(|l| l.to.locode != end) {
        return Err(RuleError::refused(
            "DESTINATION_NEEDS_AMENDMENT",
            format!("the route ends at {end}: a new place of delivery needs a change-of-destination amendment"),
        ));
    }
    check_chain("reroute.legs", legs, Some(&start), Some(&end))?;
    for (i, l) in legs.iter().enumerate() {
        match (cx.party)(&l.carrier) {
            Some(c) if c.registration.role == Role::Carrier => {}
            _ => {
                return Err(RuleError::invalid(
                    format!("reroute.legs[{i}].carrier"),
                    format!("'{}' is not a registered CARRIER", l.carrier),
                ))
            }
        }
    }
    // Containers waiting at the first re-planned leg stay with the carrier that holds them.
    if let Some(c) = s.containers.values().find(|c| c.leg == from_leg && c.carrier != legs[0].carrier) {
        return Err(RuleError::invalid(
            "reroute.legs[0].carrier",
            format!("'{}' holds goods waiting for leg {from_leg}: it carries the first re-planned leg", c.carrier),
        ));
    }
    s.route.truncate(from_leg as usize);
    s.route.extend(legs.iter().cloned());
    s.route_version += 1;
    Ok(())
}
