//! The witness protocol (c2sp.org/tlog-witness `add-checkpoint`), pure part: the request body a
//! log sends, the checks a witness runs and the answer each failure gets, and the log's reading
//! of the answer. Owns the order of the checks and the status codes; the witness server owns the
//! clock, the durable state and HTTP, and the log's pusher owns retries.
//!
//! A witness MUST run [`check`] and persist what it returns atomically with respect to other
//! requests for the same origin (one lock around check, persist, cosign), and MUST persist the
//! new size and root before it answers: otherwise a restart or a race could make it cosign a
//! checkpoint inconsistent with one it already cosigned.
//!
//! From size 0 the consistency proof is empty (as the spec requires) and the old root is the
//! empty tree's, so a witness that never cosigned for a log accepts any first checkpoint the
//! log signed, and checks every later one against it.

use crate::hash::Hash32;
use crate::log::checkpoint::Checkpoint;
use crate::log::cosignature::cosign;
use crate::log::error::NoteError;
use crate::log::key::{KeyKind, VerifierKey};
use crate::log::note::{NoteSignature, SignedNote};
use crate::log::text::{b64_decode, b64_encode, parse_decimal};
use crate::log::tree::empty_root;
use crate::log::verify::verify_consistency;
use ed25519_dalek::SigningKey;

/// The path of the call, under the witness's submission prefix.
pub const ADD_CHECKPOINT_PATH: &str = "/add-checkpoint";

/// The most consistency proof lines a request may carry.
pub const MAX_PROOF_LINES: usize = 63;

/// The content type of a 409 answer that carries the witness's latest size.
pub const SIZE_CONTENT_TYPE: &str = "text/x.tlog.size";

/// The largest request body a witness reads (a checkpoint, 63 hashes and 100 signature lines
/// fit in a fraction of it).
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;

/// What a witness last cosigned for one log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cosigned {
    /// The tree size.
    pub size: u64,
    /// The tree root at that size.
    pub root: Hash32,
}

/// A parsed `add-checkpoint` request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddCheckpoint {
    /// The size the log believes the witness last cosigned.
    pub old: u64,
    /// The consistency proof from `old` to the checkpoint's size.
    pub proof: Vec<Hash32>,
    /// The signed checkpoint, verbatim.
    pub note: SignedNote,
}

impl AddCheckpoint {
    /// The request body: `old <size>\n`, one base64 hash per line, a blank line, the note.
    pub fn body(old: u64, proof: &[Hash32], note: &str) -> String {
        let mut s = format!("old {old}\n");
        for h in proof {
            s.push_str(&b64_encode(&h.0));
            s.push('\n');
        }
        s.push('\n');
        s.push_str(note);
        s
    }

    /// Parses a request body strictly (every line newline-terminated, canonical decimals and
    /// base64, 32-byte hashes, at most [`MAX_PROOF_LINES`], then a signed note).
    pub fn parse(body: &[u8]) -> Result<Self, Refusal> {
        let bad = |why: &str| Refusal::Malformed(why.to_string());
        let body = std::str::from_utf8(body).map_err(|_| bad("body is not UTF-8"))?;
        let (head, note) = body.split_once("\n\n").ok_or_else(|| bad("no blank line before the checkpoint"))?;
        let mut lines = head.split('\n');
        let old = lines
            .next()
            .and_then(|l| l.strip_prefix("old "))
            .and_then(parse_decimal)
            .ok_or_else(|| bad("first line is not \"old <decimal without leading zeros>\""))?;
        let mut proof = Vec::new();
        for l in lines {
            if proof.len() == MAX_PROOF_LINES {
                return Err(bad(&format!("more than {MAX_PROOF_LINES} consistency proof lines")));
            }
            let h = b64_decode(l).and_then(|b| Hash32::from_slice(&b));
            proof.push(h.ok_or_else(|| bad("a proof line is not a 32-byte hash in canonical base64"))?);
        }
        let note = SignedNote::parse(note).map_err(|e| Refusal::Malformed(e.to_string()))?;
        Ok(AddCheckpoint { old, proof, note })
    }
}

/// Why a witness refuses to cosign, with the answer the spec gives each case.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// 400: the body, or the checkpoint in it, is malformed.
    #[error("malformed request: {0}")]
    Malformed(String),
    /// 404: no log with this origin is known.
    #[error("unknown log origin {0:?}")]
    UnknownLog(String),
    /// 403: no valid signature from a known key of the log (or a known key's line fails).
    #[error("not signed by the log: {0}")]
    NotSigned(String),
    /// 400: `old` is larger than the checkpoint's size.
    #[error("old size {old} is larger than the checkpoint size {size}")]
    OldTooLarge {
        /// The old size.
        old: u64,
        /// The checkpoint size.
        size: u64,
    },
    /// 409 with the size as body: `old` is not the size this witness last cosigned.
    #[error("old size {old} is not the size last cosigned, {latest}")]
    WrongOld {
        /// The old size sent.
        old: u64,
        /// The size last cosigned (0 if never).
        latest: u64,
    },
    /// 409: same size as last cosigned, another root: the log forked.
    #[error("checkpoint of size {size} has another root than the one cosigned at that size")]
    RootConflict {
        /// The size.
        size: u64,
    },
    /// 422: the consistency proof does not verify.
    #[error("consistency proof from {old} to {size} does not verify: {why}")]
    BadProof {
        /// The old size.
        old: u64,
        /// The checkpoint size.
        size: u64,
        /// Why.
        why: String,
    },
}

impl Refusal {
    /// The HTTP status code.
    pub fn status(&self) -> u16 {
        match self {
            Refusal::Malformed(_) | Refusal::OldTooLarge { .. } => 400,
            Refusal::NotSigned(_) => 403,
            Refusal::UnknownLog(_) => 404,
            Refusal::WrongOld { .. } | Refusal::RootConflict { .. } => 409,
            Refusal::BadProof { .. } => 422,
        }
    }

    /// The content type of the answer.
    pub fn content_type(&self) -> &'static str {
        match self {
            Refusal::WrongOld { .. } => SIZE_CONTENT_TYPE,
            _ => "text/plain; charset=utf-8",
        }
    }

    /// The answer's body: the latest size for a stale `old`, otherwise what failed.
    pub fn body(&self) -> String {
        match self {
            Refusal::WrongOld { latest, .. } => format!("{latest}\n"),
            other => format!("{other}\n"),
        }
    }
}

/// Runs the spec's checks, in the spec's order, on a request `body`, for the logs whose keys are
/// `logs` (a log's origin is its key's name; several keys may share one), where `latest` gives
/// what this witness last cosigned for an origin (`None`: never). Returns the checkpoint to
/// cosign, whose size and root the witness MUST persist before answering.
pub fn check(
    body: &[u8],
    logs: &[VerifierKey],
    latest: impl FnOnce(&str) -> Option<Cosigned>,
) -> Result<Checkpoint, Refusal> {
    let req = AddCheckpoint::parse(body)?;
    let cp = Checkpoint::parse(req.note.text()).map_err(|e| Refusal::Malformed(e.to_string()))?;
    let keys: Vec<VerifierKey> =
        logs.iter().filter(|k| k.name() == cp.origin() && k.kind() == KeyKind::Ed25519).cloned().collect();
    if keys.is_empty() {
        return Err(Refusal::UnknownLog(cp.origin().to_string()));
    }
    req.note.verify(&keys).map_err(|e| Refusal::NotSigned(e.to_string()))?;
    if req.old > cp.size() {
        return Err(Refusal::OldTooLarge { old: req.old, size: cp.size() });
    }
    let last = latest(cp.origin()).unwrap_or(Cosigned { size: 0, root: empty_root() });
    if req.old != last.size {
        return Err(Refusal::WrongOld { old: req.old, latest: last.size });
    }
    if req.old == cp.size() && last.root != cp.root() {
        return Err(Refusal::RootConflict { size: cp.size() });
    }
    verify_consistency(last.size, cp.size(), &last.root, &cp.root(), &req.proof).map_err(|e| Refusal::BadProof {
        old: last.size,
        size: cp.size(),
        why: e.to_string(),
    })?;
    Ok(cp)
}

/// The 200 answer's body: this witness's cosignature line on `checkpoint` at `time` (Unix
/// seconds, never 0: the spec forbids omitting the timestamp).
pub fn answer(checkpoint: &Checkpoint, name: &str, key: &SigningKey, time: u64) -> Result<String, NoteError> {
    if time == 0 {
        return Err(NoteError::TimeOutOfRange { time });
    }
    Ok(cosign(&checkpoint.body(), name, key, time)?.to_line())
}

/// Reads a 409 answer's body (`<decimal>\n`, content type [`SIZE_CONTENT_TYPE`]): the size the
/// witness last cosigned. `None` if it is not one.
pub fn parse_size(content_type: Option<&str>, body: &str) -> Option<u64> {
    if content_type != Some(SIZE_CONTENT_TYPE) {
        return None;
    }
    body.strip_suffix('\n').filter(|l| !l.contains('\n')).and_then(parse_decimal)
}

/// Reads a 200 answer's body (signature lines) for the checkpoint `body` from the witness whose
/// key is `witness`: the lines from that key, each verified, with a non-zero time. Lines from
/// other keys are ignored; a line from the key that fails, or no line from it, is an error.
pub fn parse_cosignatures(body: &str, answer: &str, witness: &VerifierKey) -> Result<Vec<NoteSignature>, NoteError> {
    if witness.kind() != KeyKind::CosignatureV1 {
        return Err(NoteError::WrongKeyKind { name: witness.name().into(), why: "a witness key is a cosigner key" });
    }
    let lines = answer
        .strip_suffix('\n')
        .ok_or_else(|| NoteError::MalformedNote { why: "answer does not end with a newline".into() })?;
    let mut mine = Vec::new();
    for line in lines.split('\n') {
        let sig = NoteSignature::parse_line(line)?;
        if sig.name == witness.name() && sig.key_id == witness.id() {
            mine.push(sig);
        }
    }
    if mine.is_empty() {
        return Err(NoteError::NoKnownSignature);
    }
    let verified = SignedNote::new(body, mine.clone())?.verify(std::slice::from_ref(witness))?;
    if verified.iter().any(|v| v.timestamp == Some(0)) {
        return Err(NoteError::BadSignature {
            name: witness.name().into(),
            key_id: hex::encode(witness.id()),
            why: "a cosignature must not omit its timestamp",
        });
    }
    Ok(mine)
}

#[cfg(test)]
mod tests;
