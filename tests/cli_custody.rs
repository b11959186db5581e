//! Customs and handoff checks with the real `ebl` against a real server: `ebl custody verify` as
//! a gate (exit 0 or 3, by leg, place or container, right after a handoff, a customs hold, the
//! delivery at the last leg), `ebl custody history` decoded, and `ebl container` across legs and
//! bills, showing nothing of bills the reader may not see. Setups go through the gRPC helpers of
//! tests/common/custody.rs; the checks run the binary.
use crate::common;

use common::custody::*;
use common::*;
use ebl_ledger::pb;
use serde_json::Value;
use std::process::{Command, Output};

const BOX1: &str = "CQLU4518208";
const BOX2: &str = "CQLU4520870";
/// A valid ISO 6346 number that no bill names.
const NO_BOX: &str = "CSQU3054383";
/// BOX1 with a wrong check digit.
const BAD_BOX: &str = "CQLU4518209";

/// Runs `ebl` as `who` (with its key file in `keys`) against `url`.
fn ebl(url: &str, keys: &std::path::Path, who: &str, args: &[&str]) -> Output {
    let key = keys.join(format!("{who}.key"));
    Command::new(ebl_bin())
        .args(["--server", url])
        .args(args)
        .args(["--as", who, "--key", key.to_str().unwrap()])
        .output()
        .expect("run ebl")
}

fn text(o: &Output) -> (Option<i32>, String, String) {
    (o.status.code(), String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

/// Writes the secret key files of `parties` into a new folder.
fn key_files(l: &TestLedger, parties: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for who in parties {
        ebl_ledger::server::write_secret_key(&dir.path().join(format!("{who}.key")), &l.party(who).key).unwrap();
    }
    dir
}

/// The gate by `how` (`--leg N`, `--place P`, `--container C`): its exit status, its answer and
/// its error line.
fn gate(url: &str, keys: &std::path::Path, who: &str, how: &[&str]) -> (Option<i32>, String, String) {
    let args = [&["custody", "verify", "--bill", "cq-mto/CLICUS-GATE"][..], how].concat();
    text(&ebl(url, keys, who, &args))
}

fn handoff_of(boxes: &[&str]) -> pb::record_payload::Action {
    let seals = ilstc_seals().into_iter().filter(|s| boxes.contains(&s.container.as_str())).collect();
    handoff(0, "CNQZH", boxes.iter().map(|b| b.to_string()).collect(), seals)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custody_verify_is_a_gate_by_leg_place_or_container_and_is_right_after_a_handoff() {
    let (mut l, bill) = ledger_with_routed_bill("CLICUS-GATE").await;
    let (rail, ship) = ("cr-chongqing", "bbw-shipping");
    let keys = key_files(&l, &[ship, "sg-customs"]);
    let (url, k) = (l.url.clone(), keys.path().to_path_buf());
    let run = |how: &'static [&'static str]| {
        let (url, k) = (url.clone(), k.clone());
        async move { tokio::task::spawn_blocking(move || gate(&url, &k, ship, how)).await.unwrap() }
    };

    // Nothing has arrived at Qinzhou: stopped, by place as by leg.
    let (code, out, err) = run(&["--place", "CNQZH"]).await;
    assert_eq!(code, Some(3), "{out}{err}");
    assert!(out.starts_with("HANDOFF STOPPED at CNQZH (end of leg 0): CONTAINER_NOT_THERE"), "{out}");
    assert!(err.starts_with("ebl: the handoff at CNQZH may not proceed: CONTAINER_NOT_THERE"), "{err}");
    assert_eq!(run(&["--leg", "0"]).await.0, Some(3));

    rail_to_qinzhou(&mut l, bill).await;
    for how in [&["--place", "CNQZH"][..], &["--leg", "0"], &["--container", BOX1]] {
        let (code, out, err) = run(how).await;
        assert_eq!(code, Some(0), "{how:?}: {out}{err}");
        assert!(out.starts_with("HANDOFF MAY PROCEED at CNQZH (end of leg 0)"), "{how:?}: {out}");
    }

    // A customs hold at Qinzhou stops it, and says so, in the answer and in the error (JSON too).
    ok(&mut l, bill, "cn-customs-qz", None, hold("QZ2025-000001")).await;
    let (code, out, err) = run(&["--json", "--container", BOX2]).await;
    assert_eq!(code, Some(3), "{out}{err}");
    let answer: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (&answer["may_proceed"], &answer["leg"], &answer["place"]),
        (&Value::Bool(false), &Value::from(0), &Value::from("CNQZH"))
    );
    assert!(
        answer["reasons"][0].as_str().unwrap().starts_with("CUSTOMS_HOLD: a handoff at CNQZH is stopped"),
        "{answer}"
    );
    let e: Value = serde_json::from_str(&err).unwrap();
    assert_eq!((e["error"]["exit"].as_u64(), e["error"]["class"].as_str()), (Some(3), Some("refused")), "{e}");
    assert_eq!(e["error"]["reason"].as_str(), Some("CUSTOMS_HOLD"), "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("QZ2025-000001"), "{e}");
    ok(&mut l, bill, "cn-customs-qz", None, release("QZ2025-000001")).await;

    // One box handed over: the other may still go; the one handed over is checked where it is now.
    ok(&mut l, bill, rail, Some(ship), handoff_of(&[BOX1])).await;
    assert_eq!(run(&["--place", "CNQZH"]).await.0, Some(0));
    assert_eq!(run(&["--container", BOX2]).await.0, Some(0));
    let (code, out, _) = run(&["--container", BOX1]).await;
    assert_eq!(code, Some(3), "{out}");
    assert!(out.starts_with("DELIVERY STOPPED at SGSIN (end of leg 1, the last): CONTAINER_NOT_THERE"), "{out}");
    assert!(out.contains(&format!("'{BOX1}' is READY on leg 1 at CNQZH")), "{out}");
    assert!(out.contains("SURRENDER_NOT_ACCEPTED"), "{out}");

    // Both handed over: stopped at Qinzhou, saying they arrived and were handed over (the issue
    // saw "no container has arrived" here).
    ok(&mut l, bill, rail, Some(ship), handoff_of(&[BOX2])).await;
    for how in [&["--place", "CNQZH"][..], &["--leg", "0"]] {
        let (code, out, _) = run(how).await;
        assert_eq!(code, Some(3), "{out}");
        assert!(
            out.contains("arrived at CNQZH and were handed over at the end of leg 0: on leg 1 with 'bbw-shipping' now"),
            "{out}"
        );
        assert!(!out.contains("no container has arrived"), "{out}");
    }

    // At Singapore: delivery waits for the accepted surrender, and for customs.
    ok(&mut l, bill, ship, None, depart(1, ilstc_boxes())).await;
    ok(&mut l, bill, ship, None, arrive(1, ilstc_boxes())).await;
    let (code, out, _) = run(&["--place", "SGSIN"]).await;
    assert_eq!(code, Some(3), "{out}");
    assert!(out.starts_with("DELIVERY STOPPED at SGSIN (end of leg 1, the last): SURRENDER_NOT_ACCEPTED"), "{out}");
    ok(&mut l, bill, "sg-customs", None, hold("SG2025-000002")).await;
    let (code, out, err) = run(&["--container", BOX1]).await;
    assert_eq!(code, Some(3), "{out}");
    assert!(err.contains("CUSTOMS_HOLD: delivery at SGSIN is stopped by customs 'sg-customs'"), "{err}");
    ok(&mut l, bill, "sg-customs", None, release("SG2025-000002")).await;
    title(&mut l, bill, "cq-machinery", Some("cq-mto"), surrender()).await;
    title(&mut l, bill, "cq-mto", None, sacc("")).await;
    let (code, out, err) = run(&["--container", BOX1]).await;
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.starts_with("DELIVERY MAY PROCEED at SGSIN (end of leg 1, the last)"), "{out}");
    assert_eq!(run(&["--leg", "1"]).await.0, Some(0));

    // Questions that name nothing on the route are refused by the ledger (3); malformed ones by
    // the CLI (2), naming the flag.
    let (code, out, _) = run(&["--container", NO_BOX]).await;
    assert_eq!(code, Some(3), "{out}");
    assert!(out.contains(&format!("INVALID_FIELD: container: '{NO_BOX}' is not on this bill")), "{out}");
    let (code, out, _) = run(&["--place", "NLRTM"]).await;
    assert_eq!(code, Some(3), "{out}");
    assert!(out.contains("no leg of the route ends at NLRTM"), "{out}");
    let (code, _, err) = run(&["--container", BAD_BOX]).await;
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains(&format!("--container {BAD_BOX}: check digit")), "{err}");
    let (code, _, err) = run(&["--place", "qinzhou"]).await;
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--place qinzhou"), "{err}");
    assert_eq!(run(&["--leg", "0", "--place", "CNQZH"]).await.0, Some(2));
    assert_eq!(run(&[]).await.0, Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custody_history_and_the_container_view_read_as_customs_need_and_show_nothing_hidden() {
    let (mut l, bill) = ledger_with_routed_bill("CLICUS-VIEW").await;
    let (rail, ship) = ("cr-chongqing", "bbw-shipping");
    l.register("nl-customs", pb::Role::Customs, vec![], &["NL"]).await;
    // A second bill naming the same boxes (a later shipment in them), moving in between.
    let carrier = l.party("cq-mto");
    let d = with_reference(doc_json(ILSTC), "CLICUS-VIEW-2");
    let rec = issue_with_route(&carrier, &d, pb::DocumentProfile::DcsaEbl3, "cq-machinery", "", route(ILSTC));
    l.client.submit(rec).await.unwrap();
    let second = ebl_core::ids::BillId::derive(&carrier.party, "CLICUS-VIEW-2", 0);

    ok(&mut l, bill, rail, None, depart(0, ilstc_boxes())).await;
    ok(&mut l, second, rail, None, depart(0, vec![BOX2.into()])).await;
    ok(&mut l, bill, rail, None, arrive(0, ilstc_boxes())).await;
    let mut seals = ilstc_seals();
    (seals[0].new_seal, seals[0].reason) = ("NEWSEAL0001".into(), "found cracked".into());
    let h = pb::Handoff {
        leg: 0,
        place: "CNQZH".into(),
        containers: ilstc_boxes(),
        seals,
        exceptions: vec![format!("{BOX1}: dent on the door, \u{1b}[31mcargo unaffected")],
    };
    ok(&mut l, bill, rail, Some(ship), pb::record_payload::Action::Handoff(h)).await;
    ok(&mut l, bill, ship, None, depart(1, vec![BOX1.into()])).await;
    ok(&mut l, bill, "sg-customs", None, hold("SG2025-778812")).await;

    let keys = key_files(&l, &["sg-customs", "nl-customs", "cq-bank"]);
    let url = l.url.clone();
    tokio::task::spawn_blocking(move || {
        let k = keys.path();
        let run = |who: &str, args: &[&str]| text(&ebl(&url, k, who, args));

        // The history, readable: action, leg and places, containers, seals, exceptions, hold, signers.
        let (code, out, err) = run("sg-customs", &["custody", "history", "--bill", "cq-mto/CLICUS-VIEW"]);
        assert_eq!(code, Some(0), "{err}");
        let lines: Vec<&str> = out.lines().filter(|l| l.starts_with('#')).collect();
        assert_eq!(lines.len(), 5, "{out}");
        let train = "on train X9012 wagons 3612045 3612046";
        assert!(lines[0].starts_with(&format!("#0 DEPART departs leg 0 (CNCKG -> CNQZH) {train}: {BOX1}, {BOX2}")), "{out}");
        assert!(lines[1].starts_with("#1 ARRIVE arrives at CNQZH at the end of leg 0"), "{out}");
        assert!(lines[2].starts_with(&format!(
            "#2 HANDOFF handed over at CNQZH at the end of leg 0 (CNCKG -> CNQZH) to bbw-shipping: {BOX1}, {BOX2}; seals {BOX1} CLS2503104471 replaced by NEWSEAL0001 (found cracked), {BOX1} CQ25C0088126 intact"
        )), "{out}");
        assert!(lines[4].starts_with("#4 CUSTOMS_HOLD HOLD, declaration SG2025-778812: documentary check"), "{out}");
        assert!(out.contains("by cr-chongqing, signed by cr-chongqing, bbw-shipping, at "), "{out}");
        assert!(out.contains("by sg-customs, signed by sg-customs, at "), "{out}");
        assert!(out.contains(&format!("exception: {BOX1}: dent on the door, cargo unaffected")), "escape removed: {out}");
        assert!(!out.contains('\u{1b}') && !out.contains("payload"), "{out}");

        // The same fields, structured.
        let (_, out, _) = run("sg-customs", &["--json", "custody", "history", "--bill", "cq-mto/CLICUS-VIEW"]);
        let events: Value = serde_json::from_str(&out).unwrap();
        let handoff = &events[2];
        assert_eq!(handoff["action"], "HANDOFF");
        assert_eq!((handoff["leg"].as_u64(), handoff["place"].as_str()), (Some(0), Some("CNQZH")));
        assert_eq!(handoff["signers"], serde_json::json!(["cr-chongqing", "bbw-shipping"]));
        assert_eq!(handoff["recipient"], "bbw-shipping");
        assert_eq!(handoff["seals"][0], serde_json::json!({"container": BOX1, "seal": "CLS2503104471", "new_seal": "NEWSEAL0001", "reason": "found cracked"}));
        assert_eq!(handoff["seals"][1]["new_seal"], Value::Null);
        assert_eq!(handoff["exceptions"][0], format!("{BOX1}: dent on the door, \u{1b}[31mcargo unaffected"), "JSON keeps exact values");
        assert_eq!((events[4]["declaration"].as_str(), events[4]["reason"].as_str()), (Some("SG2025-778812"), Some("documentary check")));
        assert_eq!(events[3]["containers"], serde_json::json!([BOX1]));
        assert_eq!(events[3]["conveyance"], "vessel IMO 9321483 voyage 511S");

        // The container view: both bills, and every event touching BOX2 across legs and bills in
        // log order; BOX1's own departure on leg 1 is not BOX2's, the hold on its bill is.
        let (code, out, err) = run("sg-customs", &["--json", "container", BOX2]);
        assert_eq!(code, Some(0), "{err}");
        let v: Value = serde_json::from_str(&out).unwrap();
        let refs: Vec<&str> = v["bills"].as_array().unwrap().iter().map(|b| b["reference"].as_str().unwrap()).collect();
        assert_eq!(refs.len(), 2, "{v}");
        assert!(refs.contains(&"CLICUS-VIEW") && refs.contains(&"CLICUS-VIEW-2"), "{v}");
        let seen: Vec<(&str, &str)> = v["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["reference"].as_str().unwrap(), e["action"].as_str().unwrap()))
            .collect();
        let want = [
            ("CLICUS-VIEW", "DEPART"),
            ("CLICUS-VIEW-2", "DEPART"),
            ("CLICUS-VIEW", "ARRIVE"),
            ("CLICUS-VIEW", "HANDOFF"),
            ("CLICUS-VIEW", "CUSTOMS_HOLD"),
        ];
        assert_eq!(seen, want, "{v}");
        let first = v["bills"].as_array().unwrap().iter().find(|b| b["reference"] == "CLICUS-VIEW").unwrap();
        assert_eq!((first["custody"]["leg"].as_u64(), first["custody"]["stage"].as_str()), (Some(1), Some("READY")));
        assert_eq!(first["holds"][0]["declaration"], "SG2025-778812");
        let (_, out, _) = run("sg-customs", &["container", BOX1]);
        assert!(out.starts_with(&format!("container {BOX1}\n  bill cq-mto/CLICUS-VIEW")), "{out}");
        assert!(out.contains("bill cq-mto/CLICUS-VIEW/0 ISSUED: possessor cq-machinery, entitled cq-machinery"), "{out}");
        assert!(out.contains("now IN_TRANSIT on leg 1 with bbw-shipping at CNQZH, seals NEWSEAL0001 CQ25C0088126"), "{out}");
        assert!(out.contains("CLICUS-VIEW #3 DEPART departs leg 1 (CNQZH -> SGSIN) on vessel IMO 9321483 voyage 511S"), "{out}");
        assert!(out.contains("HOLD by sg-customs (declaration SG2025-778812): documentary check"), "{out}");

        // A reader who may see neither bill learns nothing: the answer is the one for a box no
        // bill names, to the byte (with the number swapped).
        for stranger in ["nl-customs", "cq-bank"] {
            let (code, out, err) = run(stranger, &["--json", "container", BOX2]);
            assert_eq!(code, Some(0), "{err}");
            let (_, none, _) = run("sg-customs", &["--json", "container", NO_BOX]);
            assert_eq!(out.replace(BOX2, NO_BOX), none, "{stranger}");
            assert_eq!(serde_json::from_str::<Value>(&out).unwrap()["bills"], serde_json::json!([]));
            let (_, out, _) = run(stranger, &["container", BOX2]);
            assert_eq!(out, format!("container {BOX2}: no bill you may see names it\n"));
            let (_, out, _) = run(stranger, &["find", "--container", BOX2]);
            assert_eq!(out, "no bill you may see\n", "{stranger}");
        }

        // A number that is not ISO 6346 is a usage error, naming what was typed.
        let (code, _, err) = run("sg-customs", &["container", BAD_BOX]);
        assert_eq!(code, Some(2), "{err}");
        assert!(err.contains(&format!("CONTAINER {BAD_BOX}: check digit")), "{err}");
        let (code, _, err) = run("sg-customs", &["find", "--container", "CQLU 451820"]);
        assert_eq!(code, Some(2), "{err}");
        assert!(err.contains("--container CQLU 451820: expected an ISO 6346 container number"), "{err}");
    })
    .await
    .unwrap();
}
