//! The witness protocol on arbitrary bytes: [`AddCheckpoint::parse`] and [`check`] on the request
//! body, and [`parse_size`] and [`parse_cosignatures`] on a witness's answers. Then a genuine
//! request: a log of up to 300 leaves signs a checkpoint and sends the consistency proof from the
//! size the witness last cosigned.
//!
//! Asserts: no panic; a parsed request formats back to exactly its body; every refusal has a
//! status and a body, and a 409 for a stale `old` carries the size the log's reader gets back;
//! a checkpoint the witness accepts gets a cosignature the log's reader accepts; the genuine
//! request is accepted, and the same request with any one byte changed is refused.

use super::notes::{keys, WITNESS};
use super::{key, Input};
use crate::hash::Hash32;
use crate::log::witness::{answer, check, parse_cosignatures, parse_size, AddCheckpoint, Cosigned, Refusal};
use crate::log::{consistency_proof, leaf_hash, Checkpoint, MemoryTree};

/// The origin of the log in the genuine requests.
pub const ORIGIN: &str = "ledger.example/fuzz";

/// The target's body.
pub fn run(data: &[u8]) {
    let (log, witness) = keys(ORIGIN).expect("fixed names are valid");
    if let Ok(req) = AddCheckpoint::parse(data) {
        let body = AddCheckpoint::body(req.old, &req.proof, &req.note.to_string());
        assert_eq!(body.as_bytes(), data, "a request has two forms");
    }
    let mut input = Input::new(data);
    let latest = input.flag().then(|| Cosigned { size: input.u64(), root: input.hash() });
    let text = String::from_utf8_lossy(data);
    match check(data, std::slice::from_ref(&log), |_| latest) {
        Ok(cp) => cosigned_answer(&cp, &witness),
        Err(refusal) => refused(&refusal),
    }
    let _ = parse_size(Some(crate::log::witness::SIZE_CONTENT_TYPE), &text);
    let cp = Checkpoint::new(ORIGIN, 1, Hash32::default()).expect("a valid checkpoint");
    let _ = parse_cosignatures(&cp.body(), &text, &witness);
    genuine(&mut input);
}

fn refused(refusal: &Refusal) {
    assert!(matches!(refusal.status(), 400 | 403 | 404 | 409 | 422));
    let body = refusal.body();
    assert!(body.ends_with('\n'));
    if let Refusal::WrongOld { latest, .. } = refusal {
        assert_eq!(parse_size(Some(refusal.content_type()), &body), Some(*latest), "the log cannot read a 409");
    }
}

fn cosigned_answer(cp: &Checkpoint, witness: &crate::log::VerifierKey) {
    let line = answer(cp, WITNESS, &key(WITNESS), 1_700_000_000).expect("a witness answers");
    let lines = parse_cosignatures(&cp.body(), &line, witness).expect("the log reads the witness's answer");
    assert_eq!(lines.len(), 1);
}

/// A log of `size` leaves whose witness last cosigned `old` of them sends its checkpoint.
fn genuine(input: &mut Input) {
    let (log, witness) = keys(ORIGIN).expect("fixed names are valid");
    let size = u64::from(input.u32() % 300);
    let old = u64::from(input.u32()) % (size + 1);
    let mut tree = MemoryTree::new();
    let leaves: Vec<Hash32> = (0..size).map(|i| leaf_hash(&i.to_be_bytes())).collect();
    tree.append(&leaves[..old as usize]).expect("appends");
    let last = (old > 0 || input.flag()).then(|| Cosigned { size: old, root: tree.root() });
    tree.append(&leaves[old as usize..]).expect("appends");
    let proof = consistency_proof(&tree, old, size).expect("a proof within the tree");
    let cp = Checkpoint::new(ORIGIN, size, tree.root()).expect("a valid checkpoint");
    let note = cp.sign(&key(ORIGIN)).expect("signs").to_string();
    let body = AddCheckpoint::body(old, &proof, &note).into_bytes();
    let accepted = check(&body, std::slice::from_ref(&log), |_| last).expect("a genuine request is refused");
    assert_eq!(accepted, cp);
    cosigned_answer(&accepted, &witness);
    let (at, xor) = (input.u32() as usize % body.len(), input.byte().max(1));
    let mut changed = body.clone();
    changed[at] ^= xor;
    assert!(check(&changed, std::slice::from_ref(&log), |_| last).is_err(), "byte {at} ^ {xor:#x} is accepted");
}
