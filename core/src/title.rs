//! Title rules: what ISSUE creates and how every later title action (transfer and endorsement,
//! reject, surrender and its decision, pledge) changes a bill. Pure functions from (state, record)
//! to new state or a typed refusal.
//! Signature, key and head checks are done before these run (see [`crate::apply`]).

use crate::bill::{BillKind, BillState, Offer, Pledge, Status, Surrender, SurrenderKind};
use crate::document::{Document, TypeCode};
use crate::error::{Result, RuleError};
use crate::hash::Hash32;
use crate::ids::{BillId, ChainId, PartyId};
use crate::record::{Action, AmendmentReason, Issue, Payload, PledgeMode};
use crate::registry::{Party, Role};

/// The parties an ISSUE names, looked up in the registry by the caller.
pub struct IssueParties<'a> {
    /// The carrier that signs.
    pub actor: &'a Party,
    /// The first possessor.
    pub recipient: &'a Party,
    /// The ledger party for the document's consignee.
    pub consignee: Option<&'a Party>,
    /// The ledger party for the document's endorsee.
    pub endorsee: Option<&'a Party>,
    /// For an amendment: the bill it replaces (same carrier and reference, amendment one less).
    pub previous: Option<&'a BillState>,
}

/// Refuses parties that cannot hold a bill (customs and auditors only look).
pub fn check_can_hold(field: &str, p: &Party) -> Result<()> {
    match p.registration.role {
        Role::Carrier | Role::Trader | Role::Bank => Ok(()),
        r => Err(RuleError::refused(
            "RECIPIENT_CANNOT_HOLD",
            format!("{field}: party '{}' has role {} and cannot hold a bill", p.registration.party, r.name()),
        )),
    }
}

/// Checks that the document's named party and the ledger party agree, both ways.
fn check_named(field: &str, doc_party: Option<&crate::document::DocParty>, ledger: Option<&Party>) -> Result<()> {
    match (doc_party, ledger) {
        (None, None) => Ok(()),
        (Some(_), None) => Err(RuleError::invalid(field, "the document names this party: give its ledger party id")),
        (None, Some(_)) => Err(RuleError::invalid(field, "the document names no such party: leave it empty")),
        (Some(d), Some(p)) if p.matches_any(&d.codes) => check_can_hold(field, p),
        (Some(_), Some(p)) => Err(RuleError::invalid(
            field,
            format!("party '{}' has none of the document's identifyingCodes", p.registration.party),
        )),
    }
}

/// Creates a bill from a checked ISSUE record.
pub fn issue(
    p: &Payload,
    body: &Issue,
    doc: &Document,
    parties: &IssueParties,
    hash: Hash32,
    seq: u64,
) -> Result<BillState> {
    let actor = &p.actor;
    if parties.actor.registration.role != Role::Carrier {
        return Err(RuleError::forbidden(
            "ROLE_NOT_ALLOWED",
            format!("party '{actor}' is not a CARRIER and cannot issue"),
        ));
    }
    let id = BillId::derive(actor, &doc.reference, body.amendment);
    if p.chain != ChainId::Title(id) {
        return Err(RuleError::invalid(
            "bill_id",
            format!(
                "must be {id}, derived from carrier '{actor}', reference '{}' and amendment {}",
                doc.reference, body.amendment
            ),
        ));
    }
    check_amends(p, body, parties.previous)?;
    check_can_hold("recipient", parties.recipient)?;
    check_named("issue.consignee", doc.consignee.as_ref(), parties.consignee)?;
    check_named("issue.endorsee", doc.endorsee.as_ref(), parties.endorsee)?;
    let kind = match (doc.type_code, doc.is_to_order) {
        (TypeCode::Swb, _) => BillKind::Waybill,
        (TypeCode::Bol, true) => BillKind::ToOrder,
        (TypeCode::Bol, false) => BillKind::Straight,
    };
    let recipient = p.recipient.clone().expect("shape checked: ISSUE has a recipient");
    let mut parties_seen: std::collections::BTreeSet<PartyId> = [actor.clone(), recipient.clone()].into();
    parties_seen.extend(body.consignee.iter().chain(body.endorsee.iter()).chain(p.agent.iter()).cloned());
    Ok(BillState {
        id,
        issuer: actor.clone(),
        reference: doc.reference.clone(),
        amendment: body.amendment,
        document_checksum: doc.checksum,
        type_code: doc.type_code,
        profile: doc.profile,
        kind,
        status: Status::Issued,
        possessor: recipient,
        consignee: body.consignee.clone(),
        // "To the order of" a named consignee: the consignee is entitled until it endorses.
        endorsee: body.endorsee.clone().or(if kind == BillKind::ToOrder { body.consignee.clone() } else { None }),
        endorsable: true,
        head: hash,
        head_position: 0,
        head_seq: seq,
        parties: parties_seen,
        locations: doc.locations.clone(),
        containers: doc.containers.clone(),
        offer: None,
        surrender: None,
        paper_bill_number: None,
        amends: body.amends,
        pledge: None,
    })
}

/// An amendment cites the SACC that voided the previous amendment and goes to whoever surrendered
/// it; an original bill cites nothing.
fn check_amends(p: &Payload, body: &Issue, previous: Option<&BillState>) -> Result<()> {
    if body.amendment == 0 {
        if body.amends.is_some() {
            return Err(RuleError::invalid("issue.amends", "only an amendment (amendment > 0) cites a SACC"));
        }
        return Ok(());
    }
    let accepted = previous.filter(|b| b.status == Status::Void).and_then(|b| b.surrender.as_ref());
    let Some(s) = accepted else {
        return Err(RuleError::refused(
            "AMENDMENT_WITHOUT_SURRENDER",
            format!(
                "amendment {} is issued only after amendment {} was surrendered for amendment (COD or SWI) and the surrender accepted",
                body.amendment,
                body.amendment - 1
            ),
        ));
    };
    if body.amends != s.accepted_by {
        let sacc = s.accepted_by.map(|h| h.to_hex()).unwrap_or_default();
        return Err(RuleError::invalid(
            "issue.amends",
            format!("must be {sacc}, the SACC that voided the previous amendment"),
        ));
    }
    if p.recipient.as_ref() != Some(&s.by) {
        return Err(RuleError::invalid(
            "recipient",
            format!("an amended bill is issued to '{}', whose surrender for amendment was accepted", s.by),
        ));
    }
    Ok(())
}

/// Applies a title action (anything but ISSUE) to a live bill.
pub fn act(bill: &BillState, p: &Payload, recipient: Option<&Party>, hash: Hash32, seq: u64) -> Result<BillState> {
    let action = p.action.name();
    if bill.status.is_terminal() {
        return Err(RuleError::refused(
            "BILL_NOT_LIVE",
            format!("bill is {} and accepts no {action}", bill.status.name()),
        ));
    }
    match (&p.action, bill.status) {
        (Action::AcceptSurrender { .. } | Action::RejectSurrender { .. }, _) => {
            return decide_surrender(bill, p, hash, seq)
        }
        (_, Status::Surrendered) => {
            return Err(RuleError::refused(
                "SURRENDER_PENDING",
                format!(
                    "bill is surrendered to its issuer '{}', which accepts or rejects it first; no {action}",
                    bill.issuer
                ),
            ))
        }
        (Action::Reject { .. }, _) => return reject(bill, p, hash, seq),
        _ => {}
    }
    if p.actor != bill.possessor {
        return Err(RuleError::forbidden(
            "NOT_POSSESSOR",
            format!("party '{}' does not possess the bill (the possessor is '{}')", p.actor, bill.possessor),
        ));
    }
    if let Some(r) = recipient {
        check_can_hold("recipient", r)?;
    }
    check_pledge_allows(bill, p)?;
    let mut next = bill.clone();
    match &p.action {
        Action::Sign => {}
        Action::Transfer => {
            let to = p.recipient.as_ref().expect("shape checked");
            match bill.kind {
                BillKind::Waybill => return Err(not_transferable(action)),
                BillKind::Straight if bill.consignee.as_ref() != Some(to) => {
                    return Err(RuleError::refused(
                        "NOT_CONSIGNEE",
                        format!("a straight bill moves only to its consignee, not to '{to}'"),
                    ));
                }
                BillKind::ToOrder if bill.endorsee.as_ref().is_some_and(|e| e != to) => {
                    return Err(RuleError::refused(
                        "NOT_ENDORSEE",
                        format!(
                            "the bill is endorsed to '{}', not to '{to}': endorse first",
                            bill.endorsee.as_ref().unwrap()
                        ),
                    ));
                }
                _ => {}
            }
            next.possessor = to.clone();
            // The pledgee selling after enforcement: the pledge is spent.
            if bill.pledge.as_ref().is_some_and(|pl| pl.pledgee == p.actor) {
                next.pledge = None;
            }
        }
        Action::Endorse | Action::EndorseToOrder | Action::BlankEndorse => {
            match bill.kind {
                BillKind::Waybill => return Err(not_transferable(action)),
                BillKind::Straight => {
                    return Err(RuleError::refused(
                        "STRAIGHT_BILL_NOT_ENDORSABLE",
                        format!("a straight bill is never endorsed ({action})"),
                    ))
                }
                BillKind::ToOrder => {}
            }
            check_entitled(bill, p)?;
            if !bill.endorsable {
                return Err(RuleError::refused(
                    "NOT_ENDORSABLE",
                    "the bill was endorsed without 'to order': its endorsee cannot endorse further",
                ));
            }
            if matches!(p.action, Action::BlankEndorse) && bill.is_blank() {
                return Err(RuleError::refused("ALREADY_BLANK_ENDORSED", "the bill is already endorsed in blank"));
            }
            next.endorsee = p.recipient.clone();
            next.endorsable = !matches!(p.action, Action::Endorse);
        }
        Action::SurrenderForDelivery | Action::SurrenderForAmendment(_) => {
            if bill.kind == BillKind::Waybill {
                return Err(RuleError::refused(
                    "WAYBILL_NOT_SURRENDERED",
                    "a sea waybill is not surrendered: its consignee takes delivery on identification",
                ));
            }
            check_entitled(bill, p)?;
            if p.recipient.as_ref() != Some(&bill.issuer) {
                return Err(RuleError::invalid(
                    "recipient",
                    format!("a bill is surrendered to its issuing carrier '{}'", bill.issuer),
                ));
            }
            let kind = match p.action {
                Action::SurrenderForAmendment(reason) => SurrenderKind::Amendment(reason),
                _ => SurrenderKind::Delivery,
            };
            next.surrender = Some(Surrender { kind, by: p.actor.clone(), before: bill.holding(), accepted_by: None });
            next.possessor = bill.issuer.clone();
            next.status = Status::Surrendered;
        }
        Action::Pledge { mode, .. } => {
            if bill.kind == BillKind::Waybill {
                return Err(not_transferable(action));
            }
            let to = p.recipient.clone().expect("shape checked");
            if recipient.is_some_and(|r| r.registration.role != Role::Bank) {
                return Err(RuleError::refused(
                    "PLEDGEE_NOT_A_BANK",
                    format!("a bill is pledged to a BANK, not to '{to}'"),
                ));
            }
            check_entitled(bill, p)?;
            if *mode == PledgeMode::Endorsement {
                if bill.kind == BillKind::Straight {
                    return Err(RuleError::refused(
                        "STRAIGHT_BILL_NOT_ENDORSABLE",
                        "a straight bill is pledged by possession, never by endorsement",
                    ));
                }
                if !bill.endorsable {
                    return Err(RuleError::refused(
                        "NOT_ENDORSABLE",
                        "its endorsee cannot endorse further, nor in pledge",
                    ));
                }
                next.endorsee = Some(to.clone());
                next.endorsable = true;
            }
            next.pledge = Some(Pledge {
                pledgee: to.clone(),
                pledgor: p.actor.clone(),
                mode: *mode,
                before: bill.holding(),
                enforced: false,
            });
            next.possessor = to;
        }
        Action::ReleasePledge | Action::EnforcePledge { .. } => {
            let Some(pledge) = bill.pledge.as_ref().filter(|pl| pl.pledgee == p.actor) else {
                return Err(RuleError::refused("NOT_PLEDGED", format!("the bill is not pledged to '{}'", p.actor)));
            };
            if matches!(p.action, Action::ReleasePledge) {
                next.restore(pledge.before.clone());
                next.pledge = None;
            } else if pledge.enforced {
                return Err(RuleError::refused("ALREADY_ENFORCED", "the pledge is already enforced"));
            } else {
                next.pledge = Some(Pledge { enforced: true, ..pledge.clone() });
            }
        }
        other => return Err(RuleError::invalid("action", format!("{} is not a title action", other.name()))),
    }
    Ok(advance(bill, next, p, hash, seq))
}

/// While a pledge stands unenforced the pledgee holds the bill as security only: it releases or
/// enforces the pledge, or signs; it does not pass the bill on or surrender it.
fn check_pledge_allows(bill: &BillState, p: &Payload) -> Result<()> {
    let Some(pledge) = bill.pledge.as_ref().filter(|pl| !pl.enforced) else { return Ok(()) };
    match p.action {
        Action::Sign | Action::ReleasePledge | Action::EnforcePledge { .. } => Ok(()),
        _ => Err(RuleError::refused(
            "PLEDGED",
            format!(
                "the bill is pledged to '{}': release or enforce the pledge first (no {})",
                pledge.pledgee,
                p.action.name()
            ),
        )),
    }
}

/// The bill after an accepted record: open offer, parties, head.
fn advance(bill: &BillState, mut next: BillState, p: &Payload, hash: Hash32, seq: u64) -> BillState {
    next.offer = offer_after(bill, p);
    next.parties.insert(p.actor.clone());
    next.parties.extend(p.recipient.iter().chain(p.agent.iter()).cloned());
    next.head = hash;
    next.head_position = p.position;
    next.head_seq = seq;
    next
}

/// Endorsing and surrendering need both roles: the possessor must be the entitled party.
fn check_entitled(bill: &BillState, p: &Payload) -> Result<()> {
    if bill.entitled() != &p.actor {
        return Err(RuleError::forbidden(
            "NOT_ENTITLED",
            format!("party '{}' possesses but is not entitled (the entitled party is '{}')", p.actor, bill.entitled()),
        ));
    }
    Ok(())
}

/// SACC and SREJ: the issuing carrier decides a pending surrender.
fn decide_surrender(bill: &BillState, p: &Payload, hash: Hash32, seq: u64) -> Result<BillState> {
    let Some(s) = bill.surrender.as_ref().filter(|_| bill.status == Status::Surrendered) else {
        return Err(RuleError::refused(
            "NOTHING_SURRENDERED",
            format!("bill is {}: no surrender to decide", bill.status.name()),
        ));
    };
    if p.actor != bill.issuer {
        return Err(RuleError::forbidden(
            "NOT_ISSUER",
            format!("only the issuing carrier '{}' accepts or rejects a surrender", bill.issuer),
        ));
    }
    let mut next = bill.clone();
    match &p.action {
        Action::AcceptSurrender { paper_bill_number } => {
            let to_paper = s.kind == SurrenderKind::Amendment(AmendmentReason::Swtp);
            if to_paper != paper_bill_number.is_some() {
                let why = if to_paper {
                    "is required to accept a switch to paper"
                } else {
                    "is only for a switch to paper (SWTP)"
                };
                return Err(RuleError::invalid("accept_surrender.paper_bill_number", why));
            }
            next.status = match s.kind {
                SurrenderKind::Delivery => Status::Accomplished,
                SurrenderKind::Amendment(AmendmentReason::Swtp) => Status::SwitchedToPaper,
                SurrenderKind::Amendment(_) => Status::Void,
            };
            next.paper_bill_number = paper_bill_number.clone();
            next.surrender = Some(Surrender { accepted_by: Some(hash), ..s.clone() });
        }
        _ => {
            next.restore(s.before.clone());
            next.status = Status::Issued;
            next.surrender = None;
        }
    }
    Ok(advance(bill, next, p, hash, seq))
}

/// The offer open after `p`: a transfer or endorsement to R opens one, restoring the title before
/// it; a run of such records by the same party to the same R (endorse to the bank, then transfer to
/// it) is one offer, rejected at once. The offerer's SIGN leaves it open; any other record closes
/// it (the recipient acting on the bill accepts it).
fn offer_after(bill: &BillState, p: &Payload) -> Option<Offer> {
    let to = match p.action {
        Action::Transfer | Action::Endorse | Action::EndorseToOrder => p.recipient.clone()?,
        Action::Sign => return bill.offer.clone().filter(|o| o.from == p.actor),
        _ => return None,
    };
    match &bill.offer {
        Some(o) if o.to == to && o.from == p.actor => Some(Offer { to, ..o.clone() }),
        _ => Some(Offer { to, from: p.actor.clone(), before: bill.holding(), pledge: bill.pledge.clone() }),
    }
}

/// REJECT: the recipient of the open offer refuses it, as its very next action on the bill.
fn reject(bill: &BillState, p: &Payload, hash: Hash32, seq: u64) -> Result<BillState> {
    let Some(offer) = &bill.offer else {
        return Err(RuleError::refused(
            "NOTHING_TO_REJECT",
            "no transfer or endorsement is open to rejection: the last record accepted it or made none",
        ));
    };
    if offer.to != p.actor {
        return Err(RuleError::forbidden(
            "NOT_RECIPIENT",
            format!("only '{}', the recipient of the last transfer or endorsement, may reject it", offer.to),
        ));
    }
    let mut next = bill.clone();
    next.restore(offer.before.clone());
    next.pledge = offer.pledge.clone();
    Ok(advance(bill, next, p, hash, seq))
}

fn not_transferable(action: &str) -> RuleError {
    RuleError::refused("WAYBILL_NOT_TRANSFERABLE", format!("a sea waybill is never transferred or endorsed ({action})"))
}
