//! Shared helpers for the document tests: the example documents, JSON edits by pointer, and
//! assertions on refusals.
#![allow(dead_code)] // each test crate uses a different subset

use ebl_core::document::{parse, Document, Profile};
use ebl_core::error::RuleError;
use serde_json::Value;

/// `examples/documents/ilstc-chongqing-qinzhou-singapore.json` (to order, rail + sea).
pub const ILSTC: &str = include_str!("../../../examples/documents/ilstc-chongqing-qinzhou-singapore.json");
/// `examples/documents/cer-duisburg-chongqing-rail.json` (no sea leg).
pub const CER: &str = include_str!("../../../examples/documents/cer-duisburg-chongqing-rail.json");
/// `examples/documents/yangtze-chongqing-shanghai-sea.json` (straight, barge + sea).
pub const YANGTZE: &str = include_str!("../../../examples/documents/yangtze-chongqing-shanghai-sea.json");
/// DCSA's `regularSTDExample` from EBL_v3.0.4.yaml, with status `ISSUED` and an `issueDate`.
pub const DCSA_REGULAR: &str = include_str!("../fixtures/dcsa-regular-std-issued.json");

/// Parses example text into a value to edit.
pub fn value(text: &str) -> Value {
    serde_json::from_str(text).expect("example is JSON")
}

/// Parses `doc` under `profile`, which must succeed.
pub fn accept(doc: &Value, profile: Profile) -> Document {
    let bytes = serde_json::to_vec(doc).unwrap();
    parse(&bytes, profile).unwrap_or_else(|e| panic!("expected the document to be accepted, got {e:?}"))
}

/// The path and rule of the refusal of `bytes` under `profile`.
pub fn refusal(bytes: &[u8], profile: Profile) -> (String, &'static str) {
    match parse(bytes, profile) {
        Err(RuleError::Document { path, rule, why }) => {
            assert!(!why.is_empty(), "every refusal says what was expected");
            (path, rule)
        }
        other => panic!("expected a document refusal, got {other:?}"),
    }
}

/// Edits a copy of `base` with `edit` and asserts it is refused at `path` with `rule`.
pub fn refuse(base: &Value, profile: Profile, edit: impl FnOnce(&mut Value), path: &str, rule: &str) {
    let mut doc = base.clone();
    edit(&mut doc);
    let bytes = serde_json::to_vec(&doc).unwrap();
    assert_eq!(refusal(&bytes, profile), (path.to_owned(), rule_name(rule)), "edit should break {rule} at {path}");
}

/// Interns a rule name so it compares with the `&'static str` of the error.
fn rule_name(rule: &str) -> &'static str {
    ebl_core::document::rules::ALL.iter().copied().find(|r| *r == rule).unwrap_or_else(|| panic!("unknown rule {rule}"))
}

/// Sets the value at JSON pointer `ptr` (the parent must exist).
pub fn set(doc: &mut Value, ptr: &str, v: Value) {
    let (parent, key) = ptr.rsplit_once('/').expect("a pointer");
    match doc.pointer_mut(parent).unwrap_or_else(|| panic!("no {parent}")) {
        Value::Object(map) => {
            map.insert(key.to_owned(), v);
        }
        Value::Array(items) => items[key.parse::<usize>().unwrap()] = v,
        _ => panic!("{parent} is not a container"),
    }
}

/// Removes the member at JSON pointer `ptr`, which must exist.
pub fn remove(doc: &mut Value, ptr: &str) {
    let (parent, key) = ptr.rsplit_once('/').expect("a pointer");
    let map = doc.pointer_mut(parent).and_then(Value::as_object_mut).unwrap_or_else(|| panic!("no object {parent}"));
    map.remove(key).unwrap_or_else(|| panic!("no member {ptr}"));
}
