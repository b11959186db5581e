//! Ed25519 keys and signatures, checked the strict way (`verify_strict`: canonical S, no
//! small-order keys), one at a time. Never batch verification: it can accept signatures that other verifiers
//! reject, and every verifier must agree on every record.

use crate::error::{AuthFailure, RuleError};
use crate::ids::PartyId;
use ed25519_dalek::{Signature as DalekSignature, Signer, SigningKey, VerifyingKey};
use std::collections::HashMap;
use std::fmt;
use std::sync::RwLock;

/// An Ed25519 public key (32 bytes), not yet known to be valid.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub struct PublicKey(pub [u8; 32]);

impl PublicKey {
    /// Takes exactly 32 bytes.
    pub fn from_slice(field: &str, b: &[u8]) -> Result<Self, RuleError> {
        <[u8; 32]>::try_from(b)
            .map(PublicKey)
            .map_err(|_| RuleError::invalid(field, format!("an Ed25519 public key is 32 bytes, got {}", b.len())))
    }

    /// Refuses keys that do not decompress, are not in their one canonical encoding, are of small
    /// order, or carry a small-order component: only keys in the prime-order subgroup sign here.
    pub fn check_strong(&self, party: &str) -> Result<VerifyingKey, RuleError> {
        let vk = VerifyingKey::from_bytes(&self.0)
            .map_err(|_| RuleError::auth(AuthFailure::WeakKey, party, "public key is not a valid Ed25519 point"))?;
        if vk.is_weak() {
            return Err(RuleError::auth(AuthFailure::WeakKey, party, "public key is of small order"));
        }
        let point = vk.to_edwards();
        if point.compress().to_bytes() != self.0 {
            return Err(RuleError::auth(AuthFailure::WeakKey, party, "public key is not in its canonical encoding"));
        }
        if !point.is_torsion_free() {
            return Err(RuleError::auth(AuthFailure::WeakKey, party, "public key has a small-order component"));
        }
        Ok(vk)
    }

    /// Lowercase hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_hex())
    }
}

/// One signature over a payload, naming its signer's party and key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// The party that signs.
    pub party: PartyId,
    /// The key it signs with.
    pub key: PublicKey,
    /// 64 signature bytes.
    pub sig: [u8; 64],
}

impl Signature {
    /// Strictly verifies this signature over `message`. Cryptography only: whether the key
    /// belongs to the party and is valid at this point of the log is the writer's check.
    pub fn verify(&self, message: &[u8]) -> Result<(), RuleError> {
        self.verify_key(&self.key.check_strong(self.party.as_str())?, message)
    }

    /// [`Signature::verify`], with the key's own checks answered by `keys` when it has checked
    /// this key before: the same verdict, for a quarter of the work on a known key.
    pub fn verify_with(&self, keys: &StrongKeys, message: &[u8]) -> Result<(), RuleError> {
        self.verify_key(&keys.check(&self.key, self.party.as_str())?, message)
    }

    fn verify_key(&self, vk: &VerifyingKey, message: &[u8]) -> Result<(), RuleError> {
        vk.verify_strict(message, &DalekSignature::from_bytes(&self.sig)).map_err(|_| {
            RuleError::auth(
                AuthFailure::BadSignature,
                self.party.as_str(),
                "signature does not verify over the payload bytes",
            )
        })
    }

    /// Signs `message` (clients, tests and the demo use this; the server never signs records).
    pub fn sign(party: &PartyId, key: &SigningKey, message: &[u8]) -> Self {
        Signature {
            party: party.clone(),
            key: PublicKey(key.verifying_key().to_bytes()),
            sig: key.sign(message).to_bytes(),
        }
    }
}

/// Keys that passed [`PublicKey::check_strong`], decoded: the check is a function of the key's
/// 32 bytes alone and costs as much as a signature check, so a key is checked once and its
/// decoded point kept. Nothing here can go stale (whether a key is registered, and when, is
/// judged elsewhere); a key that fails is never kept. Bounded: when full it is emptied, so that
/// a stream of new keys costs at worst what checking every time costs.
pub struct StrongKeys {
    // Read on every signature by every checking thread, written once per new key: a read-write
    // lock, so that readers never wait for each other.
    keys: RwLock<HashMap<PublicKey, VerifyingKey>>,
    capacity: usize,
}

impl StrongKeys {
    /// A cache of at most `capacity` keys.
    pub fn new(capacity: usize) -> Self {
        StrongKeys { keys: RwLock::new(HashMap::new()), capacity: capacity.max(1) }
    }

    /// The decoded key, checked as [`PublicKey::check_strong`] checks it (once per key).
    pub fn check(&self, key: &PublicKey, party: &str) -> Result<VerifyingKey, RuleError> {
        if let Some(vk) = self.keys.read().unwrap_or_else(|p| p.into_inner()).get(key) {
            return Ok(*vk);
        }
        let vk = key.check_strong(party)?;
        let mut keys = self.keys.write().unwrap_or_else(|p| p.into_inner());
        if keys.len() >= self.capacity {
            keys.clear();
        }
        keys.insert(*key, vk);
        Ok(vk)
    }

    /// How many keys it holds.
    pub fn len(&self) -> usize {
        self.keys.read().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Default for StrongKeys {
    /// Room for 65,536 keys (about 15 MB): more than a registry holds.
    fn default() -> Self {
        StrongKeys::new(65_536)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_checks() {
        let sk = SigningKey::from_bytes(&[7u8; 32]);
        let p = PartyId::parse("p", "bank").unwrap();
        let s = Signature::sign(&p, &sk, b"msg");
        assert!(s.verify(b"msg").is_ok());
        assert_eq!(s.verify(b"msh").unwrap_err().reason(), "BAD_SIGNATURE");
        // The identity point (small order) as a key is refused whatever the signature.
        let mut weak = s.clone();
        weak.key = PublicKey({
            let mut k = [0u8; 32];
            k[0] = 1;
            k
        });
        assert_eq!(weak.verify(b"msg").unwrap_err().reason(), "WEAK_KEY");
        // A non-canonical S (S + L) is refused by verify_strict.
        let mut malleable = s.clone();
        add_group_order(&mut malleable.sig[32..]);
        assert!(malleable.verify(b"msg").is_err());
    }

    #[test]
    fn keys_outside_the_prime_order_subgroup_or_not_canonical_are_weak() {
        use curve25519_dalek::constants::EIGHT_TORSION;
        let sk = SigningKey::from_bytes(&[9u8; 32]);
        let strong = PublicKey(sk.verifying_key().to_bytes());
        assert!(strong.check_strong("p").is_ok());
        // A good key plus a point of order 8: decompresses, is not itself small order, still refused.
        let mixed = PublicKey((sk.verifying_key().to_edwards() + EIGHT_TORSION[1]).compress().to_bytes());
        let err = mixed.check_strong("p").unwrap_err();
        assert_eq!(err.reason(), "WEAK_KEY");
        assert!(err.to_string().contains("small-order component"), "{err}");
        // y + p for small y: the same point as y, written in a second way.
        let mut found = 0;
        for y in 0u8..19 {
            let mut bytes = [0xffu8; 32];
            bytes[0] = 0xed + y;
            bytes[31] = 0x7f;
            let key = PublicKey(bytes);
            if VerifyingKey::from_bytes(&bytes).is_ok_and(|vk| !vk.is_weak()) {
                found += 1;
                let err = key.check_strong("p").unwrap_err();
                assert!(err.to_string().contains("canonical encoding"), "{err}");
            }
        }
        assert!(found > 0, "no non-canonical test key decompressed");
    }

    #[test]
    fn a_known_key_gets_the_same_verdicts_and_bad_keys_are_never_kept() {
        let keys = StrongKeys::new(2);
        let sk = SigningKey::from_bytes(&[7u8; 32]);
        let p = PartyId::parse("p", "bank").unwrap();
        let s = Signature::sign(&p, &sk, b"msg");
        for _ in 0..2 {
            assert!(s.verify_with(&keys, b"msg").is_ok());
            assert_eq!(s.verify_with(&keys, b"msh").unwrap_err().reason(), "BAD_SIGNATURE");
            let mut malleable = s.clone();
            add_group_order(&mut malleable.sig[32..]);
            assert!(malleable.verify_with(&keys, b"msg").is_err());
        }
        assert_eq!(keys.len(), 1);
        let mut weak = s.clone();
        weak.key = PublicKey({
            let mut k = [0u8; 32];
            k[0] = 1;
            k
        });
        assert_eq!(weak.verify_with(&keys, b"msg").unwrap_err().reason(), "WEAK_KEY");
        assert_eq!(keys.len(), 1, "a weak key is not kept");
        // Full: emptied before the next key goes in.
        for seed in [8u8, 9] {
            let other = Signature::sign(&p, &SigningKey::from_bytes(&[seed; 32]), b"msg");
            assert!(other.verify_with(&keys, b"msg").is_ok());
        }
        assert_eq!(keys.len(), 1);
    }

    /// Adds the group order L to a little-endian scalar (test helper for malleability).
    pub(crate) fn add_group_order(s: &mut [u8]) {
        const L: [u8; 32] = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0,
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ];
        let mut carry = 0u16;
        for i in 0..32 {
            let v = s[i] as u16 + L[i] as u16 + carry;
            s[i] = v as u8;
            carry = v >> 8;
        }
    }
}
