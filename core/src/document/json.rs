//! Strict JSON reading for transport documents and the spelling of JSON paths in errors.
//!
//! Owns the rule that a document is UTF-8, one top-level object, and has no object that repeats a
//! key at any depth. RFC 8259 leaves duplicate keys undefined and parsers disagree on which value
//! wins, so a checksum taken over one reading would not bind what another reader sees. Must not
//! know any DCSA field.

use super::rules::{DUPLICATE_KEY, NOT_JSON};
use crate::error::RuleError;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::cell::RefCell;
use std::fmt;

/// One step of a JSON path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    /// An object member.
    Key(String),
    /// An array element.
    Index(usize),
}

/// Renders steps as a JSON path from the root, e.g. `$.consignmentItems[0].HSCodes`.
pub fn render(segs: &[Seg]) -> String {
    segs.iter().fold(String::from("$"), |path, seg| match seg {
        Seg::Key(k) => key_path(&path, k),
        Seg::Index(i) => index_path(&path, *i),
    })
}

/// The path of member `key` under `base`: `base.key`, or `base["key"]` when `key` is not a plain
/// identifier (so the path stays unambiguous).
pub fn key_path(base: &str, key: &str) -> String {
    let plain = key.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        format!("{base}.{key}")
    } else {
        format!("{base}[{}]", Value::String(key.to_owned()))
    }
}

/// The path of element `i` under `base`: `base[i]`.
pub fn index_path(base: &str, i: usize) -> String {
    format!("{base}[{i}]")
}

/// Parses `bytes` as one JSON object, refusing invalid UTF-8, trailing data, any other top-level
/// type, and duplicate keys at any depth (`DOCUMENT_NOT_JSON`, `DOCUMENT_DUPLICATE_KEY`).
pub fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, RuleError> {
    let not_json = |why: String| RuleError::Document { path: "$".into(), rule: NOT_JSON, why };
    let text =
        std::str::from_utf8(bytes).map_err(|e| not_json(format!("expected UTF-8 JSON, found invalid UTF-8 ({e})")))?;
    // The trail of the first duplicate found, innermost step first; filled in as the error unwinds.
    let trail = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_str(text);
    let parsed = Strict { trail: &trail }.deserialize(&mut de).and_then(|v| de.end().map(|()| v));
    let value = match parsed {
        Ok(v) => v,
        Err(e) => {
            if let Some(mut segs) = trail.into_inner() {
                segs.reverse();
                let path = render(&segs);
                let why = format!("expected each key once per object; this key is repeated ({e})");
                return Err(RuleError::Document { path, rule: DUPLICATE_KEY, why });
            }
            return Err(not_json(format!("expected a JSON document: {e}")));
        }
    };
    match value {
        Value::Object(map) => Ok(map),
        other => Err(not_json(format!("expected a JSON object at the top level, found {}", kind(&other)))),
    }
}

/// The JSON type of `v` in words, for error messages.
pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Builds a [`Value`], refusing duplicate keys. serde_json's recursion limit still applies, so
/// deep nesting is refused rather than overflowing the stack.
#[derive(Clone, Copy)]
struct Strict<'t> {
    trail: &'t RefCell<Option<Vec<Seg>>>,
}

impl Strict<'_> {
    /// Adds `seg` to the trail of a duplicate found below it, if that is why `r` failed.
    fn note<T, E>(self, r: Result<T, E>, seg: impl FnOnce() -> Seg) -> Result<T, E> {
        if r.is_err() {
            if let Some(segs) = self.trail.borrow_mut().as_mut() {
                segs.push(seg());
            }
        }
        r
    }
}

impl<'de> DeserializeSeed<'de> for Strict<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v).map(Value::Number).ok_or_else(|| E::custom("number is not finite"))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        loop {
            let i = items.len();
            match self.note(seq.next_element_seed(self), || Seg::Index(i))? {
                Some(v) => items.push(v),
                None => return Ok(Value::Array(items)),
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            if map.contains_key(&key) {
                *self.trail.borrow_mut() = Some(vec![Seg::Key(key.clone())]);
                return Err(de::Error::custom(format_args!("duplicate key {}", Value::String(key))));
            }
            let value = self.note(access.next_value_seed(self), || Seg::Key(key.clone()))?;
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(text: &str) -> (String, &'static str) {
        match parse_object(text.as_bytes()) {
            Err(RuleError::Document { path, rule, .. }) => (path, rule),
            other => panic!("expected a document error, got {other:?}"),
        }
    }

    #[test]
    fn duplicate_keys_are_refused_at_any_depth_with_their_path() {
        assert_eq!(refused(r#"{"a":1,"a":2}"#), ("$.a".into(), DUPLICATE_KEY));
        assert_eq!(refused(r#"{"a":{"b":[{"c":1},{"c":1,"c":2}]}}"#), ("$.a.b[1].c".into(), DUPLICATE_KEY));
        // Escapes are decoded before comparing: "\u0061" is "a".
        assert_eq!(refused(r#"{"x":[[{"a":1,"\u0061":2}]]}"#), ("$.x[0][0].a".into(), DUPLICATE_KEY));
        assert_eq!(refused(r#"{"a b":{"k":1,"k":1}}"#), (r#"$["a b"].k"#.into(), DUPLICATE_KEY));
    }

    #[test]
    fn non_objects_and_non_json_are_refused() {
        for text in ["", "[]", "1", "\"x\"", "null", "{", "{} {}", "{\"a\":1,}", "{\"a\":NaN}", "\u{feff}{}"] {
            assert_eq!(refused(text).1, NOT_JSON, "{text:?}");
        }
        assert!(matches!(parse_object(b"{\"a\":\"\xff\"}"), Err(RuleError::Document { rule: NOT_JSON, .. })));
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(500), "]".repeat(500));
        assert_eq!(refused(&deep).1, NOT_JSON);
    }

    #[test]
    fn same_keys_in_different_objects_are_fine() {
        let map = parse_object(br#"{"a":{"k":1},"b":{"k":1.5},"c":[{"k":null},{"k":true}]}"#).unwrap();
        assert_eq!(map.len(), 3);
    }
}
