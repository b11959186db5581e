//! The store's own encodings of what it keeps first-hand (format version 2): an accepted record
//! with its receipt, and a chain position's entry. Neither is a public protobuf message, so the
//! wire schema can change without touching the disk, and the disk only with
//! [`super::SCHEMA_VERSION`].
//!
//! A record's signatures are kept as the bytes its log leaf commits to (the encoded repeated
//! `Signature` field, `wire::entry::encoded_signatures`): never re-encoded on the way in or out,
//! so no change here can move a leaf hash or a root.

use crate::pb;
use crate::wire::entry::{decode_signatures, stored_record};
use crate::wire::views::ReceiptInfo;
use ebl_core::hash::Hash32;
use ebl_core::ids::{BillId, ChainId};
use ebl_core::log::LogEntry;
use ebl_core::time::Timestamp;

/// An accepted record as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEntry {
    /// Its receipt: hash, chain and position, sequence number, server time, action.
    pub receipt: ReceiptInfo,
    /// The payload bytes exactly as signed.
    pub payload: Vec<u8>,
    /// The signatures exactly as the log leaf commits to them.
    pub signatures: Vec<u8>,
}

impl StoredEntry {
    /// The record's log entry (what its leaf hashes).
    pub fn log_entry(&self) -> LogEntry {
        LogEntry::new(self.receipt.hash, &self.signatures, self.receipt.seq, self.receipt.time)
    }

    /// The record as the wire carries it.
    pub fn signed_record(&self) -> Result<pb::SignedRecord, String> {
        let signatures = decode_signatures(&self.signatures).map_err(|e| format!("its signatures: {e}"))?;
        Ok(pb::SignedRecord { payload: self.payload.clone(), signatures })
    }

    /// The public form: the signed record and its receipt.
    pub fn to_pb(&self) -> Result<pb::StoredRecord, String> {
        stored_record(&self.receipt, &self.payload, &self.signatures).map_err(|e| format!("its signatures: {e}"))
    }
}

/// Chain kinds as stored (the first byte of a chain key, [`super::keys::chain_prefix`]).
const REGISTRY: u8 = 0;
const TITLE: u8 = 1;
const CUSTODY: u8 = 2;

/// Encodes a record value: chain kind (u8: 0 registry, 1 title, 2 custody), bill id (32 bytes,
/// absent for the registry), position (u64), server time (i64, ms since the epoch), record hash
/// (32 bytes), action name (u8 length, ASCII), payload (u32 length, bytes), signatures (u32
/// length, bytes). The sequence number is the key.
pub fn encode_record(e: &StoredEntry) -> Vec<u8> {
    encode_record_parts(&e.receipt, &e.payload, &e.signatures)
}

/// [`encode_record`] of a record not yet held as a [`StoredEntry`] (no copy of its payload).
pub fn encode_record_parts(r: &ReceiptInfo, payload: &[u8], signatures: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(120 + payload.len() + signatures.len());
    match r.chain {
        ChainId::Registry => out.push(REGISTRY),
        ChainId::Title(b) => out.extend([&[TITLE][..], &b.0 .0].concat()),
        ChainId::Custody(b) => out.extend([&[CUSTODY][..], &b.0 .0].concat()),
    }
    out.extend(r.position.to_be_bytes());
    out.extend(r.time.0.to_be_bytes());
    out.extend(r.hash.0);
    out.push(u8::try_from(r.action.len()).expect("action names are short"));
    out.extend(r.action.as_bytes());
    for part in [payload, signatures] {
        out.extend(u32::try_from(part.len()).expect("records are bounded far below 4 GiB").to_be_bytes());
        out.extend(part);
    }
    out
}

/// Decodes the record value stored under `seq`; anything but exactly [`encode_record`]'s
/// layout is refused.
pub fn decode_record(seq: u64, v: &[u8]) -> Result<StoredEntry, String> {
    let mut r = Reader(v);
    let chain = match r.u8()? {
        REGISTRY => ChainId::Registry,
        TITLE => ChainId::Title(BillId(r.hash()?)),
        CUSTODY => ChainId::Custody(BillId(r.hash()?)),
        k => return Err(format!("unknown chain kind {k}")),
    };
    let position = r.u64()?;
    let time = Timestamp(r.u64()? as i64);
    let hash = r.hash()?;
    let len = r.u8()? as usize;
    let name = std::str::from_utf8(r.take(len)?).map_err(|_| "action name is not UTF-8".to_string())?;
    let action = ebl_core::record::action_name(name).ok_or_else(|| format!("unknown action {name:?}"))?;
    let payload = r.sized()?.to_vec();
    let signatures = r.sized()?.to_vec();
    if !r.0.is_empty() {
        return Err(format!("{} bytes after the signatures", r.0.len()));
    }
    Ok(StoredEntry { receipt: ReceiptInfo { hash, chain, position, seq, time, action }, payload, signatures })
}

/// Encodes a chain position's entry: the record's sequence number (u64) and hash (32 bytes).
pub fn encode_chain(seq: u64, hash: &Hash32) -> [u8; 40] {
    let mut out = [0u8; 40];
    out[..8].copy_from_slice(&seq.to_be_bytes());
    out[8..].copy_from_slice(&hash.0);
    out
}

/// Decodes a chain position's entry: (sequence number, record hash).
pub fn decode_chain(v: &[u8]) -> Result<(u64, Hash32), String> {
    let mut r = Reader(v);
    let entry = (r.u64()?, r.hash()?);
    if !r.0.is_empty() {
        return Err("chain entry longer than 40 bytes".into());
    }
    Ok(entry)
}

/// Reads a value front to back; every read says what was cut short.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.0.len() < n {
            return Err(format!("cut short: {n} bytes wanted, {} left", self.0.len()));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_be_bytes(self.take(8)?.try_into().expect("8 bytes")))
    }

    fn hash(&mut self) -> Result<Hash32, String> {
        Ok(Hash32(self.take(32)?.try_into().expect("32 bytes")))
    }

    fn sized(&mut self) -> Result<&'a [u8], String> {
        let n = u32::from_be_bytes(self.take(4)?.try_into().expect("4 bytes"));
        self.take(n as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(chain: ChainId) -> StoredEntry {
        StoredEntry {
            receipt: ReceiptInfo {
                hash: Hash32([7; 32]),
                chain,
                position: 3,
                seq: 42,
                time: Timestamp(1_740_000_000_123),
                action: "TRANSFER",
            },
            payload: b"payload".to_vec(),
            signatures: vec![0x12, 0x01, 0x0a],
        }
    }

    #[test]
    fn records_decode_to_what_was_encoded_on_every_chain() {
        let bill = BillId(Hash32([9; 32]));
        for chain in [ChainId::Registry, ChainId::Title(bill), ChainId::Custody(bill)] {
            let e = entry(chain);
            assert_eq!(decode_record(42, &encode_record(&e)).unwrap(), e);
        }
    }

    #[test]
    fn the_record_layout_is_fixed() {
        let v = encode_record(&entry(ChainId::Registry));
        let mut want = vec![0u8];
        want.extend(3u64.to_be_bytes());
        want.extend(1_740_000_000_123i64.to_be_bytes());
        want.extend([7; 32]);
        want.extend([8]);
        want.extend(b"TRANSFER");
        want.extend([0, 0, 0, 7]);
        want.extend(b"payload");
        want.extend([0, 0, 0, 3, 0x12, 0x01, 0x0a]);
        assert_eq!(v, want);
    }

    #[test]
    fn anything_else_is_refused() {
        let good = encode_record(&entry(ChainId::Title(BillId(Hash32([9; 32])))));
        for cut in 0..good.len() {
            assert!(decode_record(42, &good[..cut]).is_err(), "cut at {cut}");
        }
        assert!(decode_record(42, &[good.clone(), vec![0]].concat()).unwrap_err().contains("after the signatures"));
        let mut kind = good.clone();
        kind[0] = 3;
        assert!(decode_record(42, &kind).unwrap_err().contains("chain kind 3"));
        let mut action = good;
        action[1 + 32 + 8 + 8 + 32 + 1] = b'X';
        assert!(decode_record(42, &action).unwrap_err().contains("unknown action \"XRANSFER\""));
        assert!(decode_chain(&[0; 39]).is_err() && decode_chain(&[0; 41]).is_err());
        assert_eq!(decode_chain(&encode_chain(5, &Hash32([1; 32]))).unwrap(), (5, Hash32([1; 32])));
    }
}
