//! The wire-format vectors of docs/wire-format.md: the file is exactly what the generator
//! rebuilds, every valid vector passes the ledger's own checks with the stated record hash, and
//! every invalid one is refused with the stated reason.
#[path = "../examples/wire_vectors.rs"]
mod generator;

use ebl_ledger::api::check_record;
use ebl_ledger::error::LedgerError;
use ebl_ledger::pb;
use serde_json::Value;

fn file() -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/vectors/records.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn record(v: &Value) -> pb::SignedRecord {
    let h = |k: &str| hex::decode(v[k].as_str().unwrap()).unwrap();
    pb::SignedRecord {
        payload: h("payload_hex"),
        signatures: vec![pb::Signature {
            party: v["signer_party"].as_str().unwrap().into(),
            public_key: h("public_key_hex"),
            signature: h("signature_hex"),
        }],
    }
}

#[test]
fn vector_file_is_what_the_generator_builds() {
    assert_eq!(file(), generator::vectors(), "run: cargo run --example wire_vectors > docs/vectors/records.json");
}

#[test]
fn valid_vectors_pass_with_their_hash() {
    let f = file();
    let origin = f["origin"].as_str().unwrap();
    let valid = f["valid"].as_array().unwrap();
    assert!(valid.len() >= 3);
    for v in valid {
        let checked = check_record(record(v), origin).unwrap_or_else(|e| panic!("{}: {e}", v["name"]));
        assert_eq!(checked.hash.to_hex(), v["record_hash_hex"].as_str().unwrap(), "{}", v["name"]);
        // The public key is the one the seed gives.
        let seed: [u8; 32] = hex::decode(v["secret_seed_hex"].as_str().unwrap()).unwrap().try_into().unwrap();
        let pk = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key().to_bytes();
        assert_eq!(hex::encode(pk), v["public_key_hex"].as_str().unwrap());
    }
    let b = &f["bill_id"];
    let carrier = ebl_core::ids::PartyId::parse("c", b["carrier"].as_str().unwrap()).unwrap();
    let id = ebl_core::ids::BillId::derive(
        &carrier,
        b["reference"].as_str().unwrap(),
        b["amendment"].as_u64().unwrap() as u32,
    );
    assert_eq!(id.0.to_hex(), b["bill_id_hex"].as_str().unwrap());
}

#[test]
fn invalid_vectors_are_refused_for_the_stated_reason() {
    let f = file();
    let origin = f["origin"].as_str().unwrap();
    let invalid = f["invalid"].as_array().unwrap();
    assert!(invalid.len() >= 3);
    for v in invalid {
        match check_record(record(v), origin) {
            Ok(_) => panic!("{} must be refused", v["name"]),
            Err(LedgerError::Rule(e)) => {
                assert_eq!(e.reason(), v["expected_reason"].as_str().unwrap(), "{}: {e}", v["name"]);
                assert_eq!(e.field().unwrap_or(""), v["expected_field"].as_str().unwrap(), "{}: {e}", v["name"]);
            }
            Err(e) => panic!("{}: unexpected {e}", v["name"]),
        }
    }
}

#[test]
fn mixed_order_key_vector_is_one_that_verify_strict_alone_accepts() {
    // The vector matters only if the plain library check lets it through: the ledger's subgroup
    // check on the key is then what refuses it.
    let f = file();
    let v = f["invalid"].as_array().unwrap().iter().find(|v| v["name"] == "mixed-order-key").unwrap();
    let bytes = |k: &str| hex::decode(v[k].as_str().unwrap()).unwrap();
    let key = ed25519_dalek::VerifyingKey::from_bytes(&bytes("public_key_hex").try_into().unwrap()).unwrap();
    let sig = ed25519_dalek::Signature::from_slice(&bytes("signature_hex")).unwrap();
    assert!(!key.is_weak());
    assert!(key.verify_strict(&bytes("payload_hex"), &sig).is_ok());
}
