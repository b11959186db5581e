//! The transport document checksum of DCSA eBL 3.0 and PINT: SHA-256 of the RFC 8785 (JCS)
//! canonical form. Owns canonicalisation; the bytes as received are never hashed, because a tool
//! that re-indents a document or writes `12000.0` for `12000` must not change its identity.

use super::json::parse_object;
use super::rules::NOT_JSON;
use crate::error::RuleError;
use crate::hash::Hash32;
use serde_json::Value;

/// The RFC 8785 canonical bytes of `value`: members sorted by UTF-16 code units, no whitespace,
/// numbers written as ECMAScript does (`12000.0` -> `12000`, `1e21` -> `1e+21`).
pub fn canonical(value: &Value) -> Result<Vec<u8>, RuleError> {
    // Values from the strict parser are always representable (finite numbers, string keys).
    serde_jcs::to_vec(value).map_err(|e| RuleError::Document {
        path: "$".into(),
        rule: NOT_JSON,
        why: format!("expected a value RFC 8785 can canonicalise: {e}"),
    })
}

/// SHA-256 of the canonical form of `value`.
pub fn of_value(value: &Value) -> Result<Hash32, RuleError> {
    Ok(Hash32::sha256(&canonical(value)?))
}

/// Checksum of a document's bytes without validating its fields (duplicate keys still refused):
/// what a PINT receiver compares with the checksum in a transfer chain.
pub fn of_bytes(bytes: &[u8]) -> Result<Hash32, RuleError> {
    of_value(&Value::Object(parse_object(bytes)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jcs(text: &str) -> String {
        String::from_utf8(canonical(&serde_json::from_str(text).unwrap()).unwrap()).unwrap()
    }

    #[test]
    fn numbers_are_written_the_ecmascript_way() {
        let cases = [
            ("12000.0", "12000"),
            ("1.2e4", "12000"),
            ("12000", "12000"),
            ("-0", "0"),
            ("-0.0", "0"),
            ("1e21", "1e+21"),
            ("1E21", "1e+21"),
            ("1e20", "100000000000000000000"),
            ("0.000001", "0.000001"),
            ("1e-7", "1e-7"),
            ("1.5e-7", "1.5e-7"),
            ("123456789012345680000", "123456789012345680000"),
            ("9007199254740993", "9007199254740992"),
            ("0.1", "0.1"),
            ("5.0E-324", "5e-324"),
            ("1.7976931348623157e308", "1.7976931348623157e+308"),
            ("333333333.33333329", "333333333.3333333"),
            ("2.5", "2.5"),
        ];
        for (input, want) in cases {
            assert_eq!(jcs(input), want, "{input}");
        }
    }

    #[test]
    fn rfc8785_sample() {
        // The sorting and escaping sample of RFC 8785 section 3.2.3 (keys in UTF-16 order).
        let input = r#"{"\u20ac":"Euro Sign","\r":"Carriage Return","\ufb33":"Hebrew Letter Dalet With Dagesh",
            "1":"One","\ud83d\ude00":"Emoji: Grinning Face","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis"}"#;
        let want = "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\",\
                    \"\u{f6}\":\"Latin Small Letter O With Diaeresis\",\"\u{20ac}\":\"Euro Sign\",\
                    \"\u{1f600}\":\"Emoji: Grinning Face\",\"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}";
        assert_eq!(jcs(input), want);
        assert_eq!(
            jcs(r#"{"b":[1,{"d":true,"c":null}],"a":"\u001f\"/"}"#),
            r#"{"a":"\u001f\"/","b":[1,{"c":null,"d":true}]}"#
        );
    }

    #[test]
    fn bytes_checksum_ignores_layout_but_not_content() {
        let a = of_bytes(br#"{"w":12000.0,"u":"KGM"}"#).unwrap();
        assert_eq!(a, of_bytes(b"{ \"u\" : \"KGM\",\n  \"w\" : 1.2e4 }").unwrap());
        assert_ne!(a, of_bytes(br#"{"w":12000.5,"u":"KGM"}"#).unwrap());
        assert_eq!(a, Hash32::sha256(br#"{"u":"KGM","w":12000}"#));
    }
}
