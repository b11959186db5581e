//! k-of-n witness policy over cosigned checkpoints (`ebl_core::log::require_witnesses`), and
//! tampering: any changed byte of a cosigned note, in the checkpoint body or in any signature
//! line, makes a verifier that requires every witness refuse it.

use ebl_core::hash::Hash32;
use ebl_core::log::cosignature::cosign;
use ebl_core::log::{require_witnesses, Checkpoint, KeyKind, NoteError, SignedNote, VerifierKey};
use ed25519_dalek::SigningKey;

const ORIGIN: &str = "ledger.example/ebl";
const NAMES: [&str; 3] = ["witness.example/w1", "witness.example/w2", "witness.example/w3"];

fn log() -> SigningKey {
    SigningKey::from_bytes(&[1; 32])
}

fn witness(i: usize) -> SigningKey {
    SigningKey::from_bytes(&[10 + i as u8; 32])
}

fn witness_keys() -> Vec<VerifierKey> {
    (0..3).map(|i| VerifierKey::from_signing_key(NAMES[i], KeyKind::CosignatureV1, &witness(i)).unwrap()).collect()
}

fn log_key() -> VerifierKey {
    VerifierKey::from_signing_key(ORIGIN, KeyKind::Ed25519, &log()).unwrap()
}

/// A checkpoint signed by the log and cosigned by the first `n` witnesses.
fn cosigned(n: usize) -> SignedNote {
    let cp = Checkpoint::new(ORIGIN, 42, Hash32([5; 32])).unwrap();
    let mut note = cp.sign(&log()).unwrap();
    for (i, name) in NAMES.iter().enumerate().take(n) {
        note.add_signature(cosign(&cp.body(), name, &witness(i), 1_800_000_000 + i as u64).unwrap()).unwrap();
    }
    note
}

fn open_k(note: &str, k: usize) -> Result<Vec<String>, NoteError> {
    let opened = Checkpoint::open(&SignedNote::parse(note)?, &log_key(), &witness_keys())?;
    require_witnesses(&opened, k)
}

#[test]
fn k_of_n_counts_known_cosigners_only() {
    let note = cosigned(2).to_string();
    assert_eq!(open_k(&note, 0).unwrap().len(), 2);
    assert_eq!(open_k(&note, 2).unwrap(), vec![NAMES[0].to_string(), NAMES[1].to_string()]);
    let err = open_k(&note, 3).unwrap_err();
    assert_eq!(err, NoteError::TooFewCosigners { need: 3, got: 2, names: format!("{}, {}", NAMES[0], NAMES[1]) });
    assert!(err.to_string().contains("2 of the required 3"), "{err}");
    // A verifier that knows only w2 counts only w2.
    let opened = Checkpoint::open(&SignedNote::parse(&note).unwrap(), &log_key(), &witness_keys()[1..2]).unwrap();
    assert_eq!(require_witnesses(&opened, 1).unwrap(), vec![NAMES[1].to_string()]);
    assert!(require_witnesses(&opened, 2).is_err());
    // The log's own line never counts as a witness, even when its key is listed as one.
    let plain = cosigned(0).to_string();
    let opened = Checkpoint::open(&SignedNote::parse(&plain).unwrap(), &log_key(), &[log_key()]).unwrap();
    assert!(require_witnesses(&opened, 1).is_err());
    assert_eq!(open_k(&plain, 1).unwrap_err(), NoteError::TooFewCosigners { need: 1, got: 0, names: String::new() });
}

#[test]
fn a_plain_note_key_among_the_witnesses_does_not_count() {
    // A witness listed with an Ed25519 (note) key whose line verifies as a plain signature.
    let cp = Checkpoint::new(ORIGIN, 42, Hash32([5; 32])).unwrap();
    let mut note = cp.sign(&log()).unwrap();
    let plain = ebl_core::log::NoteSignature::ed25519(&cp.body(), NAMES[0], &witness(0)).unwrap();
    note.add_signature(plain).unwrap();
    let as_note_key = VerifierKey::from_signing_key(NAMES[0], KeyKind::Ed25519, &witness(0)).unwrap();
    let opened = Checkpoint::open(&note, &log_key(), &[as_note_key]).unwrap();
    assert_eq!(opened.cosigners.len(), 1);
    assert!(require_witnesses(&opened, 1).is_err());
}

#[test]
fn every_changed_byte_of_a_cosigned_note_fails_verification() {
    let note = cosigned(3).to_string();
    open_k(&note, 3).unwrap();
    let bytes = note.as_bytes();
    let mut refused = 0;
    for i in 0..bytes.len() {
        for replacement in [b'A', b'x', b'7'] {
            if bytes[i] == replacement {
                continue;
            }
            let mut t = bytes.to_vec();
            t[i] = replacement;
            // Invalid UTF-8 (a changed byte of an em dash) cannot even be read as a note.
            let Ok(text) = String::from_utf8(t) else {
                refused += 1;
                continue;
            };
            assert!(open_k(&text, 3).is_err(), "byte {i} changed to {:?} still verifies:\n{text}", replacement as char);
            refused += 1;
        }
    }
    assert!(refused >= bytes.len() * 2);
}
