//! Proof bundles: one self-contained JSON file holding everything a bank needs to check a bill
//! with no server: the transport document, every title and custody record of the bill and every
//! registry record up to the registry head the statement names (payload bytes exactly as
//! signed, signatures, receipt), each record's inclusion proof in one signed checkpoint, the
//! checkpoint itself (with any cosignatures), and the ledger's signed title statement bound to
//! it. Owns the file format ([`Bundle`], docs/transparency.md) and, in [`verify`], the offline
//! check. It is marked as a copy: the bill itself is the ledger's record, never the file.
//!
//! Binary fields are lowercase hex when they have a fixed size (hashes, keys, signatures) and
//! standard base64 otherwise (payloads, the document). Unknown fields are refused.

pub mod verify;

use crate::pb;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

/// The `format` value of a bundle.
pub const BUNDLE_FORMAT: &str = "ebl.v1/proof-bundle";

/// The notice every bundle carries.
pub const COPY_NOTICE: &str = "A COPY for verification, not the bill of lading: title is held and moved only on the \
ledger named by `origin`; this file proves what that ledger recorded up to its checkpoint.";

/// Which chain a record belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChainKind {
    /// The registry chain (parties, keys, delegations).
    Registry,
    /// The bill's title chain.
    Title,
    /// The bill's custody chain.
    Custody,
}

impl ChainKind {
    /// Lower-case name, as in the file.
    pub fn name(self) -> &'static str {
        match self {
            ChainKind::Registry => "registry",
            ChainKind::Title => "title",
            ChainKind::Custody => "custody",
        }
    }
}

/// One signature of a record, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleSignature {
    /// The signing party.
    pub party: String,
    /// Its Ed25519 public key.
    #[serde(with = "hex_bytes")]
    pub public_key: Vec<u8>,
    /// The 64-byte signature over the payload.
    #[serde(with = "hex_bytes")]
    pub signature: Vec<u8>,
}

/// One record: what was signed, who signed, what the ledger stamped, and its inclusion proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleRecord {
    /// The chain it belongs to (also derivable from the payload; checked against it).
    pub chain: ChainKind,
    /// Its global sequence number: its leaf index (receipt).
    pub seq: u64,
    /// The writer's server time (receipt).
    pub server_time: String,
    /// The action name (receipt; checked against the payload).
    pub action: String,
    /// The record hash (receipt; checked against the payload).
    #[serde(with = "hex_bytes")]
    pub record_hash: Vec<u8>,
    /// The payload bytes exactly as signed.
    #[serde(with = "b64_bytes")]
    pub payload: Vec<u8>,
    /// The signatures, in stored order.
    pub signatures: Vec<BundleSignature>,
    /// Its inclusion proof in the bundle's checkpoint, leaf's sibling first.
    #[serde(with = "hex_list")]
    pub inclusion: Vec<Vec<u8>>,
}

/// A proof bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    /// Always [`BUNDLE_FORMAT`].
    pub format: String,
    /// Always true: the file is a copy, not the bill.
    pub copy: bool,
    /// Says so in words ([`COPY_NOTICE`]).
    pub notice: String,
    /// The ledger's origin.
    pub origin: String,
    /// The bill, 64 hex.
    pub bill_id: String,
    /// When the ledger assembled the file (informational: covered by no signature).
    pub created_at: String,
    /// The signed checkpoint every inclusion proof is against, exactly as signed (cosignature
    /// lines included, when witnesses cosigned it).
    pub checkpoint: String,
    /// The signed title statement, bound to that checkpoint.
    pub statement: String,
    /// The transport document exactly as issued.
    #[serde(with = "b64_bytes")]
    pub document: Vec<u8>,
    /// The records, in log order: registry records up to the stated registry head, and the
    /// bill's title and custody records.
    pub records: Vec<BundleRecord>,
}

impl Bundle {
    /// The file text: pretty JSON and a final newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a bundle always serialises");
        s.push('\n');
        s
    }

    /// Parses a file.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }
}

impl BundleRecord {
    /// The record of a stored record, with its inclusion proof.
    pub fn from_stored(chain: ChainKind, stored: &pb::StoredRecord, inclusion: Vec<Vec<u8>>) -> Self {
        let rec = stored.record.clone().unwrap_or_default();
        let receipt = stored.receipt.clone().unwrap_or_default();
        BundleRecord {
            chain,
            seq: receipt.seq,
            server_time: receipt.server_time,
            action: receipt.action,
            record_hash: receipt.record_hash,
            payload: rec.payload,
            signatures: rec
                .signatures
                .into_iter()
                .map(|s| BundleSignature { party: s.party, public_key: s.public_key, signature: s.signature })
                .collect(),
            inclusion,
        }
    }

    /// The record as the wire carries it.
    pub fn signed_record(&self) -> pb::SignedRecord {
        pb::SignedRecord {
            payload: self.payload.clone(),
            signatures: self
                .signatures
                .iter()
                .map(|s| pb::Signature {
                    party: s.party.clone(),
                    public_key: s.public_key.clone(),
                    signature: s.signature.clone(),
                })
                .collect(),
        }
    }
}

mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(b))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        if s.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(serde::de::Error::custom("hex must be lowercase"));
        }
        hex::decode(&s).map_err(serde::de::Error::custom)
    }
}

mod hex_list {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(hex::encode))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
        let v = Vec::<String>::deserialize(d)?;
        v.iter()
            .map(|s| {
                if s.bytes().any(|b| b.is_ascii_uppercase()) {
                    return Err(serde::de::Error::custom("hex must be lowercase"));
                }
                hex::decode(s).map_err(serde::de::Error::custom)
            })
            .collect()
    }
}

mod b64_bytes {
    use super::STANDARD;
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(b))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        STANDARD.decode(&s).map_err(serde::de::Error::custom)
    }
}

/// Standard base64 (used by the CLI's readable output).
pub fn b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}
