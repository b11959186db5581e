//! Strict text primitives shared by the log's formats: standard base64 (RFC 4648 section 4, with
//! canonical padding and no stray trailing bits, so every value has exactly one encoding) and
//! ASCII decimals without leading zeros.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

/// Standard base64 with padding.
pub(crate) fn b64_encode(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Decodes standard base64, refusing any non-canonical form.
pub(crate) fn b64_decode(s: &str) -> Option<Vec<u8>> {
    STANDARD.decode(s).ok()
}

/// Parses an ASCII decimal with no sign and no leading zeros ("0" itself is fine).
pub(crate) fn parse_decimal(s: &str) -> Option<u64> {
    // `str::parse` alone would accept "+5" and "007".
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0')) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_strict() {
        assert_eq!(parse_decimal("0"), Some(0));
        assert_eq!(parse_decimal("18446744073709551615"), Some(u64::MAX));
        for bad in ["", "00", "07", "+7", "-1", " 7", "7 ", "18446744073709551616", "1e3"] {
            assert_eq!(parse_decimal(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn base64_is_canonical() {
        assert_eq!(b64_decode("AA=="), Some(vec![0]));
        // Trailing bits set, missing padding, whitespace: all refused.
        for bad in ["AB==", "AA", "AA==\n", " AA==", "A-=="] {
            assert_eq!(b64_decode(bad), None, "{bad:?}");
        }
    }
}
