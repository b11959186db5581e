//! Signed notes (c2sp.org/signed-note): a UTF-8 text ending in a newline, a blank line, then
//! signature lines `— <key name> <base64(key ID || signature)>`. Owns parsing, formatting, Ed25519
//! note signing and the verification rules; what a note's text means is the caller's (see
//! `checkpoint`), and the cosignature message is `cosignature`'s.
//!
//! Verification follows the spec: a line whose (name, key ID) matches no known key is ignored
//! (that is how key rotation and extra cosigners work); a line from a known key that fails
//! rejects the whole note; a note with no verified line from a known key is rejected.

use crate::log::cosignature;
use crate::log::error::NoteError;
use crate::log::key::{check_key_name, key_id, KeyKind, VerifierKey, SIGTYPE_ED25519};
use crate::log::text::{b64_decode, b64_encode};
use ed25519_dalek::{Signature, Signer, SigningKey};
use std::fmt;

/// Signature lines accepted in one note (the spec asks for at least 16; this bounds the work a
/// hostile note can cause).
pub const MAX_SIGNATURES: usize = 100;

/// What starts a signature line: U+2014 EM DASH and a space.
const SIG_PREFIX: &str = "\u{2014} ";

/// One signature line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    /// The signer's key name.
    pub name: String,
    /// The signer's key ID.
    pub key_id: [u8; 4],
    /// The signature bytes after the key ID (64 for Ed25519, 72 for a cosignature).
    pub signature: Vec<u8>,
}

impl NoteSignature {
    /// The line, newline included: `— <name> <base64(key ID || signature)>\n`.
    pub fn to_line(&self) -> String {
        let mut bytes = Vec::with_capacity(4 + self.signature.len());
        bytes.extend_from_slice(&self.key_id);
        bytes.extend_from_slice(&self.signature);
        format!("{SIG_PREFIX}{} {}\n", self.name, b64_encode(&bytes))
    }

    /// Parses one line without its newline.
    pub fn parse_line(line: &str) -> Result<Self, NoteError> {
        let bad = |why: &str| NoteError::MalformedNote { why: format!("signature line {line:?}: {why}") };
        let rest = line.strip_prefix(SIG_PREFIX).ok_or_else(|| bad("does not start with an em dash and a space"))?;
        let (name, b64) = rest.split_once(' ').ok_or_else(|| bad("expected a key name, a space and base64"))?;
        check_key_name(name)?;
        let bytes = b64_decode(b64).ok_or_else(|| bad("signature is not canonical standard base64"))?;
        if bytes.len() < 5 {
            return Err(bad("signature is shorter than a key ID and one byte"));
        }
        let key_id = [bytes[0], bytes[1], bytes[2], bytes[3]];
        Ok(NoteSignature { name: name.to_string(), key_id, signature: bytes[4..].to_vec() })
    }

    /// A plain Ed25519 note signature by `key` under `name` over `text`.
    pub fn ed25519(text: &str, name: &str, key: &SigningKey) -> Result<Self, NoteError> {
        check_text(text)?;
        check_key_name(name)?;
        let key_id = key_id(name, SIGTYPE_ED25519, key.verifying_key().as_bytes());
        Ok(NoteSignature { name: name.to_string(), key_id, signature: key.sign(text.as_bytes()).to_bytes().to_vec() })
    }
}

/// A signature line that verified against a known key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The key name.
    pub name: String,
    /// The key ID.
    pub key_id: [u8; 4],
    /// The key's kind.
    pub kind: KeyKind,
    /// The cosignature's time (Unix seconds) for a cosigner key; `None` for a note key.
    pub timestamp: Option<u64>,
}

/// A note text with at least one signature line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedNote {
    text: String,
    signatures: Vec<NoteSignature>,
}

impl SignedNote {
    /// A note from its text and signature lines (checks the text, the count and duplicates).
    pub fn new(text: &str, signatures: Vec<NoteSignature>) -> Result<Self, NoteError> {
        check_text(text)?;
        let note = SignedNote { text: text.to_string(), signatures };
        note.check_signatures()?;
        Ok(note)
    }

    /// Signs `text` with `key` under `name`: a note with one Ed25519 signature line.
    pub fn sign(text: &str, name: &str, key: &SigningKey) -> Result<Self, NoteError> {
        let sig = NoteSignature::ed25519(text, name, key)?;
        Self::new(text, vec![sig])
    }

    /// Parses a signed note; the text ends at the last blank line.
    pub fn parse(msg: &str) -> Result<Self, NoteError> {
        let bad = |why: &str| NoteError::MalformedNote { why: why.to_string() };
        if msg.chars().any(is_forbidden) {
            return Err(bad("contains an ASCII control character other than newline"));
        }
        if !msg.ends_with('\n') {
            return Err(bad("does not end with a newline"));
        }
        // The text itself may hold blank lines; signature lines never do.
        let split = msg.rfind("\n\n").ok_or_else(|| bad("no blank line before the signatures"))?;
        let (text, sigs) = (&msg[..split + 1], &msg[split + 2..]);
        if sigs.is_empty() {
            return Err(bad("no signature lines"));
        }
        let lines: Vec<&str> = sigs[..sigs.len() - 1].split('\n').collect();
        if lines.len() > MAX_SIGNATURES {
            return Err(bad(&format!("more than {MAX_SIGNATURES} signature lines")));
        }
        let signatures = lines.into_iter().map(NoteSignature::parse_line).collect::<Result<Vec<_>, _>>()?;
        Self::new(text, signatures)
    }

    /// The note text (what is signed), final newline included.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The signature lines, in order.
    pub fn signatures(&self) -> &[NoteSignature] {
        &self.signatures
    }

    /// Adds a signature line (e.g. a witness's cosignature).
    pub fn add_signature(&mut self, signature: NoteSignature) -> Result<(), NoteError> {
        self.signatures.push(signature);
        let checked = self.check_signatures();
        if checked.is_err() {
            self.signatures.pop();
        }
        checked
    }

    /// Verifies the note against `keys` by the spec's rules, returning the lines that verified.
    pub fn verify(&self, keys: &[VerifierKey]) -> Result<Vec<Verified>, NoteError> {
        let mut verified = Vec::new();
        for sig in &self.signatures {
            let Some(key) = keys.iter().find(|k| k.name() == sig.name && k.id() == sig.key_id) else {
                continue;
            };
            let fail = |why| NoteError::BadSignature { name: sig.name.clone(), key_id: hex::encode(sig.key_id), why };
            let timestamp = match key.kind() {
                KeyKind::Ed25519 => {
                    let bytes: [u8; 64] = sig.signature.as_slice().try_into().map_err(|_| fail("not 64 bytes"))?;
                    key.verifying_key()
                        .verify_strict(self.text.as_bytes(), &Signature::from_bytes(&bytes))
                        .map_err(|_| fail("Ed25519 signature over the note text is invalid"))?;
                    None
                }
                KeyKind::CosignatureV1 => {
                    Some(cosignature::verify(key.verifying_key(), &self.text, &sig.signature).map_err(fail)?)
                }
            };
            verified.push(Verified { name: sig.name.clone(), key_id: sig.key_id, kind: key.kind(), timestamp });
        }
        if verified.is_empty() {
            return Err(NoteError::NoKnownSignature);
        }
        Ok(verified)
    }

    fn check_signatures(&self) -> Result<(), NoteError> {
        let bad = |why: String| NoteError::MalformedNote { why };
        if self.signatures.is_empty() {
            return Err(bad("no signature lines".into()));
        }
        if self.signatures.len() > MAX_SIGNATURES {
            return Err(bad(format!("more than {MAX_SIGNATURES} signature lines")));
        }
        for (i, s) in self.signatures.iter().enumerate() {
            check_key_name(&s.name)?;
            // Two lines from one key would let a verifier count one signer twice.
            if self.signatures[..i].iter().any(|t| t.name == s.name && t.key_id == s.key_id) {
                return Err(bad(format!("two signature lines from {} ({})", s.name, hex::encode(s.key_id))));
            }
        }
        Ok(())
    }
}

impl fmt::Display for SignedNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)?;
        f.write_str("\n")?;
        for s in &self.signatures {
            f.write_str(&s.to_line())?;
        }
        Ok(())
    }
}

/// Checks a note text: ends in a newline, no ASCII control character other than newline.
pub fn check_text(text: &str) -> Result<(), NoteError> {
    if !text.ends_with('\n') {
        return Err(NoteError::BadText { why: "does not end with a newline" });
    }
    if text.chars().any(is_forbidden) {
        return Err(NoteError::BadText { why: "contains an ASCII control character other than newline" });
    }
    Ok(())
}

/// The spec forbids the ASCII control characters below U+0020 other than newline.
fn is_forbidden(c: char) -> bool {
    c < '\u{20}' && c != '\n'
}
