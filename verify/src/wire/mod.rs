//! The edge between bytes and the core: one conversion per message type from protobuf to
//! checked domain types, refusing anything that is not the one canonical encoding, and the
//! conversions of views and receipts back to protobuf.

pub mod custody_view;
pub mod entry;
pub mod log;
pub mod payload;
pub mod read;
pub mod views;

use ebl_core::RuleError;
use prost::Message;

/// Largest gRPC message either side sends or accepts (bytes); larger ones are refused by the
/// transport.
pub const MAX_MESSAGE_BYTES: usize = 8 * 1024 * 1024;

/// Decodes `bytes` as `M` and refuses them unless re-encoding gives the same bytes (so unknown
/// fields, repeated fields, non-minimal varints and default values written out are all refused).
pub fn decode_canonical<M: Message + Default>(field: &str, bytes: &[u8]) -> Result<M, RuleError> {
    let msg = M::decode(bytes).map_err(|e| {
        RuleError::invalid(
            field,
            format!("not a valid {}: {e}", std::any::type_name::<M>().rsplit("::").next().unwrap_or("message")),
        )
    })?;
    let again = msg.encode_to_vec();
    if again != bytes {
        let at = again.iter().zip(bytes).position(|(a, b)| a != b).unwrap_or(again.len().min(bytes.len()));
        return Err(RuleError::NonCanonical {
            field: field.to_string(),
            why: format!(
                "re-encoding gives {} bytes where {} were sent, first difference at byte {at}",
                again.len(),
                bytes.len()
            ),
        });
    }
    Ok(msg)
}

/// Parses an optional party id (empty string means none).
pub fn opt_party(field: &str, s: &str) -> Result<Option<ebl_core::ids::PartyId>, RuleError> {
    if s.is_empty() {
        Ok(None)
    } else {
        ebl_core::ids::PartyId::parse(field, s).map(Some)
    }
}

/// Parses a 32-byte hash field.
pub fn hash32(field: &str, b: &[u8]) -> Result<ebl_core::hash::Hash32, RuleError> {
    ebl_core::hash::Hash32::from_slice(b)
        .ok_or_else(|| RuleError::invalid(field, format!("must be 32 bytes, got {}", b.len())))
}
