//! Signed reads: unsigned, replayed, expired or misdirected reads are refused; a party sees
//! only bills it has been part of, customs those touching their jurisdiction, auditors all;
//! anything else is NOT_FOUND exactly like a bill that does not exist.
use crate::common;

use common::*;
use ebl_core::ids::BillId;
use ebl_ledger::client::{signed_read, Identity};
use ebl_ledger::pb;
use prost::Message;
use tonic::Code;

const GET_BILL: &str = "/ebl.v1.Ledger/GetBill";

fn req(bill: BillId) -> pb::GetBillRequest {
    pb::GetBillRequest { bill_id: bill.0 .0.to_vec() }
}

#[tokio::test]
async fn unsigned_replayed_expired_and_misdirected_reads() {
    let mut l = TestLedger::start().await;
    journey_cast(&mut l).await;
    let bill = issue_ilstc(&mut l, "READS0001").await;
    let exporter = l.party("cq-machinery");
    let refused = |r: Result<tonic::Response<pb::BillView>, tonic::Status>| {
        let e = r.unwrap_err();
        (e.code(), reason_of(&e))
    };

    let mut unsigned = signed_read(&exporter, ORIGIN, GET_BILL, &req(bill));
    unsigned.signature = None;
    assert_eq!(refused(l.client.grpc.get_bill(unsigned).await), (Code::Unauthenticated, "MISSING_SIGNATURE".into()));

    let mut forged = signed_read(&exporter, ORIGIN, GET_BILL, &req(bill));
    forged.signature.as_mut().unwrap().signature[5] ^= 1;
    assert_eq!(refused(l.client.grpc.get_bill(forged).await), (Code::Unauthenticated, "BAD_SIGNATURE".into()));

    let once = signed_read(&exporter, ORIGIN, GET_BILL, &req(bill));
    l.client.grpc.get_bill(once.clone()).await.unwrap();
    assert_eq!(refused(l.client.grpc.get_bill(once).await), (Code::Unauthenticated, "READ_REPLAYED".into()));

    // An envelope signed for another method, or another ledger.
    let other = signed_read(&exporter, ORIGIN, "/ebl.v1.Ledger/VerifyTitle", &req(bill));
    assert_eq!(refused(l.client.grpc.get_bill(other).await), (Code::InvalidArgument, "INVALID_FIELD".into()));
    let elsewhere = signed_read(&exporter, "other.example/ebl", GET_BILL, &req(bill));
    assert_eq!(refused(l.client.grpc.get_bill(elsewhere).await), (Code::InvalidArgument, "INVALID_FIELD".into()));

    // An envelope whose time is outside the read window.
    let mut env =
        pb::ReadEnvelope::decode(signed_read(&exporter, ORIGIN, GET_BILL, &req(bill)).envelope.as_slice()).unwrap();
    env.claimed_time = ebl_core::time::Timestamp::now().plus_ms(-10 * 60_000).to_rfc3339();
    let bytes = env.encode_to_vec();
    let sig = ebl_core::sig::Signature::sign(&exporter.party, &exporter.key, &bytes);
    let stale = pb::SignedRead { envelope: bytes, signature: Some(ebl_ledger::wire::payload::encode_signature(&sig)) };
    assert_eq!(refused(l.client.grpc.get_bill(stale).await), (Code::Unauthenticated, "READ_EXPIRED".into()));

    // An unregistered reader.
    let stranger = Identity::new("stranger", key());
    assert_eq!(
        refused(l.client.grpc.get_bill(signed_read(&stranger, ORIGIN, GET_BILL, &req(bill))).await),
        (Code::Unauthenticated, "UNKNOWN_PARTY".into())
    );
}

#[tokio::test]
async fn visibility_by_part_jurisdiction_and_role() {
    let mut l = TestLedger::start().await;
    journey_cast(&mut l).await;
    l.register("sg-customs", pb::Role::Customs, vec![], &["SG"]).await;
    l.register("de-customs", pb::Role::Customs, vec![], &["DE"]).await;
    l.register("auditor", pb::Role::Auditor, vec![], &[]).await;
    l.register("other-trader", pb::Role::Trader, lei("OTHER000000000000005"), &[]).await;
    let bill = issue_ilstc(&mut l, "SEEN0001").await;
    let missing = BillId::derive(&l.party("cq-mto").party, "NO-SUCH-BILL", 0);

    for who in ["cq-mto", "cq-machinery", "sg-customs", "auditor"] {
        let p = l.party(who);
        assert_eq!(l.client.bill(&p, bill).await.unwrap().reference, "SEEN0001", "{who} must see the bill");
        assert!(l.client.history(&p, bill).await.is_ok());
        assert!(l.client.verify_title(&p, bill).await.is_ok());
    }
    // The bank has no part yet; after an endorsement to it, it sees the bill.
    for who in ["cq-bank", "other-trader", "de-customs"] {
        let p = l.party(who);
        let hidden = l.client.bill(&p, bill).await.unwrap_err();
        let absent = l.client.bill(&p, missing).await.unwrap_err();
        assert_eq!((hidden.code(), reason_of(&hidden)), (Code::NotFound, "NOT_FOUND".into()), "{who}");
        assert_eq!((absent.code(), reason_of(&absent)), (hidden.code(), reason_of(&hidden)));
        assert_eq!(l.client.history(&p, bill).await.unwrap_err().code(), Code::NotFound);
        assert_eq!(l.client.verify_title(&p, bill).await.unwrap_err().code(), Code::NotFound);
    }
    let exporter = l.party("cq-machinery");
    l.client
        .act(&exporter, bill, Some("cq-bank"), pb::record_payload::Action::EndorseToOrder(pb::EndorseToOrder {}))
        .await
        .unwrap();
    let bank = l.party("cq-bank");
    assert_eq!(l.client.bill(&bank, bill).await.unwrap().entitled, "cq-bank");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_signed_before_a_restart_cannot_be_replayed_after_it() {
    let (mut l, bill) = ledger_with_bill("READS-RESTART").await;
    let exporter = l.party("cq-machinery");
    let once = signed_read(&exporter, ORIGIN, GET_BILL, &req(bill));
    l.client.grpc.get_bill(once.clone()).await.unwrap();
    // The nonces seen are held in memory only: after a restart the ledger cannot know this one
    // was used, so it refuses every envelope signed before it started.
    let mut l = l.restart().await;
    let e = l.client.grpc.get_bill(once).await.unwrap_err();
    assert_eq!((e.code(), reason_of(&e).as_str()), (Code::Unauthenticated, "READ_EXPIRED"), "{e:?}");
    assert!(e.message().contains("before the ledger started"), "{}", e.message());
    // A read signed now is answered.
    l.client.bill(&exporter, bill).await.unwrap();
}
