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
