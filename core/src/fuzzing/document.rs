//! Transport documents: [`crate::document::parse`] under both profiles and
//! [`crate::document::checksum`] on arbitrary bytes.
//!
//! Asserts: no panic; a valid document's checksum is the checksum of its bytes; what a document
//! reports (containers, seals, locations, ends) is well formed; and validity and checksum do not
//! depend on layout: the RFC 8785 canonical form of the bytes has the same checksum, and is
//! valid exactly when the bytes are, with the same facts.

use crate::document::{self, checksum, json, Document, Profile};
use serde_json::Value;

/// The target's body.
pub fn run(data: &[u8]) {
    let sum = document::checksum(data);
    let canonical = json::parse_object(data).ok().map(|map| {
        let bytes = checksum::canonical(&Value::Object(map)).expect("a parsed document canonicalises");
        assert_eq!(document::checksum(&bytes).ok(), sum.clone().ok(), "the canonical form has another checksum");
        bytes
    });
    assert_eq!(canonical.is_some(), sum.is_ok(), "checksum and parse disagree on what is JSON");
    for profile in [Profile::DcsaEbl3, Profile::NoSeaLeg] {
        let parsed = document::parse(data, profile);
        if let Ok(doc) = &parsed {
            check_facts(doc, profile);
            assert_eq!(Ok(doc.checksum), sum, "a valid document's checksum is its bytes' checksum");
        }
        if let Some(bytes) = &canonical {
            let again = document::parse(bytes, profile);
            assert_eq!(again.as_ref().ok(), parsed.as_ref().ok(), "validity depends on layout ({profile:?})");
        }
    }
}

fn check_facts(doc: &Document, profile: Profile) {
    assert_eq!(doc.profile, profile);
    assert!(doc.containers.windows(2).all(|w| w[0] < w[1]), "containers not sorted and unique");
    assert!(doc.containers.iter().eq(doc.seals.keys()), "containers and seals disagree");
    assert!(doc.containers.iter().all(|c| document::iso6346::is_valid(c)), "a container number is not ISO 6346");
    assert!(doc.locations.windows(2).all(|w| w[0] < w[1]), "locations not sorted and unique");
    assert!(doc.locations.iter().all(|l| document::is_locode(l)), "a location is not a UN/LOCODE");
    for end in [&doc.start, &doc.end].into_iter().flatten() {
        assert!(document::is_locode(end) && doc.locations.contains(end), "an end is not a location: {end}");
    }
}
