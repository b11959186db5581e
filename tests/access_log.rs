//! The access log: every signed read the ledger serves is logged (reader, RPC, bill or query,
//! time) and the operator and auditors list it, all of it, one bill's or one party's, in pages;
//! a refused read is not logged as served, other parties may not list it, reads change nothing
//! of the ledger's data, and the log survives a restart. `ebl access-log` shows it.
use crate::common;

use common::*;
use ebl_ledger::pb;
use tonic::Code;

async fn log_of(l: &mut TestLedger, who: &ebl_ledger::client::Identity, q: pb::GetAccessLogRequest) -> pb::AccessLog {
    l.client.access_log(who, q).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auditors_see_who_read_what_and_nobody_else_does() {
    let (mut l, bill) = ledger_with_bill("ACCESS-0001").await;
    let auditor = l.register("eu-auditor", pb::Role::Auditor, vec![], &[]).await;
    let (exporter, bank, buyer) = (l.party("cq-machinery"), l.party("cq-bank"), l.party("sg-buyer"));
    let digest = l.digest();

    l.client.bill(&exporter, bill).await.unwrap();
    l.client.verify_chain(&exporter, bill).await.unwrap();
    // The buyer may not see the bill: refused, and not logged as served.
    l.client.bill(&buyer, bill).await.unwrap_err();
    let find = pb::FindBillsRequest { container: "CQLU4518208".into(), ..Default::default() };
    l.client.find_bills(&bank, find).await.unwrap();
    assert_eq!(l.digest(), digest, "reads change nothing of the ledger's data");

    // One bill's reads, oldest first: the exporter's two, each named by its RPC.
    let by_bill = pb::GetAccessLogRequest { bill_id: bill.0 .0.to_vec(), ..Default::default() };
    let log = log_of(&mut l, &auditor, by_bill.clone()).await;
    let seen: Vec<(&str, &str)> = log.entries.iter().map(|e| (e.party.as_str(), e.method.as_str())).collect();
    assert!(seen.ends_with(&[("cq-machinery", "GetBill"), ("cq-machinery", "VerifyTitle")]), "{seen:?}");
    assert!(log.entries.iter().all(|e| e.bill_id == bill.0 .0.to_vec() && e.party != "sg-buyer"), "{log:?}");
    assert!(log.next.is_empty());
    let times: Vec<_> = log.entries.iter().map(|e| e.time.clone()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");

    // One party's reads: the bank's search, by what it looked up.
    let by_bank = pb::GetAccessLogRequest { party: "cq-bank".into(), ..Default::default() };
    let log = log_of(&mut l, &auditor, by_bank).await;
    assert_eq!(log.entries.len(), 1, "{log:?}");
    assert_eq!((log.entries[0].method.as_str(), log.entries[0].query.as_str()), ("FindBills", "container CQLU4518208"));
    assert!(log.entries[0].bill_id.is_empty());

    // The operator sees it too, and the whole log pages: one entry a page gives the same list.
    let op = l.operator.clone();
    let all = log_of(&mut l, &op, pb::GetAccessLogRequest::default()).await.entries;
    assert!(all.len() >= 4 && all.iter().any(|e| e.party == "eu-auditor" && e.method == "GetAccessLog"), "{all:?}");
    let mut paged = Vec::new();
    let mut q = pb::GetAccessLogRequest { limit: 1, ..Default::default() };
    loop {
        let page = log_of(&mut l, &op, q.clone()).await;
        assert!(page.entries.len() <= 1);
        paged.extend(page.entries);
        if page.next.is_empty() {
            break;
        }
        q.after = page.next;
    }
    assert_eq!(paged[..all.len()], all[..], "pages give the same entries in the same order");

    // A listing ends where the log ended at its first page, though each page read adds to it.
    let again = log_of(&mut l, &op, pb::GetAccessLogRequest::default()).await.entries;
    assert!(again.len() > all.len(), "the reads since are logged too");
    // A bank may not list it; a bill and a party at once, or a made-up cursor, is malformed.
    let e = l.client.access_log(&bank, by_bill.clone()).await.unwrap_err();
    assert_eq!((e.code(), reason_of(&e).as_str()), (Code::PermissionDenied, "NOT_AUDITOR"), "{e:?}");
    let both = pb::GetAccessLogRequest { party: "cq-bank".into(), ..by_bill.clone() };
    let e = l.client.access_log(&auditor, both).await.unwrap_err();
    assert_eq!((e.code(), field_of(&e).as_str()), (Code::InvalidArgument, "party"), "{e:?}");
    let made_up = pb::GetAccessLogRequest { after: vec![7; 5], ..Default::default() };
    let e = l.client.access_log(&auditor, made_up).await.unwrap_err();
    assert_eq!((e.code(), field_of(&e).as_str()), (Code::InvalidArgument, "after"), "{e:?}");

    // It survives a restart.
    let mut l = l.restart().await;
    let log = log_of(&mut l, &auditor, by_bill).await;
    assert!(log.entries.iter().filter(|e| e.method == "GetBill" && e.party == "cq-machinery").count() == 1, "{log:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ebl_access_log_lists_a_bills_readers() {
    let (mut l, bill) = ledger_with_bill("ACCESS-0002").await;
    let auditor = l.register("eu-auditor", pb::Role::Auditor, vec![], &[]).await;
    let exporter = l.party("cq-machinery");
    l.client.bill(&exporter, bill).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let key = |who: &str, id: &ebl_ledger::client::Identity| {
        let file = dir.path().join(format!("{who}.key"));
        ebl_ledger::server::write_secret_key(&file, &id.key).unwrap();
        file.to_str().unwrap().to_string()
    };
    let (auditor_key, bank_key) = (key("eu-auditor", &auditor), key("cq-bank", &l.party("cq-bank")));
    let url = l.url.clone();
    let (out, refused) = tokio::task::spawn_blocking(move || {
        let run = |args: &[&str]| {
            std::process::Command::new(ebl_bin()).arg("--server").arg(&url).args(args).output().unwrap()
        };
        let as_ = |who: &str, key: &str| ["--as".to_string(), who.to_string(), "--key".to_string(), key.to_string()];
        let args = [&["--json".to_string(), "access-log".into()][..], &as_("eu-auditor", &auditor_key)].concat();
        let args: Vec<&str> = args.iter().map(String::as_str).chain(["--bill", "cq-mto/ACCESS-0002"]).collect();
        let out = run(&args);
        let bank = as_("cq-bank", &bank_key);
        let bank: Vec<&str> = ["access-log"].into_iter().chain(bank.iter().map(String::as_str)).collect();
        (out, run(&bank))
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let entries = v["entries"].as_array().unwrap();
    assert!(
        entries.iter().any(|e| e["party"] == "cq-machinery"
            && e["method"] == "GetBill"
            && e["bill_id"] == hex::encode(bill.0 .0)),
        "{v}"
    );
    assert_eq!(refused.status.code(), Some(5), "{}", String::from_utf8_lossy(&refused.stderr));
}
