//! The names of the document rules: the machine-readable `rule` of every
//! [`RuleError::Document`](crate::error::RuleError::Document). Owns the list; the checks that
//! raise them live in the section modules.

/// The bytes are not UTF-8, not one JSON value, or the top level is not an object.
pub const NOT_JSON: &str = "DOCUMENT_NOT_JSON";
/// An object repeats a key (at any depth).
pub const DUPLICATE_KEY: &str = "DOCUMENT_DUPLICATE_KEY";
/// A required field is absent.
pub const REQUIRED_FIELD: &str = "DOCUMENT_REQUIRED_FIELD";
/// A field has the wrong JSON type (null included).
pub const WRONG_TYPE: &str = "DOCUMENT_WRONG_TYPE";
/// A required text is empty or only whitespace.
pub const EMPTY_VALUE: &str = "DOCUMENT_EMPTY_VALUE";
/// A text is longer than DCSA allows (counted in Unicode scalar values).
pub const TOO_LONG: &str = "DOCUMENT_TOO_LONG";
/// A list has fewer entries than required.
pub const TOO_FEW_ITEMS: &str = "DOCUMENT_TOO_FEW_ITEMS";
/// A value is outside its code list or range, or has the wrong format.
pub const BAD_VALUE: &str = "DOCUMENT_BAD_VALUE";
/// A date is not a real calendar date written `YYYY-MM-DD`.
pub const BAD_DATE: &str = "DOCUMENT_BAD_DATE";
/// A `UNLocationCode` does not match `^[A-Z]{2}[A-Z2-9]{3}$`.
pub const BAD_LOCODE: &str = "DOCUMENT_BAD_LOCODE";
/// An `equipmentReference` is not an ISO 6346 container number with a correct check digit.
pub const BAD_CONTAINER_NUMBER: &str = "DOCUMENT_BAD_CONTAINER_NUMBER";
/// A cargo item is stowed in equipment that `utilizedTransportEquipments` does not list.
pub const UNKNOWN_EQUIPMENT: &str = "DOCUMENT_UNKNOWN_EQUIPMENT";
/// `transportDocumentStatus` is not `ISSUED`.
pub const STATUS_NOT_ISSUED: &str = "DOCUMENT_STATUS_NOT_ISSUED";
/// `isElectronic` is not `true`: the ledger holds electronic bills only.
pub const NOT_ELECTRONIC: &str = "DOCUMENT_NOT_ELECTRONIC";
/// A sea waybill (`SWB`) says `isToOrder=true`.
pub const SWB_TO_ORDER: &str = "DOCUMENT_SWB_TO_ORDER";
/// Both a `consignee` and an `endorsee` are named.
pub const CONSIGNEE_AND_ENDORSEE: &str = "DOCUMENT_CONSIGNEE_AND_ENDORSEE";
/// A straight bill (`isToOrder=false`) names no `consignee`.
pub const STRAIGHT_WITHOUT_CONSIGNEE: &str = "DOCUMENT_STRAIGHT_WITHOUT_CONSIGNEE";
/// Not exactly one of `shippedOnBoardDate` / `receivedForShipmentDate`, or the one given
/// disagrees with `isShippedOnBoardType`.
pub const ISSUE_DATE_KIND: &str = "DOCUMENT_ISSUE_DATE_KIND";
/// An electronic bill declares more than one original.
pub const TOO_MANY_ORIGINALS: &str = "DOCUMENT_TOO_MANY_ORIGINALS";
/// The document does not fit the profile it was submitted under (e.g. vessel voyages under
/// the no-sea-leg profile).
pub const PROFILE_MISMATCH: &str = "DOCUMENT_PROFILE_MISMATCH";

/// Every rule name, for documentation and tests.
pub const ALL: &[&str] = &[
    NOT_JSON,
    DUPLICATE_KEY,
    REQUIRED_FIELD,
    WRONG_TYPE,
    EMPTY_VALUE,
    TOO_LONG,
    TOO_FEW_ITEMS,
    BAD_VALUE,
    BAD_DATE,
    BAD_LOCODE,
    BAD_CONTAINER_NUMBER,
    UNKNOWN_EQUIPMENT,
    STATUS_NOT_ISSUED,
    NOT_ELECTRONIC,
    SWB_TO_ORDER,
    CONSIGNEE_AND_ENDORSEE,
    STRAIGHT_WITHOUT_CONSIGNEE,
    ISSUE_DATE_KIND,
    TOO_MANY_ORIGINALS,
    PROFILE_MISMATCH,
];
