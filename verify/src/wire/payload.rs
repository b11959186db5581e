//! Record payloads and signatures: protobuf bytes -> [`ebl_core::record::Payload`].

use super::{decode_canonical, hash32, opt_party};
use crate::pb;
use ebl_core::delegation::Delegation;
use ebl_core::document::{IdentifyingCode, Profile};
use ebl_core::ids::{BillId, ChainId, PartyId};
use ebl_core::record::{
    Action, AmendmentReason, Handoff, Issue, Payload, PledgeMode, SealCheck, FORMAT_VERSION, RECORD_DOMAIN,
};
use ebl_core::registry::{Registration, Role};
use ebl_core::route::{Conveyance, Leg, Mode, Place};
use ebl_core::sig::{PublicKey, Signature};
use ebl_core::time::Timestamp;
use ebl_core::RuleError;

/// Decodes and checks the payload bytes of a record.
pub fn decode_payload(bytes: &[u8]) -> Result<Payload, RuleError> {
    let pb: pb::RecordPayload = decode_canonical("payload", bytes)?;
    if pb.version != FORMAT_VERSION {
        return Err(RuleError::invalid(
            "version",
            format!("format version {} is not supported (expected {FORMAT_VERSION})", pb.version),
        ));
    }
    if pb.domain != RECORD_DOMAIN {
        return Err(RuleError::invalid("domain", format!("domain tag '{}' is not '{RECORD_DOMAIN}'", pb.domain)));
    }
    let action = decode_action(pb.action)?;
    let chain = if action.is_registry() {
        if !pb.bill_id.is_empty() {
            return Err(RuleError::invalid("bill_id", "must be empty for a registry record"));
        }
        ChainId::Registry
    } else {
        ChainId::Title(BillId(hash32("bill_id", &pb.bill_id)?))
    };
    let chain = match chain {
        ChainId::Title(b) if action.is_custody() => ChainId::Custody(b),
        c => c,
    };
    let prev = if pb.prev_hash.is_empty() { None } else { Some(hash32("prev_hash", &pb.prev_hash)?) };
    let seen_title = if pb.title_head.is_empty() {
        if pb.title_position != 0 {
            return Err(RuleError::invalid("title_position", "is given only with title_head"));
        }
        None
    } else {
        Some((pb.title_position, hash32("title_head", &pb.title_head)?))
    };
    Ok(Payload {
        origin: pb.origin,
        chain,
        position: pb.position,
        prev,
        actor: PartyId::parse("actor", &pb.actor)?,
        agent: opt_party("agent", &pb.agent)?,
        recipient: opt_party("recipient", &pb.recipient)?,
        claimed_time: Timestamp::parse("claimed_time", &pb.claimed_time)?,
        seen_title,
        action,
    })
}

fn decode_action(a: Option<pb::record_payload::Action>) -> Result<Action, RuleError> {
    use pb::record_payload::Action as A;
    Ok(match a.ok_or_else(|| RuleError::invalid("action", "is required"))? {
        A::RegisterParty(r) => Action::RegisterParty(Registration {
            party: PartyId::parse("register_party.party", &r.party)?,
            name: r.name,
            role: role(r.role)?,
            jurisdiction: r.jurisdiction,
            codes: r
                .codes
                .into_iter()
                .map(|c| IdentifyingCode {
                    provider: c.code_list_provider,
                    party_code: c.party_code,
                    code_list_name: (!c.code_list_name.is_empty()).then_some(c.code_list_name),
                })
                .collect(),
        }),
        A::AddKey(k) => Action::AddKey {
            party: PartyId::parse("add_key.party", &k.party)?,
            key: PublicKey::from_slice("add_key.public_key", &k.public_key)?,
        },
        A::RevokeKey(k) => Action::RevokeKey {
            party: PartyId::parse("revoke_key.party", &k.party)?,
            key: PublicKey::from_slice("revoke_key.public_key", &k.public_key)?,
            reason: k.reason,
        },
        A::RotateKey(k) => Action::RotateKey {
            party: PartyId::parse("rotate_key.party", &k.party)?,
            old: PublicKey::from_slice("rotate_key.old_public_key", &k.old_public_key)?,
            new: PublicKey::from_slice("rotate_key.new_public_key", &k.new_public_key)?,
        },
        A::Delegate(d) => Action::Delegate(Delegation {
            principal: PartyId::parse("delegate.principal", &d.principal)?,
            agent: PartyId::parse("delegate.agent", &d.agent)?,
            actions: d.actions,
            reference: d.reference,
        }),
        A::RevokeDelegation(r) => Action::RevokeDelegation {
            principal: PartyId::parse("revoke_delegation.principal", &r.principal)?,
            agent: PartyId::parse("revoke_delegation.agent", &r.agent)?,
            reason: r.reason,
        },
        A::Issue(i) => Action::Issue(Box::new(Issue {
            profile: match pb::DocumentProfile::try_from(i.profile) {
                Ok(pb::DocumentProfile::DcsaEbl3) => Profile::DcsaEbl3,
                Ok(pb::DocumentProfile::NoSeaLeg) => Profile::NoSeaLeg,
                Err(_) => return Err(RuleError::invalid("issue.profile", format!("unknown profile {}", i.profile))),
            },
            document: i.document,
            amendment: i.amendment,
            consignee: opt_party("issue.consignee", &i.consignee)?,
            endorsee: opt_party("issue.endorsee", &i.endorsee)?,
            issuance_manifest: (!i.issuance_manifest.is_empty()).then_some(i.issuance_manifest),
            amends: (!i.amends.is_empty()).then(|| hash32("issue.amends", &i.amends)).transpose()?,
            legs: legs("issue.legs", i.legs)?,
        })),
        A::Depart(d) => {
            Action::Depart { leg: d.leg, containers: d.containers, conveyance: d.conveyance.map(conveyance) }
        }
        A::Arrive(a) => Action::Arrive { leg: a.leg, containers: a.containers },
        A::Handoff(h) => Action::Handoff(Box::new(Handoff {
            leg: h.leg,
            place: h.place,
            containers: h.containers,
            seals: h
                .seals
                .into_iter()
                .map(|k| SealCheck {
                    container: k.container,
                    seal: k.seal,
                    new_seal: (!k.new_seal.is_empty()).then_some(k.new_seal),
                    reason: k.reason,
                })
                .collect(),
            exceptions: h.exceptions,
        })),
        A::Deliver(d) => Action::Deliver { containers: d.containers },
        A::CustomsHold(h) => Action::CustomsHold { declaration: h.declaration, reason: h.reason },
        A::CustomsRelease(r) => Action::CustomsRelease { declaration: r.declaration, reason: r.reason },
        A::Reroute(r) => Action::Reroute { from_leg: r.from_leg, legs: legs("reroute.legs", r.legs)? },
        A::Transfer(_) => Action::Transfer,
        A::Endorse(_) => Action::Endorse,
        A::EndorseToOrder(_) => Action::EndorseToOrder,
        A::BlankEndorse(_) => Action::BlankEndorse,
        A::Sign(_) => Action::Sign,
        A::Reject(r) => Action::Reject { reason: r.reason },
        A::SurrenderForDelivery(_) => Action::SurrenderForDelivery,
        A::SurrenderForAmendment(s) => Action::SurrenderForAmendment(match pb::AmendmentReason::try_from(s.reason) {
            Ok(pb::AmendmentReason::Swtp) => AmendmentReason::Swtp,
            Ok(pb::AmendmentReason::Cod) => AmendmentReason::Cod,
            Ok(pb::AmendmentReason::Swi) => AmendmentReason::Swi,
            _ => {
                return Err(RuleError::invalid(
                    "surrender_for_amendment.reason",
                    format!("reason {} is not one of SWTP, COD, SWI", s.reason),
                ))
            }
        }),
        A::AcceptSurrender(a) => Action::AcceptSurrender {
            paper_bill_number: (!a.paper_bill_number.is_empty()).then_some(a.paper_bill_number),
        },
        A::RejectSurrender(r) => Action::RejectSurrender { reason: r.reason },
        A::Pledge(pl) => Action::Pledge {
            mode: match pb::PledgeMode::try_from(pl.mode) {
                Ok(pb::PledgeMode::Possession) => PledgeMode::Possession,
                Ok(pb::PledgeMode::Endorsement) => PledgeMode::Endorsement,
                _ => {
                    return Err(RuleError::invalid(
                        "pledge.mode",
                        format!("mode {} is not one of POSSESSION, ENDORSEMENT", pl.mode),
                    ))
                }
            },
            loan_reference: pl.loan_reference,
        },
        A::ReleasePledge(_) => Action::ReleasePledge,
        A::EnforcePledge(e) => Action::EnforcePledge { reason: e.reason },
    })
}

fn legs(field: &str, legs: Vec<pb::Leg>) -> Result<Vec<Leg>, RuleError> {
    legs.into_iter().enumerate().map(|(i, l)| leg(&format!("{field}[{i}]"), l)).collect()
}

fn leg(field: &str, l: pb::Leg) -> Result<Leg, RuleError> {
    let place = |p: Option<pb::Place>, end: &str| {
        p.map(|p| Place { locode: p.locode, facility: p.facility })
            .ok_or_else(|| RuleError::invalid(format!("{field}.{end}"), "is required"))
    };
    let time =
        |t: &str, name: &str| (!t.is_empty()).then(|| Timestamp::parse(&format!("{field}.{name}"), t)).transpose();
    let c = l.conveyance.unwrap_or_default();
    Ok(Leg {
        mode: match pb::Mode::try_from(l.mode) {
            Ok(pb::Mode::Rail) => Mode::Rail,
            Ok(pb::Mode::Sea) => Mode::Sea,
            Ok(pb::Mode::InlandWaterway) => Mode::InlandWaterway,
            Ok(pb::Mode::Road) => Mode::Road,
            Ok(pb::Mode::Air) => Mode::Air,
            _ => {
                return Err(RuleError::invalid(
                    format!("{field}.mode"),
                    format!("mode {} is not one of RAIL, SEA, INLAND_WATERWAY, ROAD, AIR", l.mode),
                ))
            }
        },
        carrier: PartyId::parse(&format!("{field}.carrier"), &l.carrier)?,
        planned_departure: time(&l.planned_departure, "planned_departure")?,
        planned_arrival: time(&l.planned_arrival, "planned_arrival")?,
        from: place(l.from, "from")?,
        to: place(l.to, "to")?,
        conveyance: conveyance(c),
    })
}

fn conveyance(c: pb::Conveyance) -> Conveyance {
    Conveyance {
        vessel_imo: c.vessel_imo,
        voyage: c.voyage,
        train_number: c.train_number,
        wagons: c.wagons,
        vehicle_id: c.vehicle_id,
    }
}

/// The wire form of a leg (views and clients).
pub fn encode_leg(l: &Leg) -> pb::Leg {
    let place = |p: &Place| pb::Place { locode: p.locode.clone(), facility: p.facility.clone() };
    let c = &l.conveyance;
    pb::Leg {
        mode: match l.mode {
            Mode::Rail => pb::Mode::Rail,
            Mode::Sea => pb::Mode::Sea,
            Mode::InlandWaterway => pb::Mode::InlandWaterway,
            Mode::Road => pb::Mode::Road,
            Mode::Air => pb::Mode::Air,
        } as i32,
        carrier: l.carrier.to_string(),
        from: Some(place(&l.from)),
        to: Some(place(&l.to)),
        conveyance: Some(pb::Conveyance {
            vessel_imo: c.vessel_imo.clone(),
            voyage: c.voyage.clone(),
            train_number: c.train_number.clone(),
            wagons: c.wagons.clone(),
            vehicle_id: c.vehicle_id.clone(),
        }),
        planned_departure: l.planned_departure.map(|t| t.to_rfc3339()).unwrap_or_default(),
        planned_arrival: l.planned_arrival.map(|t| t.to_rfc3339()).unwrap_or_default(),
    }
}

fn role(r: i32) -> Result<Role, RuleError> {
    Ok(match pb::Role::try_from(r) {
        Ok(pb::Role::Carrier) => Role::Carrier,
        Ok(pb::Role::Trader) => Role::Trader,
        Ok(pb::Role::Bank) => Role::Bank,
        Ok(pb::Role::Customs) => Role::Customs,
        Ok(pb::Role::Auditor) => Role::Auditor,
        _ => {
            return Err(RuleError::invalid(
                "register_party.role",
                format!("role {r} is not one of CARRIER, TRADER, BANK, CUSTOMS, AUDITOR"),
            ))
        }
    })
}

/// Converts one wire signature; `field` names it in errors.
pub fn decode_signature(field: &str, s: &pb::Signature) -> Result<Signature, RuleError> {
    Ok(Signature {
        party: PartyId::parse(&format!("{field}.party"), &s.party)?,
        key: PublicKey::from_slice(&format!("{field}.public_key"), &s.public_key)?,
        sig: <[u8; 64]>::try_from(s.signature.as_slice()).map_err(|_| {
            RuleError::invalid(
                format!("{field}.signature"),
                format!("an Ed25519 signature is 64 bytes, got {}", s.signature.len()),
            )
        })?,
    })
}

/// Decodes a whole signed record into the parts [`ebl_core::apply::prepare`] takes.
pub fn decode_record(r: &pb::SignedRecord) -> Result<(Payload, Vec<Signature>), RuleError> {
    let payload = decode_payload(&r.payload)?;
    if r.signatures.is_empty() {
        return Err(RuleError::invalid("signatures", "at least one signature is required"));
    }
    let sigs = r
        .signatures
        .iter()
        .enumerate()
        .map(|(i, s)| decode_signature(&format!("signatures[{i}]"), s))
        .collect::<Result<_, _>>()?;
    Ok((payload, sigs))
}

/// The wire form of a signature.
pub fn encode_signature(s: &Signature) -> pb::Signature {
    pb::Signature { party: s.party.to_string(), public_key: s.key.0.to_vec(), signature: s.sig.to_vec() }
}
