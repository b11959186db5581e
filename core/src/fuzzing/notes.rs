//! The log's text formats on arbitrary text: [`SignedNote::parse`], [`NoteSignature::parse_line`],
//! [`VerifierKey::parse`], [`Checkpoint::parse`] and [`TlogProof::parse`], then verification.
//!
//! Asserts: no panic; whatever parses formats back to exactly the input (each value has one text
//! form); a parsed checkpoint, signed by the
//! log key named by its origin and cosigned by a witness, opens to the same checkpoint with that
//! witness counted; a parsed tlog-proof re-signed the same way is checked without panicking.

use super::key;
use crate::hash::Hash32;
use crate::log::cosignature::cosign;
use crate::log::{require_witnesses, Checkpoint, KeyKind, NoteSignature, SignedNote, TlogProof, VerifierKey};

/// The witness every target knows.
pub const WITNESS: &str = "witness.example/fuzz";

/// The log key named `origin` (the fuzz key of that name), and the fixed witness's key.
pub fn keys(origin: &str) -> Option<(VerifierKey, VerifierKey)> {
    let log = VerifierKey::from_signing_key(origin, KeyKind::Ed25519, &key(origin)).ok()?;
    let witness = VerifierKey::from_signing_key(WITNESS, KeyKind::CosignatureV1, &key(WITNESS)).ok()?;
    Some((log, witness))
}

/// The target's body.
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for line in text.split('\n') {
        if let Ok(sig) = NoteSignature::parse_line(line) {
            assert_eq!(sig.to_line(), format!("{line}\n"), "a signature line has two forms");
        }
        if let Ok(k) = VerifierKey::parse(line) {
            assert_eq!(k.to_string(), line, "a verifier key has two forms");
        }
    }
    if let Ok(cp) = Checkpoint::parse(text) {
        assert_eq!(cp.to_string(), text, "a checkpoint has two forms");
    }
    if let Ok(note) = SignedNote::parse(text) {
        assert_eq!(note.to_string(), text, "a signed note has two forms");
        note_checks(&note);
    }
    if let Ok(proof) = TlogProof::parse(text) {
        assert_eq!(proof.to_string(), text, "a tlog-proof has two forms");
        proof_checks(&proof);
    }
}

fn note_checks(note: &SignedNote) {
    let Ok(cp) = Checkpoint::parse(note.text()) else { return };
    let (log, witness) = keys(cp.origin()).expect("a checkpoint's origin is a valid key name");
    // The input as it is: it opens only if the fuzz key signed it (a seed may be), never panics.
    if let Ok(opened) = Checkpoint::open(note, &log, std::slice::from_ref(&witness)) {
        assert_eq!(opened.checkpoint, cp);
    }
    let mut signed = cp.sign(&key(cp.origin())).expect("a parsed checkpoint signs");
    let line = cosign(&cp.body(), WITNESS, &key(WITNESS), 1_700_000_000).expect("cosigns");
    signed.add_signature(line).expect("a second signer's line is added");
    // The input's own lines ride along, as unknown keys' lines do (duplicates are refused).
    for s in note.signatures() {
        let _ = signed.add_signature(s.clone());
    }
    let reparsed = SignedNote::parse(&signed.to_string()).expect("a formatted note parses");
    assert_eq!(reparsed, signed);
    // The input's lines that claim the two keys were refused as duplicates; the others are
    // unknown keys' lines, which verification ignores. So it opens.
    let opened = Checkpoint::open(&reparsed, &log, std::slice::from_ref(&witness))
        .unwrap_or_else(|e| panic!("a genuinely signed and cosigned checkpoint does not open: {e}"));
    assert_eq!(opened.checkpoint, cp);
    assert_eq!(require_witnesses(&opened, 1).expect("the witness cosigned"), vec![WITNESS.to_string()]);
}

fn proof_checks(proof: &TlogProof) {
    let cp = proof.checkpoint();
    let (log, witness) = keys(cp.origin()).expect("a checkpoint's origin is a valid key name");
    let signed = cp.sign(&key(cp.origin())).expect("a parsed checkpoint signs");
    let resigned = TlogProof::new(proof.extra().to_vec(), proof.index(), proof.hashes().to_vec(), signed)
        .expect("the parts of a parsed proof make a proof");
    assert_eq!(TlogProof::parse(&resigned.to_string()).as_ref(), Ok(&resigned));
    for leaf in [Hash32::default(), proof.hashes().first().copied().unwrap_or_default()] {
        let _ = resigned.verify(&leaf, &log, std::slice::from_ref(&witness));
    }
}
