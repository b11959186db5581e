//! Reference journey 1 (title part) through the real server, every RPC, restart and replay.
use crate::common;

use common::*;
use ebl_ledger::client::Link;
use ebl_ledger::pb::{self, record_payload::Action};

#[tokio::test]
async fn journey_1_title_with_restart_and_replay() {
    let mut l = TestLedger::start().await;
    journey_cast(&mut l).await;
    let bill = issue_ilstc(&mut l, "CQQZ2026000001").await;
    let (exporter, bank, buyer) = (l.party("cq-machinery"), l.party("sg-buyer"), l.party("cq-bank"));
    let (bank, buyer) = (buyer, bank);

    let v = l.client.bill(&exporter, bill).await.unwrap();
    assert_eq!(
        (v.kind.as_str(), v.possessor.as_str(), v.entitled.as_str(), v.blank_endorsed),
        ("TO_ORDER", "cq-machinery", "cq-machinery", true)
    );
    assert!(v.pint_exportable);
    assert_eq!(v.document, with_reference(doc_json(ILSTC), "CQQZ2026000001"));

    l.client.act(&exporter, bill, Some("cq-bank"), Action::EndorseToOrder(pb::EndorseToOrder {})).await.unwrap();
    l.client.act(&exporter, bill, Some("cq-bank"), Action::Transfer(pb::Transfer {})).await.unwrap();
    let t = l.client.verify_title(&bank, bill).await.unwrap();
    let b = t.bill.unwrap();
    assert!(t.chain_verified);
    assert_eq!(t.records_checked, 3);
    assert_eq!((b.possessor.as_str(), b.entitled.as_str()), ("cq-bank", "cq-bank"));

    // The exporter no longer moves the bill: it was divested by the transfer.
    let link = l.next_link(bill).await;
    let rec = l.title_record(&exporter, bill, link, Some("sg-buyer"), Action::Transfer(pb::Transfer {}));
    l.assert_refused(rec, tonic::Code::PermissionDenied, "NOT_POSSESSOR").await;

    l.client.act(&bank, bill, Some("sg-buyer"), Action::Endorse(pb::Endorse {})).await.unwrap();
    // Endorsed, not yet transferred: the bank possesses, the buyer is entitled.
    let v = l.client.bill(&bank, bill).await.unwrap();
    assert_eq!((v.possessor.as_str(), v.entitled.as_str(), v.endorsable), ("cq-bank", "sg-buyer", false));
    l.client.act(&bank, bill, Some("sg-buyer"), Action::Transfer(pb::Transfer {})).await.unwrap();
    l.client.act(&buyer, bill, None, Action::Sign(pb::Sign {})).await.unwrap();

    let history = l.client.history(&buyer, bill).await.unwrap();
    let actions: Vec<_> = history.iter().map(|r| r.receipt.as_ref().unwrap().action.clone()).collect();
    assert_eq!(actions, ["ISSUE", "ENDORSE_TO_ORDER", "TRANSFER", "ENDORSE", "TRANSFER", "SIGN"]);
    // Each record links to the one before by hash, and positions count up.
    for (i, r) in history.iter().enumerate() {
        let p: pb::RecordPayload = prost::Message::decode(r.record.as_ref().unwrap().payload.as_slice()).unwrap();
        assert_eq!(p.position, i as u64);
        let expected_prev = if i == 0 { vec![] } else { history[i - 1].receipt.as_ref().unwrap().record_hash.clone() };
        assert_eq!(p.prev_hash, expected_prev);
    }

    // A restart restores everything, byte for byte, and the chain still replays to the state.
    let before = l.digest();
    let state_before = l.store().bill(&bill).unwrap().unwrap();
    let mut l = l.restart().await;
    assert_eq!(l.digest(), before);
    let buyer = l.party("sg-buyer");
    let v = l.client.bill(&buyer, bill).await.unwrap();
    assert_eq!((v.possessor.as_str(), v.entitled.as_str(), v.head_position), ("sg-buyer", "sg-buyer", 5));
    let replayed = ebl_ledger::replay::replay_bill(
        l.store(),
        ORIGIN,
        &ebl_core::sig::PublicKey(l.operator.key.verifying_key().to_bytes()),
        &bill,
    )
    .unwrap();
    assert_eq!(replayed.state, state_before);
    assert_eq!(replayed.records, 6);
    // Writes go on after the restart, at the next global sequence number.
    let r = l.client.act(&buyer, bill, None, Action::Sign(pb::Sign {})).await.unwrap();
    assert_eq!(r.seq, l.client.grpc.get_info(pb::GetInfoRequest {}).await.unwrap().into_inner().log_size - 1);
}

#[tokio::test]
async fn registry_rpc_info_batch_health_and_reflection() {
    let mut l = TestLedger::start().await;
    journey_cast(&mut l).await;
    let info = l.client.grpc.get_info(pb::GetInfoRequest {}).await.unwrap().into_inner();
    assert_eq!(info.origin, ORIGIN);
    assert_eq!(info.log_size, 8, "4 registrations and 4 keys");
    assert_eq!(info.registry_position, 7);

    let op = l.operator.clone();
    let reg = l.client.registry(&op, 0).await.unwrap();
    let actions: Vec<_> = reg.iter().map(|r| r.receipt.as_ref().unwrap().action.as_str()).collect();
    assert_eq!(actions, ["REGISTER_PARTY", "ADD_KEY"].repeat(4));
    // Any registered party may read the registry; from a position on.
    let bank = l.party("cq-bank");
    assert_eq!(l.client.registry(&bank, 6).await.unwrap().len(), 2);

    // A batch: issue then two actions building on it, in order; a bad record keeps its place.
    let carrier = l.party("cq-mto");
    let exporter = l.party("cq-machinery");
    let d = with_reference(doc_json(ILSTC), "BATCH0001");
    let issue = l.issue_record(&carrier, &d, pb::DocumentProfile::DcsaEbl3, "cq-machinery", "", "");
    let bill = ebl_core::ids::BillId::derive(&carrier.party, "BATCH0001", 0);
    let h0 = ebl_core::record::record_hash(&issue.payload);
    let sign1 = l.title_record(&exporter, bill, Link { position: 1, prev: Some(h0) }, None, Action::Sign(pb::Sign {}));
    let stale = l.title_record(
        &exporter,
        bill,
        Link { position: 1, prev: Some(h0) },
        Some("cq-bank"),
        Action::Transfer(pb::Transfer {}),
    );
    let h1 = ebl_core::record::record_hash(&sign1.payload);
    let transfer = l.title_record(
        &exporter,
        bill,
        Link { position: 2, prev: Some(h1) },
        Some("cq-bank"),
        Action::Transfer(pb::Transfer {}),
    );
    let out = l
        .client
        .grpc
        .submit_batch(pb::SubmitBatchRequest { records: vec![issue.clone(), sign1, stale, transfer, issue] })
        .await
        .unwrap()
        .into_inner();
    let kinds: Vec<String> = out
        .results
        .iter()
        .map(|r| match r.outcome.as_ref().unwrap() {
            pb::submit_result::Outcome::Receipt(rc) => {
                format!("{}{}", rc.action, if rc.duplicate { "/dup" } else { "" })
            }
            pb::submit_result::Outcome::Error(e) => format!("{}/{}", e.code, e.reason),
        })
        .collect();
    assert_eq!(kinds, ["ISSUE", "SIGN", "ABORTED/STALE_HEAD", "TRANSFER", "ISSUE/dup"]);
    assert_eq!(l.client.bill(&bank, bill).await.unwrap().possessor, "cq-bank");

    // grpc.health.v1 reports SERVING; server reflection lists the ledger service.
    let channel = tonic::transport::Channel::from_shared(l.url.clone()).unwrap().connect().await.unwrap();
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel.clone());
    let h = health
        .check(tonic_health::pb::HealthCheckRequest { service: "ebl.v1.Ledger".into() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(h.status, tonic_health::pb::health_check_response::ServingStatus::Serving as i32);
    // Reflection answers as v1 and as v1alpha (which many tools still ask for), alike.
    macro_rules! list_services {
        ($v:ident) => {{
            use tonic_reflection::pb::$v::{
                server_reflection_client::ServerReflectionClient, server_reflection_request::MessageRequest,
                server_reflection_response::MessageResponse, ServerReflectionRequest,
            };
            let mut refl = ServerReflectionClient::new(channel.clone());
            let req = ServerReflectionRequest {
                host: String::new(),
                message_request: Some(MessageRequest::ListServices(String::new())),
            };
            let mut resp = refl.server_reflection_info(futures::stream::iter(vec![req])).await.unwrap().into_inner();
            let msg = resp.message().await.unwrap().unwrap();
            let Some(MessageResponse::ListServicesResponse(list)) = msg.message_response else { panic!("no list") };
            // Each version lists itself as the reflection service, and the same others.
            let mut names: Vec<String> =
                list.service.into_iter().map(|s| s.name).filter(|s| !s.starts_with("grpc.reflection.")).collect();
            names.sort();
            names
        }};
    }
    let v1 = list_services!(v1);
    assert!(v1.iter().any(|s| s == "ebl.v1.Ledger"), "{v1:?}");
    assert_eq!(list_services!(v1alpha), v1);
}

#[tokio::test]
async fn issuance_manifest_is_stored_as_received() {
    let mut l = TestLedger::start().await;
    journey_cast(&mut l).await;
    let carrier = l.party("cq-mto");
    let jws = "eyJhbGciOiJFZERTQSJ9.eyJkb2N1bWVudENoZWNrc3VtIjoiYWIifQ.c2lnbmF0dXJlLWJ5dGVz";
    let issue = |reference: &str, manifest: &str| {
        let d = with_reference(doc_json(ILSTC), reference);
        let bill = ebl_core::ids::BillId::derive(&carrier.party, reference, 0);
        let action = Action::Issue(pb::Issue {
            document: d,
            profile: 0,
            amendment: 0,
            consignee: String::new(),
            endorsee: String::new(),
            issuance_manifest: manifest.into(),
            amends: vec![],
            legs: vec![],
        });
        (
            bill,
            ebl_ledger::client::sign(
                &ebl_ledger::client::payload(
                    ORIGIN,
                    Some(bill),
                    Link::default(),
                    "cq-mto",
                    Some("cq-machinery"),
                    ebl_core::time::Timestamp::now(),
                    action,
                ),
                &[&carrier],
            ),
        )
    };
    let (bill, rec) = issue("JWS0001", jws);
    l.client.submit(rec.clone()).await.unwrap();
    let history = l.client.history(&carrier, bill).await.unwrap();
    assert_eq!(history[0].record.as_ref().unwrap().payload, rec.payload, "payload bytes served exactly as received");
    let p: pb::RecordPayload = prost::Message::decode(rec.payload.as_slice()).unwrap();
    let Some(pb::record_payload::Action::Issue(i)) = p.action else { panic!() };
    assert_eq!(i.issuance_manifest, jws);
    let (_, bad) = issue("JWS0002", "not a compact jws");
    let err = l.assert_refused(bad, tonic::Code::InvalidArgument, "INVALID_FIELD").await;
    assert_eq!(field_of(&err), "issue.issuance_manifest");
}
