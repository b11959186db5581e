//! Singularity: of many different records racing from the same head, exactly one is accepted
//! and every other is ABORTED as stale; the bill ends in the winner's state.
use crate::common;

use common::*;
use ebl_core::time::Timestamp;
use ebl_ledger::client::{payload, sign};
use ebl_ledger::pb::{self, record_payload::Action};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_records_on_one_head_exactly_one_wins() {
    let mut l = TestLedger::start().await;
    journey_cast(&mut l).await;
    let recipients = ["cq-bank", "sg-buyer"];
    for round in 0..10 {
        let bill = issue_ilstc(&mut l, &format!("RACE{round:04}")).await;
        let exporter = l.party("cq-machinery");
        let link = l.next_link(bill).await;
        let now = Timestamp::now();
        // 48 different records (recipient and claimed time differ) for the same position.
        let records: Vec<_> = (0..48)
            .map(|i| {
                let p = payload(
                    ORIGIN,
                    Some(bill),
                    link,
                    "cq-machinery",
                    Some(recipients[i % 2]),
                    now.plus_ms(-(i as i64)),
                    Action::Transfer(pb::Transfer {}),
                );
                sign(&p, &[&exporter])
            })
            .collect();
        let before_seq = l.client.grpc.get_info(pb::GetInfoRequest {}).await.unwrap().into_inner().log_size;
        let tasks = records.into_iter().map(|r| {
            let mut c = l.client.clone();
            tokio::spawn(async move { c.submit(r).await })
        });
        let results: Vec<_> = futures::future::join_all(tasks).await.into_iter().map(|r| r.unwrap()).collect();
        let winners: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(winners.len(), 1, "round {round}: exactly one accepted");
        assert!(!winners[0].duplicate);
        for e in results.iter().filter_map(|r| r.as_ref().err()) {
            assert_eq!((e.code(), reason_of(e).as_str()), (tonic::Code::Aborted, "STALE_HEAD"));
        }
        let after = l.client.grpc.get_info(pb::GetInfoRequest {}).await.unwrap().into_inner().log_size;
        assert_eq!(after, before_seq + 1, "round {round}: one record added to the log");
        let op = l.operator.clone();
        let v = l.client.bill(&op, bill).await.unwrap();
        assert_eq!(v.head, winners[0].record_hash);
        assert!(recipients.contains(&v.possessor.as_str()));
        assert!(l.client.verify_title(&op, bill).await.unwrap().chain_verified);
    }
}
