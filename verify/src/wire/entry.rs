//! The log entry of a record, from its protobuf form (the core's `LogEntry` never sees protobuf):
//! the one place the record's signatures are encoded for the log. The writer uses it for new
//! records; readers and tests recompute entries from stored records with it.

use crate::pb;
use crate::wire::views::ReceiptInfo;
use ebl_core::apply::Checked;
use ebl_core::hash::Hash32;
use ebl_core::log::LogEntry;
use ebl_core::record::record_hash;
use ebl_core::time::Timestamp;
use prost::Message;

/// The record's repeated `Signature` field exactly as stored: `SignedRecord { payload: empty,
/// signatures }` encoded.
pub fn encoded_signatures(signatures: &[pb::Signature]) -> Vec<u8> {
    pb::SignedRecord { payload: Vec::new(), signatures: signatures.to_vec() }.encode_to_vec()
}

/// The entry of a record with hash `hash` and `signatures`, placed at `seq` at `time`.
pub fn log_entry(hash: Hash32, signatures: &[pb::Signature], seq: u64, time: Timestamp) -> LogEntry {
    LogEntry::new(hash, &encoded_signatures(signatures), seq, time)
}

/// A checked record's signatures as stored and as its log entry commits to them: each as the
/// canonical protobuf `Signature` it arrived as (the edge refuses any other encoding, so
/// re-encoding gives back the bytes received), encoded as [`encoded_signatures`] does.
pub fn checked_signatures(rec: &Checked) -> Vec<u8> {
    let signatures: Vec<pb::Signature> = rec.signatures.iter().map(crate::wire::payload::encode_signature).collect();
    encoded_signatures(&signatures)
}

/// The signatures encoded as [`encoded_signatures`] does, decoded (a stored record's, read back).
pub fn decode_signatures(encoded: &[u8]) -> Result<Vec<pb::Signature>, prost::DecodeError> {
    Ok(pb::SignedRecord::decode(encoded)?.signatures)
}

/// The public form of a stored record: its payload bytes, its signatures (encoded as
/// [`encoded_signatures`] does) and its receipt.
pub fn stored_record(
    receipt: &ReceiptInfo,
    payload: &[u8],
    signatures: &[u8],
) -> Result<pb::StoredRecord, prost::DecodeError> {
    Ok(pb::StoredRecord {
        record: Some(pb::SignedRecord { payload: payload.to_vec(), signatures: decode_signatures(signatures)? }),
        receipt: Some(receipt.to_pb(false)),
    })
}

/// The entry of a stored record, recomputed from its payload bytes (rehashed), its signatures and
/// its receipt's sequence number and server time.
pub fn stored_entry(stored: &pb::StoredRecord) -> Result<LogEntry, String> {
    let rec = stored.record.as_ref().ok_or("stored record without its record")?;
    let receipt = stored.receipt.as_ref().ok_or("stored record without its receipt")?;
    let time = Timestamp::parse("server_time", &receipt.server_time).map_err(|e| e.to_string())?;
    Ok(log_entry(record_hash(&rec.payload), &rec.signatures, receipt.seq, time))
}
