//! The required fields of a transport document: removing any one of them is refused with
//! `DOCUMENT_REQUIRED_FIELD` and the JSON path of the missing field.

mod document_support;

use document_support::*;
use ebl_core::document::Profile;
use serde_json::Value;

const DCSA: Profile = Profile::DcsaEbl3;

fn ilstc() -> Value {
    value(ILSTC)
}

#[test]
fn required_fields() {
    let rule = "DOCUMENT_REQUIRED_FIELD";
    let top = [
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
        "issueDate",
    ];
    for key in top {
        refuse(&ilstc(), DCSA, |d| remove(d, &format!("/{key}")), &format!("$.{key}"), rule);
    }
    let nested = [
        ("/documentParties/shipper/partyName", "$.documentParties.shipper.partyName"),
        ("/documentParties/issuingParty/address", "$.documentParties.issuingParty.address"),
        ("/documentParties/issuingParty/address/city", "$.documentParties.issuingParty.address.city"),
        ("/transports/plannedArrivalDate", "$.transports.plannedArrivalDate"),
        ("/transports/plannedDepartureDate", "$.transports.plannedDepartureDate"),
        ("/transports/portOfLoading", "$.transports.portOfLoading"),
        ("/transports/portOfDischarge", "$.transports.portOfDischarge"),
        ("/transports/portOfDischarge/UNLocationCode", "$.transports.portOfDischarge.UNLocationCode"),
        ("/transports/vesselVoyages", "$.transports.vesselVoyages"),
        (
            "/transports/vesselVoyages/0/carrierExportVoyageNumber",
            "$.transports.vesselVoyages[0].carrierExportVoyageNumber",
        ),
        ("/transports/placeOfReceipt", "$.transports.placeOfReceipt"), // preCarriageBy RAIL needs it
        ("/invoicePayableAt/UNLocationCode", "$.invoicePayableAt.UNLocationCode"),
        ("/partyContactDetails/0/name", "$.partyContactDetails[0].name"),
        ("/consignmentItems/1/carrierBookingReference", "$.consignmentItems[1].carrierBookingReference"),
        ("/consignmentItems/0/descriptionOfGoods", "$.consignmentItems[0].descriptionOfGoods"),
        ("/consignmentItems/0/HSCodes", "$.consignmentItems[0].HSCodes"),
        ("/consignmentItems/1/cargoItems/0/cargoGrossWeight", "$.consignmentItems[1].cargoItems[0].cargoGrossWeight"),
        (
            "/consignmentItems/0/cargoItems/1/cargoGrossWeight/unit",
            "$.consignmentItems[0].cargoItems[1].cargoGrossWeight.unit",
        ),
        ("/consignmentItems/0/cargoItems/0/outerPackaging", "$.consignmentItems[0].cargoItems[0].outerPackaging"),
        (
            "/consignmentItems/0/cargoItems/0/equipmentReference",
            "$.consignmentItems[0].cargoItems[0].equipmentReference",
        ),
        (
            "/utilizedTransportEquipments/1/equipment/equipmentReference",
            "$.utilizedTransportEquipments[1].equipment.equipmentReference",
        ),
        ("/utilizedTransportEquipments/0/isShipperOwned", "$.utilizedTransportEquipments[0].isShipperOwned"),
        ("/utilizedTransportEquipments/0/seals/1/number", "$.utilizedTransportEquipments[0].seals[1].number"),
    ];
    for (ptr, path) in nested {
        refuse(&ilstc(), DCSA, |d| remove(d, ptr), path, rule);
    }
    // Contacts need a phone or an e-mail.
    refuse(
        &value(YANGTZE),
        DCSA,
        |d| remove(d, "/partyContactDetails/0/email"),
        "$.partyContactDetails[0].email",
        rule,
    );
    // Consignee and endorsee need a name and codes with provider and party code.
    for (key, path) in [
        ("partyName", "$.documentParties.consignee.partyName"),
        ("identifyingCodes", "$.documentParties.consignee.identifyingCodes"),
        ("identifyingCodes/0/codeListProvider", "$.documentParties.consignee.identifyingCodes[0].codeListProvider"),
        ("identifyingCodes/1/partyCode", "$.documentParties.consignee.identifyingCodes[1].partyCode"),
    ] {
        refuse(&value(YANGTZE), DCSA, |d| remove(d, &format!("/documentParties/consignee/{key}")), path, rule);
    }
}
