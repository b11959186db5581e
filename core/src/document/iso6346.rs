//! ISO 6346 container numbers: owner code (3 letters), category (`U` freight container, `J`
//! detachable equipment, `Z` trailer or chassis), 6-digit serial, check digit. Owns the
//! check-digit algorithm; knows nothing of documents.

/// The ISO 6346 value of a character: digits are themselves; letters run from A=10 upwards,
/// skipping multiples of 11 (so A=10, K=21, L=23, U=32, V=34, Z=38).
pub fn char_value(c: char) -> Option<u32> {
    match c {
        '0'..='9' => c.to_digit(10),
        'A'..='Z' => {
            // Walk up from A=10, stepping over 11, 22 and 33.
            let mut v = 10;
            for _ in 'A'..c {
                v += 1;
                if v % 11 == 0 {
                    v += 1;
                }
            }
            Some(v)
        }
        _ => None,
    }
}

/// The check digit of the first ten characters (owner code, category, serial): the sum of each
/// value times 2^position, modulo 11, with 10 written as 0. `None` if a character is invalid.
pub fn check_digit(first_ten: &str) -> Option<u32> {
    if first_ten.chars().count() != 10 {
        return None;
    }
    let mut sum = 0;
    for (i, c) in first_ten.chars().enumerate() {
        sum += char_value(c)? << i;
    }
    Some(sum % 11 % 10)
}

/// Checks a full 11-character container number; the error says what is wrong.
pub fn validate(number: &str) -> Result<(), String> {
    let chars: Vec<char> = number.chars().collect();
    let shaped = chars.len() == 11
        && chars[..3].iter().all(char::is_ascii_uppercase)
        && chars[4..].iter().all(char::is_ascii_digit);
    if !shaped {
        return Err(format!(
            "expected an ISO 6346 container number (3-letter owner code, category letter, 6 digits, \
             check digit, no spaces, e.g. CSQU3054383), found {number:?}"
        ));
    }
    if !matches!(chars[3], 'U' | 'J' | 'Z') {
        return Err(format!("expected equipment category U, J or Z in {number:?}, found {:?}", chars[3]));
    }
    let expected = check_digit(&number[..10]).expect("ten ASCII letters and digits");
    let found = chars[10].to_digit(10).expect("a digit");
    if expected != found {
        return Err(format!("check digit of {number:?} should be {expected}, found {found}"));
    }
    Ok(())
}

/// Whether `number` is a valid ISO 6346 container number.
pub fn is_valid(number: &str) -> bool {
    validate(number).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letter_values_skip_multiples_of_eleven() {
        let values: Vec<u32> = ('A'..='Z').map(|c| char_value(c).unwrap()).collect();
        assert_eq!(
            values,
            [10, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 34, 35, 36, 37, 38]
        );
        assert_eq!(char_value('a'), None);
    }

    #[test]
    fn known_numbers() {
        // The worked example of ISO 6346 and the container of DCSA's `regularSTDExample`.
        for ok in ["CSQU3054383", "NARU3472484"] {
            assert_eq!(validate(ok), Ok(()), "{ok}");
        }
        // Check value 10 is written 0 (sum % 11 == 10).
        let ten = (0..1_000_000)
            .map(|n| format!("ABCU{n:06}"))
            .find(|p| p.chars().enumerate().map(|(i, c)| char_value(c).unwrap() << i).sum::<u32>() % 11 == 10)
            .unwrap();
        assert!(is_valid(&format!("{ten}0")));
    }

    #[test]
    fn refusals() {
        for bad in
            ["CSQU3054384", "CSQU 305438 3", "CSQX3054383", "csqu3054383", "CSQU305438", "CSQU30543833", "C5QU3054383"]
        {
            assert!(!is_valid(bad), "{bad}");
        }
    }
}
