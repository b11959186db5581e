//! Signed title statements and proof bundles through the real server: a journey-1 bill with
//! title and custody records (a co-signed handoff, a customs hold) is exported as a bundle that
//! verifies offline with nothing but the pinned log key; then every byte that a signature or a
//! hash covers is changed, field by field, and each change fails and names the part it is in;
//! dropped and reordered records fail, and so does the wrong log key.
use crate::common;

use common::*;
use ebl_core::log::{KeyKind, SignedNote, VerifierKey};
use ebl_core::statement::TitleStatement;
use ebl_core::time::Timestamp;
use ebl_ledger::bundle::verify::{verify, verify_with, BundleError, Part, WitnessPolicy};
use ebl_ledger::bundle::{Bundle, ChainKind};
use ebl_ledger::pb::{self, record_payload::Action};

/// The bill of journey 1 part way: departed, endorsed and transferred to the bank, arrived at
/// Qinzhou, handed to the ocean carrier, held by Singapore customs.
async fn journey_bill(reference: &str) -> (TestLedger, ebl_core::ids::BillId) {
    let (mut l, bill) = ledger_with_routed_bill(reference).await;
    let (rail, ship, exporter) = (l.party("cr-chongqing"), l.party("bbw-shipping"), l.party("cq-machinery"));
    let depart = Action::Depart(pb::Depart { leg: 0, containers: ilstc_boxes(), conveyance: None });
    l.client.custody(&rail, bill, None, depart, &[]).await.unwrap();
    l.client.act(&exporter, bill, Some("cq-bank"), Action::EndorseToOrder(pb::EndorseToOrder {})).await.unwrap();
    l.client.act(&exporter, bill, Some("cq-bank"), Action::Transfer(pb::Transfer {})).await.unwrap();
    let arrive = Action::Arrive(pb::Arrive { leg: 0, containers: ilstc_boxes() });
    l.client.custody(&rail, bill, None, arrive, &[]).await.unwrap();
    let handoff = Action::Handoff(pb::Handoff {
        leg: 0,
        place: "CNQZH".into(),
        containers: ilstc_boxes(),
        seals: ilstc_seals(),
        exceptions: vec![],
    });
    l.client.custody(&rail, bill, Some("bbw-shipping"), handoff, &[&ship]).await.unwrap();
    let hold =
        Action::CustomsHold(pb::CustomsHold { declaration: "SG2025-778812".into(), reason: "inspection".into() });
    l.client.custody(&l.party("sg-customs"), bill, None, hold, &[]).await.unwrap();
    (l, bill)
}

/// Verifies and returns the error, which must exist.
fn fails(b: &Bundle, key: &VerifierKey) -> BundleError {
    verify(b, key, Timestamp::now()).expect_err("a changed bundle must not verify")
}

fn index_of(b: &Bundle, chain: ChainKind, action: &str) -> usize {
    b.records.iter().position(|r| r.chain == chain && r.action == action).unwrap()
}

fn record_part(b: &Bundle, i: usize) -> Part {
    Part::Record { index: i, seq: b.records[i].seq }
}

/// Every byte of `get(bundle)` (every `step`-th), changed, must fail naming `part`.
fn each_byte(
    good: &Bundle,
    key: &VerifierKey,
    step: usize,
    part: Part,
    what: &str,
    field: impl Fn(&mut Bundle) -> &mut Vec<u8>,
) -> usize {
    let len = field(&mut good.clone()).len();
    assert!(len > 0, "{what} is empty");
    let mut n = 0;
    for at in (0..len).step_by(step) {
        let mut b = good.clone();
        field(&mut b)[at] ^= 0x01;
        let e = fails(&b, key);
        assert_eq!(e.part, part, "{what}, byte {at}: {e}");
        n += 1;
    }
    n
}

/// As [`each_byte`] for a text field: each ASCII character replaced by another.
fn each_char(good: &Bundle, key: &VerifierKey, part: Part, field: impl Fn(&mut Bundle) -> &mut String) -> usize {
    let text = field(&mut good.clone()).clone();
    let mut n = 0;
    for (at, c) in text.char_indices().filter(|(_, c)| c.is_ascii()) {
        let mut b = good.clone();
        let swapped = ((c as u8) ^ 0x01) as char;
        field(&mut b).replace_range(at..at + 1, &swapped.to_string());
        let e = fails(&b, key);
        assert_eq!(e.part, part, "byte {at} ({c:?} -> {swapped:?}): {e}");
        n += 1;
    }
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journey_bill_bundle_verifies_offline_and_every_covered_byte_is_checked() {
    let (mut l, bill) = journey_bill("BUNDLE-0001").await;
    let bank = l.party("cq-bank");
    let key = l.client.verifier_key().unwrap();

    // VerifyTitle answers a signed statement, bound to a checkpoint that holds the head.
    let view = l.client.verify_title(&bank, bill).await.unwrap();
    assert!(view.statement_refusal.is_empty(), "{}", view.statement_refusal);
    let st = TitleStatement::open(&SignedNote::parse(&view.statement).unwrap(), &key).unwrap();
    assert_eq!(st.to_string(), SignedNote::parse(&view.statement).unwrap().text(), "one text form");
    assert_eq!((st.title.possessor.as_str(), st.title.entitled.as_str()), ("cq-bank", "cq-bank"));
    assert_eq!(st.title.holds.len(), 1);
    assert_eq!(st.title.holds[0].declaration, "SG2025-778812");
    let b = view.bill.as_ref().unwrap();
    assert_eq!((st.title.head.position, st.title.head.seq), (b.head_position, b.head_seq));
    let cp = ebl_core::log::Checkpoint::parse(SignedNote::parse(&view.checkpoint).unwrap().text()).unwrap();
    assert_eq!((st.checkpoint_size, st.checkpoint_root), (cp.size(), cp.root()));
    assert!(st.checkpoint_size > st.custody_head.unwrap().seq);

    // Asked for the chain check alone, VerifyTitle answers at once, without a statement.
    let quick = l.client.verify_chain(&bank, bill).await.unwrap();
    assert!(quick.chain_verified && quick.statement.is_empty() && quick.statement_refusal.is_empty());
    assert_eq!(quick.records_checked, view.records_checked);

    // The bundle, fetched by the bank, verifies offline with the pinned key alone.
    let text = l.client.proof_bundle(&bank, bill).await.unwrap();
    let good = Bundle::from_json(&text).unwrap();
    assert!(good.copy && good.notice.contains("COPY"));
    let report = verify(&good, &key, Timestamp::now()).unwrap();
    assert_eq!(report.records, [24, 3, 4], "registry, title, custody records");
    assert_eq!(report.statement.title.possessor.as_str(), "cq-bank");
    assert!(report.age_ms >= 0 && report.age_ms < 60_000);
    assert_eq!(Bundle::from_json(&good.to_json()).unwrap(), good, "the file round-trips");

    // A reader who may not see the bill gets NOT_FOUND, as for a missing bill.
    l.register("outsider", pb::Role::Trader, lei("OUTSIDER000000000001"), &[]).await;
    let e = l.client.proof_bundle(&l.party("outsider"), bill).await.unwrap_err();
    assert_eq!(e.code(), tonic::Code::NotFound);

    let transfer = index_of(&good, ChainKind::Title, "TRANSFER");
    let issue = index_of(&good, ChainKind::Title, "ISSUE");
    let handoff = index_of(&good, ChainKind::Custody, "HANDOFF");
    let add_key = index_of(&good, ChainKind::Registry, "ADD_KEY");
    let mut checked = 0;
    // Record payloads: a title record, the ISSUE (sampled: it holds the document), a co-signed
    // custody record, a registry record.
    for (i, step) in [(transfer, 1), (handoff, 1), (add_key, 1), (issue, 41)] {
        checked += each_byte(&good, &key, step, record_part(&good, i), "payload", |b| &mut b.records[i].payload);
    }
    // Signatures, the keys they name, the receipt's record hash, an inclusion proof hash.
    for i in [transfer, handoff, add_key] {
        let part = record_part(&good, i);
        checked += each_byte(&good, &key, 1, part, "signature", |b| &mut b.records[i].signatures[0].signature);
        checked += each_byte(&good, &key, 1, part, "public key", |b| &mut b.records[i].signatures[0].public_key);
        checked += each_byte(&good, &key, 1, part, "record hash", |b| &mut b.records[i].record_hash);
        checked += each_byte(&good, &key, 1, part, "inclusion", |b| &mut b.records[i].inclusion[0]);
    }
    // The second signature of the co-signed handoff.
    let part = record_part(&good, handoff);
    checked += each_byte(&good, &key, 1, part, "cosignature", |b| &mut b.records[handoff].signatures[1].signature);
    // The receipt's seq and server time are in the log entry.
    for i in [transfer, handoff, add_key] {
        for delta in [-1i64, 1] {
            let mut b = good.clone();
            b.records[i].seq = (b.records[i].seq as i64 + delta) as u64;
            let e = fails(&b, &key);
            assert!(matches!(e.part, Part::Record { index, .. } if index == i), "seq {delta}: {e}");
            let mut b = good.clone();
            let t = Timestamp::parse("t", &b.records[i].server_time).unwrap();
            b.records[i].server_time = t.plus_ms(delta).to_rfc3339();
            let e = fails(&b, &key);
            assert_eq!((e.part, e.check), (record_part(&good, i), "inclusion proof"), "server time {delta}: {e}");
            checked += 2;
        }
    }
    // The checkpoint (text and signature line), the statement, the document.
    checked += each_char(&good, &key, Part::Checkpoint, |b| &mut b.checkpoint);
    checked += each_char(&good, &key, Part::Statement, |b| &mut b.statement);
    checked += each_byte(&good, &key, 7, Part::Document, "document", |b| &mut b.document);
    assert!(checked > 2500, "{checked} changes checked");
    eprintln!("{checked} single-byte changes, each refused naming its part");
    for (what, mut b) in [("payload", good.clone()), ("signature", good.clone()), ("statement", good.clone())] {
        match what {
            "payload" => b.records[transfer].payload[40] ^= 1,
            "signature" => b.records[add_key].signatures[0].signature[3] ^= 1,
            _ => b.statement = b.statement.replacen("cq-bank", "cq-bonk", 1),
        }
        eprintln!("{what}: {}", fails(&b, &key));
    }

    // Dropping a record, or changing the order, fails.
    for i in [add_key, issue, transfer, handoff, good.records.len() - 1] {
        let mut b = good.clone();
        b.records.remove(i);
        let e = fails(&b, &key);
        assert!(matches!(e.part, Part::Record { .. } | Part::Statement), "dropping records[{i}]: {e}");
    }
    let mut b = good.clone();
    b.records.swap(transfer - 1, transfer);
    let e = fails(&b, &key);
    assert_eq!(e.part, record_part(&b, transfer - 1), "the transfer before its endorsement: {e}");
    // Two records of different chains, each still linking on its own chain: the log order fails.
    let depart = index_of(&good, ChainKind::Custody, "DEPART");
    assert_eq!(good.records[depart + 1].action, "ENDORSE_TO_ORDER");
    let mut b = good.clone();
    b.records.swap(depart, depart + 1);
    let e = fails(&b, &key);
    assert_eq!((e.part, e.check), (record_part(&b, depart + 1), "log order"), "{e}");
    let mut b = good.clone();
    b.records.retain(|r| r.chain != ChainKind::Custody);
    assert_eq!(fails(&b, &key).part, Part::Statement, "the custody head is stated");

    // The wrong log key: another key under the same origin, and the right key under another name.
    let other = VerifierKey::from_signing_key(ORIGIN, KeyKind::Ed25519, &common::key()).unwrap();
    assert_eq!(fails(&good, &other).part, Part::Checkpoint);
    let renamed = VerifierKey::new("other.example/ebl", KeyKind::Ed25519, *key.verifying_key()).unwrap();
    assert_eq!(fails(&good, &renamed).part, Part::Checkpoint);

    // Marked as a copy, for this bill.
    let mut b = good.clone();
    b.copy = false;
    assert_eq!(fails(&b, &key).part, Part::Bundle);
    let mut b = good.clone();
    b.bill_id = "00".repeat(32);
    assert_eq!(fails(&b, &key).part, Part::Statement);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_and_delegations_are_judged_at_each_records_own_log_position() {
    let (mut l, bill) = ledger_with_bill("BUNDLE-0002").await;
    let (op, exporter, bank) = (l.operator.clone(), l.party("cq-machinery"), l.party("cq-bank"));
    let branch = l.register("cq-bank-sg", pb::Role::Bank, lei("CQBANKSG000000000005"), &[]).await;
    l.client.delegate(&op, &bank, "cq-bank-sg", &["ENDORSE", "TRANSFER"], "branch mandate 7").await.unwrap();
    l.client.act(&exporter, bill, Some("cq-bank"), Action::EndorseToOrder(pb::EndorseToOrder {})).await.unwrap();
    l.client.act(&exporter, bill, Some("cq-bank"), Action::Transfer(pb::Transfer {})).await.unwrap();
    // The bank's branch endorses and transfers to the buyer in the bank's name.
    l.client.act_for(&branch, "cq-bank", bill, Some("sg-buyer"), Action::Endorse(pb::Endorse {})).await.unwrap();
    l.client.act_for(&branch, "cq-bank", bill, Some("sg-buyer"), Action::Transfer(pb::Transfer {})).await.unwrap();
    // Later the delegation is revoked and the exporter's key too: the records before stay valid.
    let revoke = ebl_ledger::client::revoke_delegation("cq-bank", "cq-bank-sg", "mandate ended");
    l.client.operator(&op, revoke).await.unwrap();
    let revoke_key = Action::RevokeKey(pb::RevokeKey {
        party: "cq-machinery".into(),
        public_key: exporter.public(),
        reason: "rotated".into(),
    });
    l.client.operator(&op, revoke_key).await.unwrap();

    let key = l.client.verifier_key().unwrap();
    let good = Bundle::from_json(&l.client.proof_bundle(&l.party("sg-buyer"), bill).await.unwrap()).unwrap();
    let report = verify(&good, &key, Timestamp::now()).unwrap();
    assert_eq!(report.statement.title.possessor.as_str(), "sg-buyer");
    assert!(
        good.records.iter().any(|r| r.action == "DELEGATE") && good.records.iter().any(|r| r.action == "REVOKE_KEY")
    );

    // A bundle that leaves out the revocations (the registry's tail) no longer matches the
    // registry head the ledger stated.
    let mut b = good.clone();
    b.records.retain(|r| r.action != "REVOKE_KEY");
    let e = fails(&b, &key);
    assert_eq!((e.part, e.check), (Part::Statement, "replayed title"), "{e}");
    assert!(e.why.contains("registry head"), "{e}");
    // Without the DELEGATE, the branch's first record in the bank's name is refused: at its log
    // position the branch holds no delegation.
    let delegate = index_of(&good, ChainKind::Registry, "DELEGATE");
    let endorse = index_of(&good, ChainKind::Title, "ENDORSE");
    let mut b = good.clone();
    b.records.remove(delegate);
    let e = fails(&b, &key);
    assert_eq!(e.part, record_part(&b, endorse - 1), "{e}");
    assert!(e.check.starts_with("replay") && e.why.contains("NOT_AGENT"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bundle_carries_the_witnesses_cosignatures_and_verify_can_require_k_of_them() {
    let (l, bill) = journey_bill("BUNDLE-W1").await;
    let key = l.client.verifier_key().unwrap();
    let w1 = TestWitness::start("witness.example/w1", vec![key.clone()]).await;
    let w2 = TestWitness::start("witness.example/w2", vec![key.clone()]).await;
    let mut l = l.with_witnesses(vec![w1.target(), w2.target()]).await;
    // One more record so that a checkpoint is signed (and cosigned) after the restart.
    let bank = l.party("cq-bank");
    l.client.act(&bank, bill, None, Action::Sign(pb::Sign {})).await.unwrap();
    let size = l.info().await.log_size;
    l.cosigned_checkpoint(size, 2).await;

    let good = Bundle::from_json(&l.client.proof_bundle(&bank, bill).await.unwrap()).unwrap();
    let witnesses = vec![w1.verifier_key(), w2.verifier_key()];
    let policy = |min| WitnessPolicy { keys: witnesses.clone(), min };
    let report = verify_with(&good, &key, &policy(2), Timestamp::now()).unwrap();
    assert_eq!(report.other_signatures, 2);
    assert_eq!(report.cosigners, ["witness.example/w1", "witness.example/w2"]);
    // Without their keys the lines are ignored; asking for more than there are fails.
    assert!(verify(&good, &key, Timestamp::now()).unwrap().cosigners.is_empty());
    let e = verify_with(&good, &key, &WitnessPolicy { keys: vec![w1.verifier_key()], min: 2 }, Timestamp::now())
        .unwrap_err();
    assert_eq!((e.part, e.check), (Part::Checkpoint, "witnesses"), "{e}");
    // Any changed byte of a cosignature line fails a verifier that requires both witnesses: a
    // known witness's bad line rejects the note, and a line whose key ID no longer matches is
    // ignored, as the spec says, leaving one cosignature of the two required.
    let lines: Vec<&str> = good.checkpoint.lines().filter(|l| l.contains("witness.example/w")).collect();
    assert_eq!(lines.len(), 2);
    let start = good.checkpoint.find(lines[0]).unwrap() + "— witness.example/w1 ".len();
    let end = good.checkpoint.find(lines[0]).unwrap() + lines[0].len();
    for at in start..end {
        let mut b = good.clone();
        let c = b.checkpoint.as_bytes()[at] as char;
        let swapped = if c == 'A' { 'B' } else { 'A' };
        b.checkpoint.replace_range(at..at + 1, &swapped.to_string());
        let e = verify_with(&b, &key, &policy(2), Timestamp::now()).expect_err("a changed cosignature must fail");
        assert_eq!(e.part, Part::Checkpoint, "byte {at}: {e}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_amended_bills_bundle_carries_the_voided_predecessor_and_verifies() {
    use ebl_core::ids::BillId;
    use ebl_ledger::client::{payload, sign, Link};
    let (mut l, bill) = ledger_with_bill("BUNDLE-AMEND-1").await;
    let (exporter, carrier) = (l.party("cq-machinery"), l.party("cq-mto"));
    let cod = Action::SurrenderForAmendment(pb::SurrenderForAmendment { reason: pb::AmendmentReason::Cod as i32 });
    l.client.act(&exporter, bill, Some("cq-mto"), cod).await.unwrap();
    let sacc = Action::AcceptSurrender(pb::AcceptSurrender { paper_bill_number: String::new() });
    let sacc_hash = l.client.act(&carrier, bill, None, sacc).await.unwrap().record_hash;
    let successor = BillId::derive(&carrier.party, "BUNDLE-AMEND-1", 1);
    let issue = Action::Issue(pb::Issue {
        document: with_reference(doc_json(ILSTC), "BUNDLE-AMEND-1"),
        profile: pb::DocumentProfile::DcsaEbl3 as i32,
        amendment: 1,
        amends: sacc_hash,
        ..Default::default()
    });
    let p = payload(ORIGIN, Some(successor), Link::default(), "cq-mto", Some("cq-machinery"), Timestamp::now(), issue);
    l.client.submit(sign(&p, &[&carrier])).await.unwrap();
    l.client.act(&exporter, successor, Some("cq-bank"), Action::Transfer(pb::Transfer {})).await.unwrap();

    let key = l.client.verifier_key().unwrap();
    let good = Bundle::from_json(&l.client.proof_bundle(&l.party("cq-bank"), successor).await.unwrap()).unwrap();
    let report = verify(&good, &key, Timestamp::now()).unwrap();
    assert_eq!(report.records[1], 3 + 2, "the voided bill's three title records and the amendment's two");
    assert_eq!(report.statement.title.possessor.as_str(), "cq-bank");
    // Without the predecessor's records, the amendment's ISSUE does not replay.
    let mut only_successor = good.clone();
    let first_successor = good.records.iter().rposition(|r| r.action == "ISSUE").unwrap();
    only_successor.records = good
        .records
        .iter()
        .enumerate()
        .filter(|(i, r)| r.chain == ChainKind::Registry || *i >= first_successor)
        .map(|(_, r)| r.clone())
        .collect();
    let e = fails(&only_successor, &key);
    assert!(matches!(e.part, Part::Record { .. }), "{e}");
    assert!(e.why.contains("AMENDMENT_WITHOUT_SURRENDER"), "{e}");
}
