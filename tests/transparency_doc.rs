//! docs/transparency.md's worked example is real: the log entry of the first wire-format vector
//! (docs/vectors/records.json, `register-party`) placed at seq 0 at its claimed time, computed by
//! the ledger's own code, appears in the document byte for byte, with its leaf hash.
use ebl_core::log::leaf_hash;
use ebl_core::record::record_hash;
use ebl_core::time::Timestamp;
use ebl_ledger::pb;
use ebl_ledger::wire::entry::{encoded_signatures, log_entry};
use serde_json::Value;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The example block as the document shows it.
fn example() -> String {
    let f: Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{ROOT}/docs/vectors/records.json")).unwrap()).unwrap();
    let v = &f["valid"][0];
    assert_eq!(v["name"], "register-party");
    let h = |k: &str| hex::decode(v[k].as_str().unwrap()).unwrap();
    let sigs = vec![pb::Signature {
        party: v["signer_party"].as_str().unwrap().into(),
        public_key: h("public_key_hex"),
        signature: h("signature_hex"),
    }];
    let time = Timestamp::parse("t", f["claimed_time"].as_str().unwrap()).unwrap();
    let hash = record_hash(&h("payload_hex"));
    assert_eq!(hash.to_hex(), v["record_hash_hex"].as_str().unwrap());
    let entry = log_entry(hash, &sigs, 0, time);
    let bytes = entry.encode();
    assert_eq!(entry.leaf_hash(), leaf_hash(&bytes));
    format!(
        "encoded signatures ({} bytes) {}\n\
         record_hash        {}\n\
         signatures_hash    {}\n\
         seq                {}\n\
         server_time        {}   ({} ms, {})\n\
         entry (80 bytes)   {}\n\
         leaf hash          {}\n",
        encoded_signatures(&sigs).len(),
        hex::encode(encoded_signatures(&sigs)),
        hex::encode(&bytes[..32]),
        hex::encode(&bytes[32..64]),
        hex::encode(&bytes[64..72]),
        hex::encode(&bytes[72..]),
        time.0,
        time.to_rfc3339(),
        hex::encode(bytes),
        entry.leaf_hash().to_hex(),
    )
}

#[test]
fn the_worked_entry_example_is_what_the_code_computes() {
    let doc = std::fs::read_to_string(format!("{ROOT}/docs/transparency.md")).unwrap();
    let block = example();
    assert!(doc.contains(&block), "docs/transparency.md must hold this block verbatim:\n{block}");
}

/// The worked title statement: fixed key (seed 07 x 32), a 6-leaf tree whose leaf 3 is the head.
fn statement_example() -> String {
    use ebl_core::bill::Status;
    use ebl_core::hash::Hash32;
    use ebl_core::ids::{BillId, PartyId};
    use ebl_core::log::{inclusion_proof, LogEntry, MemoryTree};
    use ebl_core::record::PledgeMode;
    use ebl_core::sig::PublicKey;
    use ebl_core::statement::{ChainHead, StatedHold, StatedPledge, StatedTitle, TitleStatement};
    let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let entries: Vec<LogEntry> = (0..6u8)
        .map(|i| LogEntry::new(Hash32([i; 32]), b"sigs", i as u64, Timestamp(1_795_858_200_000 + i as i64 * 1000)))
        .collect();
    let mut tree = MemoryTree::new();
    let appended = tree.append(&entries.iter().map(|e| e.leaf_hash()).collect::<Vec<_>>()).unwrap();
    tree.apply(&appended);
    let party = |s: &str| PartyId::parse("p", s).unwrap();
    let bill = BillId::derive(&party("cq-mto"), "CQQZ2026000001", 0);
    let st = TitleStatement {
        origin: "ledger.example/ebl".into(),
        time: Timestamp::parse("t", "2026-11-28T09:31:00.000Z").unwrap(),
        title: StatedTitle {
            bill,
            document: Hash32([0xd0; 32]),
            status: Status::Issued,
            possessor: party("cq-bank"),
            entitled: party("cq-machinery"),
            pledge: Some(StatedPledge { pledgee: party("cq-bank"), mode: PledgeMode::Possession, enforced: false }),
            surrender: None,
            holds: vec![StatedHold { customs: party("sg-customs"), since_seq: 4, declaration: "SG2025-778812".into() }],
            head: ChainHead { position: 2, seq: 3, hash: Hash32([3; 32]) },
        },
        custody_head: Some(ChainHead { position: 0, seq: 4, hash: Hash32([4; 32]) }),
        registry_head: ChainHead { position: 1, seq: 1, hash: Hash32([1; 32]) },
        operator: PublicKey([0x8a; 32]),
        checkpoint_size: 6,
        checkpoint_root: tree.root(),
        entry: entries[3],
        proof: inclusion_proof(&tree, 3, 6).unwrap(),
    };
    st.sign(&key).unwrap().to_string()
}

#[test]
fn the_worked_title_statement_is_what_the_code_signs() {
    let doc = std::fs::read_to_string(format!("{ROOT}/docs/transparency.md")).unwrap();
    let block = statement_example();
    assert!(doc.contains(&block), "docs/transparency.md must hold this block verbatim:\n{block}");
}
