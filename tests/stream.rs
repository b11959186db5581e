//! SubmitStream: results in the order sent, a refused record's error in its place without ending
//! the stream, records sent again answered as duplicates with their original receipts, and flow
//! control: a client that reads no results stops the ledger taking more of its records.
use crate::common;

use common::*;
use ebl_core::ids::BillId;
use ebl_core::record::record_hash;
use ebl_ledger::client::Link;
use ebl_ledger::pb::{self, record_payload::Action};
use futures::StreamExt;
use std::time::Duration;

/// `n` TRANSFER records on `bill` after `link`, passing title back and forth between `holder`
/// (who holds it at `link`) and the other of cq-machinery and cq-bank.
fn transfers(l: &TestLedger, bill: BillId, mut link: Link, holder: &str, n: usize) -> Vec<pb::SignedRecord> {
    let (mut from, mut to) = (holder, if holder == "cq-bank" { "cq-machinery" } else { "cq-bank" });
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let rec = l.title_record(&l.party(from), bill, link, Some(to), Action::Transfer(pb::Transfer {}));
        link = Link { position: link.position + 1, prev: Some(record_hash(&rec.payload)) };
        out.push(rec);
        std::mem::swap(&mut from, &mut to);
    }
    out
}

fn kind(r: &pb::SubmitResult) -> String {
    match r.outcome.as_ref().expect("an outcome") {
        pb::submit_result::Outcome::Receipt(rc) => format!("{}{}", rc.action, if rc.duplicate { "/dup" } else { "" }),
        pb::submit_result::Outcome::Error(e) => format!("{}/{}", e.code, e.reason),
    }
}

fn seq(r: &pb::SubmitResult) -> Option<u64> {
    match r.outcome.as_ref() {
        Some(pb::submit_result::Outcome::Receipt(rc)) => Some(rc.seq),
        _ => None,
    }
}

#[tokio::test]
async fn a_stream_answers_in_order_keeps_going_past_a_refusal_and_answers_a_resent_stream_with_duplicates() {
    let mut l = TestLedger::start().await;
    journey_cast(&mut l).await;
    let carrier = l.party("cq-mto");
    let exporter = l.party("cq-machinery");
    let d = with_reference(doc_json(ILSTC), "STREAM0001");
    let issue = l.issue_record(&carrier, &d, pb::DocumentProfile::DcsaEbl3, "cq-machinery", "", "");
    let bill = BillId::derive(&carrier.party, "STREAM0001", 0);
    let h0 = record_hash(&issue.payload);
    let sign1 = l.title_record(&exporter, bill, Link { position: 1, prev: Some(h0) }, None, Action::Sign(pb::Sign {}));
    let stale = l.title_record(
        &exporter,
        bill,
        Link { position: 1, prev: Some(h0) },
        Some("cq-bank"),
        Action::Transfer(pb::Transfer {}),
    );
    let h1 = record_hash(&sign1.payload);
    let link = Link { position: 2, prev: Some(h1) };
    // More records than one stream may have awaiting results (512), so that the stream runs
    // through many steps, each checked while the one before it is written.
    let chain = transfers(&l, bill, link, "cq-machinery", 1200);
    let mut forged = chain[1].clone();
    forged.signatures[0].signature[0] ^= 1;
    let mut records = vec![issue.clone(), sign1, stale, chain[0].clone(), issue, forged];
    records.extend(chain[1..].iter().cloned());

    let before = l.info().await.log_size;
    let results = l.client.submit_stream(&records, 0).await.expect("the stream runs to its end");
    let kinds: Vec<String> = results.iter().map(kind).collect();
    let mut want: Vec<String> =
        ["ISSUE", "SIGN", "ABORTED/STALE_HEAD", "TRANSFER", "ISSUE/dup", "UNAUTHENTICATED/BAD_SIGNATURE"]
            .map(String::from)
            .to_vec();
    want.extend((1..1200).map(|_| "TRANSFER".to_string()));
    assert_eq!(kinds.len(), want.len());
    let differ: Vec<_> = kinds.iter().zip(&want).enumerate().filter(|(_, (k, w))| k != w).take(3).collect();
    assert!(differ.is_empty(), "results out of place: {differ:?}");
    // Sequence numbers rise in the order sent: the writer took the records in stream order.
    let seqs: Vec<u64> = results.iter().filter(|r| !kind(r).ends_with("/dup")).filter_map(seq).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "receipts in stream order");
    assert_eq!(l.info().await.log_size, before + 2 + 1200, "ISSUE, SIGN and the 1,200 transfers");
    let bank = l.party("cq-bank");
    let view = l.client.bill(&bank, bill).await.unwrap();
    assert_eq!(view.possessor, "cq-machinery", "1,200 transfers from cq-machinery end where they began");
    assert_eq!(view.head_position, 1 + 1200, "SIGN at 1, then the transfers");

    // The same records again: nothing changes; what was taken comes back marked duplicate with
    // its original receipt, and the refused records are refused as before.
    let digest = l.digest();
    let again = l.client.submit_stream(&records, 0).await.unwrap();
    assert_eq!(l.digest(), digest);
    for (first, second) in results.iter().zip(&again) {
        match (seq(first), seq(second)) {
            (Some(a), Some(b)) => {
                assert_eq!(a, b, "the original receipt");
                assert!(kind(second).ends_with("/dup"), "{}", kind(second));
            }
            (None, None) => {}
            (a, b) => panic!("the same record answered {a:?} then {b:?}"),
        }
    }
    // ABORTED for the stale head: nothing of a refused record reaches the log.
    assert_eq!(kind(&again[2]), "ABORTED/STALE_HEAD");
}

#[tokio::test]
async fn a_client_that_reads_no_results_stops_the_ledger_taking_its_records_and_others_are_served() {
    let (mut l, bill) = ledger_with_bill("STREAM0002").await;
    let link = l.next_link(bill).await;
    const N: usize = 3000;
    let records = transfers(&l, bill, link, "cq-machinery", N);
    let before = l.info().await.log_size;
    // A client whose receive window is small, so that results it does not read stay with the
    // ledger instead of filling the client's buffers.
    let channel = tonic::transport::Endpoint::from_shared(l.url.clone())
        .unwrap()
        .initial_stream_window_size(Some(16 * 1024))
        .initial_connection_window_size(Some(16 * 1024))
        .connect()
        .await
        .unwrap();
    let mut slow = pb::ledger_client::LedgerClient::new(channel);
    let mut results = slow.submit_stream(futures::stream::iter(records)).await.unwrap().into_inner();

    // The log stops growing well before the stream's end: at most 512 records awaiting results
    // past those whose results are sent (the client's small window and the ledger's own queue
    // of 64 results).
    let mut last = u64::MAX;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let taken = loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = l.info().await.log_size;
        if now == last {
            break now - before;
        }
        assert!(std::time::Instant::now() < deadline, "the log kept growing");
        last = now;
    };
    assert!(taken > 0 && taken < 1200, "{taken} of {N} records taken while no result was read");

    // Reading the results lets the rest in, each in its place.
    let mut n = 0;
    while let Some(r) = results.next().await {
        assert_eq!(kind(&r.unwrap()), "TRANSFER");
        n += 1;
    }
    assert_eq!(n, N);
    assert_eq!(l.info().await.log_size, before + N as u64);
}

#[tokio::test]
async fn streams_past_a_partys_share_of_the_writers_queue_wait_for_it_instead_of_being_refused() {
    // Six streams, each on its own connection, each passing one bill between cq-machinery and
    // cq-bank: up to 6 x 256 records of each party awaiting the writer, past its share of 1,024.
    let mut l = TestLedger::start().await;
    journey_cast(&mut l).await;
    let mut chains = Vec::new();
    for i in 0..6 {
        let bill = issue_ilstc(&mut l, &format!("STREAMQ{i:03}")).await;
        let link = l.next_link(bill).await;
        chains.push(transfers(&l, bill, link, "cq-machinery", 600));
    }
    let before = l.info().await.log_size;
    let mut streams = Vec::new();
    for chain in chains {
        let channel = tonic::transport::Endpoint::from_shared(l.url.clone()).unwrap().connect().await.unwrap();
        let mut grpc = pb::ledger_client::LedgerClient::new(channel);
        streams.push(tokio::spawn(async move {
            let results = grpc.submit_stream(futures::stream::iter(chain)).await.unwrap().into_inner();
            results.map(|r| kind(&r.unwrap())).collect::<Vec<_>>().await
        }));
    }
    for s in streams {
        let kinds = s.await.unwrap();
        assert_eq!(kinds.len(), 600);
        let refused: Vec<_> = kinds.iter().filter(|k| *k != "TRANSFER").take(3).collect();
        assert!(refused.is_empty(), "records of a stream refused: {refused:?}");
    }
    assert_eq!(l.info().await.log_size, before + 3600);
}
