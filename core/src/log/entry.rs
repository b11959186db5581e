//! The log entry: what one leaf of the ledger's Merkle tree is. Owns its 80-byte encoding and
//! its leaf hash; the bytes of the signatures it commits to are the caller's (the ledger encodes
//! them as protobuf, which this crate never sees).
//!
//! ```text
//! offset  size  field
//!      0    32  record_hash       the record's hash (client-signed content only)
//!     32    32  signatures_hash   SHA-256("ebl.v1/signatures" || 0x00 || encoded signatures)
//!     64     8  seq               global sequence number = leaf index, u64 big-endian
//!     72     8  server_time       ms since the Unix epoch stamped by the writer, i64 big-endian
//! ```
//!
//! The encoded signatures are the record's repeated `Signature` field exactly as stored, i.e.
//! `SignedRecord { payload: empty, signatures }` encoded. Committing to them (and not only to the
//! record hash) means the log fixes who signed, not just what was signed; the sequence number and
//! server time are what the ledger added, so the log fixes them too. The leaf hash is RFC 6962's
//! `SHA-256(0x00 || entry)`. This format MUST NOT change once a ledger holds entries.

use crate::hash::Hash32;
use crate::log::tree::leaf_hash;
use crate::time::Timestamp;

/// Length of an encoded entry.
pub const ENTRY_LEN: usize = 80;
/// Domain tag of the signatures hash.
pub const SIGNATURES_TAG: &str = "ebl.v1/signatures";

/// One log entry (one leaf).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogEntry {
    /// The record's hash.
    pub record_hash: Hash32,
    /// The tagged hash of the record's encoded signatures.
    pub signatures_hash: Hash32,
    /// The record's global sequence number (its leaf index).
    pub seq: u64,
    /// The server time the writer stamped.
    pub server_time: Timestamp,
}

impl LogEntry {
    /// The entry of a record whose signatures encode to `encoded_signatures`.
    pub fn new(record_hash: Hash32, encoded_signatures: &[u8], seq: u64, server_time: Timestamp) -> Self {
        LogEntry { record_hash, signatures_hash: signatures_hash(encoded_signatures), seq, server_time }
    }

    /// The 80 bytes of the entry.
    pub fn encode(&self) -> [u8; ENTRY_LEN] {
        let mut out = [0u8; ENTRY_LEN];
        out[..32].copy_from_slice(&self.record_hash.0);
        out[32..64].copy_from_slice(&self.signatures_hash.0);
        out[64..72].copy_from_slice(&self.seq.to_be_bytes());
        out[72..].copy_from_slice(&self.server_time.0.to_be_bytes());
        out
    }

    /// Decodes exactly [`ENTRY_LEN`] bytes.
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        let b: &[u8; ENTRY_LEN] = bytes.try_into().ok()?;
        Some(LogEntry {
            record_hash: Hash32::from_slice(&b[..32])?,
            signatures_hash: Hash32::from_slice(&b[32..64])?,
            seq: u64::from_be_bytes(b[64..72].try_into().ok()?),
            server_time: Timestamp(i64::from_be_bytes(b[72..].try_into().ok()?)),
        })
    }

    /// The RFC 6962 leaf hash of the encoded entry.
    pub fn leaf_hash(&self) -> Hash32 {
        leaf_hash(&self.encode())
    }
}

/// `SHA-256("ebl.v1/signatures" || 0x00 || encoded_signatures)`.
pub fn signatures_hash(encoded_signatures: &[u8]) -> Hash32 {
    Hash32::tagged(SIGNATURES_TAG, &[encoded_signatures])
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    #[test]
    fn entry_is_80_bytes_in_documented_order_and_round_trips() {
        let e = LogEntry::new(Hash32([7; 32]), b"\x12\x03abc", 0x0102030405060708, Timestamp(-2));
        let bytes = e.encode();
        assert_eq!(&bytes[..32], &[7; 32]);
        let mut tagged = b"ebl.v1/signatures\x00".to_vec();
        tagged.extend_from_slice(b"\x12\x03abc");
        assert_eq!(&bytes[32..64], Sha256::digest(&tagged).as_slice());
        assert_eq!(&bytes[64..72], &[1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(&bytes[72..], &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe]);
        assert_eq!(LogEntry::decode(&bytes), Some(e));
        assert_eq!(LogEntry::decode(&bytes[1..]), None);
        let mut leaf = vec![0u8];
        leaf.extend_from_slice(&bytes);
        assert_eq!(e.leaf_hash().0.as_slice(), Sha256::digest(&leaf).as_slice());
    }
}
