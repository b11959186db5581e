//! One test per document rule about the shape of fields (JSON, duplicate keys, presence, types,
//! emptiness, length, item counts): a valid example is edited to break exactly that rule and the
//! refusal must name the rule and the JSON path.

mod document_support;

use document_support::*;
use ebl_core::document::{parse, rules, Profile};
use serde_json::{json, Value};

const DCSA: Profile = Profile::DcsaEbl3;

fn ilstc() -> Value {
    value(ILSTC)
}

#[test]
fn not_json() {
    let rule = "DOCUMENT_NOT_JSON";
    for bytes in [&b"\xff\xfe{}"[..], b"", b"[]", b"\"ISSUED\"", b"{\"a\":1", b"{} []", b"{\"a\":01}"] {
        assert_eq!(refusal(bytes, DCSA), ("$".into(), rule), "{bytes:?}");
    }
    let mut latin1 = ILSTC.replace("Singapore, Tuas Port", "Singapore, Tuas P\u{f6}rt").into_bytes();
    let at = latin1.windows(2).position(|w| w == "\u{f6}".as_bytes()).unwrap();
    latin1.splice(at..at + 2, [0xf6]);
    assert_eq!(refusal(&latin1, DCSA), ("$".into(), rule));
}

#[test]
fn duplicate_key_at_any_depth() {
    let rule = "DOCUMENT_DUPLICATE_KEY";
    let deep = ILSTC.replacen(
        "\"vesselName\": \"Beibu Gulf Trader\",",
        "\"vesselName\": \"Beibu Gulf Trader\", \"vesselName\": \"Other\",",
        1,
    );
    assert_eq!(refusal(deep.as_bytes(), DCSA), ("$.transports.vesselVoyages[0].vesselName".into(), rule));
    let top = ILSTC.replacen("\"isToOrder\": true,", "\"isToOrder\": true, \"isToOrder\": false,", 1);
    assert_eq!(refusal(top.as_bytes(), DCSA), ("$.isToOrder".into(), rule));
    // The same value twice is still a duplicate; so is a key spelled with an escape.
    let seal = ILSTC.replacen(
        "{ \"number\": \"CQ25C0088127\", \"source\": \"CUS\" }",
        "{ \"number\": \"CQ25C0088127\", \"source\": \"CUS\", \"sour\\u0063e\": \"CUS\" }",
        1,
    );
    assert_eq!(refusal(seal.as_bytes(), DCSA), ("$.utilizedTransportEquipments[1].seals[1].source".into(), rule));
}

#[test]
fn wrong_types() {
    let rule = "DOCUMENT_WRONG_TYPE";
    let cases: [(&str, Value, &str); 8] = [
        ("/isToOrder", json!("true"), "$.isToOrder"),
        ("/transports", json!([]), "$.transports"),
        (
            "/utilizedTransportEquipments/0/isShipperOwned",
            json!(null),
            "$.utilizedTransportEquipments[0].isShipperOwned",
        ),
        (
            "/consignmentItems/0/cargoItems/0/cargoGrossWeight/value",
            json!("7640"),
            "$.consignmentItems[0].cargoItems[0].cargoGrossWeight.value",
        ),
        ("/consignmentItems/0/HSCodes/0", json!(842952), "$.consignmentItems[0].HSCodes[0]"),
        ("/documentParties/shipper", json!("Chongqing Shancheng"), "$.documentParties.shipper"),
        ("/placeOfIssue/UNLocationCode", json!(["CNCKG"]), "$.placeOfIssue.UNLocationCode"),
        ("/numberOfOriginalsWithoutCharges", json!("1"), "$.numberOfOriginalsWithoutCharges"),
    ];
    for (ptr, v, path) in cases {
        refuse(&ilstc(), DCSA, |d| set(d, ptr, v), path, rule);
    }
}

#[test]
fn empty_values() {
    let rule = "DOCUMENT_EMPTY_VALUE";
    let path = "$.documentParties.consignee.identifyingCodes[0].partyCode";
    refuse(
        &value(YANGTZE),
        DCSA,
        |d| set(d, "/documentParties/consignee/identifyingCodes/0/partyCode", json!("")),
        path,
        rule,
    );
    refuse(&ilstc(), DCSA, |d| set(d, "/termsAndConditions", json!(" \n\t")), "$.termsAndConditions", rule);
    refuse(
        &ilstc(),
        DCSA,
        |d| set(d, "/utilizedTransportEquipments/1/seals/0/number", json!("")),
        "$.utilizedTransportEquipments[1].seals[0].number",
        rule,
    );
}

#[test]
fn too_long() {
    let rule = "DOCUMENT_TOO_LONG";
    refuse(
        &ilstc(),
        DCSA,
        |d| set(d, "/transportDocumentReference", json!("CLSC25CKGSIN000187XYZ")),
        "$.transportDocumentReference",
        rule,
    );
    refuse(&ilstc(), DCSA, |d| set(d, "/carrierCode", json!("CLSCX")), "$.carrierCode", rule);
    refuse(
        &ilstc(),
        DCSA,
        |d| set(d, "/consignmentItems/1/descriptionOfGoods/0", json!("X".repeat(36))),
        "$.consignmentItems[1].descriptionOfGoods[0]",
        rule,
    );
    // Exactly at the limit is fine, counted in characters, not bytes.
    let mut doc = ilstc();
    set(&mut doc, "/transportDocumentReference", json!("重庆陆海新通道提单号码一二三四五六七八九"));
    assert_eq!(accept(&doc, DCSA).reference.chars().count(), 20);
}

#[test]
fn too_few_items() {
    let rule = "DOCUMENT_TOO_FEW_ITEMS";
    for (ptr, path) in [
        ("/partyContactDetails", "$.partyContactDetails"),
        ("/consignmentItems", "$.consignmentItems"),
        ("/utilizedTransportEquipments", "$.utilizedTransportEquipments"),
        ("/utilizedTransportEquipments/0/seals", "$.utilizedTransportEquipments[0].seals"),
        ("/consignmentItems/0/HSCodes", "$.consignmentItems[0].HSCodes"),
        ("/consignmentItems/0/descriptionOfGoods", "$.consignmentItems[0].descriptionOfGoods"),
        ("/consignmentItems/1/cargoItems", "$.consignmentItems[1].cargoItems"),
        ("/transports/vesselVoyages", "$.transports.vesselVoyages"),
    ] {
        refuse(&ilstc(), DCSA, |d| set(d, ptr, json!([])), path, rule);
    }
    let path = "$.documentParties.consignee.identifyingCodes";
    refuse(&value(YANGTZE), DCSA, |d| set(d, "/documentParties/consignee/identifyingCodes", json!([])), path, rule);
}

#[test]
fn every_rule_has_a_test() {
    let tests = [
        include_str!("document_rules_fields.rs"),
        include_str!("document_rules_required.rs"),
        include_str!("document_rules_values.rs"),
        include_str!("document_rules_bill.rs"),
    ]
    .concat();
    for rule in rules::ALL {
        assert!(tests.contains(&format!("\"{rule}\"")), "no test names {rule}");
    }
    // And the example really is the valid base every edit starts from.
    assert!(parse(ILSTC.as_bytes(), DCSA).is_ok());
}
