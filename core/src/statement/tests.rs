//! Unit tests of the title statement's text form and its opening.
use super::*;
use crate::log::tree::MemoryTree;
use crate::log::{inclusion_proof, Checkpoint};

/// A statement on the head at leaf 3 of a 6-leaf tree, and the ledger key.
fn example() -> (TitleStatement, SigningKey) {
    let key = SigningKey::from_bytes(&[7; 32]);
    let entries: Vec<LogEntry> = (0..6)
        .map(|i| LogEntry::new(Hash32([i as u8; 32]), b"sigs", i, Timestamp(1_800_000_000_000 + i as i64)))
        .collect();
    let mut tree = MemoryTree::new();
    let appended = tree.append(&entries.iter().map(|e| e.leaf_hash()).collect::<Vec<_>>()).unwrap();
    tree.apply(&appended);
    let party = |s: &str| PartyId::parse("p", s).unwrap();
    let st = TitleStatement {
        origin: "ledger.example/ebl".into(),
        time: Timestamp(1_800_000_100_000),
        title: StatedTitle {
            bill: BillId(Hash32([0xab; 32])),
            document: Hash32([8; 32]),
            status: Status::Issued,
            possessor: party("cq-bank"),
            entitled: party("cq-machinery"),
            pledge: Some(StatedPledge { pledgee: party("cq-bank"), mode: PledgeMode::Possession, enforced: false }),
            surrender: None,
            holds: vec![StatedHold { customs: party("sg-customs"), since_seq: 4, declaration: "SG 2025/\"7\"".into() }],
            head: ChainHead { position: 2, seq: 3, hash: Hash32([3; 32]) },
        },
        custody_head: Some(ChainHead { position: 0, seq: 4, hash: Hash32([4; 32]) }),
        registry_head: ChainHead { position: 1, seq: 1, hash: Hash32([1; 32]) },
        operator: PublicKey([5; 32]),
        checkpoint_size: 6,
        checkpoint_root: tree.root(),
        entry: entries[3],
        proof: inclusion_proof(&tree, 3, 6).unwrap(),
    };
    (st, key)
}

#[test]
fn a_statement_has_one_text_form_and_opens_with_the_ledger_key() {
    let (st, key) = example();
    let text = st.to_string();
    assert!(text.starts_with("ebl.v1/title-statement\norigin ledger.example/ebl\ntime 2027-01-15T08:01:40.000Z\n"));
    assert!(text.contains("\nhold sg-customs 4 \"SG 2025/\\\"7\\\"\"\n"), "{text}");
    assert_eq!(TitleStatement::parse(&text).unwrap(), st);
    let note = st.sign(&key).unwrap();
    let vk = VerifierKey::from_signing_key("ledger.example/ebl", KeyKind::Ed25519, &key).unwrap();
    let parsed = SignedNote::parse(&note.to_string()).unwrap();
    assert_eq!(TitleStatement::open(&parsed, &vk).unwrap(), st);
    // Never a checkpoint, whatever key opens it.
    assert!(Checkpoint::parse(note.text()).is_err());
    // Another key, or the same key under another name, does not open it.
    let other =
        VerifierKey::from_signing_key("ledger.example/ebl", KeyKind::Ed25519, &SigningKey::from_bytes(&[8; 32]));
    assert!(TitleStatement::open(&parsed, &other.unwrap()).is_err());
    let renamed = VerifierKey::from_signing_key("other.example/ebl", KeyKind::Ed25519, &key).unwrap();
    assert!(TitleStatement::open(&parsed, &renamed).is_err());
}

#[test]
fn parsing_is_strict_and_the_head_must_be_in_the_checkpoint() {
    let (st, key) = example();
    let text = st.to_string();
    for bad in [
        text.replace("status ISSUED", "status issued"),
        text.replace("head 2 3", "head 2 03"),
        text.replace("\npledge", "\n pledge"),
        text.replace("unenforced", "no"),
        format!("{text}extra line\n"),
        text.trim_end().to_string(),
        text.replacen(&Hash32([0xab; 32]).to_hex(), &Hash32([0xab; 32]).to_hex().to_uppercase(), 1),
    ] {
        assert!(TitleStatement::parse(&bad).is_err(), "{bad}");
    }
    // Lines out of their order are refused too.
    let lines: Vec<&str> = text.lines().collect();
    let mut swapped = lines.clone();
    swapped.swap(6, 7);
    assert!(TitleStatement::parse(&(swapped.join("\n") + "\n")).is_err());
    // A proof that does not lead to the root, or an entry for another record.
    let mut wrong = st.clone();
    wrong.proof[0] = Hash32([0; 32]);
    let vk = VerifierKey::from_signing_key("ledger.example/ebl", KeyKind::Ed25519, &key).unwrap();
    let note = SignedNote::parse(&wrong.sign(&key).unwrap().to_string()).unwrap();
    assert!(matches!(TitleStatement::open(&note, &vk), Err(StatementError::Inclusion(_))));
    let mut wrong = st.clone();
    wrong.title.head.hash = Hash32([2; 32]);
    assert!(matches!(wrong.check_bound(), Err(StatementError::Inconsistent(_))));
    let mut wrong = st;
    wrong.registry_head.seq = 6;
    assert!(matches!(wrong.check_bound(), Err(StatementError::Inconsistent(_))));
}
