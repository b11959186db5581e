//! Typed, path-aware reads of a parsed document: each getter either returns the value or the
//! [`RuleError::Document`] naming its JSON path and what was expected. Owns the generic field
//! rules (presence, type, emptiness, length, item counts, code lists, dates); knows no DCSA field.

use super::json::{index_path, key_path, kind};
use super::rules::{BAD_DATE, BAD_VALUE, EMPTY_VALUE, REQUIRED_FIELD, TOO_FEW_ITEMS, TOO_LONG, WRONG_TYPE};
use crate::error::RuleError;
use serde_json::{Map, Number, Value};

/// Shorthand for a document error.
pub fn fail(path: impl Into<String>, rule: &'static str, why: impl Into<String>) -> RuleError {
    RuleError::Document { path: path.into(), rule, why: why.into() }
}

/// How strictly a text field is checked beyond "not blank".
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Text {
    /// Free text: only non-blank.
    Free,
    /// DCSA's `^\S(?:.*\S)?$`: also no leading or trailing whitespace.
    Trimmed,
}

/// A JSON object together with its path.
#[derive(Clone)]
pub struct Obj<'a> {
    /// The members.
    pub map: &'a Map<String, Value>,
    /// JSON path of the object itself.
    pub path: String,
}

impl<'a> Obj<'a> {
    /// The document root.
    pub fn root(map: &'a Map<String, Value>) -> Self {
        Obj { map, path: "$".into() }
    }

    /// Requires `value` (found at `path`) to be an object.
    pub fn of(value: &'a Value, path: String) -> Result<Self, RuleError> {
        match value {
            Value::Object(map) => Ok(Obj { map, path }),
            other => Err(wrong_type(&path, "an object", other)),
        }
    }

    /// JSON path of member `key`.
    pub fn at(&self, key: &str) -> String {
        key_path(&self.path, key)
    }

    /// Member `key`, if present (a present `null` counts as present, and is then a wrong type).
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key)
    }

    /// Member `key`, which must be present.
    pub fn req(&self, key: &str) -> Result<&'a Value, RuleError> {
        self.get(key).ok_or_else(|| fail(self.at(key), REQUIRED_FIELD, format!("expected required field `{key}`")))
    }

    /// Required object member.
    pub fn obj(&self, key: &str) -> Result<Obj<'a>, RuleError> {
        Obj::of(self.req(key)?, self.at(key))
    }

    /// Optional object member.
    pub fn opt_obj(&self, key: &str) -> Result<Option<Obj<'a>>, RuleError> {
        self.get(key).map(|v| Obj::of(v, self.at(key))).transpose()
    }

    /// Required boolean member.
    pub fn bool(&self, key: &str) -> Result<bool, RuleError> {
        match self.req(key)? {
            Value::Bool(b) => Ok(*b),
            other => Err(wrong_type(&self.at(key), "a boolean", other)),
        }
    }

    /// Required text member of at most `max` characters.
    pub fn str(&self, key: &str, max: usize, text: Text) -> Result<&'a str, RuleError> {
        check_str(self.req(key)?, &self.at(key), max, text)
    }

    /// Optional text member of at most `max` characters.
    pub fn opt_str(&self, key: &str, max: usize, text: Text) -> Result<Option<&'a str>, RuleError> {
        self.get(key).map(|v| check_str(v, &self.at(key), max, text)).transpose()
    }

    /// Required member whose value must be one of `allowed`.
    pub fn code(&self, key: &str, allowed: &[&str]) -> Result<&'a str, RuleError> {
        check_code(self.req(key)?, &self.at(key), allowed)
    }

    /// Optional member whose value, if present, must be one of `allowed`.
    pub fn opt_code(&self, key: &str, allowed: &[&str]) -> Result<Option<&'a str>, RuleError> {
        self.get(key).map(|v| check_code(v, &self.at(key), allowed)).transpose()
    }

    /// Required `YYYY-MM-DD` date member.
    pub fn date(&self, key: &str) -> Result<&'a str, RuleError> {
        check_date(self.req(key)?, &self.at(key))
    }

    /// Optional `YYYY-MM-DD` date member.
    pub fn opt_date(&self, key: &str) -> Result<Option<&'a str>, RuleError> {
        self.get(key).map(|v| check_date(v, &self.at(key))).transpose()
    }

    /// Optional non-negative integer member.
    pub fn opt_count(&self, key: &str) -> Result<Option<u64>, RuleError> {
        let Some(v) = self.get(key) else {
            return Ok(None);
        };
        match v {
            Value::Number(n) => match whole(n) {
                Some(n) => Ok(Some(n)),
                None => Err(fail(self.at(key), BAD_VALUE, format!("expected a whole number >= 0, found {n}"))),
            },
            other => Err(wrong_type(&self.at(key), "a whole number", other)),
        }
    }

    /// Required array member with at least `min` entries; yields each entry with its path.
    pub fn list(&self, key: &str, min: usize) -> Result<Vec<(&'a Value, String)>, RuleError> {
        check_list(self.req(key)?, &self.at(key), min)
    }

    /// Required array of objects with at least `min` entries.
    pub fn objs(&self, key: &str, min: usize) -> Result<Vec<Obj<'a>>, RuleError> {
        self.list(key, min)?.into_iter().map(|(v, p)| Obj::of(v, p)).collect()
    }
}

/// The value of `n` if it is a whole number >= 0. `1.0` counts as `1`: the checksum does not
/// tell them apart (RFC 8785 writes both as `1`), so neither may validation.
pub fn whole(n: &Number) -> Option<u64> {
    n.as_u64().or_else(|| {
        let f = n.as_f64()?;
        (f.fract() == 0.0 && (0.0..=9_007_199_254_740_992.0).contains(&f)).then_some(f as u64)
    })
}

/// A wrong-type error at `path`.
pub fn wrong_type(path: &str, expected: &str, found: &Value) -> RuleError {
    fail(path, WRONG_TYPE, format!("expected {expected}, found {}", kind(found)))
}

/// Checks that `v` is a non-blank string of at most `max` characters.
pub fn check_str<'a>(v: &'a Value, path: &str, max: usize, text: Text) -> Result<&'a str, RuleError> {
    let Value::String(s) = v else {
        return Err(wrong_type(path, "a string", v));
    };
    if s.trim().is_empty() {
        return Err(fail(path, EMPTY_VALUE, "expected a non-empty text"));
    }
    let len = s.chars().count();
    if len > max {
        return Err(fail(path, TOO_LONG, format!("expected at most {max} characters, found {len}")));
    }
    if text == Text::Trimmed && s.trim() != s {
        return Err(fail(path, BAD_VALUE, "expected no leading or trailing whitespace"));
    }
    Ok(s)
}

/// Checks that `v` is one of the strings in `allowed`.
pub fn check_code<'a>(v: &'a Value, path: &str, allowed: &[&str]) -> Result<&'a str, RuleError> {
    let Value::String(s) = v else {
        return Err(wrong_type(path, "a string", v));
    };
    if allowed.contains(&s.as_str()) {
        Ok(s)
    } else {
        Err(fail(path, BAD_VALUE, format!("expected one of {}, found {v}", allowed.join(" | "))))
    }
}

/// Checks that `v` is a real calendar date written `YYYY-MM-DD`.
pub fn check_date<'a>(v: &'a Value, path: &str) -> Result<&'a str, RuleError> {
    let Value::String(s) = v else {
        return Err(wrong_type(path, "a date string (YYYY-MM-DD)", v));
    };
    let b = s.as_bytes();
    let shaped = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    let num = |r: std::ops::Range<usize>| s[r].parse::<u16>().ok();
    let real = shaped
        && match (num(0..4), num(5..7).and_then(|m| ::time::Month::try_from(m as u8).ok()), num(8..10)) {
            (Some(y), Some(m), Some(d)) => ::time::Date::from_calendar_date(y.into(), m, d as u8).is_ok(),
            _ => false,
        };
    if real {
        Ok(s)
    } else {
        Err(fail(path, BAD_DATE, format!("expected a calendar date YYYY-MM-DD, found {v}")))
    }
}

/// Checks that `v` is an array of at least `min` entries and pairs each entry with its path.
pub fn check_list<'a>(v: &'a Value, path: &str, min: usize) -> Result<Vec<(&'a Value, String)>, RuleError> {
    let Value::Array(items) = v else {
        return Err(wrong_type(path, "an array", v));
    };
    if items.len() < min {
        let why = format!("expected at least {min} entr{}, found {}", if min == 1 { "y" } else { "ies" }, items.len());
        return Err(fail(path, TOO_FEW_ITEMS, why));
    }
    Ok(items.iter().enumerate().map(|(i, item)| (item, index_path(path, i))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dates_must_be_real_and_shaped() {
        for ok in ["2024-02-29", "2025-12-31", "0001-01-01"] {
            assert!(check_date(&json!(ok), "$").is_ok(), "{ok}");
        }
        for bad in ["2023-02-29", "2025-13-01", "2025-1-01", "20250101", "2025-01-01T00:00:00Z", "+025-01-01", ""] {
            assert!(check_date(&json!(bad), "$").is_err(), "{bad}");
        }
    }

    #[test]
    fn text_rules() {
        assert!(check_str(&json!("  "), "$", 5, Text::Free).is_err());
        assert!(check_str(&json!("ab "), "$", 5, Text::Free).is_ok());
        assert!(check_str(&json!("ab "), "$", 5, Text::Trimmed).is_err());
        assert!(check_str(&json!("äöüßé"), "$", 5, Text::Trimmed).is_ok());
        assert!(check_str(&json!("äöüßéx"), "$", 5, Text::Trimmed).is_err());
    }
}
