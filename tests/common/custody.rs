//! Helpers of the custody tests (tests/custody_*.rs): custody actions, records built after the
//! custody head naming the title head, refusal assertions, reads and setups. The bill is journey
//! 1's unless said otherwise: leg 0 by rail, `cr-chongqing`, Chongqing (CNCKG) to Qinzhou (CNQZH);
//! leg 1 by sea, `bbw-shipping`, Qinzhou to Singapore (SGSIN).

use super::*;
use ebl_core::ids::BillId;
use ebl_core::time::Timestamp;
use ebl_ledger::client::{payload, sign, Identity, Link};
use ebl_ledger::pb::{self, record_payload::Action};
use serde_json::json;
use tonic::Code;

// ---- Actions ----

pub fn depart(leg: u32, containers: Vec<String>) -> Action {
    Action::Depart(pb::Depart { leg, containers, conveyance: None })
}

pub fn arrive(leg: u32, containers: Vec<String>) -> Action {
    Action::Arrive(pb::Arrive { leg, containers })
}

pub fn handoff(leg: u32, place: &str, containers: Vec<String>, seals: Vec<pb::SealCheck>) -> Action {
    Action::Handoff(pb::Handoff { leg, place: place.into(), containers, seals, exceptions: vec![] })
}

/// The Qinzhou rail-to-ship handoff of both boxes with every seal checked intact.
pub fn qinzhou() -> Action {
    handoff(0, "CNQZH", ilstc_boxes(), ilstc_seals())
}

pub fn deliver(containers: Vec<String>) -> Action {
    Action::Deliver(pb::Deliver { containers })
}

pub fn hold(declaration: &str) -> Action {
    Action::CustomsHold(pb::CustomsHold { declaration: declaration.into(), reason: "documentary check".into() })
}

pub fn release(declaration: &str) -> Action {
    Action::CustomsRelease(pb::CustomsRelease { declaration: declaration.into(), reason: "cleared".into() })
}

pub fn reroute(from_leg: u32, legs: Vec<pb::Leg>) -> Action {
    Action::Reroute(pb::Reroute { from_leg, legs })
}

pub fn surrender() -> Action {
    Action::SurrenderForDelivery(pb::SurrenderForDelivery {})
}

pub fn for_amendment(reason: pb::AmendmentReason) -> Action {
    Action::SurrenderForAmendment(pb::SurrenderForAmendment { reason: reason as i32 })
}

pub fn sacc(paper: &str) -> Action {
    Action::AcceptSurrender(pb::AcceptSurrender { paper_bill_number: paper.into() })
}

pub fn place(locode: &str) -> Option<pb::Place> {
    Some(pb::Place { locode: locode.into(), facility: String::new() })
}

/// Journey 1's route with `edit` applied.
pub fn ilstc_route(edit: impl FnOnce(&mut Vec<pb::Leg>)) -> Vec<pb::Leg> {
    let mut legs = route(ILSTC);
    edit(&mut legs);
    legs
}

/// A sea leg from Qinzhou to `to` by `carrier` on another vessel.
pub fn sea_leg(carrier: &str, to: &str) -> pb::Leg {
    pb::Leg {
        mode: pb::Mode::Sea as i32,
        carrier: carrier.into(),
        from: place("CNQZH"),
        to: place(to),
        conveyance: Some(pb::Conveyance { vessel_imo: "9074729".into(), voyage: "047W".into(), ..Default::default() }),
        ..Default::default()
    }
}

// ---- Records ----

/// The next custody payload on `bill` in `actor`'s name: after the custody chain's head, naming
/// the title head now. Read as the operator, so that parties that may not read the bill (customs
/// of elsewhere, strangers to it) can still be made to try.
pub async fn next_custody(
    l: &mut TestLedger,
    bill: BillId,
    actor: &str,
    to: Option<&str>,
    action: Action,
) -> pb::RecordPayload {
    let v = view(l, bill).await;
    let c = v.custody.unwrap_or_default();
    let link = if c.head.is_empty() { Link::default() } else { Link::after(c.head_position, &c.head) };
    let mut p = payload(ORIGIN, Some(bill), link, actor, to, Timestamp::now(), action);
    (p.title_position, p.title_head) = (v.head_position, v.head);
    p
}

/// `p` signed by the named parties.
pub fn signed(l: &TestLedger, p: &pb::RecordPayload, signers: &[&str]) -> pb::SignedRecord {
    let ids: Vec<Identity> = signers.iter().map(|s| l.party(s)).collect();
    sign(p, &ids.iter().collect::<Vec<_>>())
}

/// The next custody record as its parties sign it: the actor, and for a HANDOFF the recipient too.
pub async fn custody_rec(
    l: &mut TestLedger,
    bill: BillId,
    actor: &str,
    to: Option<&str>,
    action: Action,
) -> pb::SignedRecord {
    let co_signed = matches!(action, Action::Handoff(_));
    let p = next_custody(l, bill, actor, to, action).await;
    let mut signers = vec![actor];
    signers.extend(to.filter(|_| co_signed));
    signed(l, &p, &signers)
}

/// Submits the next custody record, which must be accepted.
pub async fn ok(l: &mut TestLedger, bill: BillId, actor: &str, to: Option<&str>, action: Action) -> pb::Receipt {
    let name = action_name(&action);
    let rec = custody_rec(l, bill, actor, to, action).await;
    l.client.submit(rec).await.unwrap_or_else(|e| panic!("{actor}'s {name} must be accepted: {e:?}"))
}

/// Asserts the next custody record is refused with `code` and `reason`, changing nothing.
pub async fn refused(
    l: &mut TestLedger,
    bill: BillId,
    actor: &str,
    to: Option<&str>,
    action: Action,
    code: Code,
    reason: &str,
) -> tonic::Status {
    let rec = custody_rec(l, bill, actor, to, action).await;
    l.assert_refused(rec, code, reason).await
}

/// Asserts the next custody record is refused INVALID_ARGUMENT naming `field`, changing nothing.
pub async fn invalid(l: &mut TestLedger, bill: BillId, actor: &str, to: Option<&str>, action: Action, field: &str) {
    let err = refused(l, bill, actor, to, action, Code::InvalidArgument, "INVALID_FIELD").await;
    assert_eq!(field_of(&err), field, "{err:?}");
}

/// Asserts `rec` is refused INVALID_ARGUMENT naming `field`, changing nothing.
pub async fn invalid_record(l: &mut TestLedger, rec: pb::SignedRecord, field: &str) {
    let err = l.assert_refused(rec, Code::InvalidArgument, "INVALID_FIELD").await;
    assert_eq!(field_of(&err), field, "{err:?}");
}

/// Asserts `p` signed by `signers` is refused INVALID_ARGUMENT naming `field`, changing nothing.
pub async fn invalid_payload(l: &mut TestLedger, p: &pb::RecordPayload, signers: &[&str], field: &str) {
    let rec = signed(l, p, signers);
    invalid_record(l, rec, field).await;
}

/// A title action by `who`, which must be accepted; returns its receipt.
pub async fn title(l: &mut TestLedger, bill: BillId, who: &str, to: Option<&str>, action: Action) -> pb::Receipt {
    let id = l.party(who);
    l.client.act(&id, bill, to, action).await.unwrap_or_else(|e| panic!("{who}'s title action: {e:?}"))
}

pub fn action_name(a: &Action) -> &'static str {
    match a {
        Action::Depart(_) => "DEPART",
        Action::Arrive(_) => "ARRIVE",
        Action::Handoff(_) => "HANDOFF",
        Action::Deliver(_) => "DELIVER",
        Action::CustomsHold(_) => "CUSTOMS_HOLD",
        Action::CustomsRelease(_) => "CUSTOMS_RELEASE",
        Action::Reroute(_) => "REROUTE",
        _ => "record",
    }
}

// ---- Reads ----

pub async fn view(l: &mut TestLedger, bill: BillId) -> pb::BillView {
    let op = l.operator.clone();
    l.client.bill(&op, bill).await.unwrap()
}

pub async fn custody_of(l: &mut TestLedger, bill: BillId) -> pb::CustodyView {
    view(l, bill).await.custody.expect("a routed bill has custody")
}

/// (leg, carrier, stage, location) of every container, in container order.
pub async fn boxes(l: &mut TestLedger, bill: BillId) -> Vec<(u32, String, String, String)> {
    custody_of(l, bill).await.containers.into_iter().map(|c| (c.leg, c.carrier, c.stage, c.location)).collect()
}

/// Every container at the same (leg, carrier, stage, location).
pub fn all_at(leg: u32, carrier: &str, stage: &str, at: &str) -> Vec<(u32, String, String, String)> {
    ilstc_boxes().iter().map(|_| (leg, carrier.to_string(), stage.to_string(), at.to_string())).collect()
}

pub async fn verify(l: &mut TestLedger, bill: BillId, reader: &str, leg: u32) -> pb::HandoffCheck {
    let r = l.party(reader);
    l.client.verify_handoff(&r, bill, leg).await.unwrap()
}

/// The machine-readable reasons of a HandoffCheck (each listed as `REASON: explanation`).
pub fn reasons(c: &pb::HandoffCheck) -> Vec<String> {
    c.reasons.iter().map(|r| r.split(':').next().unwrap_or_default().to_string()).collect()
}

// ---- Setups ----

/// Issues journey 1's bill under `reference` with its route, from `cq-mto` to the exporter.
pub async fn issue_routed(l: &mut TestLedger, reference: &str) -> BillId {
    let carrier = l.party("cq-mto");
    let d = with_reference(doc_json(ILSTC), reference);
    let rec = issue_with_route(&carrier, &d, pb::DocumentProfile::DcsaEbl3, "cq-machinery", "", route(ILSTC));
    l.client.submit(rec).await.unwrap();
    BillId::derive(&carrier.party, reference, 0)
}

/// The train runs from Chongqing and arrives at Qinzhou with both boxes.
pub async fn rail_to_qinzhou(l: &mut TestLedger, bill: BillId) {
    ok(l, bill, "cr-chongqing", None, depart(0, ilstc_boxes())).await;
    ok(l, bill, "cr-chongqing", None, arrive(0, ilstc_boxes())).await;
}

/// The whole carriage to Singapore: rail, the Qinzhou handoff, the voyage.
pub async fn carried_to_singapore(l: &mut TestLedger, bill: BillId) {
    rail_to_qinzhou(l, bill).await;
    ok(l, bill, "cr-chongqing", Some("bbw-shipping"), qinzhou()).await;
    ok(l, bill, "bbw-shipping", None, depart(1, ilstc_boxes())).await;
    ok(l, bill, "bbw-shipping", None, arrive(1, ilstc_boxes())).await;
}

/// A change of destination: the ILSTC document discharging at Port Klang instead of Singapore.
pub fn to_port_klang(reference: &str) -> Vec<u8> {
    let mut d = doc_json(ILSTC);
    d["transports"]["portOfDischarge"] = json!({"locationName": "Port Klang, Westports", "UNLocationCode": "MYPKG"});
    with_reference(d, reference)
}

/// Amendment 1 of `doc` by `cq-mto` to the exporter, citing the SACC `amends`, with `legs`.
pub fn amendment(carrier: &Identity, doc: &[u8], amends: &[u8], legs: Vec<pb::Leg>) -> pb::SignedRecord {
    let bill = BillId::derive(&carrier.party, &reference_of(doc), 1);
    let action = Action::Issue(pb::Issue {
        document: doc.to_vec(),
        profile: pb::DocumentProfile::DcsaEbl3 as i32,
        amendment: 1,
        amends: amends.to_vec(),
        legs,
        ..Default::default()
    });
    let p = payload(
        ORIGIN,
        Some(bill),
        Link::default(),
        carrier.party.as_str(),
        Some("cq-machinery"),
        Timestamp::now(),
        action,
    );
    sign(&p, &[carrier])
}
