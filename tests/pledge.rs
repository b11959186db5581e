//! PLEDGE, RELEASE_PLEDGE and ENFORCE_PLEDGE through the real server: a bank lends against the
//! bill, holds it as security only, gives it back, or on default disposes of the goods.
use crate::common;

use common::*;
use ebl_ledger::pb::{self, record_payload::Action};
use tonic::Code;

fn pledge(mode: pb::PledgeMode) -> Action {
    Action::Pledge(pb::Pledge { mode: mode as i32, loan_reference: "LC-CQ-2026-0042".into() })
}

fn release() -> Action {
    Action::ReleasePledge(pb::ReleasePledge {})
}

fn enforce() -> Action {
    Action::EnforcePledge(pb::EnforcePledge { reason: "loan unpaid at maturity".into() })
}

#[tokio::test]
async fn pledge_by_possession_holds_the_bill_as_security_until_released() {
    let (mut l, bill) = ledger_with_bill("PLG-1").await;
    let (exporter, bank) = (l.party("cq-machinery"), l.party("cq-bank"));
    let before = l.store().bill(&bill).unwrap().unwrap().holding();
    l.refuse(
        "cq-machinery",
        bill,
        Some("sg-buyer"),
        pledge(pb::PledgeMode::Possession),
        Code::FailedPrecondition,
        "PLEDGEE_NOT_A_BANK",
    )
    .await;
    let rec = {
        let link = l.next_link(bill).await;
        l.title_record(&exporter, bill, link, Some("cq-bank"), Action::Pledge(pb::Pledge::default()))
    };
    let err = l.assert_refused(rec, Code::InvalidArgument, "INVALID_FIELD").await;
    assert_eq!(field_of(&err), "pledge.mode");

    l.client.act(&exporter, bill, Some("cq-bank"), pledge(pb::PledgeMode::Possession)).await.unwrap();
    let v = l.client.bill(&bank, bill).await.unwrap();
    assert_eq!(
        (v.possessor.as_str(), v.entitled.as_str(), v.pledgee.as_str(), v.pledgor.as_str(), v.pledge_mode.as_str()),
        ("cq-bank", "cq-machinery", "cq-bank", "cq-machinery", "POSSESSION")
    );
    // The bank holds it as security only; the pledgor no longer controls it.
    l.refuse("cq-bank", bill, Some("sg-buyer"), Action::Transfer(pb::Transfer {}), Code::FailedPrecondition, "PLEDGED")
        .await;
    l.refuse(
        "cq-bank",
        bill,
        Some("cq-mto"),
        Action::SurrenderForDelivery(pb::SurrenderForDelivery {}),
        Code::FailedPrecondition,
        "PLEDGED",
    )
    .await;
    l.refuse(
        "cq-machinery",
        bill,
        Some("sg-buyer"),
        Action::Transfer(pb::Transfer {}),
        Code::PermissionDenied,
        "NOT_POSSESSOR",
    )
    .await;
    l.client.act(&bank, bill, None, Action::Sign(pb::Sign {})).await.unwrap();

    // Loan repaid: the bank releases and the title before the pledge returns exactly.
    l.client.act(&bank, bill, None, release()).await.unwrap();
    assert_eq!(l.store().bill(&bill).unwrap().unwrap().holding(), before);
    let v = l.client.bill(&exporter, bill).await.unwrap();
    assert_eq!((v.possessor.as_str(), v.pledgee.as_str()), ("cq-machinery", ""));
    l.refuse("cq-machinery", bill, None, release(), Code::FailedPrecondition, "NOT_PLEDGED").await;
    l.client.act(&exporter, bill, Some("sg-buyer"), Action::Transfer(pb::Transfer {})).await.unwrap();
    assert!(l.client.verify_title(&exporter, bill).await.unwrap().chain_verified);
}

#[tokio::test]
async fn enforced_pledge_lets_the_bank_sell_and_the_sale_can_still_be_rejected() {
    let (mut l, bill) = ledger_with_bill("PLG-2").await;
    let (exporter, bank, buyer) = (l.party("cq-machinery"), l.party("cq-bank"), l.party("sg-buyer"));
    // Endorsed to the bank but kept: the exporter is not entitled and cannot pledge.
    l.client.act(&exporter, bill, Some("cq-bank"), Action::EndorseToOrder(pb::EndorseToOrder {})).await.unwrap();
    l.refuse(
        "cq-machinery",
        bill,
        Some("cq-bank"),
        pledge(pb::PledgeMode::Endorsement),
        Code::PermissionDenied,
        "NOT_ENTITLED",
    )
    .await;
    l.client.act(&bank, bill, None, Action::Reject(pb::Reject::default())).await.unwrap();

    l.client.act(&exporter, bill, Some("cq-bank"), pledge(pb::PledgeMode::Endorsement)).await.unwrap();
    let v = l.client.bill(&bank, bill).await.unwrap();
    assert_eq!((v.endorsee.as_str(), v.pledge_mode.as_str(), v.pledge_enforced), ("cq-bank", "ENDORSEMENT", false));
    l.refuse("cq-bank", bill, Some("sg-buyer"), Action::Endorse(pb::Endorse {}), Code::FailedPrecondition, "PLEDGED")
        .await;

    // Default: the bank enforces, then sells to a buyer by endorsement and transfer.
    l.client.act(&bank, bill, None, enforce()).await.unwrap();
    l.refuse("cq-bank", bill, None, enforce(), Code::FailedPrecondition, "ALREADY_ENFORCED").await;
    let enforced = l.store().bill(&bill).unwrap().unwrap();
    l.client.act(&bank, bill, Some("sg-buyer"), Action::Endorse(pb::Endorse {})).await.unwrap();
    l.client.act(&bank, bill, Some("sg-buyer"), Action::Transfer(pb::Transfer {})).await.unwrap();
    let v = l.client.bill(&buyer, bill).await.unwrap();
    assert_eq!((v.possessor.as_str(), v.entitled.as_str(), v.pledgee.as_str()), ("sg-buyer", "sg-buyer", ""));
    let history = l.client.history(&buyer, bill).await.unwrap();
    let actions: Vec<_> = history.iter().map(|r| r.receipt.as_ref().unwrap().action.clone()).collect();
    assert_eq!(
        actions[3..],
        ["PLEDGE", "ENFORCE_PLEDGE", "ENDORSE", "TRANSFER"],
        "the sale is recorded after the enforcement"
    );

    // The buyer rejects the sale: the bank holds the bill again under its enforced pledge.
    l.client.act(&buyer, bill, None, Action::Reject(pb::Reject::default())).await.unwrap();
    let after = l.store().bill(&bill).unwrap().unwrap();
    assert_eq!((after.holding(), after.pledge.clone()), (enforced.holding(), enforced.pledge.clone()));
    // It may then dispose of the goods by surrender for delivery.
    l.client.act(&bank, bill, Some("cq-mto"), Action::SurrenderForDelivery(pb::SurrenderForDelivery {})).await.unwrap();
    l.client
        .act(&l.party("cq-mto"), bill, None, Action::AcceptSurrender(pb::AcceptSurrender::default()))
        .await
        .unwrap();
    let t = l.client.verify_title(&bank, bill).await.unwrap();
    assert!(t.chain_verified);
    assert_eq!(t.bill.unwrap().status, "ACCOMPLISHED");
}
