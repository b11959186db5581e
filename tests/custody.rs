//! Every refusal of the multimodal route and custody rules through the real server: the route at
//! issue, HANDOFF, DEPART and ARRIVE, DELIVER, customs holds, re-routing, and the custody chain's
//! own shape and links. Each refusal asserts the gRPC status, the machine-readable reason (and the
//! field, for INVALID_ARGUMENT) and an unchanged ledger digest; each group ends with what is
//! accepted, so the refusals are not just a broken setup. VerifyHandoff says the same in one call.
//!
//! The bill is journey 1's unless said otherwise: leg 0 by rail, `cr-chongqing`, Chongqing
//! (CNCKG) to Qinzhou (CNQZH); leg 1 by sea, `bbw-shipping`, Qinzhou to Singapore (SGSIN).
mod common;

use common::*;
use ebl_core::ids::BillId;
use ebl_core::time::Timestamp;
use ebl_ledger::client::{payload, sign, Identity, Link};
use ebl_ledger::pb::{self, record_payload::Action};
use serde_json::json;
use tonic::Code;

// ---- Actions ----

fn depart(leg: u32, containers: Vec<String>) -> Action {
    Action::Depart(pb::Depart { leg, containers, conveyance: None })
}

fn arrive(leg: u32, containers: Vec<String>) -> Action {
    Action::Arrive(pb::Arrive { leg, containers })
}

fn handoff(leg: u32, place: &str, containers: Vec<String>, seals: Vec<pb::SealCheck>) -> Action {
    Action::Handoff(pb::Handoff { leg, place: place.into(), containers, seals, exceptions: vec![] })
}

/// The Qinzhou rail-to-ship handoff of both boxes with every seal checked intact.
fn qinzhou() -> Action {
    handoff(0, "CNQZH", ilstc_boxes(), ilstc_seals())
}

fn deliver(containers: Vec<String>) -> Action {
    Action::Deliver(pb::Deliver { containers })
}

fn hold(declaration: &str) -> Action {
    Action::CustomsHold(pb::CustomsHold { declaration: declaration.into(), reason: "documentary check".into() })
}

fn release(declaration: &str) -> Action {
    Action::CustomsRelease(pb::CustomsRelease { declaration: declaration.into(), reason: "cleared".into() })
}

fn reroute(from_leg: u32, legs: Vec<pb::Leg>) -> Action {
    Action::Reroute(pb::Reroute { from_leg, legs })
}

fn surrender() -> Action {
    Action::SurrenderForDelivery(pb::SurrenderForDelivery {})
}

fn for_amendment(reason: pb::AmendmentReason) -> Action {
    Action::SurrenderForAmendment(pb::SurrenderForAmendment { reason: reason as i32 })
}

fn sacc(paper: &str) -> Action {
    Action::AcceptSurrender(pb::AcceptSurrender { paper_bill_number: paper.into() })
}

fn place(locode: &str) -> Option<pb::Place> {
    Some(pb::Place { locode: locode.into(), facility: String::new() })
}

/// Journey 1's route with `edit` applied.
fn ilstc_route(edit: impl FnOnce(&mut Vec<pb::Leg>)) -> Vec<pb::Leg> {
    let mut legs = route(ILSTC);
    edit(&mut legs);
    legs
}

/// A sea leg from Qinzhou to `to` by `carrier` on another vessel.
fn sea_leg(carrier: &str, to: &str) -> pb::Leg {
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
async fn next_custody(
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
fn signed(l: &TestLedger, p: &pb::RecordPayload, signers: &[&str]) -> pb::SignedRecord {
    let ids: Vec<Identity> = signers.iter().map(|s| l.party(s)).collect();
    sign(p, &ids.iter().collect::<Vec<_>>())
}

/// The next custody record as its parties sign it: the actor, and for a HANDOFF the recipient too.
async fn custody_rec(
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
async fn ok(l: &mut TestLedger, bill: BillId, actor: &str, to: Option<&str>, action: Action) -> pb::Receipt {
    let name = action_name(&action);
    let rec = custody_rec(l, bill, actor, to, action).await;
    l.client.submit(rec).await.unwrap_or_else(|e| panic!("{actor}'s {name} must be accepted: {e:?}"))
}

/// Asserts the next custody record is refused with `code` and `reason`, changing nothing.
async fn refused(
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
async fn invalid(l: &mut TestLedger, bill: BillId, actor: &str, to: Option<&str>, action: Action, field: &str) {
    let err = refused(l, bill, actor, to, action, Code::InvalidArgument, "INVALID_FIELD").await;
    assert_eq!(field_of(&err), field, "{err:?}");
}

/// Asserts `rec` is refused INVALID_ARGUMENT naming `field`, changing nothing.
async fn invalid_record(l: &mut TestLedger, rec: pb::SignedRecord, field: &str) {
    let err = l.assert_refused(rec, Code::InvalidArgument, "INVALID_FIELD").await;
    assert_eq!(field_of(&err), field, "{err:?}");
}

/// Asserts `p` signed by `signers` is refused INVALID_ARGUMENT naming `field`, changing nothing.
async fn invalid_payload(l: &mut TestLedger, p: &pb::RecordPayload, signers: &[&str], field: &str) {
    let rec = signed(l, p, signers);
    invalid_record(l, rec, field).await;
}

/// A title action by `who`, which must be accepted; returns its receipt.
async fn title(l: &mut TestLedger, bill: BillId, who: &str, to: Option<&str>, action: Action) -> pb::Receipt {
    let id = l.party(who);
    l.client.act(&id, bill, to, action).await.unwrap_or_else(|e| panic!("{who}'s title action: {e:?}"))
}

fn action_name(a: &Action) -> &'static str {
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

async fn view(l: &mut TestLedger, bill: BillId) -> pb::BillView {
    let op = l.operator.clone();
    l.client.bill(&op, bill).await.unwrap()
}

async fn custody_of(l: &mut TestLedger, bill: BillId) -> pb::CustodyView {
    view(l, bill).await.custody.expect("a routed bill has custody")
}

/// (leg, carrier, stage, location) of every container, in container order.
async fn boxes(l: &mut TestLedger, bill: BillId) -> Vec<(u32, String, String, String)> {
    custody_of(l, bill).await.containers.into_iter().map(|c| (c.leg, c.carrier, c.stage, c.location)).collect()
}

/// Every container at the same (leg, carrier, stage, location).
fn all_at(leg: u32, carrier: &str, stage: &str, at: &str) -> Vec<(u32, String, String, String)> {
    ilstc_boxes().iter().map(|_| (leg, carrier.to_string(), stage.to_string(), at.to_string())).collect()
}

async fn verify(l: &mut TestLedger, bill: BillId, reader: &str, leg: u32) -> pb::HandoffCheck {
    let r = l.party(reader);
    l.client.verify_handoff(&r, bill, leg).await.unwrap()
}

/// The machine-readable reasons of a HandoffCheck (each listed as `REASON: explanation`).
fn reasons(c: &pb::HandoffCheck) -> Vec<String> {
    c.reasons.iter().map(|r| r.split(':').next().unwrap_or_default().to_string()).collect()
}

// ---- Setups ----

/// Issues journey 1's bill under `reference` with its route, from `cq-mto` to the exporter.
async fn issue_routed(l: &mut TestLedger, reference: &str) -> BillId {
    let carrier = l.party("cq-mto");
    let d = with_reference(doc_json(ILSTC), reference);
    let rec = issue_with_route(&carrier, &d, pb::DocumentProfile::DcsaEbl3, "cq-machinery", "", route(ILSTC));
    l.client.submit(rec).await.unwrap();
    BillId::derive(&carrier.party, reference, 0)
}

/// The train runs from Chongqing and arrives at Qinzhou with both boxes.
async fn rail_to_qinzhou(l: &mut TestLedger, bill: BillId) {
    ok(l, bill, "cr-chongqing", None, depart(0, ilstc_boxes())).await;
    ok(l, bill, "cr-chongqing", None, arrive(0, ilstc_boxes())).await;
}

/// The whole carriage to Singapore: rail, the Qinzhou handoff, the voyage.
async fn carried_to_singapore(l: &mut TestLedger, bill: BillId) {
    rail_to_qinzhou(l, bill).await;
    ok(l, bill, "cr-chongqing", Some("bbw-shipping"), qinzhou()).await;
    ok(l, bill, "bbw-shipping", None, depart(1, ilstc_boxes())).await;
    ok(l, bill, "bbw-shipping", None, arrive(1, ilstc_boxes())).await;
}

// ---- Tests ----

#[tokio::test]
async fn a_route_at_issue_runs_contiguously_from_receipt_to_delivery_fits_the_profile_and_has_registered_carriers() {
    let mut l = TestLedger::start().await;
    journey_cast(&mut l).await;
    multimodal_cast(&mut l).await;
    let carrier = l.party("cq-mto");
    let ilstc = with_reference(doc_json(ILSTC), "CUS-ROUTE-1");
    let cases: Vec<(Vec<pb::Leg>, &str)> = vec![
        // A gap: the ship leaves from Nanning, not from Qinzhou where the train ends.
        (ilstc_route(|r| r[1].from = place("CNNNG")), "issue.legs[1].from"),
        // The first leg starts at Chengdu, not at the place of receipt.
        (ilstc_route(|r| r[0].from = place("CNCTU")), "issue.legs[0].from"),
        // The last leg ends at Port Klang, not at the port of discharge.
        (ilstc_route(|r| r[1].to = place("MYPKG")), "issue.legs[1].to"),
        // A vessel IMO number with a wrong check digit.
        (
            ilstc_route(|r| r[1].conveyance.as_mut().unwrap().vessel_imo = "9321484".into()),
            "issue.legs[1].conveyance.vessel_imo",
        ),
        // A train without its number.
        (
            ilstc_route(|r| r[0].conveyance.as_mut().unwrap().train_number = String::new()),
            "issue.legs[0].conveyance.train_number",
        ),
        // No sea leg under the DCSA eBL 3.0 profile: the second leg by truck instead.
        (
            ilstc_route(|r| {
                r[1].mode = pb::Mode::Road as i32;
                r[1].conveyance = Some(pb::Conveyance { vehicle_id: "GX-A-20931".into(), ..Default::default() });
            }),
            "issue.legs",
        ),
        // A leg carrier nobody registered, and a registered party that is not a CARRIER.
        (ilstc_route(|r| r[1].carrier = "nobody-line".into()), "issue.legs[1].carrier"),
        (ilstc_route(|r| r[0].carrier = "cq-bank".into()), "issue.legs[0].carrier"),
    ];
    for (legs, field) in cases {
        let rec = issue_with_route(&carrier, &ilstc, pb::DocumentProfile::DcsaEbl3, "cq-machinery", "", legs);
        invalid_record(&mut l, rec, field).await;
    }
    // A SEA leg under the no-sea-leg profile (the China-Europe rail bill, its second leg by sea).
    let rail_doc = doc(RAIL);
    let mut legs = route(RAIL);
    legs[1].mode = pb::Mode::Sea as i32;
    legs[1].conveyance =
        Some(pb::Conveyance { vessel_imo: "9321483".into(), voyage: "511S".into(), ..Default::default() });
    let rec = issue_with_route(&carrier, &rail_doc, pb::DocumentProfile::NoSeaLeg, "cq-machinery", "", legs);
    invalid_record(&mut l, rec, "issue.legs").await;

    // The route as planned is accepted: the boxes wait at Chongqing with the rail carrier.
    let rec = issue_with_route(&carrier, &ilstc, pb::DocumentProfile::DcsaEbl3, "cq-machinery", "", route(ILSTC));
    l.client.submit(rec).await.unwrap();
    let bill = BillId::derive(&carrier.party, "CUS-ROUTE-1", 0);
    assert_eq!(boxes(&mut l, bill).await, all_at(0, "cr-chongqing", "READY", "CNCKG"));
    let rec = issue_with_route(&carrier, &rail_doc, pb::DocumentProfile::NoSeaLeg, "cq-machinery", "", route(RAIL));
    l.client.submit(rec).await.unwrap();
}

#[tokio::test]
async fn a_handoff_is_refused_unless_both_leg_carriers_sign_at_the_leg_end_for_arrived_boxes_with_every_seal() {
    let (mut l, bill) = ledger_with_routed_bill("CUS-HANDOFF-1").await;
    let (rail, ship) = ("cr-chongqing", "bbw-shipping");

    // Not arrived: the boxes are still at Chongqing, then on the train.
    refused(&mut l, bill, rail, Some(ship), qinzhou(), Code::FailedPrecondition, "CONTAINER_NOT_THERE").await;
    ok(&mut l, bill, rail, None, depart(0, ilstc_boxes())).await;
    refused(&mut l, bill, rail, Some(ship), qinzhou(), Code::FailedPrecondition, "CONTAINER_NOT_THERE").await;
    ok(&mut l, bill, rail, None, arrive(0, ilstc_boxes())).await;

    // One carrier's signature alone, either one.
    let p = next_custody(&mut l, bill, rail, Some(ship), qinzhou()).await;
    l.assert_refused(signed(&l, &p, &[rail]), Code::Unauthenticated, "MISSING_SIGNATURE").await;
    l.assert_refused(signed(&l, &p, &[ship]), Code::Unauthenticated, "MISSING_SIGNATURE").await;
    // The incoming carrier is not the next leg's (both sign, but the wrong ship takes over).
    refused(&mut l, bill, rail, Some("ys-line"), qinzhou(), Code::PermissionDenied, "NOT_LEG_CARRIER").await;
    // The outgoing carrier is not the leg's.
    refused(&mut l, bill, "cj-barge", Some(ship), qinzhou(), Code::PermissionDenied, "NOT_LEG_CARRIER").await;
    // Not where the leg ends.
    let at_singapore = handoff(0, "SGSIN", ilstc_boxes(), ilstc_seals());
    refused(&mut l, bill, rail, Some(ship), at_singapore, Code::FailedPrecondition, "PLACE_NOT_ON_ROUTE").await;
    // A container that is not on the bill.
    let unknown = handoff(0, "CNQZH", vec!["TGHU9999996".into()], vec![]);
    invalid(&mut l, bill, rail, Some(ship), unknown, "handoff.containers[0]").await;

    // Seals: one found that is not on the box, one left unchecked, one changed without a reason.
    let mut wrong = ilstc_seals();
    wrong[0].seal = "CLS2503109999".into();
    let h = handoff(0, "CNQZH", ilstc_boxes(), wrong);
    refused(&mut l, bill, rail, Some(ship), h, Code::FailedPrecondition, "SEAL_MISMATCH").await;
    let mut unchecked = ilstc_seals();
    unchecked.pop();
    let h = handoff(0, "CNQZH", ilstc_boxes(), unchecked);
    refused(&mut l, bill, rail, Some(ship), h, Code::FailedPrecondition, "SEAL_MISMATCH").await;
    let mut changed = ilstc_seals();
    changed[1].new_seal = "CQ25C0099901".into();
    let h = handoff(0, "CNQZH", ilstc_boxes(), changed.clone());
    invalid(&mut l, bill, rail, Some(ship), h, "handoff.seals[1].reason").await;

    // The last leg hands nothing over: its carrier delivers.
    let at_the_end = handoff(1, "SGSIN", ilstc_boxes(), ilstc_seals());
    invalid(&mut l, bill, ship, Some(rail), at_the_end, "handoff.leg").await;

    // Qinzhou customs hold the goods: no handoff at Qinzhou until they release them.
    ok(&mut l, bill, "cn-customs-qz", None, hold("QZ2025-031177")).await;
    let err = refused(&mut l, bill, rail, Some(ship), qinzhou(), Code::FailedPrecondition, "CUSTOMS_HOLD").await;
    assert!(err.message().contains("QZ2025-031177"), "the refusal names the hold: {err:?}");
    ok(&mut l, bill, "cn-customs-qz", None, release("QZ2025-031177")).await;

    // A surrender in progress does not stop the goods: the handoff goes ahead, with the changed
    // seal now given its reason, and the title stays surrendered.
    title(&mut l, bill, "cq-machinery", Some("cq-mto"), surrender()).await;
    changed[1].reason = "customs seal cut for inspection at Qinzhou; resealed".into();
    let receipt = ok(&mut l, bill, rail, Some(ship), handoff(0, "CNQZH", ilstc_boxes(), changed)).await;
    assert_eq!(receipt.action, "HANDOFF");
    assert_eq!(boxes(&mut l, bill).await, all_at(1, ship, "READY", "CNQZH"));
    let v = view(&mut l, bill).await;
    assert_eq!((v.status.as_str(), v.surrender.as_str()), ("SURRENDERED", "DELIVERY"));
    let c = v.custody.unwrap();
    assert_eq!(c.containers[0].seals, ["CLS2503104471", "CQ25C0099901"]);
    assert_eq!(c.containers[1].seals, ["CLS2503104472", "CQ25C0088127"]);
}

/// A change of destination: the ILSTC document discharging at Port Klang instead of Singapore.
fn to_port_klang(reference: &str) -> Vec<u8> {
    let mut d = doc_json(ILSTC);
    d["transports"]["portOfDischarge"] = json!({"locationName": "Port Klang, Westports", "UNLocationCode": "MYPKG"});
    with_reference(d, reference)
}

/// Amendment 1 of `doc` by `cq-mto` to the exporter, citing the SACC `amends`, with `legs`.
fn amendment(carrier: &Identity, doc: &[u8], amends: &[u8], legs: Vec<pb::Leg>) -> pb::SignedRecord {
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

#[tokio::test]
async fn a_void_bill_takes_no_custody_and_its_amendment_inherits_the_goods_under_way() {
    let (mut l, bill) = ledger_with_routed_bill("CUS-VOID-1").await;
    let (rail, ship) = ("cr-chongqing", "bbw-shipping");
    rail_to_qinzhou(&mut l, bill).await;
    // The exporter redirects the goods to Port Klang: surrender for amendment, accepted.
    title(&mut l, bill, "cq-machinery", Some("cq-mto"), for_amendment(pb::AmendmentReason::Cod)).await;
    let sacc_hash = title(&mut l, bill, "cq-mto", None, sacc("")).await.record_hash;
    assert_eq!(view(&mut l, bill).await.status, "VOID");
    let at_void = boxes(&mut l, bill).await;

    refused(&mut l, bill, rail, Some(ship), qinzhou(), Code::FailedPrecondition, "BILL_VOID").await;
    refused(&mut l, bill, "sg-customs", None, hold("SG2025-990001"), Code::FailedPrecondition, "BILL_VOID").await;
    let check = verify(&mut l, bill, ship, 0).await;
    assert!(!check.may_proceed);
    assert_eq!(reasons(&check), ["BILL_VOID"]);

    // The amended bill names the new destination: its route must end there, keep the leg under
    // way as it was, and be given at all.
    let carrier = l.party("cq-mto");
    let klang = to_port_klang("CUS-VOID-1");
    let to_klang = |edit: fn(&mut Vec<pb::Leg>)| {
        ilstc_route(|r| {
            r[1].to = Some(pb::Place { locode: "MYPKG".into(), facility: "Westports".into() });
            edit(r);
        })
    };
    invalid_record(&mut l, amendment(&carrier, &klang, &sacc_hash, vec![]), "issue.legs").await;
    invalid_record(&mut l, amendment(&carrier, &klang, &sacc_hash, route(ILSTC)), "issue.legs[1].to").await;
    let other_train = to_klang(|r| r[0].conveyance.as_mut().unwrap().train_number = "X9099".into());
    invalid_record(&mut l, amendment(&carrier, &klang, &sacc_hash, other_train), "issue.legs").await;
    let other_rail_carrier = to_klang(|r| r[0].carrier = "db-cargo".into());
    invalid_record(&mut l, amendment(&carrier, &klang, &sacc_hash, other_rail_carrier), "issue.legs").await;

    // Keeping the train, the amendment is issued and inherits the custody: the boxes are at
    // Qinzhou with the rail carrier, on a route that now ends at Port Klang.
    l.client.submit(amendment(&carrier, &klang, &sacc_hash, to_klang(|_| {}))).await.unwrap();
    let successor = BillId::derive(&carrier.party, "CUS-VOID-1", 1);
    assert_eq!(boxes(&mut l, successor).await, at_void);
    assert_eq!(at_void, all_at(0, rail, "ARRIVED", "CNQZH"));
    let c = custody_of(&mut l, successor).await;
    assert_eq!(c.route.last().unwrap().to.as_ref().unwrap().locode, "MYPKG");
    assert_eq!(c.containers[0].seals, ILSTC_BOXES[0].1);
    assert!(c.head.is_empty(), "the amended bill's custody chain starts afresh");
    // The goods go on under the amended bill.
    assert!(verify(&mut l, successor, ship, 0).await.may_proceed);
    ok(&mut l, successor, rail, Some(ship), qinzhou()).await;
    assert_eq!(boxes(&mut l, successor).await, all_at(1, ship, "READY", "CNQZH"));
    assert_eq!(boxes(&mut l, bill).await, at_void, "the void bill's custody stays as it was");
    assert!(l.client.verify_title(&l.party("cq-machinery"), successor).await.unwrap().chain_verified);
}

#[tokio::test]
async fn custody_ends_when_the_bill_is_switched_to_paper_or_the_goods_are_delivered() {
    let (mut l, paper) = ledger_with_routed_bill("CUS-END-1").await;
    let (rail, ship) = ("cr-chongqing", "bbw-shipping");
    rail_to_qinzhou(&mut l, paper).await;
    title(&mut l, paper, "cq-machinery", Some("cq-mto"), for_amendment(pb::AmendmentReason::Swtp)).await;
    title(&mut l, paper, "cq-mto", None, sacc("CQMTO-PAPER-000311")).await;
    let err =
        refused(&mut l, paper, rail, Some(ship), qinzhou(), Code::FailedPrecondition, "BILL_SWITCHED_TO_PAPER").await;
    assert!(err.message().contains("CQMTO-PAPER-000311"), "{err:?}");
    refused(
        &mut l,
        paper,
        "cn-customs-qz",
        None,
        hold("QZ2025-000001"),
        Code::FailedPrecondition,
        "BILL_SWITCHED_TO_PAPER",
    )
    .await;

    let delivered = issue_routed(&mut l, "CUS-END-2").await;
    carried_to_singapore(&mut l, delivered).await;
    title(&mut l, delivered, "cq-machinery", Some("cq-mto"), surrender()).await;
    title(&mut l, delivered, "cq-mto", None, sacc("")).await;
    ok(&mut l, delivered, ship, Some("cq-machinery"), deliver(ilstc_boxes())).await;
    assert_eq!(custody_of(&mut l, delivered).await.delivered_to, "cq-machinery");
    // Delivered goods neither move nor are handed over nor held again.
    for (actor, to, action) in [
        (rail, Some(ship), qinzhou()),
        (ship, None, depart(1, ilstc_boxes())),
        (ship, Some("cq-machinery"), deliver(ilstc_boxes())),
        ("sg-customs", None, hold("SG2025-990002")),
    ] {
        refused(&mut l, delivered, actor, to, action, Code::FailedPrecondition, "ALREADY_DELIVERED").await;
    }
    assert_eq!(boxes(&mut l, delivered).await, all_at(1, ship, "DELIVERED", "SGSIN"));
}

#[tokio::test]
async fn depart_and_arrive_are_the_leg_carriers_own_in_order_and_a_hold_at_the_start_stops_departure() {
    let (mut l, bill) = ledger_with_routed_bill("CUS-MOVE-1").await;
    let (rail, ship) = ("cr-chongqing", "bbw-shipping");
    // Wrong carrier, for either leg's events.
    refused(&mut l, bill, ship, None, depart(0, ilstc_boxes()), Code::PermissionDenied, "NOT_LEG_CARRIER").await;
    // Wrong stage: nothing has left, so nothing arrives; the ship cannot leave with boxes still on the train's leg.
    refused(&mut l, bill, rail, None, arrive(0, ilstc_boxes()), Code::FailedPrecondition, "CONTAINER_NOT_THERE").await;
    refused(&mut l, bill, ship, None, depart(1, ilstc_boxes()), Code::FailedPrecondition, "CONTAINER_NOT_THERE").await;
    // No such leg or box.
    invalid(&mut l, bill, rail, None, depart(7, ilstc_boxes()), "depart.leg").await;
    invalid(&mut l, bill, rail, None, depart(0, vec!["TGHU9999996".into()]), "depart.containers[0]").await;
    // A hold elsewhere (Singapore) does not stop the train at Chongqing.
    ok(&mut l, bill, "sg-customs", None, hold("SG2025-100001")).await;
    ok(&mut l, bill, rail, None, depart(0, ilstc_boxes())).await;
    refused(&mut l, bill, rail, None, depart(0, ilstc_boxes()), Code::FailedPrecondition, "CONTAINER_NOT_THERE").await;
    refused(&mut l, bill, ship, None, arrive(0, ilstc_boxes()), Code::PermissionDenied, "NOT_LEG_CARRIER").await;
    ok(&mut l, bill, rail, None, arrive(0, ilstc_boxes())).await;
    refused(&mut l, bill, rail, None, arrive(0, ilstc_boxes()), Code::FailedPrecondition, "CONTAINER_NOT_THERE").await;
    ok(&mut l, bill, rail, Some(ship), qinzhou()).await;

    // Qinzhou customs hold the goods at the start of the sea leg: the ship may not sail.
    ok(&mut l, bill, "cn-customs-qz", None, hold("QZ2025-100002")).await;
    let err =
        refused(&mut l, bill, ship, None, depart(1, ilstc_boxes()), Code::FailedPrecondition, "CUSTOMS_HOLD").await;
    assert!(err.message().contains("QZ2025-100002"), "{err:?}");
    ok(&mut l, bill, "cn-customs-qz", None, release("QZ2025-100002")).await;
    ok(&mut l, bill, ship, None, depart(1, ilstc_boxes())).await;
    assert_eq!(boxes(&mut l, bill).await, all_at(1, ship, "IN_TRANSIT", "CNQZH"));
    ok(&mut l, bill, ship, None, arrive(1, ilstc_boxes())).await;
    assert_eq!(boxes(&mut l, bill).await, all_at(1, ship, "ARRIVED", "SGSIN"));
}

#[tokio::test]
async fn delivery_needs_the_accepted_surrender_its_party_the_last_carrier_or_its_agent_and_arrived_boxes() {
    let (mut l, bill) = ledger_with_routed_bill("CUS-DELIVER-1").await;
    let (rail, ship, exporter) = ("cr-chongqing", "bbw-shipping", "cq-machinery");
    rail_to_qinzhou(&mut l, bill).await;
    ok(&mut l, bill, rail, Some(ship), qinzhou()).await;
    let all = || deliver(ilstc_boxes());

    // No surrender, then one pending: not yet.
    refused(&mut l, bill, ship, Some(exporter), all(), Code::FailedPrecondition, "SURRENDER_NOT_ACCEPTED").await;
    title(&mut l, bill, exporter, Some("cq-mto"), surrender()).await;
    refused(&mut l, bill, ship, Some(exporter), all(), Code::FailedPrecondition, "SURRENDER_NOT_ACCEPTED").await;
    title(&mut l, bill, "cq-mto", None, sacc("")).await;
    // To someone else than the party whose surrender was accepted.
    invalid(&mut l, bill, ship, Some("cq-bank"), all(), "recipient").await;
    // By a carrier other than the last leg's.
    refused(&mut l, bill, rail, Some(exporter), all(), Code::PermissionDenied, "NOT_LEG_CARRIER").await;
    // The boxes are still at Qinzhou.
    refused(&mut l, bill, ship, Some(exporter), all(), Code::FailedPrecondition, "CONTAINER_NOT_THERE").await;
    ok(&mut l, bill, ship, None, depart(1, ilstc_boxes())).await;
    refused(&mut l, bill, ship, Some(exporter), all(), Code::FailedPrecondition, "CONTAINER_NOT_THERE").await;
    ok(&mut l, bill, ship, None, arrive(1, ilstc_boxes())).await;

    // The carrier delivers one box itself; the other is not delivered yet.
    let [first, second] = [ilstc_boxes()[0].clone(), ilstc_boxes()[1].clone()];
    ok(&mut l, bill, ship, Some(exporter), deliver(vec![first])).await;
    let c = custody_of(&mut l, bill).await;
    assert_eq!((c.containers[0].stage.as_str(), c.containers[1].stage.as_str()), ("DELIVERED", "ARRIVED"));
    assert_eq!(c.delivered_to, "");

    // Its Singapore agency delivers the other: refused without a delegation, accepted with DELIVER.
    l.register("sg-agency", pb::Role::Carrier, lei("SGAGENCY000000000005"), &[]).await;
    let agent_rec = |l: &TestLedger, p: &pb::RecordPayload| {
        let mut p = p.clone();
        p.agent = "sg-agency".into();
        signed(l, &p, &["sg-agency"])
    };
    let p = next_custody(&mut l, bill, ship, Some(exporter), deliver(vec![second.clone()])).await;
    l.assert_refused(agent_rec(&l, &p), Code::PermissionDenied, "NOT_AGENT").await;
    let (op, principal) = (l.operator.clone(), l.party(ship));
    l.client.delegate(&op, &principal, "sg-agency", &["DELIVER"], "agency agreement SG-2026-21").await.unwrap();
    let p = next_custody(&mut l, bill, ship, Some(exporter), deliver(vec![second])).await;
    let receipt = l.client.submit(agent_rec(&l, &p)).await.unwrap();
    assert_eq!(receipt.action, "DELIVER");
    let c = custody_of(&mut l, bill).await;
    assert_eq!(c.delivered_to, exporter);
    assert!(c.containers.iter().all(|b| b.stage == "DELIVERED"));
    let history = l.client.custody_history(&op, bill).await.unwrap();
    let last: pb::RecordPayload =
        prost::Message::decode(history.last().unwrap().record.as_ref().unwrap().payload.as_slice()).unwrap();
    assert_eq!((last.actor.as_str(), last.agent.as_str()), (ship, "sg-agency"));
    assert!(l.client.verify_title(&op, bill).await.unwrap().chain_verified);
}

#[tokio::test]
async fn customs_hold_and_release_only_their_own_declarations_and_a_hold_stops_only_the_sacc_of_a_delivery() {
    let (mut l, bill) = ledger_with_routed_bill("CUS-CUSTOMS-1").await;
    l.register("nl-customs", pb::Role::Customs, vec![], &["NL"]).await;
    // Not customs at all: a bank, a carrier on the route.
    refused(&mut l, bill, "cq-bank", None, hold("X-1"), Code::PermissionDenied, "NOT_CUSTOMS").await;
    refused(&mut l, bill, "cr-chongqing", None, hold("X-1"), Code::PermissionDenied, "NOT_CUSTOMS").await;
    // Customs of a country the bill does not touch.
    refused(&mut l, bill, "nl-customs", None, hold("NL2025-1"), Code::PermissionDenied, "OUTSIDE_JURISDICTION").await;
    invalid(&mut l, bill, "sg-customs", None, hold(""), "customs_hold.declaration").await;

    ok(&mut l, bill, "sg-customs", None, hold("SG2025-778812")).await;
    refused(&mut l, bill, "sg-customs", None, hold("SG2025-778812"), Code::FailedPrecondition, "HOLD_EXISTS").await;
    // Releases: of a declaration nobody holds, and of another customs party's hold.
    refused(&mut l, bill, "sg-customs", None, release("SG2025-000000"), Code::FailedPrecondition, "NO_SUCH_HOLD").await;
    refused(&mut l, bill, "cn-customs-qz", None, release("SG2025-778812"), Code::FailedPrecondition, "NO_SUCH_HOLD")
        .await;
    let holds = custody_of(&mut l, bill).await.holds;
    assert_eq!(holds.len(), 1);
    assert_eq!((holds[0].customs.as_str(), holds[0].declaration.as_str()), ("sg-customs", "SG2025-778812"));

    // Title moves under the hold: endorsement, transfer, surrender, even its rejection.
    title(&mut l, bill, "cq-machinery", Some("cq-bank"), Action::EndorseToOrder(pb::EndorseToOrder {})).await;
    title(&mut l, bill, "cq-machinery", Some("cq-bank"), Action::Transfer(pb::Transfer {})).await;
    title(&mut l, bill, "cq-bank", Some("cq-mto"), surrender()).await;
    // But the carrier may not accept a surrender for delivery while customs hold the goods.
    let err = {
        let link = l.next_link(bill).await;
        let rec = l.title_record(&l.party("cq-mto"), bill, link, None, sacc(""));
        l.assert_refused(rec, Code::FailedPrecondition, "CUSTOMS_HOLD").await
    };
    assert!(err.message().contains("SG2025-778812"), "{err:?}");
    let srej = Action::RejectSurrender(pb::RejectSurrender { reason: "awaiting customs clearance".into() });
    title(&mut l, bill, "cq-mto", None, srej).await;
    title(&mut l, bill, "cq-bank", Some("cq-mto"), surrender()).await;
    // Released by the customs that held, the surrender is accepted.
    ok(&mut l, bill, "sg-customs", None, release("SG2025-778812")).await;
    assert!(custody_of(&mut l, bill).await.holds.is_empty());
    refused(&mut l, bill, "sg-customs", None, release("SG2025-778812"), Code::FailedPrecondition, "NO_SUCH_HOLD").await;
    title(&mut l, bill, "cq-mto", None, sacc("")).await;
    assert_eq!(view(&mut l, bill).await.status, "ACCOMPLISHED");
}

#[tokio::test]
async fn only_the_issuer_reroutes_the_legs_not_started_to_the_same_destination_and_the_new_carrier_takes_over() {
    let (mut l, bill) = ledger_with_routed_bill("CUS-REROUTE-1").await;
    let (rail, issuer) = ("cr-chongqing", "cq-mto");
    let other_ship = || vec![sea_leg("ys-line", "SGSIN")];
    ok(&mut l, bill, rail, None, depart(0, ilstc_boxes())).await;
    // Before the re-routing, the other line is a stranger to the bill.
    let ys = l.party("ys-line");
    assert_eq!(l.client.bill(&ys, bill).await.unwrap_err().code(), Code::NotFound);

    // Not the issuer: a carrier of the route.
    refused(&mut l, bill, "bbw-shipping", None, reroute(1, other_ship()), Code::PermissionDenied, "NOT_ISSUER").await;
    refused(&mut l, bill, rail, None, reroute(1, other_ship()), Code::PermissionDenied, "NOT_ISSUER").await;
    // The train is under way: leg 0 is not re-planned.
    let from_start = vec![route(ILSTC)[0].clone(), sea_leg("ys-line", "SGSIN")];
    refused(&mut l, bill, issuer, None, reroute(0, from_start), Code::FailedPrecondition, "LEG_STARTED").await;
    // A new place of delivery needs a change-of-destination amendment.
    let to_klang = vec![sea_leg("ys-line", "MYPKG")];
    refused(&mut l, bill, issuer, None, reroute(1, to_klang), Code::FailedPrecondition, "DESTINATION_NEEDS_AMENDMENT")
        .await;
    // A new carrier nobody registered, a registered party that is no carrier, a gap.
    invalid(&mut l, bill, issuer, None, reroute(1, vec![sea_leg("nobody-line", "SGSIN")]), "reroute.legs[0].carrier")
        .await;
    invalid(&mut l, bill, issuer, None, reroute(1, vec![sea_leg("sg-buyer", "SGSIN")]), "reroute.legs[0].carrier")
        .await;
    let mut gap = sea_leg("ys-line", "SGSIN");
    gap.from = place("CNNNG");
    invalid(&mut l, bill, issuer, None, reroute(1, vec![gap]), "reroute.legs[0].from").await;

    // Accepted: the sea leg goes to another line, which now sees the bill.
    ok(&mut l, bill, issuer, None, reroute(1, other_ship())).await;
    let c = custody_of(&mut l, bill).await;
    assert_eq!(c.route_version, 1);
    assert_eq!(c.route[0], route(ILSTC)[0], "the leg under way is kept");
    assert_eq!((c.route[1].carrier.as_str(), c.route.len()), ("ys-line", 2));
    assert!(l.client.bill(&ys, bill).await.is_ok(), "the new carrier sees the bill");
    // The train arrives; the planned ship no longer takes over, the new line does.
    ok(&mut l, bill, rail, None, arrive(0, ilstc_boxes())).await;
    refused(&mut l, bill, rail, Some("bbw-shipping"), qinzhou(), Code::PermissionDenied, "NOT_LEG_CARRIER").await;
    assert!(verify(&mut l, bill, "ys-line", 0).await.may_proceed);
    ok(&mut l, bill, rail, Some("ys-line"), qinzhou()).await;
    ok(&mut l, bill, "ys-line", None, depart(1, ilstc_boxes())).await;
    ok(&mut l, bill, "ys-line", None, arrive(1, ilstc_boxes())).await;
    assert_eq!(boxes(&mut l, bill).await, all_at(1, "ys-line", "ARRIVED", "SGSIN"));
    let c = custody_of(&mut l, bill).await;
    assert_eq!(c.containers[0].conveyance, "vessel IMO 9074729 voyage 047W");
    // A second re-planning of a leg now under way is refused too.
    refused(&mut l, bill, issuer, None, reroute(1, other_ship()), Code::FailedPrecondition, "LEG_STARTED").await;
    // History keeps every plan: the re-routing is a record of the custody chain.
    let history = l.client.custody_history(&ys, bill).await.unwrap();
    let actions: Vec<String> = history.iter().map(|r| r.receipt.as_ref().unwrap().action.clone()).collect();
    assert_eq!(actions, ["DEPART", "REROUTE", "ARRIVE", "HANDOFF", "DEPART", "ARRIVE"]);
    assert!(l.client.verify_title(&ys, bill).await.unwrap().chain_verified);
}

#[tokio::test]
async fn a_custody_record_names_a_title_head_of_its_bill_extends_the_custody_head_and_needs_a_route() {
    let (mut l, bill) = ledger_with_routed_bill("CUS-SHAPE-1").await;
    let rail = "cr-chongqing";
    let other = issue_routed(&mut l, "CUS-SHAPE-2").await;
    // Move the title on, so the bill's head is no longer its ISSUE.
    title(&mut l, bill, "cq-machinery", Some("cq-bank"), Action::Transfer(pb::Transfer {})).await;

    // Without a title head.
    let mut p = next_custody(&mut l, bill, rail, None, depart(0, ilstc_boxes())).await;
    (p.title_position, p.title_head) = (0, vec![]);
    invalid_payload(&mut l, &p, &[rail], "title_head").await;
    // Naming the head of another bill's title chain, at its position and at this bill's.
    let o = view(&mut l, other).await;
    let mut p = next_custody(&mut l, bill, rail, None, depart(0, ilstc_boxes())).await;
    p.title_head = o.head.clone();
    invalid_payload(&mut l, &p, &[rail], "title_head").await;
    p.title_position = o.head_position;
    invalid_payload(&mut l, &p, &[rail], "title_head").await;
    // A position the title chain has not reached.
    let mut p = next_custody(&mut l, bill, rail, None, depart(0, ilstc_boxes())).await;
    p.title_position += 1;
    invalid_payload(&mut l, &p, &[rail], "title_head").await;
    // A title record does not carry one.
    let link = l.next_link(bill).await;
    let mut p = payload(ORIGIN, Some(bill), link, "cq-bank", None, Timestamp::now(), Action::Sign(pb::Sign {}));
    (p.title_position, p.title_head) = (0, view(&mut l, bill).await.head);
    invalid_payload(&mut l, &p, &["cq-bank"], "title_head").await;

    // An older head of this bill's own chain is fine: the signers saw it before the transfer.
    let history = l.client.history(&l.operator.clone(), bill).await.unwrap();
    let issue_hash = history[0].receipt.as_ref().unwrap().record_hash.clone();
    let mut p = next_custody(&mut l, bill, rail, None, depart(0, ilstc_boxes())).await;
    (p.title_position, p.title_head) = (0, issue_hash);
    let departure = signed(&l, &p, &[rail]);
    // Stale: the arrival was signed on the same custody head as the departure, which got in first.
    let p = next_custody(&mut l, bill, rail, None, arrive(0, ilstc_boxes())).await;
    let arrival = signed(&l, &p, &[rail]);
    l.client.submit(departure).await.unwrap();
    l.assert_refused(arrival, Code::Aborted, "STALE_HEAD").await;
    // At position 0 again, with no previous hash, once the chain has begun.
    let mut p = next_custody(&mut l, bill, rail, None, arrive(0, ilstc_boxes())).await;
    (p.position, p.prev_hash) = (0, vec![]);
    l.assert_refused(signed(&l, &p, &[rail]), Code::Aborted, "STALE_HEAD").await;
    ok(&mut l, bill, rail, None, arrive(0, ilstc_boxes())).await;

    // A bill issued without a route has no custody chain.
    let plain = issue_ilstc(&mut l, "CUS-SHAPE-3").await;
    for (actor, action) in [("cq-mto", depart(0, ilstc_boxes())), ("sg-customs", hold("SG2025-1"))] {
        refused(&mut l, plain, actor, None, action, Code::FailedPrecondition, "NO_ROUTE").await;
    }
    let err = l.client.verify_handoff(&l.operator.clone(), plain, 0).await.unwrap_err();
    assert_eq!((err.code(), reason_of(&err).as_str()), (Code::FailedPrecondition, "NO_ROUTE"));
}

#[tokio::test]
async fn verify_handoff_says_whether_the_goods_may_go_on_and_why_not_with_the_title_in_the_same_answer() {
    let (mut l, bill) = ledger_with_routed_bill("CUS-VERIFY-1").await;
    let (rail, ship) = ("cr-chongqing", "bbw-shipping");
    // Nothing has arrived at Qinzhou yet.
    let check = verify(&mut l, bill, ship, 0).await;
    assert!(!check.may_proceed);
    assert_eq!(reasons(&check), ["CONTAINER_NOT_THERE"]);
    ok(&mut l, bill, rail, None, depart(0, ilstc_boxes())).await;
    assert_eq!(reasons(&verify(&mut l, bill, ship, 0).await), ["CONTAINER_NOT_THERE"]);
    ok(&mut l, bill, rail, None, arrive(0, ilstc_boxes())).await;
    let check = verify(&mut l, bill, ship, 0).await;
    assert!(check.may_proceed, "{:?}", check.reasons);
    assert!(check.reasons.is_empty());
    let t = check.bill.unwrap();
    assert_eq!((t.possessor.as_str(), t.entitled.as_str()), ("cq-machinery", "cq-machinery"));

    // A hold at Singapore does not stop a handoff at Qinzhou; one at Qinzhou does, and says so.
    ok(&mut l, bill, "sg-customs", None, hold("SG2025-200001")).await;
    assert!(verify(&mut l, bill, ship, 0).await.may_proceed);
    ok(&mut l, bill, "cn-customs-qz", None, hold("QZ2025-200002")).await;
    let check = verify(&mut l, bill, rail, 0).await;
    assert!(!check.may_proceed);
    assert_eq!(reasons(&check), ["CUSTOMS_HOLD"]);
    assert!(check.reasons[0].contains("QZ2025-200002"), "{:?}", check.reasons);
    assert_eq!(check.bill.unwrap().custody.unwrap().holds.len(), 2);
    // What VerifyHandoff said is what HANDOFF does.
    refused(&mut l, bill, rail, Some(ship), qinzhou(), Code::FailedPrecondition, "CUSTOMS_HOLD").await;
    ok(&mut l, bill, "cn-customs-qz", None, release("QZ2025-200002")).await;
    assert!(verify(&mut l, bill, ship, 0).await.may_proceed);

    // The title side: a pledge to the bank, shown in the same answer.
    let pledge = Action::Pledge(pb::Pledge {
        mode: pb::PledgeMode::Possession as i32,
        loan_reference: "LC-CQ-2026-0042".into(),
    });
    title(&mut l, bill, "cq-machinery", Some("cq-bank"), pledge).await;
    let check = verify(&mut l, bill, ship, 0).await;
    assert!(check.may_proceed);
    let t = check.bill.unwrap();
    assert_eq!(
        (t.pledgee.as_str(), t.pledgor.as_str(), t.pledge_mode.as_str(), t.possessor.as_str()),
        ("cq-bank", "cq-machinery", "POSSESSION", "cq-bank")
    );
    // Released, then surrendered for delivery: the pending surrender is shown, and does not stop the goods.
    title(&mut l, bill, "cq-bank", None, Action::ReleasePledge(pb::ReleasePledge {})).await;
    title(&mut l, bill, "cq-machinery", Some("cq-mto"), surrender()).await;
    let check = verify(&mut l, bill, ship, 0).await;
    assert!(check.may_proceed, "{:?}", check.reasons);
    let t = check.bill.unwrap();
    assert_eq!(
        (t.status.as_str(), t.surrender.as_str(), t.surrendered_by.as_str(), t.pledgee.as_str()),
        ("SURRENDERED", "DELIVERY", "cq-machinery", "")
    );
    ok(&mut l, bill, rail, Some(ship), qinzhou()).await;
    // Once handed over, nothing waits at the end of leg 0; leg 1 is the last, and there is no leg 2.
    assert_eq!(reasons(&verify(&mut l, bill, ship, 0).await), ["CONTAINER_NOT_THERE"]);
    for leg in [1, 2] {
        let check = verify(&mut l, bill, ship, leg).await;
        assert!(!check.may_proceed);
        assert_eq!(reasons(&check), ["INVALID_FIELD"]);
        assert!(!check.checked_at.is_empty());
    }
}

#[tokio::test]
async fn an_amendment_keeps_goods_waiting_at_a_leg_with_the_carrier_holding_them() {
    let (mut l, bill) = ledger_with_routed_bill("CUS-AMEND-2").await;
    let (rail, ship) = ("cr-chongqing", "bbw-shipping");
    rail_to_qinzhou(&mut l, bill).await;
    ok(&mut l, bill, rail, Some(ship), qinzhou()).await;
    title(&mut l, bill, "cq-machinery", Some("cq-mto"), for_amendment(pb::AmendmentReason::Cod)).await;
    let sacc_hash = title(&mut l, bill, "cq-mto", None, sacc("")).await.record_hash;
    let carrier = l.party("cq-mto");
    let klang = to_port_klang("CUS-AMEND-2");
    // The boxes wait at Qinzhou with bbw-shipping: another line cannot be named for that leg...
    let other_line = ilstc_route(|r| r[1] = sea_leg("ys-line", "MYPKG"));
    invalid_record(&mut l, amendment(&carrier, &klang, &sacc_hash, other_line), "issue.legs[1].carrier").await;
    // ...but the line holding them may take them on to Port Klang.
    let same_line = ilstc_route(|r| r[1] = sea_leg(ship, "MYPKG"));
    l.client.submit(amendment(&carrier, &klang, &sacc_hash, same_line)).await.unwrap();
    let successor = BillId::derive(&carrier.party, "CUS-AMEND-2", 1);
    ok(&mut l, successor, ship, None, depart(1, ilstc_boxes())).await;
    assert_eq!(boxes(&mut l, successor).await, all_at(1, ship, "IN_TRANSIT", "CNQZH"));
}

#[tokio::test]
async fn a_carrier_that_carries_two_legs_in_a_row_hands_over_to_itself_checking_the_seals() {
    let mut l = TestLedger::start().await;
    journey_cast(&mut l).await;
    multimodal_cast(&mut l).await;
    // cr-chongqing carries the train and, from its own terminal at Qinzhou, the ship.
    let legs = ilstc_route(|r| r[1].carrier = "cr-chongqing".into());
    let carrier = l.party("cq-mto");
    let d = with_reference(doc_json(ILSTC), "CUS-SELF-1");
    l.client
        .submit(issue_with_route(&carrier, &d, pb::DocumentProfile::DcsaEbl3, "cq-machinery", "", legs))
        .await
        .unwrap();
    let bill = BillId::derive(&carrier.party, "CUS-SELF-1", 0);
    rail_to_qinzhou(&mut l, bill).await;
    assert!(verify(&mut l, bill, "cr-chongqing", 0).await.may_proceed);
    // One signature suffices; the seals are still checked.
    let mut seals = ilstc_seals();
    seals.pop();
    let short =
        next_custody(&mut l, bill, "cr-chongqing", Some("cr-chongqing"), handoff(0, "CNQZH", ilstc_boxes(), seals))
            .await;
    l.assert_refused(signed(&l, &short, &["cr-chongqing"]), Code::FailedPrecondition, "SEAL_MISMATCH").await;
    let p = next_custody(&mut l, bill, "cr-chongqing", Some("cr-chongqing"), qinzhou()).await;
    l.client.submit(signed(&l, &p, &["cr-chongqing"])).await.unwrap();
    ok(&mut l, bill, "cr-chongqing", None, depart(1, ilstc_boxes())).await;
    assert_eq!(boxes(&mut l, bill).await, all_at(1, "cr-chongqing", "IN_TRANSIT", "CNQZH"));
}
