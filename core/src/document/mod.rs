//! DCSA eBL 3.0 transport documents: parsing (duplicate keys refused), validation, and the
//! RFC 8785 checksum. Owns the document profiles. Must not know about records, parties or title.
//!
//! # Layout
//! - [`json`]: strict parse (UTF-8, one object, no duplicate key at any depth), JSON paths.
//! - [`mod@checksum`]: RFC 8785 canonical form and its SHA-256.
//! - [`rules`]: the names of every rule a document can break.
//! - `access`: typed, path-aware reads shared by the section checks.
//! - `header`, `parties`, `transports`, `cargo`: the section checks.
//! - [`iso6346`], [`locode`]: container numbers and UN/LOCODEs.
//!
//! Checks run in a fixed order and the first failure is reported, naming its JSON path, so the
//! same document always gets the same answer. Fields DCSA defines but the ledger does not need
//! are accepted unchecked, as are unknown extensions; they still count in the checksum.

mod access;
mod cargo;
pub mod checksum;
mod header;
pub mod iso6346;
pub mod json;
pub mod locode;
mod parties;
pub mod rules;
mod transports;

use crate::error::RuleError;
use crate::hash::Hash32;
use serde_json::Value;

/// Which rule set a document is validated against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Profile {
    /// DCSA eBL 3.0 as published: sea-centric, exportable over PINT.
    DcsaEbl3,
    /// The ledger's profile for bills with no sea leg (e.g. China-Europe rail): no vessel voyages,
    /// place of receipt and delivery instead of ports. Not exportable over PINT.
    NoSeaLeg,
}

/// `transportDocumentTypeCode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum TypeCode {
    /// Bill of lading.
    Bol,
    /// Sea waybill: never to order, never transferable.
    Swb,
}

/// One `identifyingCodes` entry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IdentifyingCode {
    /// `codeListProvider`, e.g. `GLEIF`, `W3C`, `DNB`, or an eBL platform code.
    pub provider: String,
    /// `partyCode`.
    pub party_code: String,
    /// `codeListName`, e.g. `LEI`, `DID`, `DUNS`.
    pub code_list_name: Option<String>,
}

/// A consignee or endorsee as the document names it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DocParty {
    /// `partyName`.
    pub name: String,
    /// `identifyingCodes` (at least one).
    pub codes: Vec<IdentifyingCode>,
}

/// A validated transport document and the facts the ledger needs from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// SHA-256 of the RFC 8785 canonical form (the DCSA/PINT checksum).
    pub checksum: Hash32,
    /// `transportDocumentReference`.
    pub reference: String,
    /// `transportDocumentTypeCode`.
    pub type_code: TypeCode,
    /// `isToOrder`.
    pub is_to_order: bool,
    /// `documentParties.consignee`, if any.
    pub consignee: Option<DocParty>,
    /// `documentParties.endorsee`, if any.
    pub endorsee: Option<DocParty>,
    /// `carrierCode`.
    pub carrier_code: String,
    /// Every UN/LOCODE the document names (sorted, deduplicated).
    pub locations: Vec<String>,
    /// Every container number (ISO 6346) in `utilizedTransportEquipments` (sorted, deduplicated).
    pub containers: Vec<String>,
    /// Each container's seal numbers as issued.
    pub seals: std::collections::BTreeMap<String, Vec<String>>,
    /// Where the carriage starts: `placeOfReceipt`, else `portOfLoading` (UN/LOCODE).
    pub start: Option<String>,
    /// Where it ends: `placeOfDelivery`, else `portOfDischarge` (UN/LOCODE).
    pub end: Option<String>,
    /// The profile it was validated against.
    pub profile: Profile,
}

/// Whether `s` is a UN/LOCODE (`^[A-Z]{2}[A-Z2-9]{3}$`).
pub fn is_locode(s: &str) -> bool {
    locode::is_valid(s)
}

/// Parses and validates a document. Errors are [`RuleError::Document`] naming the JSON path.
pub fn parse(bytes: &[u8], profile: Profile) -> Result<Document, RuleError> {
    let map = json::parse_object(bytes)?;
    let root = access::Obj::root(&map);
    let head = header::check(&root)?;
    let named = parties::check(&root, head.is_to_order)?;
    let ends = transports::check(&root, profile)?;
    let containers = cargo::equipments(&root)?;
    cargo::consignments(&root, &containers)?;
    let (reference, carrier_code) = (head.reference.to_owned(), head.carrier_code.to_owned());
    let (type_code, is_to_order) = (head.type_code, head.is_to_order);
    let value = Value::Object(map);
    Ok(Document {
        locations: locode::collect(&value)?,
        checksum: checksum::of_value(&value)?,
        reference,
        type_code,
        is_to_order,
        consignee: named.consignee,
        endorsee: named.endorsee,
        carrier_code,
        containers: containers.keys().cloned().collect(),
        seals: containers,
        start: ends.start,
        end: ends.end,
        profile,
    })
}

/// The DCSA/PINT checksum of a document's bytes (SHA-256 of its RFC 8785 form), without
/// validating its fields; duplicate keys are still refused.
pub fn checksum(bytes: &[u8]) -> Result<Hash32, RuleError> {
    checksum::of_bytes(bytes)
}
