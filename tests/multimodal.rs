//! The multimodal journeys end to end through the real server: reference journey 1 with the
//! Qinzhou rail-to-ship handoff, the Yangtze barge-to-ship journey, and the China-Europe rail
//! journey with a change of rail carrier and the containers split across two trains. Custody
//! and title live on separate chains: a custody event never makes a title record stale.
use crate::common;

use common::*;
use ebl_core::ids::BillId;
use ebl_ledger::pb::{self, record_payload::Action};

fn depart(leg: u32, containers: Vec<String>) -> Action {
    Action::Depart(pb::Depart { leg, containers, conveyance: None })
}

fn arrive(leg: u32, containers: Vec<String>) -> Action {
    Action::Arrive(pb::Arrive { leg, containers })
}

fn handoff(leg: u32, place: &str, containers: Vec<String>, seals: Vec<pb::SealCheck>) -> Action {
    Action::Handoff(pb::Handoff { leg, place: place.into(), containers, seals, exceptions: vec![] })
}

fn custody(v: &pb::BillView) -> pb::CustodyView {
    v.custody.clone().expect("a routed bill has custody")
}

/// (container, leg, carrier, stage, location) of every container.
fn boxes(v: &pb::BillView) -> Vec<(String, u32, String, String, String)> {
    custody(v).containers.into_iter().map(|c| (c.container, c.leg, c.carrier, c.stage, c.location)).collect()
}

#[tokio::test]
async fn journey_1_rail_sea_with_the_qinzhou_handoff_and_a_letter_of_credit() {
    let (mut l, bill) = ledger_with_routed_bill("ILSTC-MM-1").await;
    let (rail, ship) = (l.party("cr-chongqing"), l.party("bbw-shipping"));
    let (exporter, bank, buyer, op) =
        (l.party("cq-machinery"), l.party("cq-bank"), l.party("sg-buyer"), l.operator.clone());

    // At issue: both boxes ready at Chongqing with the rail carrier; the carriers see the bill.
    let v = l.client.bill(&rail, bill).await.unwrap();
    assert_eq!(custody(&v).route.len(), 2);
    for (_, leg, carrier, stage, at) in boxes(&v) {
        assert_eq!((leg, carrier.as_str(), stage.as_str(), at.as_str()), (0, "cr-chongqing", "READY", "CNCKG"));
    }
    assert!(l.client.bill(&ship, bill).await.is_ok(), "the ocean carrier is on the route");

    // Title moves while the train runs: the exporter endorses to its bank, which checks title.
    l.client.custody(&rail, bill, None, depart(0, ilstc_boxes()), &[]).await.unwrap();
    l.client.act(&exporter, bill, Some("cq-bank"), Action::EndorseToOrder(pb::EndorseToOrder {})).await.unwrap();
    l.client.act(&exporter, bill, Some("cq-bank"), Action::Transfer(pb::Transfer {})).await.unwrap();
    l.client.custody(&rail, bill, None, arrive(0, ilstc_boxes()), &[]).await.unwrap();

    // At Qinzhou, at 3 a.m.: one call says who holds title and whether the goods may go on.
    let check = l.client.verify_handoff(&ship, bill, 0).await.unwrap();
    assert!(check.may_proceed, "{:?}", check.reasons);
    let title = check.bill.as_ref().unwrap();
    assert_eq!((title.possessor.as_str(), title.entitled.as_str()), ("cq-bank", "cq-bank"));
    // Both carriers sign the same bytes; every seal is checked.
    let receipt = l
        .client
        .custody(&rail, bill, Some("bbw-shipping"), handoff(0, "CNQZH", ilstc_boxes(), ilstc_seals()), &[&ship])
        .await
        .unwrap();
    assert_eq!(receipt.action, "HANDOFF");
    let v = l.client.bill(&op, bill).await.unwrap();
    for (_, leg, carrier, stage, at) in boxes(&v) {
        assert_eq!((leg, carrier.as_str(), stage.as_str(), at.as_str()), (1, "bbw-shipping", "READY", "CNQZH"));
    }
    // The handoff names the title head its signers saw.
    let history = l.client.custody_history(&op, bill).await.unwrap();
    let last: pb::RecordPayload =
        prost::Message::decode(history.last().unwrap().record.as_ref().unwrap().payload.as_slice()).unwrap();
    assert_eq!((last.title_position, last.title_head.clone()), (title.head_position, title.head.clone()));
    assert_eq!(history.last().unwrap().record.as_ref().unwrap().signatures.len(), 2);

    l.client.custody(&ship, bill, None, depart(1, ilstc_boxes()), &[]).await.unwrap();
    // On payment the bank endorses to the buyer and transfers, while at sea.
    l.client.act(&bank, bill, Some("sg-buyer"), Action::Endorse(pb::Endorse {})).await.unwrap();
    l.client.act(&bank, bill, Some("sg-buyer"), Action::Transfer(pb::Transfer {})).await.unwrap();
    l.client.custody(&ship, bill, None, arrive(1, ilstc_boxes()), &[]).await.unwrap();
    // Singapore customs hold the goods: the carrier may not accept the surrender meanwhile.
    let customs = l.party("sg-customs");
    let hold =
        Action::CustomsHold(pb::CustomsHold { declaration: "SG2025-778812".into(), reason: "inspection".into() });
    l.client.custody(&customs, bill, None, hold, &[]).await.unwrap();
    l.client
        .act(&buyer, bill, Some("cq-mto"), Action::SurrenderForDelivery(pb::SurrenderForDelivery {}))
        .await
        .unwrap();
    let sacc = Action::AcceptSurrender(pb::AcceptSurrender { paper_bill_number: String::new() });
    l.refuse("cq-mto", bill, None, sacc.clone(), tonic::Code::FailedPrecondition, "CUSTOMS_HOLD").await;
    let release =
        Action::CustomsRelease(pb::CustomsRelease { declaration: "SG2025-778812".into(), reason: "cleared".into() });
    l.client.custody(&customs, bill, None, release, &[]).await.unwrap();
    l.client.act(&l.party("cq-mto"), bill, None, sacc).await.unwrap();
    // The last carrier delivers to the buyer, whose surrender was accepted.
    let deliver = Action::Deliver(pb::Deliver { containers: ilstc_boxes() });
    l.client.custody(&ship, bill, Some("sg-buyer"), deliver, &[]).await.unwrap();
    let v = l.client.bill(&customs, bill).await.unwrap();
    assert_eq!((v.status.as_str(), custody(&v).delivered_to.as_str()), ("ACCOMPLISHED", "sg-buyer"));

    // Singapore customs look the container up, then read its history: custody chain, title chain.
    let by_box = pb::FindBillsRequest { container: "CQLU4518208".into(), ..Default::default() };
    let found = l.client.find_bills(&customs, by_box.clone()).await.unwrap();
    assert_eq!(found.bills.iter().map(|b| b.bill_id.clone()).collect::<Vec<_>>(), [bill.0 .0.to_vec()]);
    assert_eq!((found.bills[0].status.as_str(), found.bills[0].entitled.as_str()), ("ACCOMPLISHED", "sg-buyer"));
    // By place too: Qinzhou is a place of the bill (its port of loading and a leg's end), so
    // Chinese customs at Qinzhou find it; Singapore customs see it as well (it ends in Singapore).
    let by_place = pb::FindBillsRequest { locode: "CNQZH".into(), ..Default::default() };
    let qz = l.party("cn-customs-qz");
    assert_eq!(l.client.find_bills(&qz, by_place.clone()).await.unwrap().bills.len(), 1);
    assert_eq!(l.client.find_bills(&customs, by_place).await.unwrap().bills.len(), 1);
    // A party that has no part in the bill finds nothing, exactly as if there were nothing.
    let stranger = l.party("ys-line");
    assert!(l.client.find_bills(&stranger, by_box).await.unwrap().bills.is_empty());
    let both = pb::FindBillsRequest { container: "CQLU4518208".into(), party: "sg-buyer".into(), ..Default::default() };
    let err = l.client.find_bills(&customs, both).await.unwrap_err();
    assert_eq!((err.code(), reason_of(&err)), (tonic::Code::InvalidArgument, "INVALID_FIELD".to_string()));
    let custody_records = l.client.custody_history(&customs, bill).await.unwrap();
    let actions: Vec<String> = custody_records.iter().map(|r| r.receipt.as_ref().unwrap().action.clone()).collect();
    assert_eq!(
        actions,
        ["DEPART", "ARRIVE", "HANDOFF", "DEPART", "ARRIVE", "CUSTOMS_HOLD", "CUSTOMS_RELEASE", "DELIVER"]
    );
    // Both chains replay to the stored states, after a restart too.
    let mut l = l.restart().await;
    let t = l.client.verify_title(&buyer, bill).await.unwrap();
    assert!(t.chain_verified);
    assert_eq!(t.records_checked, 7 + 8);
    assert_eq!(custody(t.bill.as_ref().unwrap()).delivered_to, "sg-buyer");
}

#[tokio::test]
async fn a_custody_event_between_signing_and_submitting_a_title_record_does_not_make_it_stale() {
    let (mut l, bill) = ledger_with_routed_bill("ILSTC-MM-2").await;
    let (rail, exporter) = (l.party("cr-chongqing"), l.party("cq-machinery"));
    let link = l.next_link(bill).await;
    let transfer = l.title_record(&exporter, bill, link, Some("cq-bank"), Action::Transfer(pb::Transfer {}));
    // The train leaves between the signature and the submission.
    let departure = l.client.custody_record(&rail, bill, None, depart(0, ilstc_boxes()), &[]).await.unwrap();
    l.client.submit(departure).await.unwrap();
    l.client.submit(transfer).await.unwrap();
    // And the reverse: a custody event signed before a title record still applies after it.
    let arrival = l.client.custody_record(&rail, bill, None, arrive(0, ilstc_boxes()), &[]).await.unwrap();
    l.client.act(&l.party("cq-bank"), bill, None, Action::Sign(pb::Sign {})).await.unwrap();
    l.client.submit(arrival).await.unwrap();
    let v = l.client.bill(&exporter, bill).await.unwrap();
    assert_eq!(v.possessor, "cq-bank");
    assert!(boxes(&v).iter().all(|b| b.3 == "ARRIVED"));
}

#[tokio::test]
async fn yangtze_barge_to_ship_at_shanghai_with_a_changed_seal() {
    let mut l = TestLedger::start().await;
    journey_cast(&mut l).await;
    multimodal_cast(&mut l).await;
    let yangtze = doc_json(YANGTZE);
    l.register("nl-consignee", pb::Role::Trader, codes_of(&yangtze, "consignee"), &[]).await;
    let (carrier, barge, ship) = (l.party("cq-mto"), l.party("cj-barge"), l.party("ys-line"));
    let doc = serde_json::to_vec(&yangtze).unwrap();
    let rec =
        issue_with_route(&carrier, &doc, pb::DocumentProfile::DcsaEbl3, "cq-machinery", "nl-consignee", route(YANGTZE));
    l.client.submit(rec).await.unwrap();
    let bill = BillId::derive(&carrier.party, &reference_of(&doc), 0);
    let boxes_ = vec!["YZRU2290419".to_string()];

    l.client.custody(&barge, bill, None, depart(0, boxes_.clone()), &[]).await.unwrap();
    l.client.custody(&barge, bill, None, arrive(0, boxes_.clone()), &[]).await.unwrap();
    // At Shanghai the shipping line finds a broken seal: it is replaced, with the reason, and the
    // damage noted; the straight bill's title stays with the exporter meanwhile.
    let seals = vec![
        pb::SealCheck { container: "YZRU2290419".into(), seal: "YGS250520118".into(), ..Default::default() },
        pb::SealCheck {
            container: "YZRU2290419".into(),
            seal: "SHP0034817".into(),
            new_seal: "YSL0099120".into(),
            reason: "seal cracked in barge transit; resealed in the presence of the barge master".into(),
        },
    ];
    let mut h = handoff(0, "CNSHA", boxes_.clone(), seals);
    if let Action::Handoff(h) = &mut h {
        h.exceptions = vec!["YZRU2290419: dent on the left side panel, cargo unaffected".into()];
    }
    l.client.custody(&barge, bill, Some("ys-line"), h, &[&ship]).await.unwrap();
    let v = l.client.bill(&ship, bill).await.unwrap();
    let c = &custody(&v).containers[0];
    assert_eq!((c.carrier.as_str(), c.leg, c.stage.as_str()), ("ys-line", 1, "READY"));
    assert_eq!(c.seals, ["YGS250520118", "YSL0099120"]);
    assert_eq!(c.exceptions.len(), 1);
    assert_eq!((v.kind.as_str(), v.possessor.as_str()), ("STRAIGHT", "cq-machinery"));
    l.client.custody(&ship, bill, None, depart(1, boxes_.clone()), &[]).await.unwrap();
    let t = l.client.verify_title(&ship, bill).await.unwrap();
    assert!(t.chain_verified);
}

#[tokio::test]
async fn china_europe_rail_with_a_change_of_rail_carrier_and_a_split_across_two_trains() {
    let mut l = TestLedger::start().await;
    journey_cast(&mut l).await;
    multimodal_cast(&mut l).await;
    let (carrier, db, cr) = (l.party("cq-mto"), l.party("db-cargo"), l.party("cr-express"));
    let doc = doc(RAIL);
    let rec = issue_with_route(&carrier, &doc, pb::DocumentProfile::NoSeaLeg, "cq-machinery", "", route(RAIL));
    l.client.submit(rec).await.unwrap();
    let bill = BillId::derive(&carrier.party, &reference_of(&doc), 0);
    let all = vec!["CEXU7731041".to_string(), "CEXU7731627".to_string()];
    l.client.custody(&db, bill, None, depart(0, all.clone()), &[]).await.unwrap();
    l.client.custody(&db, bill, None, arrive(0, all.clone()), &[]).await.unwrap();
    let seals = |c: &str, s: [&str; 2]| {
        s.iter()
            .map(|s| pb::SealCheck { container: c.into(), seal: s.to_string(), ..Default::default() })
            .collect::<Vec<_>>()
    };
    let mut checks = seals("CEXU7731041", ["RYR0418832", "DE25ZA031977"]);
    checks.extend(seals("CEXU7731627", ["RYR0418833", "DE25ZA031978"]));
    // At Malaszewicze, at the gauge change, DB Cargo hands over to China Railway Express.
    l.client.custody(&db, bill, Some("cr-express"), handoff(0, "PLMAL", all.clone(), checks), &[&cr]).await.unwrap();
    // The boxes leave on two trains.
    for (boxes_, train) in [(vec![all[0].clone()], "X8044"), (vec![all[1].clone()], "X8046")] {
        let conveyance = pb::Conveyance { train_number: train.into(), ..Default::default() };
        let action = Action::Depart(pb::Depart { leg: 1, containers: boxes_, conveyance: Some(conveyance) });
        l.client.custody(&cr, bill, None, action, &[]).await.unwrap();
    }
    let v = l.client.bill(&cr, bill).await.unwrap();
    let trains: Vec<String> = custody(&v).containers.iter().map(|c| c.conveyance.clone()).collect();
    assert_eq!(trains, ["train X8044", "train X8046"]);
    // The first train arrives; the second is still on its way.
    l.client.custody(&cr, bill, None, arrive(1, vec![all[0].clone()]), &[]).await.unwrap();
    let stages: Vec<String> = boxes(&l.client.bill(&cr, bill).await.unwrap()).into_iter().map(|b| b.3).collect();
    assert_eq!(stages, ["ARRIVED", "IN_TRANSIT"]);
    assert!(!v.pint_exportable, "a bill with no sea leg is not exportable over PINT");
    let t = l.client.verify_title(&cr, bill).await.unwrap();
    assert!(t.chain_verified);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replaying_a_bill_while_it_moves_never_reports_a_broken_chain() {
    let (l, bill) = ledger_with_routed_bill("ILSTC-MM-RACE").await;
    let (exporter, rail) = (l.party("cq-machinery"), l.party("cr-chongqing"));
    let mut writer = l.client.clone();
    let signing = tokio::spawn(async move {
        for i in 0..80 {
            writer.act(&exporter, bill, None, Action::Sign(pb::Sign {})).await.unwrap();
            if i == 40 {
                writer.custody(&rail, bill, None, depart(0, ilstc_boxes()), &[]).await.unwrap();
            }
        }
    });
    // Replays as fast as they go while the writer extends both chains under them.
    let store = l.store_handle();
    let operator = ebl_core::sig::PublicKey(l.operator.key.verifying_key().to_bytes());
    let (mut replays, mut busy) = (0, 0);
    while !signing.is_finished() {
        let (store, operator) = (store.clone(), operator);
        let r = tokio::task::spawn_blocking(move || ebl_ledger::replay::replay_bill(&store, ORIGIN, &operator, &bill))
            .await
            .unwrap();
        match r {
            Ok(_) => replays += 1,
            // The one acceptable refusal: the bill kept moving through every attempt.
            Err(ebl_ledger::error::LedgerError::Unavailable(_)) => busy += 1,
            Err(e) => panic!("replay {replays} while the bill moved: {e}"),
        }
    }
    signing.await.unwrap();
    // How many replays fit between the moves depends on the load of the machine (about 20 on a
    // quiet one, under 10 with the other tests of this binary running): a few are enough to show
    // that a replay under a moving bill completes, and none may report a broken chain.
    assert!(replays >= 3, "{replays} replays, {busy} busy");
}
