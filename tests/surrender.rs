//! Surrender for delivery and for amendment, SACC and SREJ, switch to paper and amended bills,
//! through the real server. Every refusal asserts status, reason and an unchanged ledger.
use crate::common;

use common::*;
use ebl_core::hash::Hash32;
use ebl_core::ids::BillId;
use ebl_core::time::Timestamp;
use ebl_ledger::client::{payload, sign, Link};
use ebl_ledger::pb::{self, record_payload::Action};
use tonic::Code;

fn for_delivery() -> Action {
    Action::SurrenderForDelivery(pb::SurrenderForDelivery {})
}

fn for_amendment(r: pb::AmendmentReason) -> Action {
    Action::SurrenderForAmendment(pb::SurrenderForAmendment { reason: r as i32 })
}

fn sacc(paper: &str) -> Action {
    Action::AcceptSurrender(pb::AcceptSurrender { paper_bill_number: paper.into() })
}

fn srej() -> Action {
    Action::RejectSurrender(pb::RejectSurrender { reason: "documents do not match the cargo".into() })
}

#[tokio::test]
async fn surrender_for_delivery_is_decided_by_the_issuer_and_accepted_is_terminal() {
    let (mut l, bill) = ledger_with_bill("SUR-1").await;
    let (exporter, carrier) = (l.party("cq-machinery"), l.party("cq-mto"));
    // Only to the issuing carrier.
    let link = l.next_link(bill).await;
    let err = l
        .assert_refused(
            l.title_record(&exporter, bill, link, Some("cq-bank"), for_delivery()),
            Code::InvalidArgument,
            "INVALID_FIELD",
        )
        .await;
    assert_eq!(field_of(&err), "recipient");

    l.client.act(&exporter, bill, Some("cq-mto"), for_delivery()).await.unwrap();
    let v = l.client.bill(&exporter, bill).await.unwrap();
    assert_eq!(
        (v.status.as_str(), v.possessor.as_str(), v.surrender.as_str(), v.surrendered_by.as_str()),
        ("SURRENDERED", "cq-mto", "DELIVERY", "cq-machinery")
    );
    // While pending nothing else moves the bill, not even the carrier holding it.
    l.refuse(
        "cq-mto",
        bill,
        Some("cq-bank"),
        Action::Transfer(pb::Transfer {}),
        Code::FailedPrecondition,
        "SURRENDER_PENDING",
    )
    .await;
    l.refuse(
        "cq-machinery",
        bill,
        None,
        Action::Reject(pb::Reject::default()),
        Code::FailedPrecondition,
        "SURRENDER_PENDING",
    )
    .await;
    // Only the issuer decides (the exporter surrendered it; the bank is a stranger to this bill
    // and is told nothing), and a paper bill number belongs to a switch to paper only.
    l.refuse("cq-machinery", bill, None, sacc(""), Code::PermissionDenied, "NOT_ISSUER").await;
    l.refuse("cq-bank", bill, None, sacc(""), Code::NotFound, "NOT_FOUND").await;
    l.refuse("cq-mto", bill, None, sacc("PAPER-1"), Code::InvalidArgument, "INVALID_FIELD").await;

    l.client.act(&carrier, bill, None, sacc("")).await.unwrap();
    let v = l.client.bill(&exporter, bill).await.unwrap();
    assert_eq!((v.status.as_str(), v.surrender.as_str()), ("ACCOMPLISHED", "DELIVERY"));
    // Terminal: nothing follows, whoever signs.
    l.refuse("cq-mto", bill, None, Action::Sign(pb::Sign {}), Code::FailedPrecondition, "BILL_NOT_LIVE").await;
    l.refuse("cq-mto", bill, None, srej(), Code::FailedPrecondition, "BILL_NOT_LIVE").await;
    assert!(l.client.verify_title(&exporter, bill).await.unwrap().chain_verified);
}

#[tokio::test]
async fn srej_returns_the_title_and_only_the_entitled_possessor_surrenders() {
    let (mut l, bill) = ledger_with_bill("SUR-2").await;
    let (exporter, bank, carrier) = (l.party("cq-machinery"), l.party("cq-bank"), l.party("cq-mto"));
    l.refuse("cq-mto", bill, None, sacc(""), Code::FailedPrecondition, "NOTHING_SURRENDERED").await;
    // Endorsed to the bank but not handed over: the exporter possesses without being entitled.
    l.client.act(&exporter, bill, Some("cq-bank"), Action::EndorseToOrder(pb::EndorseToOrder {})).await.unwrap();
    l.refuse("cq-machinery", bill, Some("cq-mto"), for_delivery(), Code::PermissionDenied, "NOT_ENTITLED").await;
    l.client.act(&exporter, bill, Some("cq-bank"), Action::Transfer(pb::Transfer {})).await.unwrap();
    l.refuse(
        "cq-bank",
        bill,
        Some("cq-mto"),
        Action::SurrenderForAmendment(pb::SurrenderForAmendment { reason: 0 }),
        Code::InvalidArgument,
        "INVALID_FIELD",
    )
    .await;
    let before = l.store().bill(&bill).unwrap().unwrap().holding();

    l.client.act(&bank, bill, Some("cq-mto"), for_delivery()).await.unwrap();
    l.client.act(&carrier, bill, None, srej()).await.unwrap();
    let state = l.store().bill(&bill).unwrap().unwrap();
    assert_eq!(state.holding(), before, "SREJ restores possessor and endorsee");
    let v = l.client.bill(&bank, bill).await.unwrap();
    assert_eq!((v.status.as_str(), v.surrender.as_str()), ("ISSUED", ""));
    l.refuse("cq-mto", bill, None, srej(), Code::FailedPrecondition, "NOTHING_SURRENDERED").await;
    // The bank holds the bill again and can move it.
    l.client.act(&bank, bill, Some("sg-buyer"), Action::Endorse(pb::Endorse {})).await.unwrap();
    assert!(l.client.verify_title(&bank, bill).await.unwrap().chain_verified);
}

#[tokio::test]
async fn switch_to_paper_records_the_paper_bill_and_ends_the_electronic_one() {
    let (mut l, bill) = ledger_with_bill("SUR-3").await;
    let (exporter, carrier) = (l.party("cq-machinery"), l.party("cq-mto"));
    l.client.act(&exporter, bill, Some("cq-mto"), for_amendment(pb::AmendmentReason::Swtp)).await.unwrap();
    let err = {
        let link = l.next_link(bill).await;
        l.assert_refused(l.title_record(&carrier, bill, link, None, sacc("")), Code::InvalidArgument, "INVALID_FIELD")
            .await
    };
    assert_eq!(field_of(&err), "accept_surrender.paper_bill_number");
    l.client.act(&carrier, bill, None, sacc("CQMTO-PAPER-000187")).await.unwrap();
    let v = l.client.bill(&exporter, bill).await.unwrap();
    assert_eq!(
        (v.status.as_str(), v.surrender.as_str(), v.paper_bill_number.as_str(), v.successor.len()),
        ("SWITCHED_TO_PAPER", "SWTP", "CQMTO-PAPER-000187", 0)
    );
    l.refuse(
        "cq-mto",
        bill,
        Some("cq-machinery"),
        Action::Transfer(pb::Transfer {}),
        Code::FailedPrecondition,
        "BILL_NOT_LIVE",
    )
    .await;
}

/// An ISSUE of `reference` at `amendment`, citing `amends`, to `to`.
fn amended_issue(
    l: &TestLedger,
    reference: &str,
    amendment: u32,
    amends: Option<Hash32>,
    to: &str,
) -> pb::SignedRecord {
    let carrier = l.party("cq-mto");
    let bill = BillId::derive(&carrier.party, reference, amendment);
    let action = Action::Issue(pb::Issue {
        document: with_reference(doc_json(ILSTC), reference),
        profile: pb::DocumentProfile::DcsaEbl3 as i32,
        amendment,
        consignee: String::new(),
        endorsee: String::new(),
        issuance_manifest: String::new(),
        amends: amends.map(|h| h.0.to_vec()).unwrap_or_default(),
        legs: vec![],
    });
    let p = payload(ORIGIN, Some(bill), Link::default(), "cq-mto", Some(to), Timestamp::now(), action);
    sign(&p, &[&carrier])
}

#[tokio::test]
async fn change_of_destination_voids_the_bill_and_its_successor_cites_the_sacc() {
    let (mut l, bill) = ledger_with_bill("SUR-4").await;
    let (exporter, carrier) = (l.party("cq-machinery"), l.party("cq-mto"));
    // No amendment before an accepted surrender for amendment; no citation on an original.
    let rec = amended_issue(&l, "SUR-4", 1, None, "cq-machinery");
    l.assert_refused(rec, Code::FailedPrecondition, "AMENDMENT_WITHOUT_SURRENDER").await;
    let rec = amended_issue(&l, "SUR-4B", 0, Some(Hash32([1; 32])), "cq-machinery");
    let err = l.assert_refused(rec, Code::InvalidArgument, "INVALID_FIELD").await;
    assert_eq!(field_of(&err), "issue.amends");

    l.client.act(&exporter, bill, Some("cq-mto"), for_amendment(pb::AmendmentReason::Cod)).await.unwrap();
    let r = l.client.act(&carrier, bill, None, sacc("")).await.unwrap();
    let sacc_hash = Hash32(r.record_hash.clone().try_into().unwrap());
    let successor = BillId::derive(&carrier.party, "SUR-4", 1);
    let v = l.client.bill(&exporter, bill).await.unwrap();
    assert_eq!((v.status.as_str(), v.surrender.as_str()), ("VOID", "COD"));
    assert_eq!(v.successor, successor.0 .0.to_vec());
    l.refuse(
        "cq-mto",
        bill,
        Some("cq-machinery"),
        Action::Transfer(pb::Transfer {}),
        Code::FailedPrecondition,
        "BILL_NOT_LIVE",
    )
    .await;

    // The successor must cite that SACC, go to whoever surrendered, and follow in order.
    let err = l
        .assert_refused(
            amended_issue(&l, "SUR-4", 1, Some(Hash32([7; 32])), "cq-machinery"),
            Code::InvalidArgument,
            "INVALID_FIELD",
        )
        .await;
    assert_eq!(field_of(&err), "issue.amends");
    let err = l
        .assert_refused(
            amended_issue(&l, "SUR-4", 1, Some(sacc_hash), "cq-bank"),
            Code::InvalidArgument,
            "INVALID_FIELD",
        )
        .await;
    assert_eq!(field_of(&err), "recipient");
    l.assert_refused(
        amended_issue(&l, "SUR-4", 2, Some(sacc_hash), "cq-machinery"),
        Code::FailedPrecondition,
        "AMENDMENT_WITHOUT_SURRENDER",
    )
    .await;

    l.client.submit(amended_issue(&l, "SUR-4", 1, Some(sacc_hash), "cq-machinery")).await.unwrap();
    let v = l.client.bill(&exporter, successor).await.unwrap();
    assert_eq!((v.status.as_str(), v.amendment, v.possessor.as_str()), ("ISSUED", 1, "cq-machinery"));
    assert_eq!(v.amends, sacc_hash.0.to_vec());
    // Never two live bills for the goods: a second successor is the same bill id, refused.
    l.assert_refused(
        amended_issue(&l, "SUR-4", 1, Some(sacc_hash), "cq-machinery"),
        Code::AlreadyExists,
        "BILL_EXISTS",
    )
    .await;
    // The successor's chain replays, looking up the voided predecessor.
    let t = l.client.verify_title(&exporter, successor).await.unwrap();
    assert!(t.chain_verified);
    l.client.act(&exporter, successor, Some("cq-bank"), Action::Transfer(pb::Transfer {})).await.unwrap();
}
