//! The log's text formats (`ebl_core::log::{key, note, checkpoint, cosignature, proof_text}`):
//! the worked example of docs' transparency-log reference (checked there against Go's sumdb/note)
//! reproduces byte for byte; parse and format round-trip; every tampered byte, wrong key or
//! unknown key is refused with the error that says why; malformed inputs are refused.
//!
//! Keys are RFC 8032's TEST 1 (the log) and TEST 2 (the witness) secret keys.

use base64::Engine as _;
use ebl_core::hash::Hash32;
use ebl_core::log::cosignature::{cosign, message, MAX_TIME};
use ebl_core::log::key::{check_key_name, key_id, SIGTYPE_COSIGNATURE_V1, SIGTYPE_ED25519};
use ebl_core::log::note::MAX_SIGNATURES;
use ebl_core::log::{
    inclusion_proof, leaf_hash, Checkpoint, KeyKind, MemoryTree, NoteError, NoteSignature, ProofError, SignedNote,
    TlogProof, VerifierKey,
};
use ed25519_dalek::SigningKey;

const TEST1: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
const TEST2: &str = "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb";
const ORIGIN: &str = "example.com/ebl-log";
const WITNESS: &str = "witness.example/w1";
const LOG_VKEY: &str = "example.com/ebl-log+82610c2a+AddamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea";
const WITNESS_VKEY: &str = "witness.example/w1+04d2d833+BD1AF8PoQ4lakrcKp00bfrycmCzPLsSWjMDNVfEq9GYM";
const BODY: &str = "example.com/ebl-log\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n";
const LOG_LINE: &str = "— example.com/ebl-log gmEMKgoEM2HeMQ9/FuMbyGxXexfFje22M0NCwwSU24bDiJ3cHksSPE849bGC7RzhqURcACGKB9Nk0BiJ9h1THb6pOAM=\n";
const WITNESS_LINE: &str = "— witness.example/w1 BNLYMwAAAABlU/EAJqw6woN6CNZvBCcHIHRHVExva/4cpIR4X4G+3wgohO4/zVVeOSmnrof4Sb9G4eIOPS5VFSZ95uDBID38pekQDw==\n";
const TIME: u64 = 1_700_000_000;

fn secret(hex_key: &str) -> SigningKey {
    SigningKey::from_bytes(&hex::decode(hex_key).unwrap().try_into().unwrap())
}

fn log_key() -> VerifierKey {
    VerifierKey::from_signing_key(ORIGIN, KeyKind::Ed25519, &secret(TEST1)).unwrap()
}

fn witness_key() -> VerifierKey {
    VerifierKey::from_signing_key(WITNESS, KeyKind::CosignatureV1, &secret(TEST2)).unwrap()
}

/// The reference tree of 8 leaves.
fn reference_tree() -> MemoryTree {
    let leaves = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"];
    let mut tree = MemoryTree::new();
    let hashes: Vec<Hash32> = leaves.iter().map(|h| leaf_hash(&hex::decode(h).unwrap())).collect();
    tree.append(&hashes).unwrap();
    tree
}

fn cosigned_note() -> SignedNote {
    SignedNote::parse(&format!("{BODY}\n{LOG_LINE}{WITNESS_LINE}")).unwrap()
}

// ---- the worked example ---------------------------------------------------------------------------

#[test]
fn worked_example_reproduces_exactly() {
    let tree = reference_tree();
    assert_eq!(log_key().to_string(), LOG_VKEY);
    let cp = Checkpoint::new(ORIGIN, 8, tree.root()).unwrap();
    assert_eq!(cp.body(), BODY);
    let note = cp.sign(&secret(TEST1)).unwrap();
    assert_eq!(note.to_string(), format!("{BODY}\n{LOG_LINE}"));

    assert_eq!(witness_key().to_string(), WITNESS_VKEY);
    let line = cosign(BODY, WITNESS, &secret(TEST2), TIME).unwrap();
    assert_eq!(line.to_line(), WITNESS_LINE);
    let mut cosigned = note.clone();
    cosigned.add_signature(line).unwrap();
    assert_eq!(cosigned, cosigned_note());

    let opened = Checkpoint::open(&cosigned, &log_key(), &[witness_key()]).unwrap();
    assert_eq!(opened.checkpoint, cp);
    assert_eq!(opened.cosigners.len(), 1);
    assert_eq!(opened.cosigners[0].name, WITNESS);
    assert_eq!(opened.cosigners[0].timestamp, Some(TIME));
}

#[test]
fn cosigner_keys_carry_type_0x04_in_both_the_key_id_and_the_key_string() {
    let pk = secret(TEST2).verifying_key().to_bytes();
    assert_eq!(hex::encode(key_id(WITNESS, SIGTYPE_COSIGNATURE_V1, &pk)), "04d2d833");
    assert_ne!(key_id(WITNESS, SIGTYPE_ED25519, &pk), key_id(WITNESS, SIGTYPE_COSIGNATURE_V1, &pk));
    // The witness line's first four bytes are that key ID, then the big-endian time.
    assert!(WITNESS_LINE.contains(" BNLYMwAAAABlU/EA"));
    assert_eq!(hex::encode(TIME.to_be_bytes()), "000000006553f100");
    // The same key as a note key is another (name, ID): its lines are not taken for cosignatures.
    let as_note_key = VerifierKey::from_signing_key(WITNESS, KeyKind::Ed25519, &secret(TEST2)).unwrap();
    assert_ne!(as_note_key.id(), witness_key().id());
    assert!(as_note_key.to_string().starts_with("witness.example/w1+"));
    assert_eq!(cosigned_note().verify(&[as_note_key]), Err(NoteError::NoKnownSignature));
    assert_eq!(message(TIME, BODY), format!("cosignature/v1\ntime 1700000000\n{BODY}"));
}

// ---- keys ------------------------------------------------------------------------------------------

#[test]
fn verifier_keys_round_trip_and_refuse_malformed_strings() {
    for s in [LOG_VKEY, WITNESS_VKEY] {
        let k = VerifierKey::parse(s).unwrap();
        assert_eq!(k.to_string(), s);
    }
    assert_eq!(VerifierKey::parse(LOG_VKEY).unwrap(), log_key());
    assert_eq!(VerifierKey::parse(WITNESS_VKEY).unwrap().kind(), KeyKind::CosignatureV1);
    // The log key's base64 holds a '+': only the first two split.
    assert_eq!(LOG_VKEY.matches('+').count(), 3);
    let bad = [
        "",
        "example.com/ebl-log",
        "example.com/ebl-log+82610c2a",
        "+82610c2a+AddamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea",
        "example.com/ebl-log+82610C2A+AddamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea",
        "example.com/ebl-log+82610c2b+AddamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea",
        "example.com/ebl-log+82610c2+AddamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea",
        "example.com/ebl-log+82610c2a+AddamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea\n",
        "example.com/ebl-log+82610c2a+AddamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1E=",
        "other.example/log+82610c2a+AddamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea",
        "example.com/ebl log+82610c2a+AddamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea",
        // Signature type 0x02 (ECDSA) over the same key material.
        "example.com/ebl-log+82610c2a+AtdamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea",
    ];
    let pk = secret(TEST1).verifying_key().to_bytes();
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let short = format!("{ORIGIN}+82610c2a+{}", b64(&[&[1u8][..], &pk[..31]].concat()));
    let long = format!("{ORIGIN}+82610c2a+{}", b64(&[&[1u8][..], &pk[..], &[0]].concat()));
    let bare = format!("{ORIGIN}+82610c2a+{}", b64(&pk));
    assert_eq!(format!("{ORIGIN}+82610c2a+{}", b64(&[&[1u8][..], &pk[..]].concat())), LOG_VKEY);
    for s in bad.iter().copied().chain([short.as_str(), long.as_str(), bare.as_str()]) {
        assert!(VerifierKey::parse(s).is_err(), "{s:?}");
    }
    // A key of small order is refused even with a matching ID.
    let mut weak = [0u8; 32];
    weak[0] = 1;
    let weak = ed25519_dalek::VerifyingKey::from_bytes(&weak).unwrap();
    assert!(matches!(VerifierKey::new("weak.example", KeyKind::Ed25519, weak), Err(NoteError::BadVerifierKey { .. })));
}

#[test]
fn key_names_are_checked() {
    assert!(check_key_name(ORIGIN).is_ok());
    assert!(check_key_name("oid/1.3.6.1.4.1").is_ok());
    for bad in ["", "a b", "a+b", "a\nb", "a\tb", "a\u{2003}b", "a\u{0}b", "trailing\n"] {
        assert!(matches!(check_key_name(bad), Err(NoteError::BadKeyName { .. })), "{bad:?}");
        assert!(Checkpoint::new(bad, 1, Hash32::default()).is_err(), "{bad:?}");
        assert!(NoteSignature::ed25519(BODY, bad, &secret(TEST1)).is_err(), "{bad:?}");
    }
}

// ---- signed notes ----------------------------------------------------------------------------------

#[test]
fn notes_round_trip() {
    let note = cosigned_note();
    assert_eq!(note.text(), BODY);
    assert_eq!(note.signatures().len(), 2);
    assert_eq!(SignedNote::parse(&note.to_string()).unwrap(), note);
    // Texts with blank lines and non-ASCII: the last blank line separates the signatures.
    for text in ["a\n\nb\n", "\n", "x\n\n", "Ognuno sta solo — sul cuor della terra\n"] {
        let signed = SignedNote::sign(text, "poet.example/q", &secret(TEST1)).unwrap();
        let parsed = SignedNote::parse(&signed.to_string()).unwrap();
        assert_eq!(parsed, signed);
        assert_eq!(parsed.text(), text);
        let key = VerifierKey::from_signing_key("poet.example/q", KeyKind::Ed25519, &secret(TEST1)).unwrap();
        assert_eq!(parsed.verify(&[key]).unwrap().len(), 1);
    }
}

#[test]
fn every_changed_text_byte_is_refused() {
    let msg = format!("{BODY}\n{LOG_LINE}");
    for i in 0..BODY.len() {
        let mut bytes = msg.clone().into_bytes();
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        let err = SignedNote::parse(&tampered).and_then(|n| n.verify(&[log_key()])).unwrap_err();
        if i + 1 == BODY.len() {
            // The text's final newline is half of the blank line: without it there is no note.
            assert!(matches!(err, NoteError::MalformedNote { .. }), "byte {i}: {err}");
        } else {
            assert!(matches!(err, NoteError::BadSignature { .. }), "byte {i}: {err}");
        }
    }
}

#[test]
fn every_changed_signature_bit_is_refused() {
    for (line, key) in [(LOG_LINE, log_key()), (WITNESS_LINE, witness_key())] {
        let sig = NoteSignature::parse_line(line.strip_suffix('\n').unwrap()).unwrap();
        for bit in 0..(4 + sig.signature.len()) * 8 {
            let mut bad = sig.clone();
            if bit < 32 {
                bad.key_id[bit / 8] ^= 1 << (bit % 8);
            } else {
                bad.signature[bit / 8 - 4] ^= 1 << (bit % 8);
            }
            let note = SignedNote::parse(&format!("{BODY}\n{}", bad.to_line())).unwrap();
            let err = note.verify(std::slice::from_ref(&key)).unwrap_err();
            // A changed key ID makes the line some unknown key's, which is ignored.
            let expected_unknown = bit < 32;
            assert_eq!(matches!(err, NoteError::NoKnownSignature), expected_unknown, "bit {bit}: {err}");
            assert_eq!(matches!(err, NoteError::BadSignature { .. }), !expected_unknown, "bit {bit}: {err}");
        }
    }
}

#[test]
fn unknown_keys_are_ignored_and_a_failing_known_key_rejects() {
    let note = cosigned_note();
    let stranger = VerifierKey::from_signing_key("stranger.example", KeyKind::Ed25519, &secret(TEST2)).unwrap();
    assert_eq!(note.verify(std::slice::from_ref(&stranger)), Err(NoteError::NoKnownSignature));
    assert_eq!(note.verify(&[]), Err(NoteError::NoKnownSignature));
    // Another key under the log's name has another ID: unknown, so ignored.
    let impostor = VerifierKey::from_signing_key(ORIGIN, KeyKind::Ed25519, &secret(TEST2)).unwrap();
    assert_eq!(note.verify(std::slice::from_ref(&impostor)), Err(NoteError::NoKnownSignature));
    let v = note.verify(&[impostor, stranger, witness_key()]).unwrap();
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].timestamp, Some(TIME));
    // A known key's failing line rejects the note, even beside a good one.
    let mut bad = NoteSignature::parse_line(WITNESS_LINE.strip_suffix('\n').unwrap()).unwrap();
    bad.signature[70] ^= 1;
    let note = SignedNote::new(BODY, vec![NoteSignature::parse_line(LOG_LINE.trim_end()).unwrap(), bad]).unwrap();
    assert!(matches!(note.verify(&[log_key(), witness_key()]), Err(NoteError::BadSignature { .. })));
    assert_eq!(note.verify(&[log_key()]).unwrap().len(), 1);
    // A changed cosignature time is a different message.
    let mut retimed = NoteSignature::parse_line(WITNESS_LINE.trim_end()).unwrap();
    retimed.signature[7] ^= 1;
    let note = SignedNote::new(BODY, vec![retimed]).unwrap();
    assert!(matches!(note.verify(&[witness_key()]), Err(NoteError::BadSignature { .. })));
}

#[test]
fn malformed_notes_are_refused() {
    let line = LOG_LINE;
    let bad = [
        format!("{BODY}{line}"),                             // no blank line
        format!("{BODY}\n"),                                 // no signature
        BODY.to_string(),                                    // no blank line, no signature
        format!("{BODY}\n{}", line.trim_end()),              // no final newline
        format!("{BODY}\n{}", line.replacen('—', "-", 1)),   // ASCII dash
        format!("{BODY}\n{}", line.replacen("— ", "—", 1)),  // no space after the dash
        format!("{BODY}\n— example.com/ebl-log\n"),          // no signature value
        format!("{BODY}\n— example.com/ebl-log !!!!\n"),     // not base64
        format!("{BODY}\n— example.com/ebl-log AAAAAA==\n"), // shorter than a key ID and a byte
        format!("{BODY}\n—  gmEMKgoE\n"),                    // empty name
        format!("{BODY}\n{line}{line}"),                     // the same key twice
        format!("{BODY}\n{line}\n"),                         // blank line after the signatures
        format!("example.com/ebl-log\r\n8\n\n{line}"),       // control character
        format!("{}\n{line}", BODY.replace('8', "8\t")),
    ];
    for msg in &bad {
        assert!(
            matches!(SignedNote::parse(msg), Err(NoteError::MalformedNote { .. }) | Err(NoteError::BadKeyName { .. })),
            "{msg:?}"
        );
    }
    // The signature count is bounded.
    let sk = secret(TEST1);
    let many: Vec<NoteSignature> =
        (0..=MAX_SIGNATURES).map(|i| NoteSignature::ed25519(BODY, &format!("k{i}.example"), &sk).unwrap()).collect();
    assert!(SignedNote::new(BODY, many[..MAX_SIGNATURES].to_vec()).is_ok());
    let text: String = many.iter().map(|s| s.to_line()).collect();
    assert!(matches!(SignedNote::parse(&format!("{BODY}\n{text}")), Err(NoteError::MalformedNote { .. })));
    // Texts to sign must end in a newline and hold no control characters.
    assert!(matches!(SignedNote::sign("no newline", ORIGIN, &sk), Err(NoteError::BadText { .. })));
    assert!(matches!(SignedNote::sign("tab\there\n", ORIGIN, &sk), Err(NoteError::BadText { .. })));
    assert!(matches!(cosign("no newline", WITNESS, &sk, TIME), Err(NoteError::BadText { .. })));
    assert_eq!(cosign(BODY, WITNESS, &sk, MAX_TIME + 1), Err(NoteError::TimeOutOfRange { time: MAX_TIME + 1 }));
    assert!(cosign(BODY, WITNESS, &sk, MAX_TIME).is_ok());
}

// ---- checkpoints -------------------------------------------------------------------------------------

#[test]
fn checkpoints_round_trip_and_parse_strictly() {
    let cp = Checkpoint::parse(BODY).unwrap();
    assert_eq!((cp.origin(), cp.size()), (ORIGIN, 8));
    assert_eq!(cp.root(), reference_tree().root());
    assert_eq!(cp.body(), BODY);
    let empty = Checkpoint::new(ORIGIN, 0, ebl_core::log::empty_root()).unwrap();
    assert_eq!(Checkpoint::parse(&empty.body()).unwrap(), empty);
    assert!(empty.body().contains("\n0\n"));
    let max = Checkpoint::new(ORIGIN, u64::MAX, Hash32([7; 32])).unwrap();
    assert_eq!(Checkpoint::parse(&max.body()).unwrap(), max);
    let root = "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=";
    let bad = [
        format!("{ORIGIN}\n8\n{root}"),                                         // no final newline
        format!("{ORIGIN}\n08\n{root}\n"),                                      // leading zero
        format!("{ORIGIN}\n+8\n{root}\n"),                                      // sign
        format!("{ORIGIN}\n-1\n{root}\n"),                                      // negative
        format!("{ORIGIN}\n 8\n{root}\n"),                                      // space
        format!("{ORIGIN}\n\n{root}\n"),                                        // empty size
        format!("{ORIGIN}\n18446744073709551616\n{root}\n"),                    // u64::MAX + 1
        format!("{ORIGIN}\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQw==\n"), // 31 bytes
        format!("{ORIGIN}\n8\n{root}AAAA\n"),                                   // 35 bytes
        format!("{ORIGIN}\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyh=\n"), // trailing bits
        format!("{ORIGIN}\n8\n{}\n", root.trim_end_matches('=')),               // no padding
        format!("{ORIGIN}\n8\n{root}\nextension line\n"),                       // extension lines refused
        format!("{ORIGIN}\n8\n{root}\n\n"),                                     // empty extension line
        format!("{ORIGIN}\n8\n"),                                               // no root
        format!("\n8\n{root}\n"),                                               // empty origin
        format!("example.com/ebl log\n8\n{root}\n"),                            // origin with a space
        format!("{ORIGIN}\r\n8\n{root}\n"),
    ];
    for text in &bad {
        assert!(Checkpoint::parse(text).is_err(), "{text:?}");
    }
}

#[test]
fn opening_a_checkpoint_requires_the_log_signature() {
    let note = cosigned_note();
    assert!(Checkpoint::open(&note, &log_key(), &[]).unwrap().cosigners.is_empty());
    // Only the witness verifies: still no log signature.
    let only_witness = SignedNote::new(BODY, vec![note.signatures()[1].clone()]).unwrap();
    assert_eq!(
        Checkpoint::open(&only_witness, &log_key(), &[witness_key()]),
        Err(NoteError::MissingLogSignature { name: ORIGIN.into() })
    );
    assert_eq!(
        Checkpoint::open(&only_witness, &log_key(), &[]),
        Err(NoteError::MissingLogSignature { name: ORIGIN.into() })
    );
    // A log key under another name than the origin.
    let other = VerifierKey::from_signing_key("other.example/log", KeyKind::Ed25519, &secret(TEST1)).unwrap();
    assert!(matches!(Checkpoint::open(&note, &other, &[]), Err(NoteError::OriginMismatch { .. })));
    // A cosigner key cannot be the log key.
    assert!(matches!(Checkpoint::open(&note, &witness_key(), &[]), Err(NoteError::WrongKeyKind { .. })));
    // A note whose text is not a checkpoint.
    let not_cp = SignedNote::sign("hello\n", ORIGIN, &secret(TEST1)).unwrap();
    assert!(matches!(Checkpoint::open(&not_cp, &log_key(), &[]), Err(NoteError::MalformedCheckpoint { .. })));
}

// ---- tlog-proof ----------------------------------------------------------------------------------------

fn proof_of(index: u64, extra: &[u8]) -> TlogProof {
    let hashes = inclusion_proof(&reference_tree(), index, 8).unwrap();
    TlogProof::new(extra.to_vec(), index, hashes, cosigned_note()).unwrap()
}

fn leaf(index: u64) -> Hash32 {
    let leaves = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"];
    leaf_hash(&hex::decode(leaves[index as usize]).unwrap())
}

#[test]
fn tlog_proofs_round_trip_and_verify() {
    for index in 0..8 {
        for extra in [&b""[..], b"vrf proof bytes"] {
            let p = proof_of(index, extra);
            let text = p.to_string();
            assert!(text.starts_with("c2sp.org/tlog-proof@v1\n"));
            assert_eq!(text.contains("\nextra "), !extra.is_empty());
            assert!(text.ends_with(&format!("\n\n{BODY}\n{LOG_LINE}{WITNESS_LINE}")));
            let parsed = TlogProof::parse(&text).unwrap();
            assert_eq!(parsed, p);
            assert_eq!(parsed.extra(), extra);
            let opened = parsed.verify(&leaf(index), &log_key(), &[witness_key()]).unwrap();
            assert_eq!(opened.cosigners.len(), 1);
            // The wrong leaf, or another index, does not verify.
            let wrong = parsed.verify(&leaf((index + 1) % 8), &log_key(), &[witness_key()]);
            assert!(matches!(wrong, Err(NoteError::Inclusion(_))), "{wrong:?}");
        }
    }
    let p = proof_of(5, b"");
    assert_eq!(
        p.to_string(),
        format!(
            "c2sp.org/tlog-proof@v1\nindex 5\n{}\n\n{BODY}\n{LOG_LINE}{WITNESS_LINE}",
            p.hashes().iter().map(base64_of).collect::<Vec<_>>().join("\n")
        )
    );
    // An index past the checkpoint's size.
    let far = TlogProof::new(vec![], 8, vec![], cosigned_note()).unwrap();
    assert_eq!(
        far.verify(&leaf(0), &log_key(), &[]),
        Err(NoteError::Inclusion(ProofError::IndexOutOfRange { index: 8, size: 8 }))
    );
}

fn base64_of(h: &Hash32) -> String {
    base64::engine::general_purpose::STANDARD.encode(h.0)
}

#[test]
fn malformed_tlog_proofs_are_refused() {
    let good = proof_of(5, b"x").to_string();
    assert!(TlogProof::parse(&good).is_ok());
    let hash_line = good.lines().nth(3).unwrap().to_string();
    let edits: Vec<(String, String)> = vec![
        ("c2sp.org/tlog-proof@v1\n".into(), "c2sp.org/tlog-proof@v2\n".into()),
        ("c2sp.org/tlog-proof@v1\n".into(), "".into()),
        ("extra eA==\n".into(), "extra \n".into()),
        ("extra eA==\n".into(), "extra eB==\n".into()),
        ("extra eA==\nindex 5\n".into(), "index 5\nextra eA==\n".into()),
        ("index 5\n".into(), "index 05\n".into()),
        ("index 5\n".into(), "index +5\n".into()),
        ("index 5\n".into(), "index -5\n".into()),
        ("index 5\n".into(), "index  5\n".into()),
        ("index 5\n".into(), "".into()),
        ("index 5\n".into(), "Index 5\n".into()),
        (format!("{hash_line}\n"), format!("{}\n", &hash_line[..40])),
        (format!("{hash_line}\n"), format!("{hash_line}AAAA\n")),
        (format!("{hash_line}\n"), format!("{hash_line} \n")),
        (format!("\n\n{BODY}"), format!("\n{BODY}")),
        (format!("\n\n{BODY}"), format!("\n\n\n{BODY}")),
        (BODY.into(), format!("{BODY}ext\n")),
        (WITNESS_LINE.into(), WITNESS_LINE.trim_end().into()),
    ];
    for (from, to) in &edits {
        assert!(good.contains(from.as_str()), "{from:?} not in the proof");
        let bad = good.replacen(from.as_str(), to, 1);
        assert!(TlogProof::parse(&bad).is_err(), "{from:?} -> {to:?} accepted:\n{bad}");
    }
    // At most 64 inclusion hashes.
    let many = format!("c2sp.org/tlog-proof@v1\nindex 0\n{}\n{BODY}\n{LOG_LINE}", format!("{hash_line}\n").repeat(65));
    assert!(matches!(TlogProof::parse(&many), Err(NoteError::MalformedProof { .. })));
    assert!(TlogProof::new(vec![], 0, vec![Hash32::default(); 65], cosigned_note()).is_err());
    // A proof with no hashes (a size-1 tree) is fine in form.
    let single = Checkpoint::new(ORIGIN, 1, leaf(0)).unwrap().sign(&secret(TEST1)).unwrap();
    let p = TlogProof::new(vec![], 0, vec![], single).unwrap();
    assert_eq!(TlogProof::parse(&p.to_string()).unwrap(), p);
    assert!(p.verify(&leaf(0), &log_key(), &[]).is_ok());
}
