//! SHA-256 digests with domain separation. Owns the [`Hash32`] type and every domain tag that
//! goes into a hash; nothing else in the ledger hashes with a bare SHA-256.

use sha2::{Digest, Sha256};
use std::fmt;

/// A 32-byte SHA-256 digest.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize, serde::Deserialize)]
pub struct Hash32(pub [u8; 32]);

impl Hash32 {
    /// Plain SHA-256 of `data` (used where a standard fixes the hash, e.g. DCSA checksums).
    pub fn sha256(data: &[u8]) -> Self {
        Hash32(Sha256::digest(data).into())
    }

    /// SHA-256 over `tag || 0x00 || parts...`: a digest made for one purpose never matches one
    /// made for another, whatever the parts hold.
    pub fn tagged(tag: &str, parts: &[&[u8]]) -> Self {
        let mut h = Sha256::new();
        h.update(tag.as_bytes());
        h.update([0u8]);
        for p in parts {
            h.update(p);
        }
        Hash32(h.finalize().into())
    }

    /// Lowercase hex, 64 characters.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses exactly 64 hex characters.
    pub fn from_hex(s: &str) -> Option<Self> {
        let bytes = hex::decode(s).ok()?;
        Self::from_slice(&bytes)
    }

    /// Takes exactly 32 bytes.
    pub fn from_slice(b: &[u8]) -> Option<Self> {
        <[u8; 32]>::try_from(b).ok().map(Hash32)
    }
}

impl fmt::Debug for Hash32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_hex())
    }
}

impl fmt::Display for Hash32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tagged_differs_by_tag_and_from_plain() {
        let a = Hash32::tagged("a", &[b"x"]);
        let b = Hash32::tagged("b", &[b"x"]);
        assert_ne!(a, b);
        assert_ne!(a, Hash32::sha256(b"x"));
        assert_eq!(Hash32::from_hex(&a.to_hex()), Some(a));
    }
}
