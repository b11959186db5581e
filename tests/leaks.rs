//! What a refusal, a list or a read reveals to a party that may not see a bill: nothing. A record
//! for a bill its actor may not see is answered exactly as one for a bill that does not exist,
//! through Submit and SubmitBatch, for every title and custody action; FindBills lists and
//! counts only what the reader may see; and a bill the reader may not see costs the same reads
//! as a missing one (counted by the store, never timed).
use crate::common;

use common::custody::*;
use common::*;
use ebl_core::ids::BillId;
use ebl_core::time::Timestamp;
use ebl_ledger::client::{payload, Link};
use ebl_ledger::pb::{self, record_payload::Action};
use ebl_ledger::store::ReadCounts;
use tonic::Code;

/// Every title and custody action, by a party to which the bill is a stranger's: (actor,
/// recipient, co-signer, action).
fn stranger_actions() -> Vec<(&'static str, Option<&'static str>, Option<&'static str>, Action)> {
    let t = |a: &'static str, to: Option<&'static str>, act: Action| (a, to, None, act);
    vec![
        t("xx-trader", Some("xx-bank"), Action::Transfer(pb::Transfer {})),
        t("xx-trader", Some("xx-bank"), Action::Endorse(pb::Endorse {})),
        t("xx-trader", Some("xx-bank"), Action::EndorseToOrder(pb::EndorseToOrder {})),
        t("xx-trader", None, Action::BlankEndorse(pb::BlankEndorse {})),
        t("xx-trader", None, Action::Sign(pb::Sign {})),
        t("xx-trader", None, Action::Reject(pb::Reject { reason: "not mine".into() })),
        t("xx-trader", Some("cq-mto"), surrender()),
        t("xx-trader", Some("cq-mto"), for_amendment(pb::AmendmentReason::Cod)),
        t("xx-trader", Some("xx-bank"), Action::Pledge(pb::Pledge { mode: 1, loan_reference: "L1".into() })),
        t("xx-bank", None, Action::ReleasePledge(pb::ReleasePledge {})),
        t("xx-bank", None, Action::EnforcePledge(pb::EnforcePledge { reason: "default".into() })),
        t("xx-carrier", None, sacc("")),
        t("xx-carrier", None, Action::RejectSurrender(pb::RejectSurrender { reason: "no".into() })),
        t("xx-carrier", None, depart(0, ilstc_boxes())),
        t("xx-carrier", None, arrive(0, ilstc_boxes())),
        ("xx-carrier", Some("xx-carrier2"), Some("xx-carrier2"), qinzhou()),
        t("xx-carrier", Some("xx-trader"), deliver(ilstc_boxes())),
        t("us-customs", None, hold("US-DECL-1")),
        t("us-customs", None, release("US-DECL-1")),
        t("xx-carrier", None, reroute(1, ilstc_route(|_| {})[1..].to_vec())),
    ]
}

/// The record `actor` would send for `bill`, naming `link` (and for custody, the title head of
/// `title`): the same bytes for a hidden bill and a missing one but for the bill id.
fn record(
    l: &TestLedger,
    bill: BillId,
    link: Link,
    title: &pb::BillView,
    who: (&str, Option<&str>, Option<&str>),
    action: Action,
) -> pb::SignedRecord {
    let (actor, to, co) = who;
    let custody = action_name(&action) != "record";
    let mut p = payload(ORIGIN, Some(bill), link, actor, to, Timestamp::now(), action);
    if custody {
        (p.title_position, p.title_head) = (title.head_position, title.head.clone());
    }
    let mut signers = vec![actor];
    signers.extend(co);
    signed(l, &p, &signers)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bill_you_may_not_see_is_refused_exactly_like_one_that_does_not_exist() {
    let (mut l, bill) = ledger_with_routed_bill("LEAK-0001").await;
    // Move the bill, so that its head is somewhere a stranger could not guess.
    title(&mut l, bill, "cq-machinery", Some("cq-bank"), Action::Endorse(pb::Endorse {})).await;
    l.register("xx-trader", pb::Role::Trader, lei("XXTRADER000000000001"), &[]).await;
    l.register("xx-bank", pb::Role::Bank, lei("XXBANK00000000000002"), &[]).await;
    l.register("xx-carrier", pb::Role::Carrier, lei("XXCARRIER00000000003"), &[]).await;
    l.register("xx-carrier2", pb::Role::Carrier, lei("XXCARRIER00000000004"), &[]).await;
    l.register("us-customs", pb::Role::Customs, lei("USCUSTOMS00000000005"), &["US"]).await;
    let missing = BillId::derive(&l.party("cq-mto").party, "NEVER-ISSUED", 0);
    let (hidden_hex, missing_hex) = (bill.to_string(), missing.to_string());
    let same = |s: &str| s.replace(&hidden_hex, &missing_hex);
    let v = view(&mut l, bill).await;
    let c = v.custody.clone().unwrap();
    let before = l.digest();
    let mut compared = 0;
    for (actor, to, co, action) in stranger_actions() {
        let name: String = format!("{action:?}").chars().take_while(|c| *c != '(').collect();
        let name = name.as_str();
        let link = match action_name(&action) {
            "record" => Link::after(v.head_position, &v.head),
            _ if c.head.is_empty() => Link::default(),
            _ => Link::after(c.head_position, &c.head),
        };
        let hidden = record(&l, bill, link, &v, (actor, to, co), action.clone());
        let absent = record(&l, missing, link, &v, (actor, to, co), action);
        // Submit: code, reason, message and details equal once the bill id is substituted.
        let a = l.client.submit(hidden.clone()).await.expect_err(name);
        let b = l.client.submit(absent.clone()).await.expect_err(name);
        assert_eq!(a.code(), Code::NotFound, "{name} by {actor}: {a:?}");
        assert_eq!(reason_of(&a), "NOT_FOUND", "{name}");
        assert_eq!((a.code(), same(a.message())), (b.code(), b.message().to_string()), "{name} by {actor}");
        let details = |s: &tonic::Status| String::from_utf8_lossy(s.details()).to_string();
        assert_eq!(same(&details(&a)), details(&b), "{name} by {actor}: details");
        assert!(!a.message().contains(&v.possessor), "{name}: the message names the possessor");
        // SubmitBatch: the per-record error, field by field.
        let batch = |r: pb::SignedRecord| pb::SubmitBatchRequest { records: vec![r] };
        let ea = l.client.grpc.submit_batch(batch(hidden)).await.unwrap().into_inner().results;
        let eb = l.client.grpc.submit_batch(batch(absent)).await.unwrap().into_inner().results;
        let err = |r: &[pb::SubmitResult]| match &r[0].outcome {
            Some(pb::submit_result::Outcome::Error(e)) => e.clone(),
            other => panic!("{name}: expected a refusal, got {other:?}"),
        };
        let (ea, eb) = (err(&ea), err(&eb));
        assert_eq!(
            (ea.code.as_str(), ea.reason.as_str(), same(&ea.message), ea.field.as_str()),
            (eb.code.as_str(), eb.reason.as_str(), eb.message.clone(), eb.field.as_str()),
            "{name} by {actor}: batch"
        );
        compared += 1;
    }
    assert_eq!(compared, 20, "every title and custody action");
    assert_eq!(l.digest(), before, "a refused record changed the ledger");
    // The parties of the bill still get the rules' own answers, which may name what they see.
    let stale = record(
        &l,
        bill,
        Link::after(v.head_position - 1, &[0; 32]),
        &v,
        ("cq-machinery", Some("cq-bank"), None),
        Action::Transfer(pb::Transfer {}),
    );
    let e = l.client.submit(stale).await.unwrap_err();
    assert_eq!((e.code(), reason_of(&e).as_str()), (Code::Aborted, "STALE_HEAD"), "{e:?}");
}

/// Waits until the checkpoint signer has signed over everything and gone quiet, so that the
/// store's read counts move only for the requests measured.
async fn quiet(l: &mut TestLedger) {
    let size = l.info().await.log_size;
    l.checkpoint_of_size(size).await;
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
}

/// The store's reads and decodes since `before`.
fn since(l: &TestLedger, before: ReadCounts) -> ReadCounts {
    let now = l.store().read_counts();
    ReadCounts { reads: now.reads - before.reads, decodes: now.decodes - before.decodes }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn find_bills_lists_and_costs_only_what_the_reader_may_see() {
    let mut l = TestLedger::start().await;
    journey_cast(&mut l).await;
    l.register("cq-audit", pb::Role::Auditor, lei("CQAUDIT0000000000009"), &[]).await;
    let carrier = l.party("cq-mto");
    // The exporter's own bill sorts after almost every other: under the old limit-then-filter
    // scan, the 1,000 bills before it hid it.
    let mine = (0..)
        .map(|i| format!("MINE-{i}"))
        .find(|r| BillId::derive(&carrier.party, r, 0).0 .0[..2] == [0xff, 0xff])
        .unwrap();
    let my_bill = issue_ilstc(&mut l, &mine).await;
    let reader = l.party("cq-machinery");
    let by_box = pb::FindBillsRequest { container: ilstc_boxes()[0].clone(), ..Default::default() };
    quiet(&mut l).await;
    let before = l.store().read_counts();
    let few = l.client.find_bills(&reader, by_box.clone()).await.unwrap();
    let cost_few = since(&l, before);
    assert_eq!(few.bills.len(), 1);

    // 1,100 bills with the same container that the exporter may not see.
    let hidden: Vec<BillId> = (0..1100).map(|i| BillId::derive(&carrier.party, &format!("HIDDEN-{i}"), 0)).collect();
    for chunk in (0..1100).collect::<Vec<_>>().chunks(256) {
        let records = chunk
            .iter()
            .map(|i| {
                let d = with_reference(doc_json(ILSTC), &format!("HIDDEN-{i}"));
                l.issue_record(&carrier, &d, pb::DocumentProfile::DcsaEbl3, "sg-buyer", "", "")
            })
            .collect();
        let out = l.client.grpc.submit_batch(pb::SubmitBatchRequest { records }).await.unwrap().into_inner();
        assert!(out.results.iter().all(|r| matches!(r.outcome, Some(pb::submit_result::Outcome::Receipt(_)))));
    }
    quiet(&mut l).await;
    let before = l.store().read_counts();
    let many = l.client.find_bills(&reader, by_box.clone()).await.unwrap();
    let cost_many = since(&l, before);
    assert_eq!(many.bills.iter().map(|b| b.bill_id.clone()).collect::<Vec<_>>(), vec![my_bill.0 .0.to_vec()]);
    assert_eq!(many.next, Vec::<u8>::new(), "one page holds everything the exporter may see");
    assert_eq!(cost_many, cost_few, "1,100 hidden bills changed the cost of the exporter's search");

    // GetBill of a bill the reader may not see costs what a missing one costs, and says the same.
    let missing = BillId::derive(&carrier.party, "NEVER-ISSUED", 0);
    let before = l.store().read_counts();
    let a = l.client.bill(&reader, hidden[7]).await.unwrap_err();
    let cost_hidden = since(&l, before);
    let before = l.store().read_counts();
    let b = l.client.bill(&reader, missing).await.unwrap_err();
    let cost_missing = since(&l, before);
    assert_eq!((a.code(), b.code()), (Code::NotFound, Code::NotFound));
    assert_eq!(a.message().replace(&hidden[7].to_string(), &missing.to_string()), b.message());
    assert_eq!(cost_hidden, cost_missing, "a hidden bill costs more reads than a missing one");

    // Pages: an auditor sees all 1,101 bills, in bill-id order, each once, a page at a time.
    let audit = l.party("cq-audit");
    let mut seen = Vec::new();
    let mut after = Vec::new();
    for page in 0.. {
        assert!(page < 10, "pagination does not end");
        let q = pb::FindBillsRequest { after: after.clone(), limit: 400, ..by_box.clone() };
        let list = l.client.find_bills(&audit, q).await.unwrap();
        assert!(list.bills.len() <= 400);
        seen.extend(list.bills.iter().map(|b| b.bill_id.clone()));
        if list.next.is_empty() {
            break;
        }
        after = list.next;
    }
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(seen, sorted, "pages are in bill-id order with no bill twice");
    assert_eq!(seen.len(), 1101);
    // The buyer's pages hold its 1,100 bills and not the exporter's.
    let buyer = l.party("sg-buyer");
    let q = pb::FindBillsRequest { limit: 1000, ..by_box.clone() };
    let first = l.client.find_bills(&buyer, q.clone()).await.unwrap();
    let rest = l.client.find_bills(&buyer, pb::FindBillsRequest { after: first.next.clone(), ..q }).await.unwrap();
    assert_eq!(first.bills.len() + rest.bills.len(), 1100);
    assert!(!first.bills.iter().chain(&rest.bills).any(|b| b.bill_id == my_bill.0 .0.to_vec()));
}
