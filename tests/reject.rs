//! REJECT through the real server: the recipient of a transfer or endorsement refuses it as its
//! very next action and the title before it returns exactly; anything else first accepts it.
use crate::common;

use common::*;
use ebl_core::bill::Holding;
use ebl_core::ids::BillId;
use ebl_ledger::pb::{self, record_payload::Action};
use tonic::Code;

fn reject() -> Action {
    Action::Reject(pb::Reject { reason: "not the goods we bought".into() })
}

fn holding(l: &TestLedger, bill: BillId) -> Holding {
    l.store().bill(&bill).unwrap().unwrap().holding()
}

#[tokio::test]
async fn endorsement_and_transfer_to_one_party_are_rejected_together_and_the_title_returns() {
    let (mut l, bill) = ledger_with_bill("REJ-1").await;
    let (exporter, bank) = (l.party("cq-machinery"), l.party("cq-bank"));
    let before = holding(&l, bill);
    l.client.act(&exporter, bill, Some("cq-bank"), Action::EndorseToOrder(pb::EndorseToOrder {})).await.unwrap();
    l.client.act(&exporter, bill, Some("cq-bank"), Action::Transfer(pb::Transfer {})).await.unwrap();
    let v = l.client.bill(&bank, bill).await.unwrap();
    assert_eq!(
        (v.possessor.as_str(), v.entitled.as_str(), v.rejectable_by.as_str()),
        ("cq-bank", "cq-bank", "cq-bank")
    );

    let r = l.client.act(&bank, bill, None, reject()).await.unwrap();
    assert_eq!((r.action.as_str(), r.position), ("REJECT", 3));
    assert_eq!(holding(&l, bill), before, "the bank holding both roles rejects both at once");
    let v = l.client.bill(&exporter, bill).await.unwrap();
    assert_eq!((v.possessor.as_str(), v.blank_endorsed, v.rejectable_by.as_str()), ("cq-machinery", true, ""));

    // Rejected once, nothing is open: not to the bank, not to anyone.
    let link = l.next_link(bill).await;
    l.assert_refused(l.title_record(&bank, bill, link, None, reject()), Code::FailedPrecondition, "NOTHING_TO_REJECT")
        .await;
    // The exporter holds the bill again and moves it; the chain still replays.
    l.client.act(&exporter, bill, Some("sg-buyer"), Action::Transfer(pb::Transfer {})).await.unwrap();
    let t = l.client.verify_title(&exporter, bill).await.unwrap();
    assert!(t.chain_verified);
    assert_eq!(t.bill.unwrap().possessor, "sg-buyer");
}

#[tokio::test]
async fn only_the_recipient_rejects_and_only_as_its_very_next_action() {
    let (mut l, bill) = ledger_with_bill("REJ-2").await;
    let (exporter, bank, buyer) = (l.party("cq-machinery"), l.party("cq-bank"), l.party("sg-buyer"));
    l.client.act(&exporter, bill, Some("cq-bank"), Action::Transfer(pb::Transfer {})).await.unwrap();
    let link = l.next_link(bill).await;
    // A party of the bill that is not the recipient is told who is; a stranger to the bill is
    // told nothing (for it the bill does not exist).
    let rec = l.title_record(&exporter, bill, link, None, reject());
    let err = l.assert_refused(rec, Code::PermissionDenied, "NOT_RECIPIENT").await;
    assert!(err.message().contains("cq-bank"), "{err:?}");
    let rec = l.title_record(&buyer, bill, link, None, reject());
    let err = l.assert_refused(rec, Code::NotFound, "NOT_FOUND").await;
    assert!(!err.message().contains("cq-bank"), "{err:?}");
    // The bank signs first: that accepts the transfer, and a later reject is refused.
    l.client.act(&bank, bill, None, Action::Sign(pb::Sign {})).await.unwrap();
    let link = l.next_link(bill).await;
    l.assert_refused(l.title_record(&bank, bill, link, None, reject()), Code::FailedPrecondition, "NOTHING_TO_REJECT")
        .await;
    // A reject names no recipient: the restored title is not the rejector's to choose.
    let link = l.next_link(bill).await;
    let rec = l.title_record(&bank, bill, link, Some("cq-machinery"), reject());
    let err = l.assert_refused(rec, Code::InvalidArgument, "INVALID_FIELD").await;
    assert_eq!(field_of(&err), "recipient");
}

#[tokio::test]
async fn a_reject_rolls_back_exactly_one_offer() {
    let (mut l, bill) = ledger_with_bill("REJ-3").await;
    let (exporter, bank, buyer) = (l.party("cq-machinery"), l.party("cq-bank"), l.party("sg-buyer"));
    l.client.act(&exporter, bill, Some("cq-bank"), Action::Transfer(pb::Transfer {})).await.unwrap();
    let with_bank = holding(&l, bill);
    // The bank passing the bill on accepts it; the buyer's reject returns it to the bank, not further.
    l.client.act(&bank, bill, Some("sg-buyer"), Action::Transfer(pb::Transfer {})).await.unwrap();
    l.client.act(&buyer, bill, None, reject()).await.unwrap();
    assert_eq!(holding(&l, bill), with_bank);
    let v = l.client.bill(&bank, bill).await.unwrap();
    assert_eq!((v.possessor.as_str(), v.rejectable_by.as_str()), ("cq-bank", ""));
}

#[tokio::test]
async fn the_offerers_own_sign_leaves_an_endorsement_open_to_rejection() {
    let (mut l, bill) = ledger_with_bill("REJ-4").await;
    let (exporter, bank) = (l.party("cq-machinery"), l.party("cq-bank"));
    let before = holding(&l, bill);
    l.client.act(&exporter, bill, Some("cq-bank"), Action::Endorse(pb::Endorse {})).await.unwrap();
    l.client.act(&exporter, bill, None, Action::Sign(pb::Sign {})).await.unwrap();
    // The endorsee does not possess the bill, yet it may refuse being named.
    let v = l.client.bill(&bank, bill).await.unwrap();
    assert_eq!(
        (v.possessor.as_str(), v.entitled.as_str(), v.rejectable_by.as_str()),
        ("cq-machinery", "cq-bank", "cq-bank")
    );
    l.client.act(&bank, bill, None, reject()).await.unwrap();
    assert_eq!(holding(&l, bill), before);
    // A restart keeps it, and the stored state is what the records replay to.
    let before_restart = l.digest();
    let l = l.restart().await;
    assert_eq!(l.digest(), before_restart);
    let stored = l.store().bill(&bill).unwrap().unwrap();
    let operator = ebl_core::sig::PublicKey(l.operator.key.verifying_key().to_bytes());
    let replayed = ebl_ledger::replay::replay_bill(l.store(), ORIGIN, &operator, &bill).unwrap();
    assert_eq!((replayed.state, replayed.records), (stored, 4));
}
