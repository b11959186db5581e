//! Signed-note keys (c2sp.org/signed-note): key name rules, key IDs, and the verifier key string
//! `<name>+<8 hex key ID>+<base64(signature type || public key)>`. Owns [`VerifierKey`]; signing
//! and verifying live in `note` and `cosignature`.
//!
//! Two kinds of key exist here, both Ed25519: a log's note-signing key (signature type 0x01) and a
//! witness's cosigning key (type 0x04, tlog-cosignature/v1). The type byte goes both into the key
//! ID hash and in front of the public key in the verifier string, so the same public key under
//! the same name has a different ID in each role and one role's signature is never taken for the
//! other's.

use crate::log::error::NoteError;
use crate::log::text::{b64_decode, b64_encode};
use crate::sig::PublicKey;
use ed25519_dalek::{SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use std::fmt;

/// Signature type of Ed25519 note signatures.
pub const SIGTYPE_ED25519: u8 = 0x01;

/// Signature type of timestamped Ed25519 witness cosignatures (tlog-cosignature/v1).
pub const SIGTYPE_COSIGNATURE_V1: u8 = 0x04;

/// What a key signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// Plain Ed25519 over the note text (a log's checkpoint key).
    Ed25519,
    /// Timestamped Ed25519 cosignatures over `cosignature/v1` messages (a witness key).
    CosignatureV1,
}

impl KeyKind {
    /// The signature type byte.
    pub fn sigtype(self) -> u8 {
        match self {
            KeyKind::Ed25519 => SIGTYPE_ED25519,
            KeyKind::CosignatureV1 => SIGTYPE_COSIGNATURE_V1,
        }
    }

    /// The kind for a signature type byte, if it is one of ours.
    pub fn from_sigtype(sigtype: u8) -> Option<Self> {
        match sigtype {
            SIGTYPE_ED25519 => Some(KeyKind::Ed25519),
            SIGTYPE_COSIGNATURE_V1 => Some(KeyKind::CosignatureV1),
            _ => None,
        }
    }
}

/// Checks a key name: non-empty, no whitespace (Unicode spaces and newlines included), no `+`,
/// no control character.
pub fn check_key_name(name: &str) -> Result<(), NoteError> {
    let bad = |why| Err(NoteError::BadKeyName { name: name.to_string(), why });
    if name.is_empty() {
        return bad("is empty");
    }
    if name.contains('+') {
        return bad("contains '+'");
    }
    if name.chars().any(char::is_whitespace) {
        return bad("contains a space or a newline");
    }
    if name.chars().any(char::is_control) {
        return bad("contains a control character");
    }
    Ok(())
}

/// The key ID: the first 4 bytes of SHA-256(name || 0x0A || sigtype || public key).
pub fn key_id(name: &str, sigtype: u8, public_key: &[u8]) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([0x0a, sigtype]);
    h.update(public_key);
    let digest = h.finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

/// A known public key under its name, as a client, witness or verifier tool is configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierKey {
    name: String,
    id: [u8; 4],
    kind: KeyKind,
    key: VerifyingKey,
}

impl VerifierKey {
    /// A key of `kind` named `name`; refuses bad names and weak or non-canonical keys.
    pub fn new(name: &str, kind: KeyKind, key: VerifyingKey) -> Result<Self, NoteError> {
        check_key_name(name)?;
        // The same strictness as record signatures: prime-order subgroup, canonical encoding.
        PublicKey(key.to_bytes()).check_strong(name).map_err(|e| NoteError::BadVerifierKey { why: e.to_string() })?;
        let id = key_id(name, kind.sigtype(), key.as_bytes());
        Ok(VerifierKey { name: name.to_string(), id, kind, key })
    }

    /// The verifier key of a signing key.
    pub fn from_signing_key(name: &str, kind: KeyKind, key: &SigningKey) -> Result<Self, NoteError> {
        Self::new(name, kind, key.verifying_key())
    }

    /// Parses `<name>+<8 hex key ID>+<base64(sigtype || 32-byte key)>`, splitting on the first
    /// two `+` only (base64 may hold `+`). The key ID must be lowercase hex and match the key.
    pub fn parse(s: &str) -> Result<Self, NoteError> {
        let bad = |why: &str| NoteError::BadVerifierKey { why: why.to_string() };
        let (name, rest) = s.split_once('+').ok_or_else(|| bad("expected <name>+<key id>+<key>"))?;
        let (id_hex, key_b64) = rest.split_once('+').ok_or_else(|| bad("expected <name>+<key id>+<key>"))?;
        check_key_name(name)?;
        if id_hex.len() != 8 || !id_hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            return Err(bad("key ID is not 8 lowercase hex digits"));
        }
        let bytes = b64_decode(key_b64).ok_or_else(|| bad("key is not canonical standard base64"))?;
        let (&sigtype, pk) = bytes.split_first().ok_or_else(|| bad("key is empty"))?;
        let kind = KeyKind::from_sigtype(sigtype).ok_or_else(|| {
            bad(&format!("signature type 0x{sigtype:02x} is not Ed25519 (0x01) or cosignature/v1 (0x04)"))
        })?;
        let pk: [u8; 32] = pk.try_into().map_err(|_| bad(&format!("an Ed25519 key is 32 bytes, got {}", pk.len())))?;
        let key = VerifyingKey::from_bytes(&pk).map_err(|_| bad("not a valid Ed25519 point"))?;
        let parsed = Self::new(name, kind, key)?;
        if hex::encode(parsed.id) != id_hex {
            return Err(bad(&format!("key ID {id_hex} does not match the key (expected {})", hex::encode(parsed.id))));
        }
        Ok(parsed)
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The 4-byte key ID.
    pub fn id(&self) -> [u8; 4] {
        self.id
    }

    /// What the key signs with.
    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// The Ed25519 public key.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.key
    }
}

impl fmt::Display for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut material = Vec::with_capacity(33);
        material.push(self.kind.sigtype());
        material.extend_from_slice(self.key.as_bytes());
        write!(f, "{}+{}+{}", self.name, hex::encode(self.id), b64_encode(&material))
    }
}
