//! The storage engines' conformance suite: RocksDB and memory (and the fault-injecting engine
//! around each, with no fault on) held to the same behaviour: column families, point reads,
//! ordered and bounded scans, atomic batches applied in order, snapshots; then a property test
//! against a model. The fault-injecting engine's own tests follow: a failed read is an error,
//! never an absent value, and a failed batch leaves nothing visible; through the real server, a
//! failed read is UNAVAILABLE (never a rule's refusal or CHAIN_BROKEN) and a failed commit
//! changes nothing.
use crate::common;

use common::*;
use ebl_ledger::pb::{self, record_payload::Action};
use ebl_ledger::store::engine::faulty::FaultyEngine;
use ebl_ledger::store::engine::memory::MemoryEngine;
use ebl_ledger::store::engine::rocks::RocksEngine;
use ebl_ledger::store::engine::{Engine, ErrorKind, Op, Read};
use proptest::prelude::*;
use std::collections::BTreeMap;

const CFS: [&str; 3] = ["a", "b", "c"];

/// Each engine under test, fresh, with what keeps it alive.
fn engines() -> Vec<(&'static str, Box<dyn Engine>, Option<tempfile::TempDir>)> {
    let rocks = |dir: &tempfile::TempDir| RocksEngine::open(&dir.path().join("db"), &CFS, 64).unwrap();
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    vec![
        ("rocksdb", Box::new(rocks(&d1)) as Box<dyn Engine>, Some(d1)),
        ("memory", Box::new(MemoryEngine::new(&CFS)), None),
        ("faulty(rocksdb)", Box::new(FaultyEngine::new(Box::new(rocks(&d2))).0), Some(d2)),
        ("faulty(memory)", Box::new(FaultyEngine::new(Box::new(MemoryEngine::new(&CFS))).0), None),
    ]
}

fn put(cf: &'static str, k: &[u8], v: &[u8]) -> Op {
    Op::Put { cf, key: k.to_vec(), value: v.to_vec() }
}

fn del(cf: &'static str, k: &[u8]) -> Op {
    Op::Delete { cf, key: k.to_vec() }
}

fn keys(r: &dyn Read, cf: &'static str, from: &[u8], until: Option<&[u8]>) -> Vec<Vec<u8>> {
    r.scan(cf, from, until).map(|i| i.unwrap().0.to_vec()).collect()
}

/// Runs `case` on every engine, naming the engine that fails.
fn conform(case: impl Fn(&dyn Engine)) {
    for (name, engine, _dir) in engines() {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| case(&*engine)));
        if let Err(e) = result {
            let what = e.downcast_ref::<String>().cloned().unwrap_or_default();
            panic!("engine {name} does not conform: {what}");
        }
    }
}

#[test]
fn point_reads_writes_and_deletes() {
    conform(|e| {
        assert_eq!(e.get("a", b"k").unwrap(), None);
        e.write(vec![put("a", b"k", b"v1")], true).unwrap();
        assert_eq!(e.get("a", b"k").unwrap().as_deref(), Some(&b"v1"[..]));
        e.write(vec![put("a", b"k", b"v2")], false).unwrap();
        assert_eq!(e.get("a", b"k").unwrap().as_deref(), Some(&b"v2"[..]));
        // An empty value is a value (index entries are empty), not an absence.
        e.write(vec![put("a", b"empty", b"")], true).unwrap();
        assert_eq!(e.get("a", b"empty").unwrap(), Some(vec![]));
        e.write(vec![del("a", b"k"), del("a", b"never")], true).unwrap();
        assert_eq!(e.get("a", b"k").unwrap(), None);
        e.flush().unwrap();
        assert_eq!(e.get("a", b"empty").unwrap(), Some(vec![]));
    });
}

#[test]
fn column_families_are_separate() {
    conform(|e| {
        e.write(vec![put("a", b"k", b"in a"), put("b", b"k", b"in b")], true).unwrap();
        assert_eq!(e.get("a", b"k").unwrap().as_deref(), Some(&b"in a"[..]));
        assert_eq!(e.get("b", b"k").unwrap().as_deref(), Some(&b"in b"[..]));
        assert_eq!(e.get("c", b"k").unwrap(), None);
        assert!(keys(e, "c", b"", None).is_empty());
        // A column family the engine was not opened with is an error, not an empty one.
        assert!(e.get("nope", b"k").is_err());
        assert!(e.scan("nope", b"", None).next().unwrap().is_err());
    });
}

#[test]
fn scans_are_ordered_and_bounded() {
    conform(|e| {
        let all: Vec<&[u8]> = vec![b"", b"\x00", b"a", b"a\x00", b"ab", b"a\xff", b"b", b"\xff", b"\xff\xff"];
        e.write(all.iter().rev().map(|k| put("a", k, b"")).collect(), true).unwrap();
        let owned: Vec<Vec<u8>> = all.iter().map(|k| k.to_vec()).collect();
        assert_eq!(keys(e, "a", b"", None), owned, "byte order, from the first key");
        assert_eq!(keys(e, "a", b"a", Some(b"b")), owned[2..6], "from inclusive, until exclusive");
        assert_eq!(keys(e, "a", b"a\x01", Some(b"a\xff")), owned[4..5]);
        assert_eq!(keys(e, "a", b"b", None), owned[6..]);
        assert!(keys(e, "a", b"b", Some(b"b")).is_empty());
        assert!(keys(e, "a", b"c", Some(b"b")).is_empty(), "an empty range");
        assert!(keys(e, "a", b"\xff\xff\x00", None).is_empty());
        let entries: Vec<_> = e.scan("a", b"a\xff", Some(b"b\x00")).map(Result::unwrap).collect();
        assert_eq!(entries.len(), 2);
        assert_eq!((&*entries[1].0, &*entries[1].1), (&b"b"[..], &b""[..]));
    });
}

#[test]
fn batches_apply_in_order_and_whole() {
    conform(|e| {
        e.write(vec![put("a", b"x", b"1"), del("a", b"x"), put("a", b"y", b"1"), put("a", b"y", b"2")], true).unwrap();
        assert_eq!(e.get("a", b"x").unwrap(), None, "a delete after a put in one batch wins");
        assert_eq!(e.get("a", b"y").unwrap().as_deref(), Some(&b"2"[..]), "the last put wins");
        // A batch naming a column family that does not exist fails, and none of it is applied.
        let bad = vec![put("a", b"z", b"1"), put("b", b"z", b"1"), put("nope", b"z", b"1")];
        assert!(e.write(bad, true).is_err());
        assert_eq!(e.get("a", b"z").unwrap(), None);
        assert_eq!(e.get("b", b"z").unwrap(), None);
        // An empty batch is fine.
        e.write(vec![], true).unwrap();
    });
}

#[test]
fn snapshots_and_scans_under_way_see_one_moment() {
    conform(|e| {
        e.write(vec![put("a", b"1", b"old"), put("a", b"3", b"old")], true).unwrap();
        let snap = e.snapshot().unwrap();
        let mut scan = e.scan("a", b"", None);
        assert_eq!(&*scan.next().unwrap().unwrap().0, b"1");
        e.write(vec![put("a", b"1", b"new"), put("a", b"2", b"new"), del("a", b"3")], true).unwrap();
        // The scan begun before the write goes on over what was there when it began.
        let rest: Vec<_> = scan.map(|i| i.unwrap().0.to_vec()).collect();
        assert_eq!(rest, [b"3".to_vec()]);
        assert_eq!(snap.get("a", b"1").unwrap().as_deref(), Some(&b"old"[..]));
        assert_eq!(snap.get("a", b"2").unwrap(), None);
        assert_eq!(keys(&*snap, "a", b"", None), [b"1".to_vec(), b"3".to_vec()]);
        assert_eq!(e.get("a", b"1").unwrap().as_deref(), Some(&b"new"[..]));
        assert_eq!(keys(e, "a", b"", None), [b"1".to_vec(), b"2".to_vec()]);
    });
}

/// A random batch: puts and deletes over a small key space, so that keys collide.
fn batch() -> impl Strategy<Value = Vec<(u8, Vec<u8>, Option<Vec<u8>>)>> {
    let key = prop::collection::vec(prop::sample::select(vec![0u8, 1, 0x7f, 0xff]), 0..4);
    let op = (0u8..2, key, prop::option::of(prop::collection::vec(any::<u8>(), 0..3)));
    prop::collection::vec(op, 0..8)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Any sequence of batches leaves every engine holding what a plain ordered map holds, and
    /// every bounded scan agrees with the map's range.
    #[test]
    fn engines_agree_with_a_model(batches in prop::collection::vec(batch(), 1..6), from in any::<Vec<u8>>(), until in any::<Vec<u8>>()) {
        let engines = engines();
        let mut model: [BTreeMap<Vec<u8>, Vec<u8>>; 2] = Default::default();
        for b in &batches {
            let ops: Vec<Op> = b.iter().map(|(cf, k, v)| match v {
                Some(v) => put(CFS[*cf as usize], k, v),
                None => del(CFS[*cf as usize], k),
            }).collect();
            for (cf, k, v) in b {
                match v {
                    Some(v) => { model[*cf as usize].insert(k.clone(), v.clone()); }
                    None => { model[*cf as usize].remove(k); }
                }
            }
            for (_, e, _) in &engines {
                e.write(ops.clone(), false).unwrap();
            }
        }
        for (name, e, _) in &engines {
            for (i, m) in model.iter().enumerate() {
                let all: Vec<_> = e.scan(CFS[i], b"", None).map(|r| { let (k, v) = r.unwrap(); (k.to_vec(), v.to_vec()) }).collect();
                let expected: Vec<_> = m.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                prop_assert_eq!(&all, &expected, "engine {} column family {}", name, CFS[i]);
                let ranged: Vec<_> = e.scan(CFS[i], &from, Some(&until)).map(|r| r.unwrap().0.to_vec()).collect();
                let expected: Vec<_> = if from < until {
                    m.range(from.clone()..until.clone()).map(|(k, _)| k.clone()).collect()
                } else {
                    vec![]
                };
                prop_assert_eq!(&ranged, &expected, "engine {} range scan", name);
                for k in m.keys() {
                    prop_assert_eq!(e.get(CFS[i], k).unwrap(), m.get(k).cloned());
                }
            }
        }
    }
}

#[test]
fn a_failing_engine_fails_reads_as_errors_and_writes_whole() {
    let dir = tempfile::tempdir().unwrap();
    for inner in [
        Box::new(MemoryEngine::new(&CFS)) as Box<dyn Engine>,
        Box::new(RocksEngine::open(&dir.path().join("db"), &CFS, 64).unwrap()),
    ] {
        let (e, faults) = FaultyEngine::new(inner);
        e.write(vec![put("a", b"1", b"v"), put("a", b"2", b"v")], true).unwrap();
        faults.fail_reads(true);
        let err = e.get("a", b"1").unwrap_err();
        assert_eq!(err.kind, ErrorKind::Io);
        assert!(e.scan("a", b"", None).next().unwrap().is_err());
        assert!(e.snapshot().is_err());
        faults.fail_reads(false);
        // A scan under way fails at its next step once reads fail.
        let mut scan = e.scan("a", b"", None);
        assert!(scan.next().unwrap().is_ok());
        faults.fail_reads(true);
        assert!(scan.next().unwrap().is_err());
        faults.fail_reads(false);
        drop(scan);

        faults.fail_writes(true);
        assert_eq!(e.write(vec![put("a", b"3", b"v"), del("a", b"1")], true).unwrap_err().kind, ErrorKind::Io);
        faults.fail_writes(false);
        assert_eq!(keys(&e, "a", b"", None), [b"1".to_vec(), b"2".to_vec()], "a failed batch left something");
    }
}

#[tokio::test]
async fn storage_failures_reach_callers_as_unavailable_and_change_nothing() {
    let (mut l, faults) = TestLedger::start_faulty().await;
    journey_cast(&mut l).await;
    let bill = issue_ilstc(&mut l, "CQQZ2026000077").await;
    let exporter = l.party("cq-machinery");
    let bank = l.party("cq-bank");
    l.client.act(&exporter, bill, Some("cq-bank"), Action::EndorseToOrder(pb::EndorseToOrder {})).await.unwrap();
    let link = l.next_link(bill).await;
    let transfer = l.title_record(&exporter, bill, link, Some("cq-bank"), Action::Transfer(pb::Transfer {}));

    // Reads fail: every read RPC and every write says UNAVAILABLE, never a refusal or a broken chain.
    faults.fail_reads(true);
    let unavailable = |r: Result<(), tonic::Status>, what: &str| {
        let e = r.expect_err(what);
        assert_eq!(e.code(), tonic::Code::Unavailable, "{what}: {e:?}");
        assert_ne!(reason_of(&e), "CHAIN_BROKEN", "{what}");
    };
    unavailable(l.client.verify_title(&exporter, bill).await.map(drop), "VerifyTitle");
    unavailable(l.client.bill(&exporter, bill).await.map(drop), "GetBill");
    unavailable(l.client.history(&exporter, bill).await.map(drop), "GetHistory");
    unavailable(l.client.submit(transfer.clone()).await.map(drop), "Submit");
    faults.fail_reads(false);

    // The commit fails: the record is not acknowledged and nothing of it is visible.
    let before = l.digest();
    let size = l.store().next_seq().unwrap();
    faults.fail_writes(true);
    unavailable(l.client.submit(transfer.clone()).await.map(drop), "Submit while writes fail");
    faults.fail_writes(false);
    assert_eq!(l.digest(), before, "a failed commit left something");
    assert_eq!(l.client.bill(&exporter, bill).await.unwrap().possessor, "cq-machinery");

    // Once storage works again the same record is taken, at the next place, not as a duplicate.
    let r = l.client.submit(transfer).await.unwrap();
    assert!(!r.duplicate);
    assert_eq!(r.seq, size);
    let t = l.client.verify_title(&bank, bill).await.unwrap();
    assert!(t.chain_verified);
}
