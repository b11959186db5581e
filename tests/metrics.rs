//! The operator's metrics, scraped from the real endpoint after a journey: counters move by
//! exactly what the test did (records accepted by action, refusals by code and reason, one
//! duplicate, read refusals), the WAL was synced at least once per commit group that added
//! records, and every label value comes from a closed set, never from what a party sent.
use crate::common;

use common::*;
use ebl_ledger::metrics::METHODS;
use ebl_ledger::pb::{self, record_payload::Action};
use std::collections::{BTreeMap, HashSet};

/// The samples of a scrape by name (with labels).
async fn samples(l: &TestLedger) -> BTreeMap<String, f64> {
    l.scrape().await.into_iter().collect()
}

/// How much `name` grew between two scrapes.
fn delta(before: &BTreeMap<String, f64>, after: &BTreeMap<String, f64>, name: &str) -> f64 {
    after.get(name).copied().unwrap_or(0.0) - before.get(name).copied().unwrap_or(0.0)
}

/// The sum of every sample whose name (without labels) is `family`.
fn total(s: &BTreeMap<String, f64>, family: &str) -> f64 {
    s.iter().filter(|(n, _)| n.split('{').next() == Some(family)).map(|(_, v)| v).sum()
}

fn refused(code: &str, reason: &str) -> String {
    format!(r#"ebl_records_refused_total{{code="{code}",reason="{reason}"}}"#)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_exactly_what_a_journey_did() {
    let mut l = TestLedger::start().await;
    let before = samples(&l).await;
    let size = l.store().next_seq().unwrap();
    journey_cast(&mut l).await;
    let bill = issue_ilstc(&mut l, "METRICS-0001").await;
    let exporter = l.party("cq-machinery");
    let link = l.next_link(bill).await;
    let endorse = l.title_record(&exporter, bill, link, Some("cq-bank"), Action::Endorse(pb::Endorse {}));
    assert!(!l.client.submit(endorse.clone()).await.unwrap().duplicate);
    // Sent again: the first receipt, counted as a duplicate, not as accepted.
    assert!(l.client.submit(endorse.clone()).await.unwrap().duplicate);

    // Refusals the test causes, tallied by the code and reason each came back with.
    let mut caused: BTreeMap<String, f64> = BTreeMap::new();
    let stale = l.title_record(&exporter, bill, link, Some("sg-buyer"), Action::Endorse(pb::Endorse {}));
    let e = l.client.submit(stale).await.unwrap_err();
    assert_eq!(reason_of(&e), "STALE_HEAD");
    *caused.entry(refused("ABORTED", "STALE_HEAD")).or_default() += 1.0;
    let buyer = l.party("sg-buyer");
    let link = l.next_link(bill).await;
    let not_holder = l.title_record(&buyer, bill, link, Some("cq-bank"), Action::Endorse(pb::Endorse {}));
    let e = l.client.submit(not_holder.clone()).await.unwrap_err();
    let code = ebl_ledger::metrics::code_name(e.code());
    *caused.entry(refused(code, &reason_of(&e))).or_default() += 1.0;
    // A batch: the same refusal again, and a record whose signature does not verify.
    let mut forged = not_holder.clone();
    forged.signatures[0].signature[0] ^= 1;
    let batch = l.client.grpc.submit_batch(pb::SubmitBatchRequest { records: vec![not_holder, forged] }).await;
    for r in batch.unwrap().into_inner().results {
        let Some(pb::submit_result::Outcome::Error(err)) = r.outcome else { panic!("accepted: {r:?}") };
        *caused.entry(refused(&err.code, &err.reason)).or_default() += 1.0;
    }
    // A read the buyer may not make (the bill is not its to see), and one by no registered party.
    let e = l.client.bill(&buyer, bill).await.unwrap_err();
    let read_refused = format!(
        r#"ebl_reads_refused_total{{code="{}",reason="{}"}}"#,
        ebl_ledger::metrics::code_name(e.code()),
        reason_of(&e)
    );
    let stranger = ebl_ledger::client::Identity::new("nobody", key());
    let e = l.client.bill(&stranger, bill).await.unwrap_err();
    let unknown = format!(
        r#"ebl_reads_refused_total{{code="{}",reason="{}"}}"#,
        ebl_ledger::metrics::code_name(e.code()),
        reason_of(&e)
    );

    let after = samples(&l).await;
    let added = (l.store().next_seq().unwrap() - size) as f64;
    assert_eq!(delta(&before, &after, "ebl_log_size"), added);
    assert_eq!(total(&after, "ebl_records_accepted_total") - total(&before, "ebl_records_accepted_total"), added);
    assert_eq!(delta(&before, &after, r#"ebl_records_accepted_total{action="ISSUE"}"#), 1.0);
    assert_eq!(delta(&before, &after, r#"ebl_records_accepted_total{action="ENDORSE"}"#), 1.0);
    assert_eq!(delta(&before, &after, r#"ebl_records_accepted_total{action="REGISTER_PARTY"}"#), 4.0);
    assert_eq!(delta(&before, &after, "ebl_records_duplicate_total"), 1.0);
    let refusals: f64 = caused.values().sum();
    assert_eq!(total(&after, "ebl_records_refused_total") - total(&before, "ebl_records_refused_total"), refusals);
    for (name, n) in &caused {
        assert_eq!(delta(&before, &after, name), *n, "{name}");
    }
    assert_eq!(delta(&before, &after, &read_refused) + delta(&before, &after, &unknown), 2.0);
    assert_eq!(total(&after, "ebl_reads_refused_total") - total(&before, "ebl_reads_refused_total"), 2.0);
    // Every commit group that added records was one WAL sync at least.
    let groups = delta(&before, &after, "ebl_commit_group_records_count");
    assert!(groups >= 1.0 && groups <= added, "{groups} groups for {added} records");
    // The duplicate, alone in its group, added nothing: that group wrote no record and no sync.
    assert_eq!(delta(&before, &after, "ebl_commit_group_records_sum"), added);
    assert!(delta(&before, &after, "ebl_wal_syncs_total") >= groups, "WAL syncs below the commit groups");
    // Requests are timed by RPC: each record accepted and the three sent alone after, and reads.
    assert_eq!(delta(&before, &after, r#"ebl_request_seconds_count{method="Submit"}"#), added + 3.0);
    assert!(delta(&before, &after, r#"ebl_request_seconds_count{method="SubmitBatch"}"#) == 1.0);
    assert!(delta(&before, &after, r#"ebl_request_seconds_count{method="GetBill"}"#) >= 2.0);
    assert_eq!(total(&after, "ebl_writes_refused"), 0.0, "nothing refuses writes");
    assert_eq!(total(&after, "ebl_log_halted"), 0.0, "the log runs");
    assert!(after["ebl_checkpoint_age_seconds"] >= 0.0 && after["ebl_checkpoint_size"] <= after["ebl_log_size"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_label_value_comes_from_a_closed_set() {
    let (mut l, bill) = ledger_with_bill("METRICS-LEAK-0001").await;
    let key = l.log_key().await;
    let witness = TestWitness::start("witness.example/w1", vec![key]).await;
    let mut l = l.with_witnesses(vec![witness.target()]).await;
    let exporter = l.party("cq-machinery");
    l.client.bill(&exporter, bill).await.unwrap();
    let buyer = l.party("sg-buyer");
    l.client.bill(&buyer, bill).await.unwrap_err();
    let link = l.next_link(bill).await;
    let e = l.title_record(&buyer, bill, link, Some("cq-bank"), Action::Endorse(pb::Endorse {}));
    l.client.submit(e).await.unwrap_err();
    l.cosigned_checkpoint(l.store().next_seq().unwrap(), 1).await;
    let (status, body) = http_get(l.metrics, "/metrics").await;
    assert!(status.contains("200"), "{status}");

    // The allow-list: label names, and for each the set its values come from.
    let codes: Vec<String> = (0..17).map(|c| ebl_ledger::metrics::code_name(tonic::Code::from(c)).into()).collect();
    let methods: HashSet<&str> = METHODS.iter().copied().chain(["Health", "ServerReflection", "other"]).collect();
    let docs: String = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    let mut seen = 0;
    for line in body.lines().filter(|l| !l.starts_with('#') && l.contains('{')) {
        let labels = &line[line.find('{').unwrap() + 1..line.rfind('}').unwrap()];
        for pair in labels.split("\",").filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once("=\"").unwrap_or_else(|| panic!("{line}"));
            let value = value.trim_end_matches('"');
            let allowed = match name {
                "action" => ebl_core::record::ACTION_NAMES.contains(&value),
                "code" => codes.iter().any(|c| c == value),
                "method" => methods.contains(value),
                "witness" => value == witness.name,
                "le" => value == "+Inf" || value.parse::<f64>().is_ok(),
                // A reason is one of the ledger's constants, each documented in docs/.
                "reason" => {
                    value.chars().all(|c| c.is_ascii_uppercase() || c == '_') && docs.contains(&format!("`{value}`"))
                }
                _ => false,
            };
            assert!(allowed, "label {name}={value:?} is not in the allow-list: {line}");
            seen += 1;
        }
    }
    assert!(seen > 20, "a journey labels many samples: {body}");
    assert!(body.contains(r#"ebl_witness_cosignature_age_seconds{witness="witness.example/w1"}"#), "{body}");
    // And nothing a party sent appears anywhere.
    for secret in ["METRICS-LEAK-0001", &hex::encode(bill.0 .0), "cq-machinery", "sg-buyer", "cq-bank", "CQLU"] {
        assert!(!body.contains(secret), "{secret} in the metrics");
    }
    // Another path is 404, and the endpoint is on its own address, not the gRPC one.
    assert!(http_get(l.metrics, "/").await.0.contains("404"));
    assert_ne!(l.metrics.to_string(), l.url.trim_start_matches("http://"));
}

/// The `method` label's values are the RPCs of `service Ledger`, every one of them.
#[test]
fn the_method_labels_are_the_protos_rpcs() {
    let proto = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/proto/ebl/v1/ledger.proto")).unwrap();
    let rpcs: Vec<&str> = proto
        .lines()
        .filter_map(|l| l.trim().strip_prefix("rpc "))
        .map(|l| l.split('(').next().unwrap().trim())
        .collect();
    assert_eq!(rpcs, METHODS, "metrics::METHODS must list proto/ebl/v1/ledger.proto's rpcs in order");
}
