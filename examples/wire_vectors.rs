//! Rebuilds `docs/vectors/records.json`, the wire-format test vectors of `docs/wire-format.md`:
//! `cargo run --example wire_vectors > docs/vectors/records.json`. Deterministic (fixed keys and
//! times; Ed25519 signatures are deterministic), and `tests/wire_vectors.rs` checks the file
//! both against the ledger's own decoding and against a fresh run of this generator.

use ebl_core::hash::Hash32;
use ebl_core::ids::{BillId, PartyId};
use ebl_core::sig::Signature;
use ebl_core::time::Timestamp;
use ebl_ledger::client::{self, payload, sign_bytes, Identity, Link};
use ebl_ledger::pb::{self, record_payload::Action};
use ed25519_dalek::SigningKey;
use prost::Message;
use serde_json::{json, Value};

const ORIGIN: &str = "ledger.example/ebl";

fn id(party: &str, seed: u8) -> Identity {
    Identity::new(party, SigningKey::from_bytes(&[seed; 32]))
}

fn time() -> Timestamp {
    Timestamp::parse("t", "2026-11-28T09:30:00.000Z").unwrap()
}

fn valid(name: &str, note: &str, signer: &Identity, seed: u8, p: &pb::RecordPayload) -> Value {
    let bytes = p.encode_to_vec();
    let rec = sign_bytes(bytes.clone(), &[signer]);
    json!({
        "name": name,
        "note": note,
        "signer_party": signer.party.as_str(),
        "secret_seed_hex": hex::encode([seed; 32]),
        "public_key_hex": hex::encode(signer.public()),
        "payload_hex": hex::encode(&bytes),
        "signature_hex": hex::encode(&rec.signatures[0].signature),
        "record_hash_hex": ebl_core::record::record_hash(&bytes).to_hex(),
    })
}

fn invalid(
    name: &str,
    note: &str,
    party: &str,
    public_key: Vec<u8>,
    bytes: Vec<u8>,
    signature: Vec<u8>,
    expected: (&str, &str),
) -> Value {
    let (reason, field) = expected;
    json!({
        "name": name,
        "note": note,
        "signer_party": party,
        "public_key_hex": hex::encode(public_key),
        "payload_hex": hex::encode(bytes),
        "signature_hex": hex::encode(signature),
        "expected_reason": reason,
        "expected_field": field,
    })
}

/// Builds the whole vector file.
pub fn vectors() -> Value {
    let operator = id("operator", 1);
    let shipper = id("cq-machinery", 2);
    let carrier = PartyId::parse("p", "cq-mto").unwrap();
    let bill = BillId::derive(&carrier, "CQQZ2026000001", 0);
    let reg = payload(
        ORIGIN,
        None,
        Link::default(),
        "operator",
        None,
        time(),
        client::register_party(
            "cq-machinery",
            "Chongqing Machinery Export Co., Ltd.",
            pb::Role::Trader,
            &[],
            vec![pb::IdentifyingCode {
                code_list_provider: "GLEIF".into(),
                party_code: "5493001KJTIIGC8Y1R12".into(),
                code_list_name: "LEI".into(),
            }],
        ),
    );
    let reg_hash = ebl_core::record::record_hash(&reg.encode_to_vec());
    let add = payload(
        ORIGIN,
        None,
        Link { position: 1, prev: Some(reg_hash) },
        "operator",
        None,
        time(),
        client::add_key("cq-machinery", shipper.public()),
    );
    let prev = Hash32::tagged("example-previous-record", &[]);
    let endorse = payload(
        ORIGIN,
        Some(bill),
        Link { position: 1, prev: Some(prev) },
        "cq-machinery",
        Some("cq-bank"),
        time(),
        Action::EndorseToOrder(pb::EndorseToOrder {}),
    );
    let endorse_hash = ebl_core::record::record_hash(&endorse.encode_to_vec());
    let transfer = payload(
        ORIGIN,
        Some(bill),
        Link { position: 2, prev: Some(endorse_hash) },
        "cq-machinery",
        Some("cq-bank"),
        time(),
        Action::Transfer(pb::Transfer {}),
    );
    let transfer_hash = ebl_core::record::record_hash(&transfer.encode_to_vec());
    let branch = id("cq-bank-sg", 3);
    let mut by_agent = payload(
        ORIGIN,
        Some(bill),
        Link { position: 3, prev: Some(transfer_hash) },
        "cq-bank",
        Some("sg-buyer"),
        time(),
        Action::EndorseToOrder(pb::EndorseToOrder {}),
    );
    by_agent.agent = "cq-bank-sg".into();
    let by_agent_bytes = by_agent.encode_to_vec();
    let bank_key = SigningKey::from_bytes(&[4; 32]);
    let signed_by_actor = Signature::sign(&PartyId::parse("p", "cq-bank").unwrap(), &bank_key, &by_agent_bytes);

    let transfer_bytes = transfer.encode_to_vec();
    let sig = |b: &[u8]| sign_bytes(b.to_vec(), &[&shipper]).signatures[0].signature.clone();
    let mut unknown = transfer_bytes.clone();
    unknown.extend_from_slice(&[0x98, 0x06, 0x01]);
    let mut long_varint = transfer_bytes.clone();
    long_varint.splice(0..2, [0x08, 0x81, 0x00]);
    let wrong_domain = pb::RecordPayload { domain: "ebl.v1/read".into(), ..transfer.clone() }.encode_to_vec();
    let wrong_origin = pb::RecordPayload { origin: "other.example/ebl".into(), ..transfer.clone() }.encode_to_vec();
    let mut small_order = vec![0u8; 32];
    small_order[0] = 1;
    let (mixed_key, mixed_sig) = mixed_order_signature(&transfer_bytes);
    let mut malleable = sig(&transfer_bytes);
    add_group_order(&mut malleable[32..]);

    json!({
        "format": "ebl.v1 record vectors",
        "origin": ORIGIN,
        "record_domain": ebl_core::record::RECORD_DOMAIN,
        "record_hash_tag": ebl_core::record::RECORD_HASH_TAG,
        "claimed_time": time().to_rfc3339(),
        "bill_id": {
            "carrier": "cq-mto", "reference": "CQQZ2026000001", "amendment": 0,
            "bill_id_hex": bill.0.to_hex(),
        },
        "valid": [
            valid("register-party", "operator registers a TRADER with an LEI; registry chain position 0", &operator, 1, &reg),
            valid("add-key", "operator adds the trader's key; registry position 1, prev = hash of register-party", &operator, 1, &add),
            valid("endorse-to-order", "cq-machinery endorses bill CQQZ2026000001 to order of cq-bank; title position 1", &shipper, 2, &endorse),
            valid("transfer", "cq-machinery transfers possession to cq-bank; title position 2, prev = hash of endorse-to-order", &shipper, 2, &transfer),
            valid("agent-endorse-to-order", "cq-bank-sg, agent of cq-bank under a registered delegation, endorses the bill to order of sg-buyer in cq-bank's name (actor cq-bank, agent cq-bank-sg, signed by the agent alone); title position 3, prev = hash of transfer", &branch, 3, &by_agent),
        ],
        "invalid": [
            invalid("unknown-field", "the transfer payload with field 99 (varint 1) appended, validly signed", "cq-machinery", shipper.public(), unknown.clone(), sig(&unknown), ("NON_CANONICAL_ENCODING", "")),
            invalid("non-minimal-varint", "version 1 written as the two-byte varint 0x81 0x00, validly signed", "cq-machinery", shipper.public(), long_varint.clone(), sig(&long_varint), ("NON_CANONICAL_ENCODING", "")),
            invalid("wrong-domain", "domain tag ebl.v1/read instead of ebl.v1/record, validly signed", "cq-machinery", shipper.public(), wrong_domain.clone(), sig(&wrong_domain), ("INVALID_FIELD", "domain")),
            invalid("wrong-origin", "made for another ledger, validly signed", "cq-machinery", shipper.public(), wrong_origin.clone(), sig(&wrong_origin), ("INVALID_FIELD", "origin")),
            invalid("small-order-key", "public key is the identity point (small order)", "cq-machinery", small_order, transfer_bytes.clone(), sig(&transfer_bytes), ("WEAK_KEY", "")),
            invalid("mixed-order-key", "key = a*B + T (T of order 8) and a signature that a cofactorless verify_strict alone accepts", "cq-machinery", mixed_key, transfer_bytes.clone(), mixed_sig, ("WEAK_KEY", "")),
            invalid("agent-record-signed-by-actor", "the agent-endorse-to-order payload signed by the actor cq-bank instead of its agent", "cq-bank", bank_key.verifying_key().to_bytes().to_vec(), by_agent_bytes.clone(), signed_by_actor.sig.to_vec(), ("UNEXPECTED_SIGNER", "")),
            invalid("non-canonical-s", "the transfer's signature with S + L (malleated); verify_strict refuses", "cq-machinery", shipper.public(), transfer_bytes.clone(), malleable, ("BAD_SIGNATURE", "")),
        ],
    })
}

/// A key outside the prime-order subgroup, `A' = a*B + T` with `T` of order 8, and a signature on
/// `message` that the cofactorless equation accepts: the nonce is searched until `k = H(R || A' ||
/// M)` is a multiple of 8, so `[k]T` vanishes. Only the subgroup check on the key refuses it.
fn mixed_order_signature(message: &[u8]) -> (Vec<u8>, Vec<u8>) {
    use curve25519_dalek::{constants, EdwardsPoint, Scalar};
    use sha2::{Digest, Sha512};
    let wide = |parts: &[&[u8]]| {
        let mut h = Sha512::new();
        parts.iter().for_each(|p| h.update(p));
        Scalar::from_bytes_mod_order_wide(&h.finalize().into())
    };
    let a = wide(&[b"ebl.v1 vectors: mixed-order key"]);
    let key: EdwardsPoint = EdwardsPoint::mul_base(&a) + constants::EIGHT_TORSION[1];
    let key_bytes = key.compress().to_bytes();
    for nonce in 0u32.. {
        let r = wide(&[b"ebl.v1 vectors: nonce", &nonce.to_le_bytes()]);
        let r_bytes = EdwardsPoint::mul_base(&r).compress().to_bytes();
        let k = wide(&[&r_bytes, &key_bytes, message]);
        if k.to_bytes()[0] % 8 == 0 {
            let s = r + k * a;
            return (key_bytes.to_vec(), [r_bytes, s.to_bytes()].concat());
        }
    }
    unreachable!("one nonce in eight works")
}

/// Adds the group order L to a little-endian 32-byte scalar.
fn add_group_order(s: &mut [u8]) {
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut carry = 0u16;
    for i in 0..32 {
        let v = s[i] as u16 + L[i] as u16 + carry;
        s[i] = v as u8;
        carry = v >> 8;
    }
}

#[allow(dead_code)]
fn main() {
    println!("{}", serde_json::to_string_pretty(&vectors()).unwrap());
}
