//! Custody refusals through the real server, part 2: DELIVER, customs holds, re-routing, the
//! custody chain's own shape and links, and VerifyHandoff. Each refusal asserts the gRPC status,
//! the machine-readable reason (and the field, for INVALID_ARGUMENT) and an unchanged ledger
//! digest; each test ends with what is accepted. Helpers: tests/common/custody.rs.
use crate::common;

use common::custody::*;
use common::*;
use ebl_core::time::Timestamp;
use ebl_ledger::client::payload;
use ebl_ledger::pb::{self, record_payload::Action};
use tonic::Code;

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
    // Not customs at all: the exporter, a carrier on the route.
    refused(&mut l, bill, "cq-machinery", None, hold("X-1"), Code::PermissionDenied, "NOT_CUSTOMS").await;
    refused(&mut l, bill, "cr-chongqing", None, hold("X-1"), Code::PermissionDenied, "NOT_CUSTOMS").await;
    // Customs of a country the bill does not touch: for them the bill does not exist.
    refused(&mut l, bill, "nl-customs", None, hold("NL2025-1"), Code::NotFound, "NOT_FOUND").await;
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
    // Once handed over, nothing waits at the end of leg 0, and the answer says where the boxes went
    // (not that none arrived).
    let check = verify(&mut l, bill, ship, 0).await;
    assert_eq!(reasons(&check), ["CONTAINER_NOT_THERE"]);
    assert!(
        check.reasons[0].contains("arrived at CNQZH and were handed over at the end of leg 0"),
        "{:?}",
        check.reasons
    );
    assert_eq!((check.leg, check.place.as_str(), check.delivery), (0, "CNQZH", false));
    // Leg 1 is the last: its check is the delivery's (the Singapore hold, the boxes not there yet,
    // the surrender not accepted); there is no leg 2.
    let check = verify(&mut l, bill, ship, 1).await;
    assert_eq!(reasons(&check), ["CUSTOMS_HOLD", "CONTAINER_NOT_THERE", "SURRENDER_NOT_ACCEPTED"]);
    assert_eq!((check.leg, check.place.as_str(), check.delivery), (1, "SGSIN", true));
    let check = verify(&mut l, bill, ship, 2).await;
    assert!(!check.may_proceed);
    assert_eq!(reasons(&check), ["INVALID_FIELD"]);
    assert!(check.place.is_empty() && !check.checked_at.is_empty());
}
