//! The write path as commands: the command byte format against its golden vector, apply as a
//! deterministic function of (state, command) with duplicates and time clamping, and a journey's
//! commands replayed by another process into another database, on each engine, reaching the
//! same ledger.
use crate::common;

use common::*;
use ebl_core::hash::Hash32;
use ebl_core::ids::{PartyId, OPERATOR};
use ebl_core::sig::PublicKey;
use ebl_core::time::Timestamp;
use ebl_ledger::api::check_record;
use ebl_ledger::client::{self, payload, sign, Identity, Link};
use ebl_ledger::pb::{self, record_payload::Action};
use ebl_ledger::store::Store;
use ebl_ledger::writer::command::{frames, CommandError, COMMAND_VERSION};
use ebl_ledger::writer::{apply_command, commit_command, Answer, Command, NotApplied};
use ed25519_dalek::SigningKey;
use std::path::Path;

const GOLDEN: &str = "tests/fixtures/command-v1.hex";

fn operator() -> Identity {
    Identity { party: PartyId::operator(), key: SigningKey::from_bytes(&[7; 32]) }
}

fn operator_key() -> PublicKey {
    PublicKey(operator().key.verifying_key().to_bytes())
}

/// The operator's registry record at `link`, claimed at `time`.
fn registry(link: Link, time: Timestamp, action: Action) -> pb::SignedRecord {
    sign(&payload(ORIGIN, None, link, OPERATOR, None, time, action), &[&operator()])
}

fn t(s: &str) -> Timestamp {
    Timestamp::parse("time", s).unwrap()
}

/// Two records with fixed keys and times (Ed25519 signatures are deterministic), in one command.
fn golden_command() -> Command {
    let time = t("2026-12-01T08:00:00.000Z");
    let party = registry(
        Link::default(),
        time,
        client::register_party("cq-mto", "Chongqing MTO Ltd", pb::Role::Carrier, &[], lei("CQMTO000000000000001")),
    );
    let head = ebl_core::record::record_hash(&party.payload);
    let key = SigningKey::from_bytes(&[9; 32]).verifying_key().to_bytes().to_vec();
    let add = registry(Link { position: 1, prev: Some(head) }, time, client::add_key("cq-mto", key));
    let records = [party, add].into_iter().map(|r| check_record(r, ORIGIN).unwrap()).collect();
    Command { time, records }
}

/// Hex with every blank removed (the fixture and the docs wrap it).
fn unwrapped(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

#[test]
fn command_format_matches_its_golden_vector_and_the_docs() {
    let cmd = golden_command();
    let encoded = hex::encode(cmd.encode());
    if std::env::var_os("EBL_WRITE_FIXTURE").is_some() {
        let wrapped: Vec<_> = encoded.as_bytes().chunks(96).map(|c| std::str::from_utf8(c).unwrap()).collect();
        std::fs::write(GOLDEN, wrapped.join("\n") + "\n").unwrap();
    }
    let golden = unwrapped(&std::fs::read_to_string(GOLDEN).unwrap());
    assert_eq!(encoded, golden, "the command byte format changed: give it a new version instead");
    assert_eq!(cmd.encoded_len() * 2, golden.len());
    // The vector is in docs/architecture.md, for implementations in other languages.
    let docs = unwrapped(&std::fs::read_to_string("docs/architecture.md").unwrap());
    assert!(docs.contains(&golden), "docs/architecture.md does not show the golden command");
    assert_eq!(&golden[..10], format!("45424c43{COMMAND_VERSION:02x}"));

    // Decoding gives back the same records, checked again, and the same time.
    let decoded = Command::decode(&hex::decode(&golden).unwrap(), ORIGIN).unwrap();
    assert_eq!(decoded.time, cmd.time);
    let hashes = |c: &Command| c.records.iter().map(|r| r.hash).collect::<Vec<_>>();
    assert_eq!(hashes(&decoded), hashes(&cmd));
    assert_eq!(decoded.encode(), cmd.encode());
}

#[test]
fn decoding_refuses_what_is_not_exactly_a_command() {
    let good = golden_command().encode();
    let format = |bytes: &[u8]| match Command::decode(bytes, ORIGIN) {
        Err(CommandError::Format(why)) => why,
        other => panic!("expected a format error, got {other:?}"),
    };
    let mut v2 = good.clone();
    v2[4] = 2;
    assert!(format(&v2).contains("version 2"), "{}", format(&v2));
    assert!(format(&good[..good.len() - 1]).contains("ends early"));
    assert!(format(&[&good[..], &[0]].concat()).contains("after the last record"));
    assert!(format(&[b"EBLX", &good[4..]].concat()).contains("EBLC"));

    // The first record's signatures with an unknown field added: protobuf would read them, but
    // they are not the bytes the record's leaf commits to.
    let payload_len = u32::from_be_bytes(good[17..21].try_into().unwrap()) as usize;
    let at = 21 + payload_len;
    let sigs_len = u32::from_be_bytes(good[at..at + 4].try_into().unwrap()) as usize;
    let mut padded = good[..at].to_vec();
    padded.extend_from_slice(&(sigs_len as u32 + 2).to_be_bytes());
    padded.extend_from_slice(&good[at + 4..at + 4 + sigs_len]);
    padded.extend_from_slice(&[0x18, 0x01]);
    padded.extend_from_slice(&good[at + 4 + sigs_len..]);
    assert!(format(&padded).contains("canonical"), "{}", format(&padded));

    // A payload byte changed: the record's signature no longer holds.
    let mut forged = good.clone();
    forged[21 + payload_len - 1] ^= 1;
    match Command::decode(&forged, ORIGIN) {
        Err(CommandError::Record { index: 0, .. }) => {}
        other => panic!("expected record 0 refused, got {other:?}"),
    }
    // Another ledger's command.
    assert!(matches!(Command::decode(&good, "other.example/ebl"), Err(CommandError::Record { index: 0, .. })));
}

/// A fresh ledger's database (initialised, no records) in `dir`.
fn fresh_store(dir: &Path) -> Store {
    ebl_ledger::server::init(dir, ORIGIN, operator_key()).unwrap();
    Store::open(&dir.join(ebl_ledger::server::DB_DIR)).unwrap()
}

#[test]
fn apply_is_deterministic_deduplicates_and_never_runs_time_backwards() {
    // Two copies of one fresh ledger (the same origin and keys).
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    drop(fresh_store(a.path()));
    copy_dir(a.path(), b.path());
    let open = |d: &tempfile::TempDir| Store::open(&d.path().join(ebl_ledger::server::DB_DIR)).unwrap();
    let (sa, sb) = (open(&a), open(&b));
    let op = operator_key();
    let now = Timestamp::now();
    let cmd = golden_command();
    // Claimed times must be near the server's: the golden records again, claimed now.
    let recs: Vec<_> = cmd
        .records
        .iter()
        .map(|r| {
            let mut p: pb::RecordPayload = prost::Message::decode(r.bytes.as_slice()).unwrap();
            p.claimed_time = now.to_rfc3339();
            p
        })
        .collect();
    let party = sign(&recs[0], &[&operator()]);
    let mut add = recs[1].clone();
    add.prev_hash = ebl_core::record::record_hash(&party.payload).0.to_vec();
    let add = sign(&add, &[&operator()]);
    let checked = |r: &pb::SignedRecord| check_record(r.clone(), ORIGIN).unwrap();

    // 1: the party, the party again in the same command, and the key.
    let first = Command { time: now, records: vec![checked(&party), checked(&party), checked(&add)] };
    // 2: everything again, at a time before the first: duplicates, with their original places.
    let earlier = Timestamp(now.0 - 60_000);
    let again = Command { time: earlier, records: first.records.clone() };
    // 3: a record the rules refuse (the registry position is taken), alone.
    let stale = registry(
        Link::default(),
        now,
        client::register_party("cq-bank", "Bank", pb::Role::Bank, &[], lei("CQBANK00000000000003")),
    );
    let refused = Command { time: now, records: vec![checked(&stale)] };

    for store in [&sa, &sb] {
        let done = commit_command(store, &op, 1, &first);
        assert!(done.committed && done.grown == Some(2));
        let answers: Vec<_> = done.answers.into_iter().map(Result::unwrap).collect();
        let Answer::Accepted(r0) = &answers[0] else { panic!("{answers:?}") };
        assert_eq!((r0.seq, r0.time), (0, now));
        assert_eq!(answers[1], Answer::Duplicate(0));
        assert!(matches!(&answers[2], Answer::Accepted(r) if r.seq == 1));

        let before = store.digest().unwrap();
        let done = commit_command(store, &op, 2, &again);
        assert!(done.committed && done.grown.is_none());
        let answers: Vec<_> = done.answers.into_iter().map(Result::unwrap).collect();
        assert_eq!(answers, [Answer::Duplicate(0), Answer::Duplicate(0), Answer::Duplicate(1)]);

        let done = commit_command(store, &op, 5, &refused);
        assert!(done.committed && done.grown.is_none());
        match &done.answers[0] {
            Err(ebl_ledger::error::LedgerError::Rule(e)) => assert_eq!(e.reason(), "STALE_HEAD"),
            other => panic!("{other:?}"),
        }
        // Neither command changed the ledger, but each moved the index of the last applied.
        assert_eq!(store.digest().unwrap(), before);
        assert_eq!(store.last_command().unwrap(), 5);
        assert_eq!(store.last_time().unwrap(), now);
        // A command at an index already applied is not applied again.
        match apply_command(store, &op, 5, &first) {
            Err(NotApplied::Stale { index: 5, last: 5 }) => {}
            Err(e) => panic!("{e}"),
            Ok(_) => panic!("a command at an applied index was applied"),
        }
    }
    // Time never runs backwards: a later command stamped before the last time gets the last time.
    let rotate = registry(
        Link { position: 2, prev: Some(checked(&add).hash) },
        now,
        client::register_party("cq-bank", "Bank", pb::Role::Bank, &[], lei("CQBANK00000000000003")),
    );
    for store in [&sa, &sb] {
        let done = commit_command(store, &op, 6, &Command { time: earlier, records: vec![checked(&rotate)] });
        assert!(
            matches!(&done.answers[0], Ok(Answer::Accepted(r)) if r.seq == 2 && r.time == now),
            "{:?}",
            done.answers
        );
    }
    // Two databases given the same commands hold the same ledger.
    assert_eq!(sa.logical_digest().unwrap(), sb.logical_digest().unwrap());
    assert_eq!(sa.tree_root(3).unwrap(), sb.tree_root(3).unwrap());
    // The logical digest sees the ledger's content: one more command on one side differs.
    let op2 = Identity::new("cq-bank", SigningKey::from_bytes(&[3; 32]));
    let next = registry(
        Link { position: 3, prev: Some(checked(&rotate).hash) },
        now,
        client::add_key("cq-bank", op2.public()),
    );
    assert!(commit_command(&sa, &op, 7, &Command { time: now, records: vec![checked(&next)] }).committed);
    assert_ne!(sa.logical_digest().unwrap(), sb.logical_digest().unwrap());
}

#[test]
fn applys_cached_states_are_those_of_a_snapshot_installed_in_place_of_the_store() {
    // Two copies of one fresh ledger; the second registers cq-bank, the first does not.
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    drop(fresh_store(a.path()));
    copy_dir(a.path(), b.path());
    let open = |d: &tempfile::TempDir| Store::open(&d.path().join(ebl_ledger::server::DB_DIR)).unwrap();
    let (sa, sb) = (open(&a), open(&b));
    let (op, now) = (operator_key(), Timestamp::now());
    let checked = |r: &pb::SignedRecord| check_record(r.clone(), ORIGIN).unwrap();
    let bank = registry(
        Link::default(),
        now,
        client::register_party("cq-bank", "Bank", pb::Role::Bank, &[], lei("CQBANK00000000000003")),
    );
    let bank_key = Identity::new("cq-bank", SigningKey::from_bytes(&[3; 32]));
    let add = registry(
        Link { position: 1, prev: Some(checked(&bank).hash) },
        now,
        client::add_key("cq-bank", bank_key.public()),
    );
    assert!(commit_command(&sb, &op, 1, &Command { time: now, records: vec![checked(&bank)] }).committed);
    // The first store's apply reads cq-bank, absent there, and keeps that: a key for it is refused.
    let early_add = registry(Link::default(), now, client::add_key("cq-bank", Identity::new("x", key()).public()));
    let done = commit_command(&sa, &op, 1, &Command { time: now, records: vec![checked(&early_add)] });
    match &done.answers[0] {
        Err(ebl_ledger::error::LedgerError::Rule(e)) => assert!(e.to_string().contains("is not registered"), "{e}"),
        other => panic!("{other:?}"),
    }
    // The second store's image put in place of the first's: apply must see cq-bank now.
    let mut image = Vec::new();
    sb.write_image(&mut image, &[]).unwrap();
    sa.replace_with_image(&image[..]).unwrap();
    let done = commit_command(&sa, &op, 2, &Command { time: now, records: vec![checked(&add)] });
    assert!(matches!(&done.answers[0], Ok(Answer::Accepted(r)) if r.seq == 1), "{:?}", done.answers);
}

/// Runs `ebld apply-commands` on `data` with `file` (into a copy in memory if `in_memory`);
/// returns its JSON lines.
fn apply_in_another_process(data: &Path, file: &Path, in_memory: bool) -> Vec<serde_json::Value> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ebld"))
        .arg("--data-dir")
        .arg(data)
        .arg("apply-commands")
        .arg(file)
        .args(in_memory.then_some("--in-memory"))
        .env_remove("EBL_OPERATOR_KEY")
        .output()
        .unwrap();
    assert!(out.status.success(), "ebld apply-commands: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[tokio::test]
async fn a_journeys_commands_replayed_by_another_process_on_either_engine_give_the_same_ledger() {
    let scratch = tempfile::tempdir().unwrap();
    let journal = scratch.path().join("commands");
    let (mut l, fresh) = TestLedger::start_journaled(journal.clone()).await;
    journey_cast(&mut l).await;
    let bill = issue_ilstc(&mut l, "CQQZ2026000042").await;
    let (exporter, bank) = (l.party("cq-machinery"), l.party("cq-bank"));
    l.client.act(&exporter, bill, Some("cq-bank"), Action::EndorseToOrder(pb::EndorseToOrder {})).await.unwrap();
    let link = l.next_link(bill).await;
    let transfer = l.title_record(&exporter, bill, link, Some("cq-bank"), Action::Transfer(pb::Transfer {}));
    // Accepted, then sent again: the original receipt.
    let accepted = l.client.submit(transfer.clone()).await.unwrap();
    let dup = l.client.submit(transfer.clone()).await.unwrap();
    assert!(dup.duplicate && dup.seq == accepted.seq);
    // Refused by the rules in the writer (the exporter no longer holds the bill).
    let link = l.next_link(bill).await;
    let late = l.title_record(&exporter, bill, link, Some("cq-mto"), Action::Transfer(pb::Transfer {}));
    l.assert_refused(late, tonic::Code::PermissionDenied, "NOT_POSSESSOR").await;
    // A batch: a new record, a stale one, and the new one again, queued together (the writer
    // groups what is waiting, so they may or may not share a command).
    let link = l.next_link(bill).await;
    let sign1 = l.title_record(&bank, bill, link, None, Action::Sign(pb::Sign {}));
    let stale = l.title_record(&bank, bill, link, Some("cq-machinery"), Action::Transfer(pb::Transfer {}));
    let batch_hashes: Vec<_> =
        [&sign1, &stale, &sign1].iter().map(|r| ebl_core::record::record_hash(&r.payload)).collect();
    let records = vec![sign1.clone(), stale, sign1];
    let batch = l.client.grpc.submit_batch(pb::SubmitBatchRequest { records }).await.unwrap().into_inner();
    assert_eq!(batch.results.len(), 3);

    let dir = l.stop().await;
    let here = Store::open(&dir.path().join(ebl_ledger::server::DB_DIR)).unwrap();
    let size = here.next_seq().unwrap();
    let leaves: Vec<_> = here.leaf_hashes(0, size).unwrap().iter().map(Hash32::to_hex).collect();
    let digest = here.logical_digest().unwrap().to_hex();
    let receipts: Vec<_> =
        (0..size).map(|s| here.record(s).unwrap().unwrap().to_pb().unwrap().receipt.unwrap()).collect();
    let last_command = here.last_command().unwrap();
    drop(here);

    // The journal holds the commands in order, every index once.
    let bytes = std::fs::read(&journal).unwrap();
    let indexes: Vec<_> = frames(&bytes).unwrap().into_iter().map(|(i, _)| i).collect();
    assert_eq!(indexes, (1..=last_command).collect::<Vec<_>>());
    // Every record that reached the writer is in it, in order: the batch's three come last.
    let journaled: Vec<Hash32> = frames(&bytes)
        .unwrap()
        .iter()
        .flat_map(|(_, c)| Command::decode(c, ORIGIN).unwrap().records.into_iter().map(|r| r.hash))
        .collect();
    assert_eq!(journaled[journaled.len() - 3..], batch_hashes[..]);

    // Into the other engine (a copy of the fresh database in memory), then into RocksDB.
    let in_memory = apply_in_another_process(fresh.path(), &journal, true);
    let lines = apply_in_another_process(fresh.path(), &journal, false);
    assert_eq!(in_memory, lines, "the engines disagree");
    let (last, per_command) = lines.split_last().unwrap();
    assert_eq!(last["size"], size);
    assert_eq!(last["leaves"], serde_json::json!(leaves));
    assert_eq!(last["logical_digest"], digest, "the replayed ledger differs");
    // Every receipt the ledger gave, given again in the same place, with the same time.
    let answers: Vec<&serde_json::Value> =
        per_command.iter().flat_map(|c| c["answers"].as_array().unwrap().iter()).collect();
    let replayed: Vec<_> = answers.iter().filter_map(|a| a.get("accepted")).collect();
    assert_eq!(replayed.len() as u64, size);
    for (r, a) in receipts.iter().zip(&replayed) {
        assert_eq!(a["seq"], r.seq);
        assert_eq!(a["hash"], hex::encode(&r.record_hash));
        assert_eq!(a["time"], r.server_time);
    }
    // The refusals and duplicates are answered as the ledger answered them.
    let kinds: Vec<String> = answers
        .iter()
        .filter(|a| a.get("accepted").is_none())
        .map(|a| {
            a.get("refused")
                .map(|r| r.as_str().unwrap().to_string())
                .unwrap_or_else(|| format!("dup {}", a["duplicate"]))
        })
        .collect();
    assert_eq!(
        kinds,
        [format!("dup {}", accepted.seq), "NOT_POSSESSOR".into(), "STALE_HEAD".into(), format!("dup {}", size - 1)]
    );

    // Applied again, the same file changes nothing: every command is at an index already applied.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ebld"))
        .arg("--data-dir")
        .arg(fresh.path())
        .arg("apply-commands")
        .arg(&journal)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not after the last command applied"));
}

/// A record writes the index entries it adds to its bill (a party, a place, a container) and
/// none of those the bill has already: they are never removed, so they are stored already.
#[tokio::test]
async fn a_record_writes_only_the_index_entries_it_adds() {
    let scratch = tempfile::tempdir().unwrap();
    let journal = scratch.path().join("commands");
    let (mut l, fresh) = TestLedger::start_journaled(journal.clone()).await;
    journey_cast(&mut l).await;
    let bill = issue_ilstc(&mut l, "CQQZ2026000043").await;
    let exporter = l.party("cq-machinery");
    l.client.act(&exporter, bill, Some("cq-bank"), Action::EndorseToOrder(pb::EndorseToOrder {})).await.unwrap();
    l.client.act(&exporter, bill, Some("cq-bank"), Action::Transfer(pb::Transfer {})).await.unwrap();
    let op = PublicKey(l.operator.key.verifying_key().to_bytes());
    let _dir = l.stop().await;

    // The same commands again, into the fresh database, looking at each batch before it is
    // committed.
    let store = Store::open(&fresh.path().join(ebl_ledger::server::DB_DIR)).unwrap();
    let mut index_puts = std::collections::HashMap::new();
    for (index, bytes) in frames(&std::fs::read(&journal).unwrap()).unwrap() {
        let cmd = Command::decode(bytes, ORIGIN).unwrap();
        let applied = apply_command(&store, &op, index, &cmd).unwrap();
        if let [rec] = &cmd.records[..] {
            index_puts.insert(rec.payload.action.name(), applied.batch.puts(ebl_ledger::store::keys::CF_INDEX));
        }
        store.commit_with(applied.batch, applied.grew).unwrap();
    }
    // The ISSUE: its parties, places and containers; the endorsement adds the bank as a party;
    // the transfer to the bank adds nothing.
    assert!(index_puts["ISSUE"] >= 6, "{index_puts:?}");
    assert_eq!(index_puts["ENDORSE_TO_ORDER"], 1, "{index_puts:?}");
    assert_eq!(index_puts["TRANSFER"], 0, "{index_puts:?}");
}
