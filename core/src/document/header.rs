//! The top level of a transport document: the 19 fields DCSA requires, the scalar ones checked
//! here (reference, status, type, flags, dates, originals, carrier, service types, contacts,
//! invoice location). The nested sections have their own modules.

use super::access::{fail, Obj, Text};
use super::rules::{
    BAD_VALUE, ISSUE_DATE_KIND, NOT_ELECTRONIC, REQUIRED_FIELD, STATUS_NOT_ISSUED, SWB_TO_ORDER, TOO_MANY_ORIGINALS,
};
use super::TypeCode;
use crate::error::RuleError;

/// The fields `TransportDocument` requires, in DCSA's order (the first one missing is reported).
pub const REQUIRED: [&str; 19] = [
    "transportDocumentReference",
    "transportDocumentStatus",
    "transportDocumentTypeCode",
    "isShippedOnBoardType",
    "isElectronic",
    "isToOrder",
    "invoicePayableAt",
    "partyContactDetails",
    "documentParties",
    "consignmentItems",
    "utilizedTransportEquipments",
    "termsAndConditions",
    "receiptTypeAtOrigin",
    "deliveryTypeAtDestination",
    "cargoMovementTypeAtOrigin",
    "cargoMovementTypeAtDestination",
    "carrierCode",
    "carrierCodeListProvider",
    "transports",
];

/// The top-level facts the ledger keeps.
pub struct Header<'a> {
    /// `transportDocumentReference`.
    pub reference: &'a str,
    /// `transportDocumentTypeCode`.
    pub type_code: TypeCode,
    /// `isToOrder`.
    pub is_to_order: bool,
    /// `carrierCode`.
    pub carrier_code: &'a str,
}

/// Checks the top-level fields of `root`.
pub fn check<'a>(root: &Obj<'a>) -> Result<Header<'a>, RuleError> {
    for key in REQUIRED {
        root.req(key)?;
    }
    let reference = root.str("transportDocumentReference", 20, Text::Trimmed)?;
    let status = root.str("transportDocumentStatus", 50, Text::Free)?;
    if status != "ISSUED" {
        let why = format!("expected \"ISSUED\": the ledger holds issued documents only, found {status:?}");
        return Err(fail(root.at("transportDocumentStatus"), STATUS_NOT_ISSUED, why));
    }
    let type_code = match root.code("transportDocumentTypeCode", &["BOL", "SWB"])? {
        "SWB" => TypeCode::Swb,
        _ => TypeCode::Bol,
    };
    let shipped_type = root.bool("isShippedOnBoardType")?;
    if !root.bool("isElectronic")? {
        let why = "expected true: a paper bill cannot be held on the ledger";
        return Err(fail(root.at("isElectronic"), NOT_ELECTRONIC, why));
    }
    let is_to_order = root.bool("isToOrder")?;
    if type_code == TypeCode::Swb && is_to_order {
        let why = "expected false: a sea waybill (SWB) is never to order";
        return Err(fail(root.at("isToOrder"), SWB_TO_ORDER, why));
    }
    dates(root, shipped_type)?;
    originals(root)?;
    invoice_payable_at(root)?;
    contacts(root)?;
    root.str("termsAndConditions", 50_000, Text::Free)?;
    root.code("receiptTypeAtOrigin", &["CY", "SD", "CFS"])?;
    root.code("deliveryTypeAtDestination", &["CY", "SD", "CFS"])?;
    root.code("cargoMovementTypeAtOrigin", &["FCL", "LCL"])?;
    root.code("cargoMovementTypeAtDestination", &["FCL", "LCL"])?;
    let carrier_code = root.str("carrierCode", 4, Text::Trimmed)?;
    if carrier_code.contains(char::is_whitespace) {
        return Err(fail(root.at("carrierCode"), BAD_VALUE, "expected an SMDG or SCAC code without spaces"));
    }
    root.code("carrierCodeListProvider", &["SMDG", "NMFTA"])?;
    Ok(Header { reference, type_code, is_to_order, carrier_code })
}

/// `issueDate`, and exactly one of `shippedOnBoardDate` / `receivedForShipmentDate`, the one
/// `isShippedOnBoardType` announces.
fn dates(root: &Obj, shipped_type: bool) -> Result<(), RuleError> {
    const SHIPPED: &str = "shippedOnBoardDate";
    const RECEIVED: &str = "receivedForShipmentDate";
    if root.get("issueDate").is_none() {
        let why = "expected required field `issueDate`: an issued document carries its issue date";
        return Err(fail(root.at("issueDate"), REQUIRED_FIELD, why));
    }
    root.date("issueDate")?;
    let shipped = root.opt_date(SHIPPED)?;
    let received = root.opt_date(RECEIVED)?;
    let (path, why) = match (shipped, received, shipped_type) {
        (Some(_), None, true) | (None, Some(_), false) => return Ok(()),
        (Some(_), Some(_), _) => {
            (root.at(RECEIVED), format!("expected exactly one of `{SHIPPED}` and `{RECEIVED}`, found both"))
        }
        (None, None, true) => (root.at(SHIPPED), format!("expected `{SHIPPED}` on a shipped-on-board document")),
        (None, None, false) => {
            (root.at(RECEIVED), format!("expected `{RECEIVED}` on a received-for-shipment document"))
        }
        (Some(_), None, false) => (
            root.at("isShippedOnBoardType"),
            format!("expected true: the document gives `{SHIPPED}`, so it is a shipped-on-board bill"),
        ),
        (None, Some(_), true) => (
            root.at("isShippedOnBoardType"),
            format!("expected false: the document gives `{RECEIVED}`, so it is a received-for-shipment bill"),
        ),
    };
    Err(fail(path, ISSUE_DATE_KIND, why))
}

/// An electronic bill exists once: at most one original, with or without charges.
fn originals(root: &Obj) -> Result<(), RuleError> {
    const WITH: &str = "numberOfOriginalsWithCharges";
    const WITHOUT: &str = "numberOfOriginalsWithoutCharges";
    let with = root.opt_count(WITH)?.unwrap_or(0);
    let without = root.opt_count(WITHOUT)?.unwrap_or(0);
    if with.saturating_add(without) > 1 {
        let path = root.at(if with > 1 { WITH } else { WITHOUT });
        let why = format!("expected at most one original in total for an electronic bill, found {with} + {without}");
        return Err(fail(path, TOO_MANY_ORIGINALS, why));
    }
    Ok(())
}

/// `invoicePayableAt`: a UN/LOCODE (checked with all the others) or a free text.
fn invoice_payable_at(root: &Obj) -> Result<(), RuleError> {
    let at = root.obj("invoicePayableAt")?;
    at.opt_str("freeText", 35, Text::Free)?;
    if at.get("UNLocationCode").is_none() && at.get("freeText").is_none() {
        let why = "expected `UNLocationCode` (or, as a fallback, `freeText`)";
        return Err(fail(at.at("UNLocationCode"), REQUIRED_FIELD, why));
    }
    Ok(())
}

/// `partyContactDetails`: at least one contact, each with a name and a phone or an e-mail.
fn contacts(root: &Obj) -> Result<(), RuleError> {
    for contact in root.objs("partyContactDetails", 1)? {
        contact.str("name", 35, Text::Trimmed)?;
        let phone = contact.opt_str("phone", 30, Text::Trimmed)?;
        let email = contact.opt_str("email", 100, Text::Trimmed)?;
        if email.is_some_and(|e| !e.contains('@')) {
            return Err(fail(contact.at("email"), BAD_VALUE, "expected an e-mail address"));
        }
        if phone.is_none() && email.is_none() {
            return Err(fail(contact.at("email"), REQUIRED_FIELD, "expected `phone` or `email` (or both)"));
        }
    }
    Ok(())
}
