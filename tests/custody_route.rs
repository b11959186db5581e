//! Custody refusals through the real server, part 1: the route at issue, HANDOFF, DEPART and
//! ARRIVE, and when custody ends (void, switched to paper, delivered). Each refusal asserts the
//! gRPC status, the machine-readable reason (and the field, for INVALID_ARGUMENT) and an
//! unchanged ledger digest; each test ends with what is accepted. Helpers: tests/common/custody.rs.
use crate::common;

use common::custody::*;
use common::*;
use ebl_core::ids::BillId;
use ebl_ledger::pb;
use tonic::Code;

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
    // The outgoing carrier is not the leg's: a carrier of the bill's next leg ...
    refused(&mut l, bill, ship, Some(rail), qinzhou(), Code::PermissionDenied, "NOT_LEG_CARRIER").await;
    // ... or a carrier that has no part in the bill, which is told nothing: the bill, for it,
    // does not exist.
    refused(&mut l, bill, "cj-barge", Some(ship), qinzhou(), Code::NotFound, "NOT_FOUND").await;
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
