//! Every document rule through the real server: an ISSUE carrying a broken DCSA document is
//! refused with INVALID_ARGUMENT, the rule as reason, the JSON path as field, and nothing changes.
use crate::common;

use common::*;
use ebl_core::document::{parse, rules, Profile};
use ebl_ledger::pb::{self, DocumentProfile};
use serde_json::{json, Value};
use tonic::Code;

type Edit = fn(&mut Value);

fn cases() -> Vec<(&'static str, &'static str, DocumentProfile, Edit)> {
    use DocumentProfile::{DcsaEbl3 as D, NoSeaLeg as N};
    vec![
        (rules::REQUIRED_FIELD, ILSTC, D, |d| drop(d.as_object_mut().unwrap().remove("invoicePayableAt"))),
        (rules::WRONG_TYPE, ILSTC, D, |d| d["isToOrder"] = json!("yes")),
        (rules::EMPTY_VALUE, ILSTC, D, |d| d["termsAndConditions"] = json!("   ")),
        (rules::TOO_LONG, ILSTC, D, |d| d["carrierCode"] = json!("CQMTO")),
        (rules::TOO_FEW_ITEMS, ILSTC, D, |d| d["consignmentItems"] = json!([])),
        (rules::BAD_VALUE, ILSTC, D, |d| d["transportDocumentTypeCode"] = json!("XYZ")),
        (rules::BAD_DATE, ILSTC, D, |d| d["issueDate"] = json!("2025-02-30")),
        (rules::BAD_LOCODE, ILSTC, D, |d| d["transports"]["portOfLoading"]["UNLocationCode"] = json!("CN1ZH")),
        (rules::BAD_CONTAINER_NUMBER, ILSTC, D, |d| {
            let r =
                d["utilizedTransportEquipments"][0]["equipment"]["equipmentReference"].as_str().unwrap().to_string();
            let last = r.chars().last().unwrap().to_digit(10).unwrap();
            d["utilizedTransportEquipments"][0]["equipment"]["equipmentReference"] =
                json!(format!("{}{}", &r[..10], (last + 1) % 10));
        }),
        (rules::UNKNOWN_EQUIPMENT, ILSTC, D, |d| {
            d["consignmentItems"][0]["cargoItems"][0]["equipmentReference"] = json!("CSQU3054383")
        }),
        (rules::STATUS_NOT_ISSUED, ILSTC, D, |d| d["transportDocumentStatus"] = json!("DRAFT")),
        (rules::NOT_ELECTRONIC, ILSTC, D, |d| d["isElectronic"] = json!(false)),
        (rules::SWB_TO_ORDER, ILSTC, D, |d| d["transportDocumentTypeCode"] = json!("SWB")),
        (rules::CONSIGNEE_AND_ENDORSEE, YANGTZE, D, |d| {
            d["documentParties"]["endorsee"] = d["documentParties"]["consignee"].clone()
        }),
        (rules::STRAIGHT_WITHOUT_CONSIGNEE, YANGTZE, D, |d| {
            drop(d["documentParties"].as_object_mut().unwrap().remove("consignee"))
        }),
        (rules::ISSUE_DATE_KIND, ILSTC, D, |d| d["shippedOnBoardDate"] = d["issueDate"].clone()),
        (rules::TOO_MANY_ORIGINALS, ILSTC, D, |d| {
            d["numberOfOriginalsWithCharges"] = json!(1);
            d["numberOfOriginalsWithoutCharges"] = json!(1);
        }),
        (rules::PROFILE_MISMATCH, ILSTC, N, |_| {}),
        (rules::REQUIRED_FIELD, RAIL, D, |_| {}),
    ]
}

#[tokio::test]
async fn every_document_rule_is_refused_through_the_server() {
    let mut l = TestLedger::start().await;
    journey_cast(&mut l).await;
    let carrier = l.party("cq-mto");
    let mut seen = std::collections::BTreeSet::new();
    let mut byte_cases: Vec<(&str, Vec<u8>, DocumentProfile)> = vec![
        (rules::NOT_JSON, b"[1, 2, 3]".to_vec(), DocumentProfile::DcsaEbl3),
        (rules::NOT_JSON, vec![0xff, 0xfe], DocumentProfile::DcsaEbl3),
    ];
    // A duplicate key deep inside: serde would silently keep the last one; the ledger refuses.
    let text = String::from_utf8(doc(ILSTC)).unwrap();
    let dup = text.replacen("\"isShipperOwned\"", "\"isShipperOwned\": true, \"isShipperOwned\"", 1);
    byte_cases.push((rules::DUPLICATE_KEY, dup.into_bytes(), DocumentProfile::DcsaEbl3));
    for (rule, base, profile, edit) in cases() {
        let mut v = doc_json(base);
        edit(&mut v);
        byte_cases.push((rule, serde_json::to_vec(&v).unwrap(), profile));
    }
    for (rule, bytes, profile) in byte_cases {
        let core_profile = if profile == DocumentProfile::NoSeaLeg { Profile::NoSeaLeg } else { Profile::DcsaEbl3 };
        let (path, core_rule) = match parse(&bytes, core_profile) {
            Err(ebl_core::RuleError::Document { path, rule, .. }) => (path, rule),
            other => panic!("{rule}: the core must refuse this document, got {other:?}"),
        };
        assert_eq!(core_rule, rule, "the edit breaks the intended rule (path {path})");
        let rec = l.issue_record(&carrier, &bytes, profile, "cq-machinery", "", "");
        let err = l.assert_refused(rec, Code::InvalidArgument, rule).await;
        assert_eq!(field_of(&err), path, "{rule}");
        assert!(err.message().contains(&path), "{rule}: message names the path: {}", err.message());
        seen.insert(rule);
    }
    let all: std::collections::BTreeSet<_> = rules::ALL.iter().copied().collect();
    assert_eq!(seen, all, "every document rule has a case through the server");
}

#[tokio::test]
async fn rail_bill_with_no_sea_leg_uses_its_profile_and_is_not_pint_exportable() {
    let mut l = TestLedger::start().await;
    journey_cast(&mut l).await;
    let carrier = l.party("cq-mto");
    let d = doc(RAIL);
    l.client.submit(l.issue_record(&carrier, &d, pb::DocumentProfile::NoSeaLeg, "cq-machinery", "", "")).await.unwrap();
    let bill = ebl_core::ids::BillId::derive(&carrier.party, &reference_of(&d), 0);
    let v = l.client.bill(&carrier, bill).await.unwrap();
    assert_eq!((v.profile.as_str(), v.pint_exportable), ("NO_SEA_LEG", false));
    assert!(
        v.locations.contains(&"DEDUI".to_string()) && v.locations.contains(&"CNCKG".to_string()),
        "{:?}",
        v.locations
    );
    // The recorded checksum is the RFC 8785 one: the same document reformatted has the same.
    let reformatted = serde_json::to_vec_pretty(&doc_json(RAIL)).unwrap();
    assert_ne!(reformatted, d);
    assert_eq!(parse(&reformatted, Profile::NoSeaLeg).unwrap().checksum.0.to_vec(), v.document_checksum);
}
