//! The example documents and DCSA's own example pass with their profiles; the checksum is the
//! RFC 8785 one (layout, key order and number spelling do not matter, content does).

mod document_support;

use document_support::*;
use ebl_core::document::{checksum, parse, Profile, TypeCode};
use proptest::prelude::*;
use serde_json::{json, Value};

#[test]
fn ilstc_rail_sea_bill_is_a_to_order_dcsa_bill() {
    let doc = parse(ILSTC.as_bytes(), Profile::DcsaEbl3).unwrap();
    assert_eq!(doc.reference, "CLSC25CKGSIN000187");
    assert_eq!((doc.type_code, doc.is_to_order), (TypeCode::Bol, true));
    assert_eq!((doc.consignee, doc.endorsee), (None, None));
    assert_eq!(doc.carrier_code, "CLSC");
    assert_eq!(doc.locations, ["CNCKG", "CNQZH", "SGSIN"]);
    assert_eq!(doc.containers, ["CQLU4518208", "CQLU4520870"]);
    assert_eq!(doc.profile, Profile::DcsaEbl3);
    assert_eq!(doc.checksum, checksum(ILSTC.as_bytes()).unwrap());
}

#[test]
fn cer_rail_bill_needs_the_no_sea_leg_profile() {
    let doc = parse(CER.as_bytes(), Profile::NoSeaLeg).unwrap();
    assert!(doc.is_to_order);
    assert_eq!(doc.locations, ["CNCKG", "DEDUI"]);
    assert_eq!(doc.containers, ["CEXU7731041", "CEXU7731627"]);
    assert_eq!(doc.profile, Profile::NoSeaLeg);
    assert_eq!(
        refusal(CER.as_bytes(), Profile::DcsaEbl3),
        ("$.transports.vesselVoyages".into(), "DOCUMENT_REQUIRED_FIELD")
    );
}

#[test]
fn sea_bills_are_refused_under_the_no_sea_leg_profile() {
    for text in [ILSTC, YANGTZE, DCSA_REGULAR] {
        assert_eq!(
            refusal(text.as_bytes(), Profile::NoSeaLeg),
            ("$.transports.vesselVoyages".into(), "DOCUMENT_PROFILE_MISMATCH")
        );
    }
}

#[test]
fn yangtze_river_sea_bill_is_straight_to_a_consignee() {
    let doc = parse(YANGTZE.as_bytes(), Profile::DcsaEbl3).unwrap();
    assert!(!doc.is_to_order);
    let consignee = doc.consignee.expect("a straight bill names its consignee");
    assert_eq!(consignee.name, "Maasvlakte Moto Distribution B.V.");
    assert_eq!(consignee.codes.len(), 2);
    assert_eq!(consignee.codes[0].provider, "GLEIF");
    assert_eq!(consignee.codes[0].party_code, "5493006DUI2RW8LNQ436");
    assert_eq!(consignee.codes[0].code_list_name.as_deref(), Some("LEI"));
    assert_eq!(doc.locations, ["CNCKG", "CNSHA", "NLRTM"]);
    assert_eq!(doc.containers, ["YZRU2290419"]);
}

#[test]
fn dcsa_regular_example_passes_once_issued() {
    let doc = parse(DCSA_REGULAR.as_bytes(), Profile::DcsaEbl3).unwrap();
    assert_eq!(doc.reference, "62CD536BA8D34C469AFD");
    assert_eq!(doc.locations, ["DEBRV", "DKAAR"]);
    assert_eq!(doc.containers, ["NARU3472484"]);
    // Golden value, computed independently (Python: sorted keys, compact separators, UTF-8;
    // equal to RFC 8785 here because the document holds only integers and ASCII keys).
    assert_eq!(doc.checksum.to_hex(), "02f864d8bf2d532d15d84342f175ae7209ad2b380689f223b75a369c265dbc45");
    // As published (DRAFT, no issue date) it is not an issued bill.
    let mut draft = value(DCSA_REGULAR);
    set(&mut draft, "/transportDocumentStatus", json!("DRAFT"));
    refuse(&draft, Profile::DcsaEbl3, |_| {}, "$.transportDocumentStatus", "DOCUMENT_STATUS_NOT_ISSUED");
}

#[test]
fn examples_name_an_endorsee_when_one_is_added() {
    let mut doc = value(ILSTC);
    let endorsee = json!({"partyName": "Bank of the Straits", "identifyingCodes": [
        {"codeListProvider": "GLEIF", "codeListName": "LEI", "partyCode": "549300RHNAE3M5VYD204"}]});
    set(&mut doc, "/documentParties/endorsee", endorsee);
    let parsed = accept(&doc, Profile::DcsaEbl3);
    assert_eq!(parsed.endorsee.unwrap().name, "Bank of the Straits");
    // Unknown extensions are allowed (and their UN/LOCODEs collected).
    set(&mut doc, "/x-ledgerLegs", json!([{"mode": "RAIL", "to": {"UNLocationCode": "CNNNG"}}]));
    assert!(accept(&doc, Profile::DcsaEbl3).locations.contains(&"CNNNG".to_owned()));
}

/// Writes `v` as JSON with every object's keys in reverse order, numbers in exponent form
/// (`7640.0` -> `7.64e3`), and a newline and indent after every comma.
fn rewrite(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().rev().enumerate() {
                out.push_str(if i == 0 { "\n  " } else { ",\n  " });
                out.push_str(&format!("{} :\t", Value::String(k.clone())));
                rewrite(v, out);
            }
            out.push_str("\n}");
        }
        Value::Array(items) => {
            out.push_str("[ ");
            for (i, v) in items.iter().enumerate() {
                out.push_str(if i == 0 { "" } else { " , " });
                rewrite(v, out);
            }
            out.push_str(" ]");
        }
        Value::Number(n) => out.push_str(&format!("{:e}", n.as_f64().unwrap())),
        other => out.push_str(&other.to_string()),
    }
}

#[test]
fn checksum_ignores_layout_key_order_and_number_spelling() {
    for (text, profile) in [(ILSTC, Profile::DcsaEbl3), (CER, Profile::NoSeaLeg), (YANGTZE, Profile::DcsaEbl3)] {
        let original = parse(text.as_bytes(), profile).unwrap().checksum;
        let doc = value(text);
        let mut rewritten = String::new();
        rewrite(&doc, &mut rewritten);
        assert!(rewritten.contains("e3"), "numbers were respelled");
        let compact = serde_json::to_string(&doc).unwrap();
        for variant in [rewritten, compact, serde_json::to_string_pretty(&doc).unwrap()] {
            assert_eq!(parse(variant.as_bytes(), profile).unwrap().checksum, original);
        }
    }
    // 12000.0, 12000 and 1.2e4 are one number.
    let spell = |w: &str| DCSA_REGULAR.replace("\"value\": 12000", &format!("\"value\": {w}"));
    let base = parse(DCSA_REGULAR.as_bytes(), Profile::DcsaEbl3).unwrap().checksum;
    for w in ["12000.0", "1.2e4", "12000.000", "1.2E+4", "120000e-1"] {
        assert_eq!(parse(spell(w).as_bytes(), Profile::DcsaEbl3).unwrap().checksum, base, "{w}");
    }
    assert_ne!(parse(spell("12000.5").as_bytes(), Profile::DcsaEbl3).unwrap().checksum, base);
}

#[test]
fn checksum_changes_with_any_content() {
    let base = accept(&value(ILSTC), Profile::DcsaEbl3).checksum;
    let edits: [(&str, Value); 4] = [
        ("/consignmentItems/0/cargoItems/0/cargoGrossWeight/value", json!(7640.5)),
        ("/transports/vesselVoyages/0/vesselName", json!("Beibu Gulf Trader ")),
        ("/utilizedTransportEquipments/0/seals/0/number", json!("CLS2503104479")),
        ("/x-note", json!(null)),
    ];
    for (ptr, v) in edits {
        let mut doc = value(ILSTC);
        set(&mut doc, ptr, v);
        assert_ne!(checksum(&serde_json::to_vec(&doc).unwrap()).unwrap(), base, "{ptr}");
    }
    // Arrays are ordered: swapping the two containers is a different document.
    let mut doc = value(ILSTC);
    doc["utilizedTransportEquipments"].as_array_mut().unwrap().reverse();
    assert_ne!(accept(&doc, Profile::DcsaEbl3).checksum, base);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    /// The parser reads every decimal exactly as Rust's correctly rounded parser does (serde_json's
    /// `float_roundtrip`, which serde_jcs enables): otherwise two verifiers could disagree on a
    /// checksum by one unit in the last place.
    #[test]
    fn numbers_parse_exactly(digits in "[1-9][0-9]{0,24}", point in 0usize..26, exp in -330i32..300) {
        let point = point.min(digits.len());
        let int = if point == 0 { "0" } else { &digits[..point] };
        let text = format!("{int}.{}0e{exp}", &digits[point..]);
        let want: f64 = text.parse().unwrap();
        prop_assume!(want.is_finite());
        let got = serde_json::from_str::<Value>(&text).unwrap().as_f64().unwrap();
        prop_assert_eq!(got.to_bits(), want.to_bits(), "{}", text);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Any byte-level damage to a valid document is answered with a result, never a panic; and a
    /// document that still parses keeps a checksum equal to that of its canonical form.
    #[test]
    fn damaged_documents_never_panic(edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4), cut in any::<prop::sample::Index>()) {
        let mut bytes = YANGTZE.as_bytes().to_vec();
        for (at, byte) in edits {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        let whole = bytes.clone();
        bytes.truncate(cut.index(bytes.len() + 1));
        for input in [&whole[..], &bytes[..]] {
            if let Ok(doc) = parse(input, Profile::DcsaEbl3) {
                prop_assert_eq!(doc.checksum, checksum(input).unwrap());
            }
        }
    }
}
