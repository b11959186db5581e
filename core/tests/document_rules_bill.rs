//! One test per bill-level document rule (status, electronic, to-order and straight bills, the
//! issue date kind, originals, profiles): each edit breaks exactly one rule, whose name and JSON
//! path the refusal must give.

mod document_support;

use document_support::*;
use ebl_core::document::{Profile, TypeCode};
use serde_json::{json, Value};

const DCSA: Profile = Profile::DcsaEbl3;

fn ilstc() -> Value {
    value(ILSTC)
}

fn party(name: &str) -> Value {
    json!({"partyName": name, "identifyingCodes": [{"codeListProvider": "DCSA", "partyCode": "X-1"}]})
}

#[test]
fn status_must_be_issued() {
    for status in ["DRAFT", "APPROVED", "SURRENDERED_FOR_DELIVERY", "issued"] {
        let edit = |d: &mut Value| set(d, "/transportDocumentStatus", json!(status));
        refuse(&ilstc(), DCSA, edit, "$.transportDocumentStatus", "DOCUMENT_STATUS_NOT_ISSUED");
    }
}

#[test]
fn must_be_electronic() {
    refuse(&ilstc(), DCSA, |d| set(d, "/isElectronic", json!(false)), "$.isElectronic", "DOCUMENT_NOT_ELECTRONIC");
}

#[test]
fn sea_waybill_is_never_to_order() {
    let edit = |d: &mut Value| set(d, "/transportDocumentTypeCode", json!("SWB"));
    refuse(&ilstc(), DCSA, edit, "$.isToOrder", "DOCUMENT_SWB_TO_ORDER");
    // A straight SWB is fine.
    let mut swb = value(YANGTZE);
    set(&mut swb, "/transportDocumentTypeCode", json!("SWB"));
    assert_eq!(accept(&swb, DCSA).type_code, TypeCode::Swb);
}

#[test]
fn consignee_and_endorsee_are_exclusive() {
    let rule = "DOCUMENT_CONSIGNEE_AND_ENDORSEE";
    let add_endorsee = |d: &mut Value| set(d, "/documentParties/endorsee", party("Bank of the Straits"));
    refuse(&value(YANGTZE), DCSA, add_endorsee, "$.documentParties.endorsee", rule);
    let both = |d: &mut Value| {
        set(d, "/documentParties/consignee", party("Straits Earthmoving"));
        set(d, "/documentParties/endorsee", party("Bank of the Straits"));
    };
    refuse(&ilstc(), DCSA, both, "$.documentParties.endorsee", rule);
    // A to-order bill may name a consignee ("to the order of") or an endorsee, one at a time.
    let mut doc = ilstc();
    set(&mut doc, "/documentParties/consignee", party("Straits Earthmoving"));
    assert!(accept(&doc, DCSA).consignee.is_some());
}

#[test]
fn straight_bill_names_a_consignee() {
    let rule = "DOCUMENT_STRAIGHT_WITHOUT_CONSIGNEE";
    let path = "$.documentParties.consignee";
    refuse(&ilstc(), DCSA, |d| set(d, "/isToOrder", json!(false)), path, rule);
    refuse(&value(YANGTZE), DCSA, |d| remove(d, "/documentParties/consignee"), path, rule);
    let endorsee_only = |d: &mut Value| {
        set(d, "/isToOrder", json!(false));
        set(d, "/documentParties/endorsee", party("Bank of the Straits"));
    };
    refuse(&ilstc(), DCSA, endorsee_only, path, rule);
}

#[test]
fn issue_date_kind_matches_the_bill_type() {
    let rule = "DOCUMENT_ISSUE_DATE_KIND";
    let both = |d: &mut Value| set(d, "/shippedOnBoardDate", json!("2025-03-06"));
    refuse(&ilstc(), DCSA, both, "$.receivedForShipmentDate", rule);
    refuse(&ilstc(), DCSA, |d| remove(d, "/receivedForShipmentDate"), "$.receivedForShipmentDate", rule);
    // Received-for-shipment date on a shipped-on-board bill, and the reverse.
    refuse(&ilstc(), DCSA, |d| set(d, "/isShippedOnBoardType", json!(true)), "$.isShippedOnBoardType", rule);
    let dcsa = value(DCSA_REGULAR);
    refuse(&dcsa, DCSA, |d| set(d, "/isShippedOnBoardType", json!(false)), "$.isShippedOnBoardType", rule);
    refuse(&dcsa, DCSA, |d| remove(d, "/shippedOnBoardDate"), "$.shippedOnBoardDate", rule);
    // Switching both the flag and the date is a consistent shipped-on-board bill.
    let mut shipped = ilstc();
    remove(&mut shipped, "/receivedForShipmentDate");
    set(&mut shipped, "/shippedOnBoardDate", json!("2025-03-07"));
    set(&mut shipped, "/isShippedOnBoardType", json!(true));
    accept(&shipped, DCSA);
}

#[test]
fn at_most_one_original() {
    let rule = "DOCUMENT_TOO_MANY_ORIGINALS";
    let one_each = |d: &mut Value| set(d, "/numberOfOriginalsWithCharges", json!(1));
    refuse(&ilstc(), DCSA, one_each, "$.numberOfOriginalsWithoutCharges", rule);
    let three = |d: &mut Value| set(d, "/numberOfOriginalsWithCharges", json!(3));
    refuse(&ilstc(), DCSA, three, "$.numberOfOriginalsWithCharges", rule);
    // 1.0 is 1 (the checksum cannot tell them apart, so neither may the rules).
    let mut doc = ilstc();
    set(&mut doc, "/numberOfOriginalsWithoutCharges", json!(1.0));
    accept(&doc, DCSA);
}

#[test]
fn profiles_do_not_mix() {
    let rule = "DOCUMENT_PROFILE_MISMATCH";
    refuse(&ilstc(), Profile::NoSeaLeg, |_| {}, "$.transports.vesselVoyages", rule);
    let voyage = json!([{"vesselName": "Rhine Feeder", "carrierExportVoyageNumber": "12E"}]);
    refuse(
        &value(CER),
        Profile::NoSeaLeg,
        |d| set(d, "/transports/vesselVoyages", voyage),
        "$.transports.vesselVoyages",
        rule,
    );
    // Without a sea leg, the places stand in for the ports.
    let required = "DOCUMENT_REQUIRED_FIELD";
    let cer = value(CER);
    refuse(
        &cer,
        Profile::NoSeaLeg,
        |d| remove(d, "/transports/placeOfReceipt"),
        "$.transports.placeOfReceipt",
        required,
    );
    let path = "$.transports.placeOfDelivery.UNLocationCode";
    refuse(&cer, Profile::NoSeaLeg, |d| remove(d, "/transports/placeOfDelivery/UNLocationCode"), path, required);
    refuse(&cer, DCSA, |_| {}, "$.transports.vesselVoyages", required);
    // Ports are allowed (not required) without a sea leg, e.g. a river port.
    let mut with_port = value(CER);
    set(&mut with_port, "/transports/portOfDischarge", json!({"UNLocationCode": "CNCKG"}));
    accept(&with_port, Profile::NoSeaLeg);
}
