//! Every refusal of a record through the real server: status code, machine-readable reason, and
//! a ledger digest unchanged by the refusal.
use crate::common;

use common::*;
use ebl_core::ids::BillId;
use ebl_core::time::Timestamp;
use ebl_ledger::client::{payload, sign, sign_bytes, Identity, Link};
use ebl_ledger::pb::{self, record_payload::Action};
use prost::Message;
use tonic::Code;

async fn setup() -> (TestLedger, BillId) {
    let mut l = TestLedger::start().await;
    journey_cast(&mut l).await;
    let bill = issue_ilstc(&mut l, "REFUSE0001").await;
    (l, bill)
}

fn transfer() -> Action {
    Action::Transfer(pb::Transfer {})
}

#[tokio::test]
async fn signature_and_key_refusals() {
    let (mut l, bill) = setup().await;
    let exporter = l.party("cq-machinery");
    let link = l.next_link(bill).await;

    // A signature over other bytes.
    let mut rec = l.title_record(&exporter, bill, link, Some("cq-bank"), transfer());
    rec.signatures[0].signature[0] ^= 1;
    l.assert_refused(rec, Code::Unauthenticated, "BAD_SIGNATURE").await;

    // A party nobody registered.
    let stranger = Identity::new("stranger", key());
    let rec = l.title_record(&stranger, bill, link, Some("cq-bank"), transfer());
    l.assert_refused(rec, Code::Unauthenticated, "UNKNOWN_PARTY").await;

    // A registered party signing with a key nobody registered.
    let impostor = Identity::new("cq-machinery", key());
    let rec = l.title_record(&impostor, bill, link, Some("cq-bank"), transfer());
    l.assert_refused(rec, Code::Unauthenticated, "UNKNOWN_KEY").await;

    // Another party's key.
    let mut borrowed = l.party("cq-bank");
    borrowed.party = exporter.party.clone();
    let rec = l.title_record(&borrowed, bill, link, Some("cq-bank"), transfer());
    l.assert_refused(rec, Code::Unauthenticated, "KEY_NOT_OWNED").await;

    // No signature by the actor; a signature by someone with no part in the record.
    let p = payload(ORIGIN, Some(bill), link, "cq-machinery", Some("cq-bank"), Timestamp::now(), transfer());
    let bank = l.party("cq-bank");
    l.assert_refused(sign(&p, &[&bank]), Code::Unauthenticated, "UNEXPECTED_SIGNER").await;
    let mut unsigned = sign(&p, &[&exporter]);
    unsigned.signatures.clear();
    l.assert_refused(unsigned, Code::InvalidArgument, "INVALID_FIELD").await;

    // A small-order public key is refused whatever the signature: no such key can be registered
    // (registration refuses weak keys), so the key lookup, which comes before any cryptography,
    // refuses it; the strict check itself is held to the wire-format vectors (mixed-order-key).
    let mut weak = sign(&p, &[&exporter]);
    weak.signatures[0].public_key = {
        let mut k = vec![0u8; 32];
        k[0] = 1;
        k
    };
    l.assert_refused(weak, Code::Unauthenticated, "UNKNOWN_KEY").await;

    // A valid signer without the right: the issuing carrier no longer possesses the bill.
    let rec = l.title_record(&l.party("cq-mto"), bill, link, Some("sg-buyer"), transfer());
    l.assert_refused(rec, Code::PermissionDenied, "NOT_POSSESSOR").await;
    // A valid signer to whom the bill is a stranger's is told nothing: for it the bill does not
    // exist (tests/leaks.rs compares the answers byte for byte).
    let rec = l.title_record(&bank, bill, link, Some("sg-buyer"), transfer());
    l.assert_refused(rec, Code::NotFound, "NOT_FOUND").await;
    // A trader cannot issue.
    let d = with_reference(doc_json(ILSTC), "REFUSE0002");
    let rec = l.issue_record(&exporter, &d, pb::DocumentProfile::DcsaEbl3, "cq-machinery", "", "");
    l.assert_refused(rec, Code::PermissionDenied, "ROLE_NOT_ALLOWED").await;
}

#[tokio::test]
async fn revoked_key_refused_but_earlier_records_stay_valid() {
    let (mut l, bill) = setup().await;
    let exporter = l.party("cq-machinery");
    let link = l.next_link(bill).await;
    let signed_before = l.title_record(&exporter, bill, link, None, Action::Sign(pb::Sign {}));
    let first = l.client.submit(signed_before.clone()).await.unwrap();

    let op = l.operator.clone();
    l.client
        .operator(
            &op,
            Action::RevokeKey(pb::RevokeKey {
                party: "cq-machinery".into(),
                public_key: exporter.public(),
                reason: "laptop lost".into(),
            }),
        )
        .await
        .unwrap();

    let link = l.next_link(bill).await;
    let rec = l.title_record(&exporter, bill, link, Some("cq-bank"), transfer());
    l.assert_refused(rec, Code::Unauthenticated, "KEY_REVOKED").await;
    // Reads with the revoked key are refused too.
    let err = l.client.bill(&exporter, bill).await.unwrap_err();
    assert_eq!((err.code(), reason_of(&err).as_str()), (Code::Unauthenticated, "KEY_REVOKED"));

    // The record accepted before the revocation stays valid: sent again it is a duplicate with its
    // original receipt, and the chain still verifies (key validity judged at its log position).
    let again = l.client.submit(signed_before).await.unwrap();
    assert!(again.duplicate);
    assert_eq!(
        (again.seq, again.server_time.clone(), again.record_hash.clone()),
        (first.seq, first.server_time, first.record_hash)
    );
    assert!(l.client.verify_title(&op, bill).await.unwrap().chain_verified);

    // A new key for the same party works; the old one cannot be registered again.
    let new = Identity::new("cq-machinery", key());
    l.client.operator(&op, ebl_ledger::client::add_key("cq-machinery", new.public())).await.unwrap();
    let link = l.next_link(bill).await;
    l.client.submit(l.title_record(&new, bill, link, Some("cq-bank"), transfer())).await.unwrap();
    let before = l.digest();
    let err = l.client.operator(&op, ebl_ledger::client::add_key("cq-bank", exporter.public())).await.unwrap_err();
    assert_eq!((err.code(), reason_of(&err).as_str()), (Code::AlreadyExists, "KEY_IN_USE"));
    assert_eq!(l.digest(), before);
}

#[tokio::test]
async fn stale_duplicate_and_time_window() {
    let (mut l, bill) = setup().await;
    let exporter = l.party("cq-machinery");
    let link = l.next_link(bill).await;
    let a = l.title_record(&exporter, bill, link, Some("cq-bank"), Action::EndorseToOrder(pb::EndorseToOrder {}));
    let receipt = l.client.submit(a.clone()).await.unwrap();
    assert!(!receipt.duplicate);

    // A different record for the position now taken: ABORTED.
    let b = l.title_record(&exporter, bill, link, None, Action::Sign(pb::Sign {}));
    let err = l.assert_refused(b, Code::Aborted, "STALE_HEAD").await;
    assert!(err.message().contains("head"), "{}", err.message());

    // The same record again, even after the bill moved on: OK, duplicate, original receipt.
    let link2 = l.next_link(bill).await;
    l.client.submit(l.title_record(&exporter, bill, link2, Some("cq-bank"), transfer())).await.unwrap();
    let before = l.digest();
    let again = l.client.submit(a).await.unwrap();
    assert_eq!(again, pb::Receipt { duplicate: true, ..receipt });
    assert_eq!(l.digest(), before);

    // A claimed time outside the window around server time.
    let bank = l.party("cq-bank");
    let link = l.next_link(bill).await;
    for offset in [-10 * 60_000, 5 * 60_000] {
        let p = payload(
            ORIGIN,
            Some(bill),
            link,
            "cq-bank",
            None,
            Timestamp::now().plus_ms(offset),
            Action::Sign(pb::Sign {}),
        );
        let err = l.assert_refused(sign(&p, &[&bank]), Code::InvalidArgument, "CLAIMED_TIME_OUT_OF_WINDOW").await;
        assert_eq!(field_of(&err), "claimed_time");
    }
    // A bill that does not exist.
    let ghost = BillId::derive(&l.party("cq-mto").party, "NOPE", 0);
    let rec = l.title_record(
        &bank,
        ghost,
        Link { position: 1, prev: Some(ebl_core::hash::Hash32([1; 32])) },
        None,
        Action::Sign(pb::Sign {}),
    );
    l.assert_refused(rec, Code::NotFound, "NOT_FOUND").await;
}

#[tokio::test]
async fn encoding_origin_domain_and_size_refusals() {
    let (mut l, bill) = setup().await;
    let exporter = l.party("cq-machinery");
    let link = l.next_link(bill).await;
    let p = payload(ORIGIN, Some(bill), link, "cq-machinery", None, Timestamp::now(), Action::Sign(pb::Sign {}));
    let canonical = p.encode_to_vec();

    // Unknown field appended (field 99, varint 1), properly signed: refused as non-canonical.
    let mut unknown = canonical.clone();
    unknown.extend_from_slice(&[0x98, 0x06, 0x01]);
    l.assert_refused(sign_bytes(unknown, &[&exporter]), Code::InvalidArgument, "NON_CANONICAL_ENCODING").await;
    // A default value written out (version 1 as a two-byte varint).
    let mut padded = canonical.clone();
    assert_eq!(&padded[..2], &[0x08, 0x01]);
    padded.splice(0..2, [0x08, 0x81, 0x00]);
    l.assert_refused(sign_bytes(padded, &[&exporter]), Code::InvalidArgument, "NON_CANONICAL_ENCODING").await;
    // Fields out of order (origin before domain).
    let (d_end, o_end) = (
        2 + 2 + ebl_core::record::RECORD_DOMAIN.len(),
        2 + 2 + ebl_core::record::RECORD_DOMAIN.len() + 2 + ORIGIN.len(),
    );
    assert_eq!((canonical[2], canonical[d_end]), (0x12, 0x1a));
    let mut swapped = canonical.clone();
    swapped.splice(2..o_end, [&canonical[d_end..o_end], &canonical[2..d_end]].concat());
    l.assert_refused(sign_bytes(swapped, &[&exporter]), Code::InvalidArgument, "NON_CANONICAL_ENCODING").await;
    // Not protobuf at all.
    l.assert_refused(sign_bytes(vec![0xff, 0xff, 0xff], &[&exporter]), Code::InvalidArgument, "INVALID_FIELD").await;

    // Wrong domain tag, wrong origin, wrong version.
    for (bad, field) in [
        (pb::RecordPayload { domain: "ebl.v1/read".into(), ..p.clone() }, "domain"),
        (pb::RecordPayload { origin: "other.example/ebl".into(), ..p.clone() }, "origin"),
        (pb::RecordPayload { version: 2, ..p.clone() }, "version"),
    ] {
        let err = l.assert_refused(sign(&bad, &[&exporter]), Code::InvalidArgument, "INVALID_FIELD").await;
        assert_eq!(field_of(&err), field);
    }

    // Oversize: a payload past the documented 1 MiB limit.
    let big = vec![b' '; ebl_ledger::api::MAX_PAYLOAD_BYTES];
    let rec = l.issue_record(&l.party("cq-mto"), &big, pb::DocumentProfile::DcsaEbl3, "cq-machinery", "", "");
    l.assert_refused(rec, Code::ResourceExhausted, "PAYLOAD_TOO_LARGE").await;
    // A batch past its limit.
    let before = l.digest();
    let one = sign(&p, &[&exporter]);
    let err = l
        .client
        .grpc
        .submit_batch(pb::SubmitBatchRequest { records: vec![one; ebl_ledger::api::MAX_BATCH_RECORDS + 1] })
        .await
        .unwrap_err();
    assert_eq!((err.code(), reason_of(&err).as_str()), (Code::ResourceExhausted, "BATCH_TOO_LARGE"));
    assert_eq!(l.digest(), before);
}

#[tokio::test]
async fn title_rule_refusals() {
    let mut l = TestLedger::start().await;
    journey_cast(&mut l).await;
    let yangtze = doc_json(YANGTZE);
    l.register("nl-consignee", pb::Role::Trader, codes_of(&yangtze, "consignee"), &[]).await;
    l.register("sg-customs", pb::Role::Customs, vec![], &["SG"]).await;
    let carrier = l.party("cq-mto");
    let exporter = l.party("cq-machinery");

    // A straight bill is never endorsed, and moves only to its consignee.
    let rec = l.issue_record(
        &carrier,
        &serde_json::to_vec(&yangtze).unwrap(),
        pb::DocumentProfile::DcsaEbl3,
        "cq-machinery",
        "nl-consignee",
        "",
    );
    l.client.submit(rec).await.unwrap();
    let straight = BillId::derive(&carrier.party, yangtze["transportDocumentReference"].as_str().unwrap(), 0);
    let link = l.next_link(straight).await;
    l.assert_refused(
        l.title_record(&exporter, straight, link, Some("cq-bank"), Action::Endorse(pb::Endorse {})),
        Code::FailedPrecondition,
        "STRAIGHT_BILL_NOT_ENDORSABLE",
    )
    .await;
    l.assert_refused(
        l.title_record(&exporter, straight, link, Some("cq-bank"), transfer()),
        Code::FailedPrecondition,
        "NOT_CONSIGNEE",
    )
    .await;
    l.client.submit(l.title_record(&exporter, straight, link, Some("nl-consignee"), transfer())).await.unwrap();

    // The document's consignee must be given as a ledger party whose codes match.
    let d = with_reference(yangtze.clone(), "STRAIGHT02");
    l.assert_refused(
        l.issue_record(&carrier, &d, pb::DocumentProfile::DcsaEbl3, "cq-machinery", "", ""),
        Code::InvalidArgument,
        "INVALID_FIELD",
    )
    .await;
    l.assert_refused(
        l.issue_record(&carrier, &d, pb::DocumentProfile::DcsaEbl3, "cq-machinery", "cq-bank", ""),
        Code::InvalidArgument,
        "INVALID_FIELD",
    )
    .await;
    // Customs cannot hold a bill.
    l.assert_refused(
        l.issue_record(
            &carrier,
            &with_reference(doc_json(ILSTC), "X1"),
            pb::DocumentProfile::DcsaEbl3,
            "sg-customs",
            "",
            "",
        ),
        Code::FailedPrecondition,
        "RECIPIENT_CANNOT_HOLD",
    )
    .await;

    // A to-order bill endorsed to the bank moves only to the bank; the endorsee of a plain
    // ENDORSE cannot endorse further.
    let bill = issue_ilstc(&mut l, "ORDER0001").await;
    // Issued with nobody named, it is endorsed in blank already.
    let link = l.next_link(bill).await;
    l.assert_refused(
        l.title_record(&exporter, bill, link, None, Action::BlankEndorse(pb::BlankEndorse {})),
        Code::FailedPrecondition,
        "ALREADY_BLANK_ENDORSED",
    )
    .await;
    l.client.act(&exporter, bill, Some("cq-bank"), Action::Endorse(pb::Endorse {})).await.unwrap();
    let link = l.next_link(bill).await;
    l.assert_refused(
        l.title_record(&exporter, bill, link, Some("sg-buyer"), transfer()),
        Code::FailedPrecondition,
        "NOT_ENDORSEE",
    )
    .await;
    l.assert_refused(
        l.title_record(&exporter, bill, link, Some("sg-buyer"), Action::Endorse(pb::Endorse {})),
        Code::PermissionDenied,
        "NOT_ENTITLED",
    )
    .await;
    l.client.act(&exporter, bill, Some("cq-bank"), transfer()).await.unwrap();
    let bank = l.party("cq-bank");
    let link = l.next_link(bill).await;
    l.assert_refused(
        l.title_record(&bank, bill, link, Some("sg-buyer"), Action::EndorseToOrder(pb::EndorseToOrder {})),
        Code::FailedPrecondition,
        "NOT_ENDORSABLE",
    )
    .await;
    // Issuing the same bill identity again.
    let again = l.issue_record(
        &carrier,
        &with_reference(doc_json(ILSTC), "ORDER0001"),
        pb::DocumentProfile::DcsaEbl3,
        "sg-buyer",
        "",
        "",
    );
    l.assert_refused(again, Code::AlreadyExists, "BILL_EXISTS").await;

    // A sea waybill is recorded but never transferred.
    let mut swb = doc_json(YANGTZE);
    swb["transportDocumentTypeCode"] = "SWB".into();
    let d = with_reference(swb, "SWB0001");
    l.client
        .submit(l.issue_record(&carrier, &d, pb::DocumentProfile::DcsaEbl3, "cq-machinery", "nl-consignee", ""))
        .await
        .unwrap();
    let wb = BillId::derive(&carrier.party, "SWB0001", 0);
    let link = l.next_link(wb).await;
    l.assert_refused(
        l.title_record(&exporter, wb, link, Some("nl-consignee"), transfer()),
        Code::FailedPrecondition,
        "WAYBILL_NOT_TRANSFERABLE",
    )
    .await;
    // Nor surrendered: its consignee takes delivery on identification.
    let surrender = Action::SurrenderForDelivery(pb::SurrenderForDelivery {});
    l.assert_refused(
        l.title_record(&exporter, wb, link, Some("cq-mto"), surrender),
        Code::FailedPrecondition,
        "WAYBILL_NOT_SURRENDERED",
    )
    .await;
}

#[tokio::test]
async fn message_past_the_transport_limit_is_refused_as_a_limit() {
    let (l, _bill) = setup().await;
    let before = l.digest();
    let huge = pb::SignedRecord { payload: vec![0u8; ebl_ledger::api::MAX_MESSAGE_BYTES + 1], signatures: vec![] };
    // A client that sends what the server's limit refuses.
    let mut raw =
        pb::ledger_client::LedgerClient::connect(l.url.clone()).await.unwrap().max_encoding_message_size(64 << 20);
    let err = raw.submit(huge).await.unwrap_err();
    assert_eq!((err.code(), reason_of(&err).as_str()), (Code::ResourceExhausted, "MESSAGE_TOO_LARGE"), "{err:?}");
    assert_eq!(l.digest(), before);
}

/// Field 1 of `SignedRecord` is `bytes`; this writes it as a varint, which no decoder accepts.
#[derive(Clone, PartialEq, prost::Message)]
struct NotASignedRecord {
    #[prost(uint64, tag = "1")]
    payload: u64,
}

#[tokio::test]
async fn request_that_is_not_protobuf_is_the_callers_fault() {
    let (l, _bill) = setup().await;
    let before = l.digest();
    let channel = tonic::transport::Channel::from_shared(l.url.clone()).unwrap().connect().await.unwrap();
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    let codec = tonic_prost::ProstCodec::<NotASignedRecord, pb::Receipt>::default();
    let path = http::uri::PathAndQuery::from_static("/ebl.v1.Ledger/Submit");
    let err = grpc.unary(tonic::Request::new(NotASignedRecord { payload: 7 }), path, codec).await.unwrap_err();
    assert_eq!((err.code(), reason_of(&err).as_str()), (Code::InvalidArgument, "INVALID_FIELD"), "{err:?}");
    assert!(err.message().starts_with("request: not a valid protobuf message"), "{err:?}");
    assert_eq!(l.digest(), before);
}
