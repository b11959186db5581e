//! Replays every checked-in fuzz input through the fuzz targets' bodies (`ebl_core::fuzzing`),
//! on the stable toolchain: the corpora under `fuzz/corpus/<target>/` and the inputs that once
//! failed under `fuzz/regressions/<target>/`. A target without a corpus of at least
//! [`MIN_CORPUS`] files fails, so a renamed or emptied corpus cannot pass silently.
//!
//! The seed inputs (`seed-*`) a fresh corpus starts from are built here too, and checked to be
//! exactly the files checked in; `EBL_WRITE_FUZZ_SEEDS=1 cargo test -p ebl-core --test
//! fuzz_corpus` rewrites them (docs/fuzzing.md).

use ebl_core::fuzzing::{self, key, TARGETS};
use ebl_core::hash::Hash32;
use ebl_core::log::cosignature::cosign;
use ebl_core::log::witness::AddCheckpoint;
use ebl_core::log::{
    consistency_proof, inclusion_proof, leaf_hash, Checkpoint, KeyKind, MemoryTree, TlogProof, VerifierKey,
};
use std::path::{Path, PathBuf};

/// The fewest inputs a target's corpus may hold.
const MIN_CORPUS: usize = 8;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// The files of `dir`, sorted (none if it does not exist).
fn inputs(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

/// Runs `body` on each file, returning the files it panicked on.
fn replay(body: fn(&[u8]), files: &[PathBuf]) -> Vec<String> {
    let mut failed = Vec::new();
    for f in files {
        let data = std::fs::read(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        if std::panic::catch_unwind(|| body(&data)).is_err() {
            failed.push(f.display().to_string());
        }
    }
    failed
}

#[test]
fn every_corpus_and_regression_input_replays() {
    let mut failed = Vec::new();
    for (name, body) in TARGETS {
        let corpus = inputs(&fuzz_dir().join("corpus").join(name));
        assert!(corpus.len() >= MIN_CORPUS, "fuzz/corpus/{name} holds {} inputs, expected {MIN_CORPUS}", corpus.len());
        let regressions = inputs(&fuzz_dir().join("regressions").join(name));
        failed.extend(replay(*body, &corpus));
        failed.extend(replay(*body, &regressions));
        eprintln!("{name}: {} corpus inputs and {} regressions replayed", corpus.len(), regressions.len());
    }
    assert!(failed.is_empty(), "fuzz inputs that fail:\n{}", failed.join("\n"));
}

#[test]
fn every_regression_names_a_target() {
    let loose = inputs(&fuzz_dir().join("regressions"));
    assert!(loose.is_empty(), "{loose:?}: regressions are files under fuzz/regressions/<target>/");
    if let Ok(dirs) = std::fs::read_dir(fuzz_dir().join("regressions")) {
        for d in dirs.filter_map(|e| e.ok()) {
            let name = d.file_name().to_string_lossy().into_owned();
            assert!(TARGETS.iter().any(|(t, _)| *t == name), "fuzz/regressions/{name} is no target");
        }
    }
}

// ---- seeds ---------------------------------------------------------------------------------------

/// Checks that the seed `name` of `target` holds `data`, or writes it with EBL_WRITE_FUZZ_SEEDS.
fn write(target: &str, name: &str, data: &[u8]) {
    let dir = fuzz_dir().join("corpus").join(target);
    let path = dir.join(format!("seed-{name}"));
    if std::env::var_os("EBL_WRITE_FUZZ_SEEDS").is_some() {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(&path, data).unwrap();
        return;
    }
    let on_disk = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        on_disk == data,
        "{} is not what the generator builds: EBL_WRITE_FUZZ_SEEDS=1 cargo test -p ebl-core --test fuzz_corpus",
        path.display()
    );
}

fn tree(n: u64) -> MemoryTree {
    let mut t = MemoryTree::new();
    t.append(&(0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect::<Vec<_>>()).unwrap();
    t
}

/// The seed inputs each corpus starts from are exactly what this builds: the repository's
/// example documents, notes, proofs, requests and statements made with the fuzz keys, and record
/// sequences in the `records` target's grammar (an ISSUE, a TRANSFER, a DEPART, ...).
#[test]
fn seeds_are_what_the_generator_builds() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for f in ["ilstc-chongqing-qinzhou-singapore", "yangtze-chongqing-shanghai-sea", "cer-duisburg-chongqing-rail"] {
        write("document", f, &std::fs::read(root.join(format!("examples/documents/{f}.json"))).unwrap());
    }
    write(
        "document",
        "dcsa-fixture",
        &std::fs::read(root.join("core/tests/fixtures/dcsa-regular-std-issued.json")).unwrap(),
    );
    write("document", "tiny", br#"{"a":[1,2.5e3,"x",{"b":null}],"c":true}"#);

    let origin = fuzzing::witness::ORIGIN;
    let t = tree(8);
    let cp = Checkpoint::new(origin, 8, t.root()).unwrap();
    let mut note = cp.sign(&key(origin)).unwrap();
    write("notes", "checkpoint", note.to_string().as_bytes());
    write("notes", "body", cp.body().as_bytes());
    let w = fuzzing::notes::WITNESS;
    note.add_signature(cosign(&cp.body(), w, &key(w), 1_700_000_000).unwrap()).unwrap();
    write("notes", "cosigned", note.to_string().as_bytes());
    let (log, wk) = fuzzing::notes::keys(origin).unwrap();
    write("notes", "keys", format!("{log}\n{wk}\n").as_bytes());
    let proof = TlogProof::new(b"extra".to_vec(), 3, inclusion_proof(&t, 3, 8).unwrap(), note.clone()).unwrap();
    write("notes", "tlog-proof", proof.to_string().as_bytes());
    let plain = TlogProof::new(vec![], 7, inclusion_proof(&t, 7, 8).unwrap(), cp.sign(&key(origin)).unwrap()).unwrap();
    write("notes", "tlog-proof-plain", plain.to_string().as_bytes());
    let vk = VerifierKey::from_signing_key("example.com/ebl-log", KeyKind::Ed25519, &key("x")).unwrap();
    write("notes", "verifier-key", vk.to_string().as_bytes());
    write("notes", "note-blank-lines", b"a\n\nb\n\n\xe2\x80\x94 n AAAAAAA=\n");

    for (name, old, size) in [("from-3-to-8", 3u64, 8u64), ("from-0", 0, 5), ("same", 8, 8)] {
        let p = consistency_proof(&tree(size), old, size).unwrap();
        let cp = Checkpoint::new(origin, size, tree(size).root()).unwrap();
        let body = AddCheckpoint::body(old, &p, &cp.sign(&key(origin)).unwrap().to_string());
        write("witness", name, body.as_bytes());
    }
    write("witness", "size-answer", b"\x01\x00\x00\x00\x00\x00\x00\x00\x05");

    for (i, bytes) in
        [&[0u8; 8][..], &[0xff; 80], &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]]
            .iter()
            .enumerate()
    {
        write("proofs", &format!("bytes-{i}"), bytes);
    }
    let mut structured = vec![0u8; 16];
    structured.extend([5, 0, 0x80, 1, 0, 0, 0, 200, 0, 0, 0, 100, 7, 3, 0, 0, 0, 0, 0, 0, 0, 9]);
    write("proofs", "real-tree", &structured);

    statement_seeds();
    record_seeds();
}

fn statement_seeds() {
    // A statement like the core unit tests' example, signed with the fuzz key of its origin.
    use ebl_core::bill::Status;
    use ebl_core::ids::{BillId, PartyId};
    use ebl_core::log::LogEntry;
    use ebl_core::record::PledgeMode;
    use ebl_core::sig::PublicKey;
    use ebl_core::statement::{ChainHead, StatedHold, StatedPledge, StatedTitle, TitleStatement};
    use ebl_core::time::Timestamp;
    let origin = fuzzing::witness::ORIGIN;
    let entries: Vec<LogEntry> = (0..6)
        .map(|i| LogEntry::new(Hash32([i as u8; 32]), b"sigs", i, Timestamp(1_800_000_000_000 + i as i64)))
        .collect();
    let mut t = MemoryTree::new();
    t.append(&entries.iter().map(|e| e.leaf_hash()).collect::<Vec<_>>()).unwrap();
    let party = |s: &str| PartyId::parse("p", s).unwrap();
    let st = TitleStatement {
        origin: origin.into(),
        time: Timestamp(1_800_000_100_000),
        title: StatedTitle {
            bill: BillId(Hash32([0xab; 32])),
            document: Hash32([8; 32]),
            status: Status::Issued,
            possessor: party("bank-a"),
            entitled: party("trader-a"),
            pledge: Some(StatedPledge { pledgee: party("bank-a"), mode: PledgeMode::Possession, enforced: false }),
            surrender: None,
            holds: vec![StatedHold { customs: party("customs-sg"), since_seq: 4, declaration: "SG 2025/\"7\"".into() }],
            head: ChainHead { position: 2, seq: 3, hash: Hash32([3; 32]) },
        },
        custody_head: Some(ChainHead { position: 0, seq: 4, hash: Hash32([4; 32]) }),
        registry_head: ChainHead { position: 1, seq: 1, hash: Hash32([1; 32]) },
        operator: PublicKey([5; 32]),
        checkpoint_size: 6,
        checkpoint_root: t.root(),
        entry: entries[3],
        proof: inclusion_proof(&t, 3, 6).unwrap(),
    };
    write("statement", "text", st.to_string().as_bytes());
    write("statement", "signed", st.sign(&key(origin)).unwrap().to_string().as_bytes());
    let mut plain = st.clone();
    plain.title.pledge = None;
    plain.title.holds.clear();
    plain.custody_head = None;
    write("statement", "plain", plain.to_string().as_bytes());
    let mut wrong = st;
    wrong.proof[0] = Hash32([0; 32]);
    write("statement", "wrong-proof", wrong.sign(&key(origin)).unwrap().to_string().as_bytes());
}

fn record_seeds() {
    // ISSUE of the ILSTC bill with its route by carrier-a to trader-a; TRANSFER to bank-a;
    // DEPART of two containers by carrier-b; ENDORSE; a CUSTOMS_HOLD; a registry ADD_KEY.
    let issue = [6u8, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0];
    let transfer = [7u8, 2, 1, 4, 0, 0, 0, 0, 0, 0];
    let depart = [20u8, 0, 2, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0];
    let endorse = [9u8, 4, 1, 3, 0, 0, 0, 0, 0, 0];
    let hold = [24u8, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0];
    let add_key = [1u8, 2, 1, 4, 7, 0, 0, 0, 0, 0, 0, 0];
    let cat = |parts: &[&[u8]]| parts.concat();
    write("records", "issue", &issue);
    write("records", "issue-transfer", &cat(&[&issue, &transfer]));
    write("records", "issue-depart", &cat(&[&issue, &depart]));
    write("records", "issue-transfer-endorse", &cat(&[&issue, &transfer, &endorse]));
    write("records", "issue-hold", &cat(&[&issue, &hold]));
    write("records", "add-key", &add_key);
    write("records", "cer-issue", &[6u8, 2, 0, 0, 0, 0, 0, 1, 0, 1, 2, 0, 0, 0, 0, 0]);
    write("records", "yangtze-issue", &[6u8, 1, 0, 1, 3, 0, 0, 0, 1, 0, 1, 3, 0, 0, 0, 0, 0]);
}
