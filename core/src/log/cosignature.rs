//! Witness cosignatures (c2sp.org/tlog-cosignature, Ed25519 "cosignature/v1"): a timestamped
//! signature over `cosignature/v1\ntime <unix seconds>\n` followed by the checkpoint's note text.
//! Owns the message, signing and the check of one signature line's bytes (key ID || big-endian
//! u64 time || 64-byte signature). The witness's policy (which checkpoints it cosigns, the
//! consistency check before it does) belongs to the witness; the time is the caller's clock.

use crate::log::error::NoteError;
use crate::log::key::{check_key_name, key_id, SIGTYPE_COSIGNATURE_V1};
use crate::log::note::{check_text, NoteSignature};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

/// The header line that separates cosigned messages from every other signed text.
pub const HEADER: &str = "cosignature/v1\n";

/// The latest time a cosignature may carry (the spec bounds it to 2^63 - 1).
pub const MAX_TIME: u64 = i64::MAX as u64;

/// The message a cosigner signs for `body` (a checkpoint's note text) at `time`.
pub fn message(time: u64, body: &str) -> String {
    format!("{HEADER}time {time}\n{body}")
}

/// Cosigns `body` (a checkpoint's note text, final newline included) at `time` (Unix seconds)
/// with the witness key `key` under `name`: the signature line to add to the note.
pub fn cosign(body: &str, name: &str, key: &SigningKey, time: u64) -> Result<NoteSignature, NoteError> {
    check_text(body)?;
    check_key_name(name)?;
    if time > MAX_TIME {
        return Err(NoteError::TimeOutOfRange { time });
    }
    let sig = key.sign(message(time, body).as_bytes());
    let mut signature = Vec::with_capacity(72);
    signature.extend_from_slice(&time.to_be_bytes());
    signature.extend_from_slice(&sig.to_bytes());
    Ok(NoteSignature {
        name: name.to_string(),
        key_id: key_id(name, SIGTYPE_COSIGNATURE_V1, key.verifying_key().as_bytes()),
        signature,
    })
}

/// Checks a cosignature line's bytes after the key ID (time || signature) over `body`, returning
/// the time it claims. The reason is a short phrase for [`NoteError::BadSignature`].
pub(crate) fn verify(key: &VerifyingKey, body: &str, signature: &[u8]) -> Result<u64, &'static str> {
    if signature.len() != 72 {
        return Err("a cosignature is an 8-byte time and a 64-byte signature");
    }
    let (time, sig) = signature.split_at(8);
    let time = u64::from_be_bytes(time.try_into().map_err(|_| "time is not 8 bytes")?);
    if time > MAX_TIME {
        return Err("cosignature time exceeds 2^63 - 1");
    }
    let sig = Signature::from_bytes(sig.try_into().map_err(|_| "signature is not 64 bytes")?);
    key.verify_strict(message(time, body).as_bytes(), &sig).map_err(|_| "cosignature/v1 signature is invalid")?;
    Ok(time)
}
