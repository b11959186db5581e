//! UN/LOCODE checks and collection. Owns the rule that every `UNLocationCode`, wherever it sits
//! in a document (ports, places, party addresses, invoice location, extensions), matches
//! `^[A-Z]{2}[A-Z2-9]{3}$`, and the list of locations a document names (used to index bills by
//! place and to decide which customs may see them).

use super::access::{fail, wrong_type};
use super::json::{render, Seg};
use super::rules::BAD_LOCODE;
use crate::error::RuleError;
use serde_json::Value;
use std::collections::BTreeSet;

/// The member name DCSA uses for a UN/LOCODE.
pub const KEY: &str = "UNLocationCode";

/// Whether `code` has the UN/LOCODE shape: 2-letter country, then 3 of `A-Z` or `2-9`.
pub fn is_valid(code: &str) -> bool {
    let b = code.as_bytes();
    b.len() == 5
        && b[..2].iter().all(u8::is_ascii_uppercase)
        && b[2..].iter().all(|c| c.is_ascii_uppercase() || (b'2'..=b'9').contains(c))
}

/// Checks every `UNLocationCode` member at any depth of `value` and returns them all, sorted and
/// deduplicated. The first bad one is refused with its path (`DOCUMENT_BAD_LOCODE`, or
/// `DOCUMENT_WRONG_TYPE` when it is not a string).
pub fn collect(value: &Value) -> Result<Vec<String>, RuleError> {
    let mut found = BTreeSet::new();
    walk(value, &mut Vec::new(), &mut found)?;
    Ok(found.into_iter().collect())
}

/// Depth-first walk; `trail` is the path to `value`. Depth is bounded by the parser's limit.
fn walk(value: &Value, trail: &mut Vec<Seg>, found: &mut BTreeSet<String>) -> Result<(), RuleError> {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                trail.push(Seg::Key(k.clone()));
                if k == KEY {
                    match v {
                        Value::String(code) if is_valid(code) => {
                            found.insert(code.clone());
                        }
                        Value::String(_) => {
                            let why = format!("expected a UN/LOCODE matching ^[A-Z]{{2}}[A-Z2-9]{{3}}$, found {v}");
                            return Err(fail(render(trail), BAD_LOCODE, why));
                        }
                        other => return Err(wrong_type(&render(trail), "a UN/LOCODE string", other)),
                    }
                } else {
                    walk(v, trail, found)?;
                }
                trail.pop();
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                trail.push(Seg::Index(i));
                walk(v, trail, found)?;
                trail.pop();
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shape() {
        for ok in ["CNCKG", "DEDUI", "SGSIN", "US2AB", "NL999"] {
            assert!(is_valid(ok), "{ok}");
        }
        for bad in ["CNCK", "CNCKGX", "cnckg", "CN1KG", "C1CKG", "CN CK", "CNÇKG", "CN0KG"] {
            assert!(!is_valid(bad), "{bad}");
        }
    }

    #[test]
    fn collects_everywhere_and_names_the_bad_one() {
        let doc = json!({
            "a": {"UNLocationCode": "SGSIN"},
            "b": [{"x": {"UNLocationCode": "CNCKG"}}, {"UNLocationCode": "SGSIN"}],
        });
        assert_eq!(collect(&doc).unwrap(), ["CNCKG", "SGSIN"]);
        let bad = json!({"b": [{}, {"x": {"UNLocationCode": "CN-CK"}}]});
        match collect(&bad) {
            Err(RuleError::Document { path, rule, .. }) => {
                assert_eq!((path.as_str(), rule), ("$.b[1].x.UNLocationCode", BAD_LOCODE));
            }
            other => panic!("{other:?}"),
        }
    }
}
