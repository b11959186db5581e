//! One test per document rule about field values (code lists and ranges, dates, UN/LOCODEs,
//! ISO 6346 container numbers, equipment references): each edit breaks exactly that rule and the
//! refusal must name the rule and the JSON path.

mod document_support;

use document_support::*;
use ebl_core::document::Profile;
use serde_json::{json, Value};

const DCSA: Profile = Profile::DcsaEbl3;

fn ilstc() -> Value {
    value(ILSTC)
}

#[test]
fn bad_values() {
    let rule = "DOCUMENT_BAD_VALUE";
    let weight = "/consignmentItems/0/cargoItems/0/cargoGrossWeight";
    let cases: [(&str, Value, &str); 12] = [
        ("/transportDocumentTypeCode", json!("HBL"), "$.transportDocumentTypeCode"),
        ("/carrierCodeListProvider", json!("IATA"), "$.carrierCodeListProvider"),
        ("/receiptTypeAtOrigin", json!("DOOR"), "$.receiptTypeAtOrigin"),
        ("/transports/preCarriageBy", json!("AIR"), "$.transports.preCarriageBy"),
        (
            "/utilizedTransportEquipments/0/seals/1/source",
            json!("POL"),
            "$.utilizedTransportEquipments[0].seals[1].source",
        ),
        (&format!("{weight}/value"), json!(0), "$.consignmentItems[0].cargoItems[0].cargoGrossWeight.value"),
        (&format!("{weight}/value"), json!(-7640.0), "$.consignmentItems[0].cargoItems[0].cargoGrossWeight.value"),
        (&format!("{weight}/unit"), json!("TNE"), "$.consignmentItems[0].cargoItems[0].cargoGrossWeight.unit"),
        ("/consignmentItems/0/HSCodes/0", json!("8429"), "$.consignmentItems[0].HSCodes[0]"),
        ("/consignmentItems/1/HSCodes/0", json!("8431.41"), "$.consignmentItems[1].HSCodes[0]"),
        ("/transportDocumentReference", json!("CLSC25CKGSIN000187 "), "$.transportDocumentReference"),
        (
            "/consignmentItems/1/cargoItems/0/outerPackaging/numberOfPackages",
            json!(2.5),
            "$.consignmentItems[1].cargoItems[0].outerPackaging.numberOfPackages",
        ),
    ];
    for (ptr, v, path) in cases {
        refuse(&ilstc(), DCSA, |d| set(d, ptr, v), path, rule);
    }
    refuse(
        &ilstc(),
        DCSA,
        |d| set(d, "/documentParties/issuingParty/address/countryCode", json!("cn")),
        "$.documentParties.issuingParty.address.countryCode",
        rule,
    );
}

#[test]
fn bad_dates() {
    let rule = "DOCUMENT_BAD_DATE";
    refuse(&ilstc(), DCSA, |d| set(d, "/issueDate", json!("2025-02-29")), "$.issueDate", rule);
    refuse(
        &ilstc(),
        DCSA,
        |d| set(d, "/transports/plannedArrivalDate", json!("14/03/2025")),
        "$.transports.plannedArrivalDate",
        rule,
    );
    refuse(
        &ilstc(),
        DCSA,
        |d| set(d, "/receivedForShipmentDate", json!("2025-03-03T08:00:00Z")),
        "$.receivedForShipmentDate",
        rule,
    );
}

#[test]
fn bad_locodes_anywhere() {
    let rule = "DOCUMENT_BAD_LOCODE";
    for (ptr, v, path) in [
        ("/transports/portOfLoading/UNLocationCode", "CNQZ1", "$.transports.portOfLoading.UNLocationCode"),
        ("/invoicePayableAt/UNLocationCode", "cnckg", "$.invoicePayableAt.UNLocationCode"),
        (
            "/documentParties/shipper/address/UNLocationCode",
            "CN CKG",
            "$.documentParties.shipper.address.UNLocationCode",
        ),
        ("/x-extension", "", "$[\"x-extension\"].UNLocationCode"),
    ] {
        let v = if ptr == "/x-extension" { json!({"UNLocationCode": "CNCK0"}) } else { json!(v) };
        refuse(&ilstc(), DCSA, |d| set(d, ptr, v), path, rule);
    }
    let place = "/transports/placeOfDelivery/UNLocationCode";
    refuse(
        &value(CER),
        Profile::NoSeaLeg,
        |d| set(d, place, json!("CN-CKG")),
        "$.transports.placeOfDelivery.UNLocationCode",
        rule,
    );
}

#[test]
fn bad_container_numbers() {
    let rule = "DOCUMENT_BAD_CONTAINER_NUMBER";
    let path = "$.utilizedTransportEquipments[1].equipment.equipmentReference";
    for bad in ["CQLU4520871", "CQLX4520870", "CQLU 452087 0", "cqlu4520870", "CQLU452087"] {
        refuse(
            &ilstc(),
            DCSA,
            |d| set(d, "/utilizedTransportEquipments/1/equipment/equipmentReference", json!(bad)),
            path,
            rule,
        );
    }
}

#[test]
fn unknown_equipment() {
    let rule = "DOCUMENT_UNKNOWN_EQUIPMENT";
    let ptr = "/consignmentItems/1/cargoItems/0/equipmentReference";
    refuse(
        &ilstc(),
        DCSA,
        |d| set(d, ptr, json!("CSQU3054383")),
        "$.consignmentItems[1].cargoItems[0].equipmentReference",
        rule,
    );
}
