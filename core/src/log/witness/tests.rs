//! Every answer of `add-checkpoint`, in the spec's order, and the log's reading of the answers.

use super::*;
use crate::log::proof::consistency_proof;
use crate::log::tree::{leaf_hash, root, MemoryTree};

const ORIGIN: &str = "log.example/ebl";
const WITNESS: &str = "witness.example/w1";

fn log_key() -> SigningKey {
    SigningKey::from_bytes(&[7; 32])
}

fn witness_key() -> SigningKey {
    SigningKey::from_bytes(&[9; 32])
}

fn logs() -> Vec<VerifierKey> {
    vec![VerifierKey::from_signing_key(ORIGIN, KeyKind::Ed25519, &log_key()).unwrap()]
}

fn witness_verifier() -> VerifierKey {
    VerifierKey::from_signing_key(WITNESS, KeyKind::CosignatureV1, &witness_key()).unwrap()
}

/// A tree of `n` leaves; `salt` makes another history.
fn tree(n: u64, salt: u8) -> MemoryTree {
    let mut t = MemoryTree::new();
    let leaves: Vec<Hash32> = (0..n).map(|i| leaf_hash(&[salt, i as u8])).collect();
    t.append(&leaves).unwrap();
    t
}

fn signed(t: &MemoryTree, size: u64, key: &SigningKey) -> String {
    Checkpoint::new(ORIGIN, size, root(t, size).unwrap()).unwrap().sign(key).unwrap().to_string()
}

/// A request from `old` to `size` over `t`, with the true proof.
fn request(t: &MemoryTree, old: u64, size: u64) -> String {
    AddCheckpoint::body(old, &consistency_proof(t, old, size).unwrap(), &signed(t, size, &log_key()))
}

fn at(t: &MemoryTree, size: u64) -> Option<Cosigned> {
    Some(Cosigned { size, root: root(t, size).unwrap() })
}

fn status(r: Result<Checkpoint, Refusal>) -> u16 {
    r.map(|_| 200).unwrap_or_else(|e| e.status())
}

#[test]
fn a_consistent_checkpoint_is_cosigned_and_the_line_verifies() {
    let t = tree(10, 0);
    // First contact: old 0, empty proof.
    let cp = check(request(&t, 0, 6).as_bytes(), &logs(), |_| None).unwrap();
    assert_eq!((cp.origin(), cp.size()), (ORIGIN, 6));
    // Then from what was cosigned.
    let cp = check(request(&t, 6, 10).as_bytes(), &logs(), |o| if o == ORIGIN { at(&t, 6) } else { None }).unwrap();
    assert_eq!(cp.root(), t.root());
    // The same checkpoint again (same size, same root) is cosigned again.
    assert_eq!(status(check(request(&t, 10, 10).as_bytes(), &logs(), |_| at(&t, 10))), 200);

    let line = answer(&cp, WITNESS, &witness_key(), 1_700_000_000).unwrap();
    let sigs = parse_cosignatures(&cp.body(), &line, &witness_verifier()).unwrap();
    assert_eq!(sigs.len(), 1);
    let mut note = SignedNote::parse(&signed(&t, 10, &log_key())).unwrap();
    note.add_signature(sigs[0].clone()).unwrap();
    let opened = Checkpoint::open(&note, &logs()[0], &[witness_verifier()]).unwrap();
    assert_eq!(opened.cosigners[0].timestamp, Some(1_700_000_000));
    assert!(answer(&cp, WITNESS, &witness_key(), 0).is_err(), "a zero timestamp is never sent");
}

#[test]
fn malformed_requests_are_400() {
    let t = tree(4, 0);
    let note = signed(&t, 4, &log_key());
    let h = b64_encode(&[1; 32]);
    let cases = [
        format!("old 0\n{note}"),                                  // no blank line before the checkpoint
        format!("old 00\n\n{note}"),                               // leading zero
        format!("old -1\n\n{note}"),                               // not a decimal
        format!("new 0\n\n{note}"),                                // wrong keyword
        format!("old 0\n{}\n\n{note}", &h[..40]),                  // a proof line of fewer than 32 bytes
        format!("old 0\nnot base64\n\n{note}"),                    // a proof line that is not base64
        "old 0\n\nlog.example/ebl\n4\n".to_string(),               // no signature lines
        format!("old 0\n\n{}", note.replace("\n4\n", "\n04\n")),   // checkpoint with a leading zero
        format!("old 0\n{}\n{note}", format!("{h}\n").repeat(64)), // 64 proof lines
    ];
    for c in &cases {
        let r = check(c.as_bytes(), &logs(), |_| None);
        assert!(matches!(r, Err(Refusal::Malformed(_))), "{c:?}: {r:?}");
        assert_eq!(status(r), 400);
    }
    assert_eq!(status(check(&[0xff, 0xfe], &logs(), |_| None)), 400);
    // 63 lines are allowed by the parser (the proof itself then fails: 422).
    let c = format!("old 2\n{}\n{note}", format!("{h}\n").repeat(63));
    assert_eq!(status(check(c.as_bytes(), &logs(), |_| at(&t, 2))), 422);
}

#[test]
fn an_unknown_origin_is_404() {
    let t = tree(4, 0);
    let other = vec![VerifierKey::from_signing_key("other.example/log", KeyKind::Ed25519, &log_key()).unwrap()];
    let r = check(request(&t, 0, 4).as_bytes(), &other, |_| None);
    assert_eq!(r, Err(Refusal::UnknownLog(ORIGIN.into())));
    assert_eq!(status(r), 404);
    // A cosigner key under the origin's name is not a log key.
    let cosigner = vec![VerifierKey::from_signing_key(ORIGIN, KeyKind::CosignatureV1, &log_key()).unwrap()];
    assert_eq!(status(check(request(&t, 0, 4).as_bytes(), &cosigner, |_| None)), 404);
}

#[test]
fn no_valid_log_signature_is_403() {
    let t = tree(4, 0);
    // Signed by another key under the log's name: the line is unknown, no known line verifies.
    let forged = AddCheckpoint::body(0, &[], &signed(&t, 4, &SigningKey::from_bytes(&[8; 32])));
    assert_eq!(status(check(forged.as_bytes(), &logs(), |_| None)), 403);
    // The log's own line, with one signature bit flipped: a known key that fails.
    let note = signed(&t, 4, &log_key());
    let mut sig = SignedNote::parse(&note).unwrap().signatures()[0].clone();
    sig.signature[0] ^= 1;
    let bad = SignedNote::new(SignedNote::parse(&note).unwrap().text(), vec![sig]).unwrap();
    let r = check(AddCheckpoint::body(0, &[], &bad.to_string()).as_bytes(), &logs(), |_| None);
    assert!(matches!(r, Err(Refusal::NotSigned(_))), "{r:?}");
    // Another key's extra line is ignored.
    let mut two = SignedNote::parse(&note).unwrap();
    two.add_signature(crate::log::cosignature::cosign(two.text(), WITNESS, &witness_key(), 1).unwrap()).unwrap();
    let r = check(AddCheckpoint::body(0, &[], &two.to_string()).as_bytes(), &logs(), |_| None);
    assert_eq!(status(r), 200);
}

#[test]
fn old_larger_than_the_checkpoint_is_400() {
    let t = tree(8, 0);
    let body = AddCheckpoint::body(8, &[], &signed(&t, 5, &log_key()));
    let r = check(body.as_bytes(), &logs(), |_| at(&t, 8));
    assert_eq!(r, Err(Refusal::OldTooLarge { old: 8, size: 5 }));
    assert_eq!(status(r), 400);
}

#[test]
fn a_stale_old_is_409_with_the_latest_size() {
    let t = tree(12, 0);
    let r = check(request(&t, 0, 12).as_bytes(), &logs(), |_| at(&t, 7));
    let e = r.unwrap_err();
    assert_eq!(e, Refusal::WrongOld { old: 0, latest: 7 });
    assert_eq!((e.status(), e.content_type(), e.body().as_str()), (409, SIZE_CONTENT_TYPE, "7\n"));
    assert_eq!(parse_size(Some(e.content_type()), &e.body()), Some(7));
    // A witness that never cosigned expects 0.
    let e = check(request(&t, 5, 12).as_bytes(), &logs(), |_| None).unwrap_err();
    assert_eq!(e.body(), "0\n");
    // The log's reading of a 409 is strict.
    for (ct, body) in
        [(None, "7\n"), (Some("text/plain"), "7\n"), (Some(SIZE_CONTENT_TYPE), "7"), (Some(SIZE_CONTENT_TYPE), "07\n")]
    {
        assert_eq!(parse_size(ct, body), None, "{ct:?} {body:?}");
    }
}

#[test]
fn the_same_size_with_another_root_is_409() {
    let (t, fork) = (tree(6, 0), tree(6, 1));
    let r = check(request(&fork, 6, 6).as_bytes(), &logs(), |_| at(&t, 6));
    assert_eq!(r, Err(Refusal::RootConflict { size: 6 }));
    assert_eq!(status(r), 409);
    assert_ne!(Refusal::RootConflict { size: 6 }.content_type(), SIZE_CONTENT_TYPE);
}

#[test]
fn a_bad_consistency_proof_is_422() {
    let (t, fork) = (tree(9, 0), tree(9, 1));
    // A fork signed by the log key, with the fork's own (valid for it) proof from 4.
    let r = check(request(&fork, 4, 9).as_bytes(), &logs(), |_| at(&t, 4));
    assert!(matches!(r, Err(Refusal::BadProof { old: 4, size: 9, .. })), "{r:?}");
    assert_eq!(status(r), 422);
    // The true checkpoint with a truncated proof, or with a proof from size 0.
    let mut proof = consistency_proof(&t, 4, 9).unwrap();
    proof.pop();
    let body = AddCheckpoint::body(4, &proof, &signed(&t, 9, &log_key()));
    assert_eq!(status(check(body.as_bytes(), &logs(), |_| at(&t, 4))), 422);
    let body = AddCheckpoint::body(0, &[t.root()], &signed(&t, 9, &log_key()));
    assert_eq!(status(check(body.as_bytes(), &logs(), |_| None)), 422, "from 0 the proof is empty");
    // A size-0 checkpoint must carry the empty root.
    let zero = Checkpoint::new(ORIGIN, 0, t.root()).unwrap().sign(&log_key()).unwrap().to_string();
    assert_eq!(status(check(AddCheckpoint::body(0, &[], &zero).as_bytes(), &logs(), |_| None)), 409);
}

#[test]
fn the_log_reads_only_verified_lines_of_its_witness() {
    let t = tree(3, 0);
    let cp = Checkpoint::new(ORIGIN, 3, t.root()).unwrap();
    let line = answer(&cp, WITNESS, &witness_key(), 42).unwrap();
    let other = answer(&cp, "witness.example/w2", &SigningKey::from_bytes(&[3; 32]), 42).unwrap();
    let w = witness_verifier();
    assert_eq!(parse_cosignatures(&cp.body(), &format!("{other}{line}"), &w).unwrap().len(), 1);
    assert_eq!(parse_cosignatures(&cp.body(), &other, &w), Err(NoteError::NoKnownSignature));
    // A line from the witness over another checkpoint fails.
    let other_cp = Checkpoint::new(ORIGIN, 2, root(&t, 2).unwrap()).unwrap();
    assert!(matches!(parse_cosignatures(&other_cp.body(), &line, &w), Err(NoteError::BadSignature { .. })));
    // A time of 0 is refused even when signed.
    let zero = crate::log::cosignature::cosign(&cp.body(), WITNESS, &witness_key(), 0).unwrap().to_line();
    assert!(parse_cosignatures(&cp.body(), &zero, &w).is_err());
    assert!(parse_cosignatures(&cp.body(), line.trim_end(), &w).is_err(), "no final newline");
    assert!(parse_cosignatures(&cp.body(), "garbage\n", &w).is_err());
    let log_as_witness = &logs()[0];
    assert!(matches!(parse_cosignatures(&cp.body(), &line, log_as_witness), Err(NoteError::WrongKeyKind { .. })));
}
