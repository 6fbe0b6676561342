//! Normalisation of personal values.
//!
//! Every personal value passes through one of these functions before it is sealed, before
//! its blind index (an HMAC of the normalised string) is computed, and before a staff
//! member's "check" input is compared with the stored value. Two spellings of the same
//! email address or phone number therefore produce the same string, while a near miss (one
//! digit or letter different) produces a different one.
//!
//! The functions are pure: no I/O, no global state, no allocation beyond the result.
//!
//! **Errors never echo the input.** A [`NormalizeError`] message says what is wrong and what
//! is expected (a digit count at most), because error text ends up in logs and the input is
//! personal data. Callers add the field name.
//!
//! Phone numbers are normalised by a small hand-written E.164 normaliser (default region
//! Russia) rather than the `phonenumber` crate: that crate (0.3.10) silently drops trailing
//! letters and extension text, turns `8-800-555-35-35` into a wrong number, accepts
//! `12345` unless a separate metadata validity check is made (which then rejects numbers
//! from newly assigned ranges until the crate is updated), and pulls in about 25 crates.

use std::collections::HashSet;

use thiserror::Error;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Why a value could not be normalised. Messages never contain the value itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum NormalizeError {
    #[error("the email address is empty; expected an address such as name@example.com")]
    EmailEmpty,
    #[error(
        "the email address has no @ sign; expected local-part@domain, such as name@example.com"
    )]
    EmailNoAt,
    #[error("the email address has {count} @ signs; expected exactly one")]
    EmailManyAt { count: usize },
    #[error("the email address has nothing before the @; expected a name such as name@example.com")]
    EmailEmptyLocal,
    #[error("the email address has nothing after the @; expected a domain such as example.com")]
    EmailEmptyDomain,
    #[error("the email domain has no dot; expected a domain such as example.com")]
    EmailDomainNoDot,
    #[error(
        "the email domain has an empty part (a leading, trailing or doubled dot); \
         expected parts separated by single dots, such as mail.example.com"
    )]
    EmailDomainEmptyLabel,
    #[error("the email address contains a space; expected no spaces inside the address")]
    EmailWhitespace,
    #[error(
        "the email address contains a control or invisible formatting character; \
         expected visible characters only"
    )]
    EmailControl,
    #[error("the email address is {len} bytes long; expected at most 254 bytes")]
    EmailTooLong { len: usize },

    #[error("the phone number is empty; expected a number such as +7 916 123-45-67")]
    PhoneEmpty,
    #[error(
        "the phone number contains letters; expected digits with optional spaces, dashes, \
         dots, brackets and a leading + (extensions are not supported)"
    )]
    PhoneLetters,
    #[error(
        "the phone number contains an unexpected character; expected digits with optional \
         spaces, dashes, dots, brackets and a leading +"
    )]
    PhoneInvalidCharacter,
    #[error(
        "the phone number has a + after a digit or a second +; \
         expected one + before the country code"
    )]
    PhoneMisplacedPlus,
    #[error(
        "the phone number has no digits; expected 10 or 11 digits for a Russian number \
         or + and a country code"
    )]
    PhoneNoDigits,
    #[error(
        "the phone number has {count} digits; expected 10 or 11 digits for a Russian number \
         or + and a country code"
    )]
    PhoneDigitCount { count: usize },
    #[error(
        "the phone number has {count} digits and no +; expected 10 or 11 digits for a Russian \
         number, or + and a country code for another country"
    )]
    PhoneInternationalWithoutPlus { count: usize },
    #[error(
        "the phone number has 10 digits starting with 89, which looks like the trunk prefix 8 \
         and a 9-digit number; expected 11 digits (8 916 123-45-67) or 10 digits (916 123-45-67)"
    )]
    PhoneTruncatedTrunk,
    #[error(
        "the 10-digit phone number does not start with 3, 4, 8 or 9; expected a Russian code \
         such as 916 or 495, or + and a country code"
    )]
    PhoneTenDigitPrefix,
    #[error(
        "the Russian phone number has a code that does not start with 3, 4, 8 or 9 \
         (6 or 7 with +7 for Kazakhstan); expected a code such as 916 or 495"
    )]
    PhoneRussianCode,
    #[error(
        "a phone number with country code 7 has {count} digits; expected 11 \
         (7 and a 10-digit number)"
    )]
    PhoneRussianDigitCount { count: usize },
    #[error(
        "a phone number with country code 1 has {count} digits; expected 11 \
         (1 and a 10-digit number)"
    )]
    PhoneNanpDigitCount { count: usize },
    #[error(
        "the phone number does not start with a known country code; \
         expected + and a country code such as 7 or 44"
    )]
    PhoneUnknownCountryCode,
    #[error(
        "the international phone number has {count} digits; expected 7 to 15 digits \
         including the country code"
    )]
    PhoneInternationalDigitCount { count: usize },

    #[error("the tax id (INN) is empty; expected 10 or 12 digits")]
    TaxIdEmpty,
    #[error(
        "the tax id (INN) contains a character other than digits and spaces; \
         expected 10 or 12 digits"
    )]
    TaxIdNonDigit,
    #[error(
        "the tax id (INN) has {count} digits; expected 10 digits for a legal entity \
         or 12 for an individual"
    )]
    TaxIdLength { count: usize },
    #[error(
        "the tax id (INN) check digit does not match; expected a valid 10- or 12-digit INN \
         (a digit is probably mistyped)"
    )]
    TaxIdChecksum,
}

// ---------------------------------------------------------------------------------------
// Email
// ---------------------------------------------------------------------------------------

/// Maximum length of an email address in UTF-8 bytes (RFC 5321 path limit minus the angle
/// brackets; RFC 6531 keeps the limit in octets for internationalised addresses).
pub const EMAIL_MAX_BYTES: usize = 254;

/// Normalises an email address: trim, NFC, Unicode lower-case of the whole address (local
/// part included — providers treat it case-insensitively in practice, and a blind index must
/// not depend on how the caller typed it), NFC again.
///
/// Dots and `+tags` are kept: on many providers they are different mailboxes.
///
/// Rejected: empty, no `@`, more than one `@`, empty local part or domain, a domain without
/// a dot or with an empty label (`a@.ru`, `a@mail..ru`, `a@mail.ru.`), whitespace inside,
/// control or invisible formatting characters (zero-width space, bidi controls, soft
/// hyphen…), more than [`EMAIL_MAX_BYTES`] bytes after normalisation.
pub fn email(s: &str) -> Result<String, NormalizeError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(NormalizeError::EmailEmpty);
    }
    if t.chars().any(is_control_or_invisible) {
        return Err(NormalizeError::EmailControl);
    }
    if t.chars().any(char::is_whitespace) {
        return Err(NormalizeError::EmailWhitespace);
    }
    let nfc: String = t.nfc().collect();
    let v: String = nfc.to_lowercase().nfc().collect();
    if v.len() > EMAIL_MAX_BYTES {
        return Err(NormalizeError::EmailTooLong { len: v.len() });
    }
    let count = v.matches('@').count();
    let Some((local, domain)) = v.split_once('@') else {
        return Err(NormalizeError::EmailNoAt);
    };
    if count > 1 {
        return Err(NormalizeError::EmailManyAt { count });
    }
    if local.is_empty() {
        return Err(NormalizeError::EmailEmptyLocal);
    }
    if domain.is_empty() {
        return Err(NormalizeError::EmailEmptyDomain);
    }
    if !domain.contains('.') {
        return Err(NormalizeError::EmailDomainNoDot);
    }
    if domain.split('.').any(str::is_empty) {
        return Err(NormalizeError::EmailDomainEmptyLabel);
    }
    Ok(v)
}

/// Control characters (Cc) and the invisible format characters that make two addresses look
/// identical while differing (they would defeat the blind index and confuse staff).
fn is_control_or_invisible(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{061C}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{FEFF}'
        )
}

// ---------------------------------------------------------------------------------------
// Phone
// ---------------------------------------------------------------------------------------

/// Normalises a phone number to E.164 (`+79161234567`). Default region: Russia.
///
/// Accepted separators: any whitespace, `-` and typographic dashes, `.`, `(`, `)`. A `+` may
/// appear once, before the first digit. Accepted shapes:
///
/// * `+7` and 10 digits whose first digit is 3, 4, 8 or 9 (Russia) or 6, 7 (Kazakhstan,
///   which shares country code 7);
/// * 11 digits starting with `7` or `8` (trunk prefix) without `+`, followed by a Russian
///   code starting with 3, 4, 8 or 9 (`8 (916) 123-45-67`, `79161234567`);
/// * 10 digits without `+` starting with 9 (mobile) or 3, 4, 8 (geographic and 8xx
///   non-geographic codes such as 812, 800) — except **10 digits starting with `89`**, which
///   are rejected: no Russian area code starts with 89, so `8916123456` is almost certainly the
///   trunk prefix 8 followed by a mobile number missing a digit, and guessing would file the
///   value under someone else's number;
/// * `+` and another country code from the ITU list, 7–15 digits in total (`+1` requires
///   exactly 11).
///
/// Rejected: letters (including extension text such as `доб. 12` or `ext 12`), other
/// characters, a lone `+`, a `+` after a digit, too few or too many digits, international
/// numbers written without `+` (`0044…`, `810 44…`), unknown country codes.
pub fn phone(s: &str) -> Result<String, NormalizeError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(NormalizeError::PhoneEmpty);
    }
    if t.chars().any(char::is_alphabetic) {
        return Err(NormalizeError::PhoneLetters);
    }
    let mut digits = String::with_capacity(16);
    let mut plus = false;
    for c in t.chars() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if !plus && digits.is_empty() => plus = true,
            '+' => return Err(NormalizeError::PhoneMisplacedPlus),
            c if is_phone_separator(c) => {}
            _ => return Err(NormalizeError::PhoneInvalidCharacter),
        }
    }
    if digits.is_empty() {
        return Err(NormalizeError::PhoneNoDigits);
    }
    if plus {
        return international(&digits);
    }
    let count = digits.len();
    let bytes = digits.as_bytes();
    match (count, bytes[0]) {
        (11, b'7' | b'8') => {
            let national = &digits[1..];
            if is_russian_code_start(national.as_bytes()[0]) {
                Ok(format!("+7{national}"))
            } else {
                Err(NormalizeError::PhoneRussianCode)
            }
        }
        (10, b'8') if bytes[1] == b'9' => Err(NormalizeError::PhoneTruncatedTrunk),
        (10, first) if is_russian_code_start(first) => Ok(format!("+7{digits}")),
        (10, _) => Err(NormalizeError::PhoneTenDigitPrefix),
        (11.., _) => Err(NormalizeError::PhoneInternationalWithoutPlus { count }),
        _ => Err(NormalizeError::PhoneDigitCount { count }),
    }
}

fn is_phone_separator(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '-' | '\u{2010}'..='\u{2015}' | '\u{2212}' | '.' | '(' | ')'
        )
}

/// First digit of a Russian national (ABC/DEF) code: 3, 4 (geographic), 8 (geographic and
/// non-geographic 8xx), 9 (mobile).
fn is_russian_code_start(b: u8) -> bool {
    matches!(b, b'3' | b'4' | b'8' | b'9')
}

/// `digits` are all ASCII digits and were written after a `+`.
fn international(digits: &str) -> Result<String, NormalizeError> {
    let count = digits.len();
    let cc_len = country_code_len(digits).ok_or(NormalizeError::PhoneUnknownCountryCode)?;
    let national = &digits[cc_len..];
    match &digits[..cc_len] {
        "7" => {
            if count != 11 {
                return Err(NormalizeError::PhoneRussianDigitCount { count });
            }
            let first = national.as_bytes()[0];
            if !(is_russian_code_start(first) || matches!(first, b'6' | b'7')) {
                return Err(NormalizeError::PhoneRussianCode);
            }
        }
        "1" => {
            if count != 11 {
                return Err(NormalizeError::PhoneNanpDigitCount { count });
            }
        }
        _ => {
            if !(7..=15).contains(&count) {
                return Err(NormalizeError::PhoneInternationalDigitCount { count });
            }
        }
    }
    Ok(format!("+{digits}"))
}

/// Assigned two-digit country calling codes (ITU-T E.164).
const CC2: &[&str] = &[
    "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46", "47",
    "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63", "64", "65",
    "66", "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98",
];

/// Assigned three-digit country calling codes (ITU-T E.164, including the global services
/// 800, 808, 870, 878, 881–883, 888, 979, 991).
const CC3: &[&str] = &[
    "211", "212", "213", "216", "218", "220", "221", "222", "223", "224", "225", "226", "227",
    "228", "229", "230", "231", "232", "233", "234", "235", "236", "237", "238", "239", "240",
    "241", "242", "243", "244", "245", "246", "247", "248", "249", "250", "251", "252", "253",
    "254", "255", "256", "257", "258", "260", "261", "262", "263", "264", "265", "266", "267",
    "268", "269", "290", "291", "297", "298", "299", "350", "351", "352", "353", "354", "355",
    "356", "357", "358", "359", "370", "371", "372", "373", "374", "375", "376", "377", "378",
    "379", "380", "381", "382", "383", "385", "386", "387", "389", "420", "421", "423", "500",
    "501", "502", "503", "504", "505", "506", "507", "508", "509", "590", "591", "592", "593",
    "594", "595", "596", "597", "598", "599", "670", "672", "673", "674", "675", "676", "677",
    "678", "679", "680", "681", "682", "683", "685", "686", "687", "688", "689", "690", "691",
    "692", "800", "808", "850", "852", "853", "855", "856", "870", "878", "880", "881", "882",
    "883", "886", "888", "960", "961", "962", "963", "964", "965", "966", "967", "968", "970",
    "971", "972", "973", "974", "975", "976", "977", "979", "991", "992", "993", "994", "995",
    "996", "998",
];

/// Length of the country calling code at the start of `digits` (the digits of an E.164
/// number without the `+`), or `None` when no assigned code matches. Country codes are
/// prefix-free, so at most one length matches.
pub fn country_code_len(digits: &str) -> Option<usize> {
    let prefix = |n: usize| digits.get(..n).filter(|_| digits.len() > n);
    if matches!(prefix(1), Some("1" | "7")) {
        return Some(1);
    }
    if prefix(2).is_some_and(|p| CC2.contains(&p)) {
        return Some(2);
    }
    if prefix(3).is_some_and(|p| CC3.contains(&p)) {
        return Some(3);
    }
    None
}

// ---------------------------------------------------------------------------------------
// Tax id (INN)
// ---------------------------------------------------------------------------------------

const INN10_WEIGHTS: [u32; 9] = [2, 4, 10, 3, 5, 9, 4, 6, 8];
const INN12_WEIGHTS_11: [u32; 10] = [7, 2, 4, 10, 3, 5, 9, 4, 6, 8];
const INN12_WEIGHTS_12: [u32; 11] = [3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8];

/// Normalises a Russian tax id (INN): whitespace removed, then exactly 10 digits (legal
/// entity) or 12 digits (individual) with the official check digits:
///
/// * 10 digits: `d10 = (Σ dᵢ·wᵢ mod 11) mod 10`, w = 2, 4, 10, 3, 5, 9, 4, 6, 8;
/// * 12 digits: `d11` with w = 7, 2, 4, 10, 3, 5, 9, 4, 6, 8 over d1..d10, then `d12` with
///   w = 3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8 over d1..d11, each `(Σ mod 11) mod 10`.
pub fn tax_id(s: &str) -> Result<String, NormalizeError> {
    let v: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    if v.is_empty() {
        return Err(NormalizeError::TaxIdEmpty);
    }
    if !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(NormalizeError::TaxIdNonDigit);
    }
    let d: Vec<u32> = v.bytes().map(|b| u32::from(b - b'0')).collect();
    let ok = match d.len() {
        10 => check_digit(&d, &INN10_WEIGHTS) == d[9],
        12 => {
            check_digit(&d, &INN12_WEIGHTS_11) == d[10]
                && check_digit(&d, &INN12_WEIGHTS_12) == d[11]
        }
        count => return Err(NormalizeError::TaxIdLength { count }),
    };
    if ok {
        Ok(v)
    } else {
        Err(NormalizeError::TaxIdChecksum)
    }
}

fn check_digit(digits: &[u32], weights: &[u32]) -> u32 {
    let sum: u32 = digits.iter().zip(weights).map(|(d, w)| d * w).sum();
    sum % 11 % 10
}

// ---------------------------------------------------------------------------------------
// Text: fold, words, passphrase
// ---------------------------------------------------------------------------------------

/// Folds text for word search and comparisons: Unicode lower-case, `ё`/`Ё` → `е`, result in
/// NFC (so precomposed and decomposed input fold alike).
///
/// Also drops the combining acute and grave accents after a Cyrillic letter (`моло́ко` →
/// `молоко`, `ѐ` → `е`): Russian text marks stress that way, and a stress mark must not make
/// a word unfindable. Other diacritics (`й`, `é`, `ü`…) are kept.
pub fn fold(s: &str) -> String {
    let lower = s.to_lowercase();
    let mut out = String::with_capacity(lower.len());
    let mut base: Option<char> = None;
    for c in lower.nfd() {
        if is_combining_mark(c) {
            match (base, c) {
                (Some('е'), '\u{0308}') => continue,
                (Some(b), '\u{0300}' | '\u{0301}') if is_cyrillic(b) => continue,
                _ => {}
            }
        } else {
            base = Some(c);
        }
        out.push(c);
    }
    out.nfc().collect()
}

fn is_cyrillic(c: char) -> bool {
    matches!(
        c,
        '\u{0400}'..='\u{052F}'
            | '\u{1C80}'..='\u{1C8F}'
            | '\u{2DE0}'..='\u{2DFF}'
            | '\u{A640}'..='\u{A69F}'
    )
}

/// Splits text into folded words: any character that is neither a letter, a digit nor a
/// combining mark separates words (`Иванов-Петров` → `иванов`, `петров`; `ООО «Ромашка»` →
/// `ооо`, `ромашка`). Empty pieces are dropped and duplicates removed, keeping the first
/// occurrence's position.
pub fn words(s: &str) -> Vec<String> {
    let folded = fold(s);
    let mut seen: HashSet<&str> = HashSet::new();
    let mut out = Vec::new();
    for w in folded.split(|c: char| !(c.is_alphanumeric() || is_combining_mark(c))) {
        if w.chars().any(char::is_alphanumeric) && seen.insert(w) {
            out.push(w.to_owned());
        }
    }
    out
}

/// Normalises a designated contact's verification passphrase, both before it is hashed at
/// enrolment and before a staff member's "check" input is compared with the hash.
///
/// The passphrase is said aloud on the phone and typed by an agent, so only what survives
/// being spoken may matter: capitals, `ё` versus `е`, stress marks, Unicode composition and
/// the number of spaces cannot be heard. Hence: [`fold`] (NFC, lower-case, ё → е), trim, and
/// every run of whitespace collapsed to one space. Punctuation and digits are kept as typed.
pub fn passphrase(s: &str) -> String {
    fold(s).split_whitespace().collect::<Vec<_>>().join(" ")
}

// ---------------------------------------------------------------------------------------
// Detectors for personal data in free text (request subjects)
// ---------------------------------------------------------------------------------------

/// Characters allowed in the local part of an email-looking token (besides letters/digits).
fn is_local_char(c: char) -> bool {
    c.is_alphanumeric() || "._%+-'!#$&*/=?^`{|}~".contains(c)
}

fn is_domain_char(c: char) -> bool {
    c.is_alphanumeric() || c == '-' || c == '.' || is_combining_mark(c)
}

/// True when `s` contains an email-looking token: at least one local-part character directly
/// before an `@` (or the full-width `＠`), and directly after it a run of letters, digits,
/// dashes and dots that contains a dot with something on both sides (`x@y.z`).
///
/// Deliberately broad (a refusal is cheap, a leak is not); spelled-out forms such as
/// `ivan at mail dot ru` are not detected.
pub fn contains_email_like(s: &str) -> bool {
    let chars: Vec<char> = s.chars().collect();
    chars.iter().enumerate().any(|(i, &c)| {
        if c != '@' && c != '\u{FF20}' {
            return false;
        }
        let has_local = i > 0 && is_local_char(chars[i - 1]);
        let domain: String = chars[i + 1..]
            .iter()
            .take_while(|&&c| is_domain_char(c))
            .collect();
        let domain = domain.trim_end_matches(['.', '-']);
        has_local
            && domain
                .split_once('.')
                .is_some_and(|(head, _)| !head.is_empty())
            && domain
                .rsplit_once('.')
                .is_some_and(|(_, tail)| !tail.is_empty())
    })
}

/// Minimum number of digits for a run to count as phone-like.
pub const PHONE_LIKE_MIN_DIGITS: usize = 7;

/// True when `s` contains a run of at least [`PHONE_LIKE_MIN_DIGITS`] digits in which
/// consecutive digits are separated by at most three of: whitespace, dashes, brackets, `+`
/// (`+7 (916) 123-45-67`, `123 45 67`, `79161234567`).
///
/// Any Unicode numeric character counts as a digit (so full-width or Arabic-Indic digits do
/// not slip through). Dots do not join digits, so dates `12.05.2024`, versions and IP
/// addresses are not flagged; the price is that `916.123.45.67` is not detected. ISO dates
/// `2024-05-12` and long order numbers *are* flagged (8 digits joined by dashes).
pub fn contains_phone_like(s: &str) -> bool {
    const MAX_GAP: usize = 3;
    let mut digits = 0;
    let mut gap = 0;
    for c in s.chars() {
        if c.is_numeric() {
            digits += 1;
            gap = 0;
            if digits >= PHONE_LIKE_MIN_DIGITS {
                return true;
            }
        } else if c == '+' || (is_phone_separator(c) && c != '.') {
            gap += 1;
            if gap > MAX_GAP {
                digits = 0;
            }
        } else {
            digits = 0;
            gap = 0;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::unnecessary_wraps)] // compared with the Result of the function under test
    fn ok(s: &str) -> Result<String, NormalizeError> {
        Ok(s.to_owned())
    }

    // ----- email -----

    #[test]
    fn email_trims_and_lowercases() {
        assert_eq!(email("  Ivan.Petrov@Mail.RU "), ok("ivan.petrov@mail.ru"));
        assert_eq!(email("\tIVAN@MAIL.RU\n"), ok("ivan@mail.ru"));
    }

    #[test]
    fn email_keeps_dots_and_tags() {
        assert_eq!(
            email("I.Van+Support@Gmail.com"),
            ok("i.van+support@gmail.com")
        );
        assert_ne!(
            email("ivan.petrov@gmail.com"),
            email("ivanpetrov@gmail.com")
        );
        assert_ne!(email("ivan+a@gmail.com"), email("ivan@gmail.com"));
    }

    #[test]
    fn email_idn_lowercase_and_nfc() {
        assert_eq!(email("Иван@Почта.РФ"), ok("иван@почта.рф"));
        // Decomposed "й" (и + U+0306) and precomposed give the same string.
        assert_eq!(email("и\u{0306}ога@пример.рф"), email("йога@пример.рф"));
        assert_eq!(email("ЙОГА@ПРИМЕР.РФ"), ok("йога@пример.рф"));
        assert_eq!(email("José@Example.com"), email("Jose\u{0301}@example.com"));
    }

    #[test]
    fn email_rejections() {
        use NormalizeError as E;
        assert_eq!(email(""), Err(E::EmailEmpty));
        assert_eq!(email("   "), Err(E::EmailEmpty));
        assert_eq!(email("ivan.mail.ru"), Err(E::EmailNoAt));
        assert_eq!(
            email("ivan@petrov@mail.ru"),
            Err(E::EmailManyAt { count: 2 })
        );
        assert_eq!(email("@mail.ru"), Err(E::EmailEmptyLocal));
        assert_eq!(email("ivan@"), Err(E::EmailEmptyDomain));
        assert_eq!(email("ivan@localhost"), Err(E::EmailDomainNoDot));
        assert_eq!(email("ivan@.ru"), Err(E::EmailDomainEmptyLabel));
        assert_eq!(email("ivan@mail..ru"), Err(E::EmailDomainEmptyLabel));
        assert_eq!(email("ivan@mail.ru."), Err(E::EmailDomainEmptyLabel));
        assert_eq!(email("ivan petrov@mail.ru"), Err(E::EmailWhitespace));
        assert_eq!(email("ivan@mail\u{00A0}.ru"), Err(E::EmailWhitespace));
        assert_eq!(email("ivan\u{0007}@mail.ru"), Err(E::EmailControl));
        assert_eq!(email("iv\u{200B}an@mail.ru"), Err(E::EmailControl));
        assert_eq!(email("ivan@mail.ru\u{202E}"), Err(E::EmailControl));
        let long = format!("{}@mail.ru", "a".repeat(246));
        assert_eq!(long.len(), 254);
        assert_eq!(email(&long), Ok(long.clone()));
        let too_long = format!("a{long}");
        assert_eq!(email(&too_long), Err(E::EmailTooLong { len: 255 }));
        // Cyrillic letters are 2 bytes each: the limit is in bytes.
        let cyr = format!("{}@почта.рф", "я".repeat(124));
        assert_eq!(
            email(&cyr),
            Err(E::EmailTooLong {
                len: 248 + 1 + 10 + 1 + 4
            })
        );
    }

    // ----- phone -----

    #[test]
    fn phone_russian_spellings() {
        let want = ok("+79161234567");
        for s in [
            "8 (916) 123-45-67",
            "+7 916 123 45 67",
            "79161234567",
            "9161234567",
            "89161234567",
            "+7(916)123-45-67",
            "8.916.123.45.67",
            "  +7 916 123\u{2013}45\u{2013}67 ",
            "(+7) 916 1234567",
            "+ 7 916 123 45 67",
            "8\u{00A0}916\u{00A0}123\u{00A0}45\u{00A0}67",
        ] {
            assert_eq!(phone(s), want, "{s}");
        }
    }

    #[test]
    fn phone_geographic_and_8xx() {
        assert_eq!(phone("8 (495) 123-45-67"), ok("+74951234567"));
        assert_eq!(phone("4951234567"), ok("+74951234567"));
        assert_eq!(phone("8 812 123 45 67"), ok("+78121234567"));
        assert_eq!(phone("8121234567"), ok("+78121234567"));
        assert_eq!(phone("8-800-555-35-35"), ok("+78005553535"));
        assert_eq!(phone("8005553535"), ok("+78005553535"));
        assert_eq!(phone("3012123456"), ok("+73012123456"));
        // Kazakhstan shares +7; accepted only with the explicit +7.
        assert_eq!(phone("+7 701 123 45 67"), ok("+77011234567"));
    }

    #[test]
    fn phone_international() {
        assert_eq!(phone("+44 20 7946 0958"), ok("+442079460958"));
        assert_eq!(phone("+1 (212) 555-0123"), ok("+12125550123"));
        assert_eq!(phone("+49 30 1234567"), ok("+49301234567"));
        assert_eq!(phone("+375 29 123-45-67"), ok("+375291234567"));
        assert_eq!(phone("+290 1234"), ok("+2901234")); // 7 digits: the minimum
        assert_eq!(phone("+86 138 0013 8000"), ok("+8613800138000"));
    }

    #[test]
    fn phone_rejections() {
        use NormalizeError as E;
        assert_eq!(phone("12345"), Err(E::PhoneDigitCount { count: 5 }));
        assert_eq!(phone("+"), Err(E::PhoneNoDigits));
        assert_eq!(phone(" + "), Err(E::PhoneNoDigits));
        assert_eq!(phone("()-"), Err(E::PhoneNoDigits));
        assert_eq!(phone(""), Err(E::PhoneEmpty));
        assert_eq!(phone("8916123456"), Err(E::PhoneTruncatedTrunk));
        assert_eq!(phone("916123456"), Err(E::PhoneDigitCount { count: 9 }));
        assert_eq!(
            phone("891612345678"),
            Err(E::PhoneInternationalWithoutPlus { count: 12 })
        );
        assert_eq!(
            phone("00442079460958"),
            Err(E::PhoneInternationalWithoutPlus { count: 14 })
        );
        assert_eq!(phone("abc"), Err(E::PhoneLetters));
        assert_eq!(phone("8 916 ABC 45 67"), Err(E::PhoneLetters));
        assert_eq!(phone("+7 916 123 45 67 доб. 12"), Err(E::PhoneLetters));
        assert_eq!(phone("+7 916 123 45 67 ext 12"), Err(E::PhoneLetters));
        assert_eq!(phone("+7 916 123 45 67, 12"), Err(E::PhoneInvalidCharacter));
        assert_eq!(phone("+7 916 123 45 67#12"), Err(E::PhoneInvalidCharacter));
        assert_eq!(phone("+7 916 123/45/67"), Err(E::PhoneInvalidCharacter));
        assert_eq!(phone("8 916 +123 45 67"), Err(E::PhoneMisplacedPlus));
        assert_eq!(phone("++7 916 123 45 67"), Err(E::PhoneMisplacedPlus));
        assert_eq!(phone("7916123456"), Err(E::PhoneTenDigitPrefix));
        assert_eq!(phone("1234567890"), Err(E::PhoneTenDigitPrefix));
        assert_eq!(phone("8 (016) 123-45-67"), Err(E::PhoneRussianCode));
        assert_eq!(phone("+7 016 123 45 67"), Err(E::PhoneRussianCode));
        assert_eq!(
            phone("+7 916 123 45 678"),
            Err(E::PhoneRussianDigitCount { count: 12 })
        );
        assert_eq!(
            phone("+7 916 123 45 6"),
            Err(E::PhoneRussianDigitCount { count: 10 })
        );
        assert_eq!(
            phone("+1 212 555 012"),
            Err(E::PhoneNanpDigitCount { count: 10 })
        );
        assert_eq!(phone("+8 916 123 45 67"), Err(E::PhoneUnknownCountryCode));
        assert_eq!(phone("+0 123 456 789"), Err(E::PhoneUnknownCountryCode));
        assert_eq!(
            phone("+44 123"),
            Err(E::PhoneInternationalDigitCount { count: 5 })
        );
        assert_eq!(
            phone("+44 1234 5678 9012 34"),
            Err(E::PhoneInternationalDigitCount { count: 16 })
        );
        // Non-ASCII digits are not accepted as digits.
        assert_eq!(
            phone("８９１６１２３４５６７"),
            Err(E::PhoneInvalidCharacter)
        );
    }

    #[test]
    fn phone_near_misses_differ() {
        assert_ne!(phone("+7 916 123 45 67"), phone("+7 916 123 45 68"));
        assert_ne!(phone("8 916 123 45 67"), phone("8 916 123 45 76"));
        assert_ne!(phone("9161234567"), phone("9261234567"));
    }

    #[test]
    fn country_codes() {
        assert_eq!(country_code_len("79161234567"), Some(1));
        assert_eq!(country_code_len("12125550123"), Some(1));
        assert_eq!(country_code_len("442079460958"), Some(2));
        assert_eq!(country_code_len("375291234567"), Some(3));
        assert_eq!(country_code_len("8913800138000"), None);
        assert_eq!(country_code_len("0441234567"), None);
        assert_eq!(country_code_len("7"), None);
        assert_eq!(country_code_len(""), None);
        // Prefix-free: no two-digit code is the start of a three-digit one.
        for c3 in CC3 {
            assert!(!CC2.iter().any(|c2| c3.starts_with(c2)), "{c3}");
            assert!(!c3.starts_with('1') && !c3.starts_with('7'), "{c3}");
        }
        for c2 in CC2 {
            assert!(!c2.starts_with('1') && !c2.starts_with('7'), "{c2}");
        }
    }

    // ----- tax id -----

    #[test]
    fn tax_id_valid() {
        assert_eq!(tax_id("7707083893"), ok("7707083893")); // Sberbank
        assert_eq!(tax_id(" 7707 083 893 "), ok("7707083893"));
        assert_eq!(tax_id("7728168971"), ok("7728168971")); // Alfa-Bank
        assert_eq!(tax_id("500100732259"), ok("500100732259"));
        assert_eq!(tax_id("5001 0073 2259"), ok("500100732259"));
    }

    #[test]
    fn tax_id_invalid() {
        use NormalizeError as E;
        assert_eq!(tax_id("7707083894"), Err(E::TaxIdChecksum));
        assert_eq!(tax_id("7707083983"), Err(E::TaxIdChecksum));
        assert_eq!(tax_id("500100732258"), Err(E::TaxIdChecksum)); // 12th digit wrong
        assert_eq!(tax_id("500100732269"), Err(E::TaxIdChecksum)); // 11th digit wrong
        assert_eq!(tax_id("770708389"), Err(E::TaxIdLength { count: 9 }));
        assert_eq!(tax_id("77070838931"), Err(E::TaxIdLength { count: 11 }));
        assert_eq!(tax_id("7707-083893"), Err(E::TaxIdNonDigit));
        assert_eq!(tax_id("77O7083893"), Err(E::TaxIdNonDigit));
        assert_eq!(tax_id("  "), Err(E::TaxIdEmpty));
    }

    #[test]
    fn inn_weights_are_the_official_ones() {
        // Independent restatement: the 12-digit weights are the 10-digit ones with 7 (resp.
        // 3, 7) prepended, as published by the Federal Tax Service.
        assert_eq!(INN12_WEIGHTS_11[1..], INN10_WEIGHTS);
        assert_eq!(INN12_WEIGHTS_12[1..], INN12_WEIGHTS_11);
        // Sberbank: 7·2+7·4+0·10+7·3+0·5+8·9+3·4+8·6+9·8 = 267; 267 mod 11 = 3.
        assert_eq!(check_digit(&[7, 7, 0, 7, 0, 8, 3, 8, 9], &INN10_WEIGHTS), 3);
    }

    // ----- fold / words / passphrase -----

    #[test]
    fn fold_cases() {
        assert_eq!(fold("Ёлка"), "елка");
        assert_eq!(fold("ЁЖИК в тумане"), "ежик в тумане");
        assert_eq!(fold("Фёдор"), fold("Федор"));
        assert_eq!(fold("Фе\u{0308}дор"), "федор"); // decomposed ё
        assert_eq!(fold("Йогурт"), "йогурт"); // й is not е
        assert_eq!(fold("И\u{0306}огурт"), "йогурт");
        assert_eq!(fold("моло\u{0301}ко"), "молоко");
        assert_eq!(fold("Café"), "café");
        assert_eq!(fold("Cafe\u{0301}"), "café");
        assert_eq!(fold("Ivan PETROV"), "ivan petrov");
    }

    #[test]
    fn words_cases() {
        assert_eq!(words("Иванов-Петров"), ["иванов", "петров"]);
        assert_eq!(words("ООО «Ромашка»"), ["ооо", "ромашка"]);
        assert_eq!(words("Ёлки, ёлки и ЕЛКИ!"), ["елки", "и"]);
        assert_eq!(
            words("Ошибка 500 при оплате; error 500"),
            ["ошибка", "500", "при", "оплате", "error"]
        );
        assert_eq!(words("  ... — "), Vec::<String>::new());
        assert_eq!(words(""), Vec::<String>::new());
        assert_eq!(words("e-mail: ivan@mail.ru"), ["e", "mail", "ivan", "ru"]);
        assert_eq!(words("моло\u{0301}ко"), ["молоко"]);
    }

    #[test]
    fn passphrase_cases() {
        assert_eq!(passphrase("  Рыжий   Кот\tЁжик \n"), "рыжий кот ежик");
        assert_eq!(passphrase("рыжий кот ежик"), "рыжий кот ежик");
        assert_eq!(passphrase("Рыжий\u{00A0}кот"), "рыжий кот");
        assert_eq!(passphrase("Синий трактор 1999"), "синий трактор 1999");
        assert_ne!(passphrase("синий трактор"), passphrase("синий тракторы"));
        assert_eq!(passphrase(""), "");
    }

    // ----- detectors -----

    #[test]
    fn email_detector() {
        assert!(contains_email_like("пишите на ivan@mail.ru"));
        assert!(contains_email_like("(ivan.petrov@mail.ru)"));
        assert!(contains_email_like("иван@почта.рф срочно"));
        assert!(contains_email_like("a@b.c"));
        assert!(contains_email_like("x＠mail.ru"));
        assert!(!contains_email_like("не приходит письмо"));
        assert!(!contains_email_like("@support помогите"));
        assert!(!contains_email_like("ivan@ mail.ru"));
        assert!(!contains_email_like("ivan@localhost"));
        assert!(!contains_email_like("ivan@mail."));
        assert!(!contains_email_like("цена 5 @ 10.00"));
        assert!(!contains_email_like("@"));
        assert!(!contains_email_like(""));
    }

    #[test]
    fn phone_detector() {
        assert!(contains_phone_like("перезвоните +7 (916) 123-45-67"));
        assert!(contains_phone_like("тел 89161234567"));
        assert!(contains_phone_like("123-45-67"));
        assert!(contains_phone_like("123 45 67"));
        assert!(contains_phone_like("8 (916) 123 - 45 - 67"));
        assert!(contains_phone_like("a1234567b"));
        assert!(contains_phone_like("+44 20 7946 0958"));
        assert!(contains_phone_like("１２３４５６７")); // full-width digits
        assert!(contains_phone_like("2024-05-12")); // documented false positive
        assert!(!contains_phone_like("Ошибка 500 при оплате"));
        assert!(!contains_phone_like("123456"));
        assert!(!contains_phone_like("счёт от 12.05.2024"));
        assert!(!contains_phone_like("версия 1.2.3.4567"));
        assert!(!contains_phone_like("заказ 123 от 4567 руб"));
        assert!(!contains_phone_like("123    4567")); // gap of four separators
        assert!(!contains_phone_like(""));
    }

    // ----- errors never echo the input -----

    #[test]
    fn error_messages_name_no_value() {
        let inputs = [
            "ivan.petrov@mail",
            "ivan@petrov@mail.ru",
            "iv an@mail.ru",
            "8916123456",
            "+7 916 123 45 67 доб. 12",
            "+8 916 123 45 67",
            "7707083894",
            "500100732258",
        ];
        for s in inputs {
            for e in [email(s).err(), phone(s).err(), tax_id(s).err()]
                .into_iter()
                .flatten()
            {
                let msg = e.to_string();
                assert!(!msg.contains(s), "{msg}");
                assert!(!msg.contains(&s.replace(' ', "")), "{msg}");
            }
        }
    }

    mod props {
        use super::super::*;
        use proptest::prelude::*;

        /// Digits only: keeps error messages in the tests short.
        fn sep() -> impl Strategy<Value = &'static str> {
            prop::sample::select(vec!["", " ", "-", " - ", "(", ")", ".", "\u{00A0}"])
        }

        proptest! {
            #[test]
            fn no_panic_any_input(s in "\\PC{0,40}") {
                let _ = email(&s);
                let _ = phone(&s);
                let _ = tax_id(&s);
                let _ = fold(&s);
                let _ = words(&s);
                let _ = passphrase(&s);
                let _ = contains_email_like(&s);
                let _ = contains_phone_like(&s);
            }

            #[test]
            fn no_panic_phone_shaped(s in "[+0-9 ()\\-.]{0,24}") {
                let _ = phone(&s);
                let _ = contains_phone_like(&s);
            }

            /// Normalised values are fixed points (a stored value re-normalises to itself).
            #[test]
            fn idempotent(s in "[ a-zA-Zа-яА-ЯёЁ0-9.@+_-]{0,30}") {
                if let Ok(e) = email(&s) { prop_assert_eq!(email(&e), Ok(e.clone())); }
                if let Ok(p) = phone(&s) { prop_assert_eq!(phone(&p), Ok(p.clone())); }
                if let Ok(t) = tax_id(&s) { prop_assert_eq!(tax_id(&t), Ok(t.clone())); }
                let f = fold(&s);
                prop_assert_eq!(fold(&f), f.clone());
                let p = passphrase(&s);
                prop_assert_eq!(passphrase(&p), p.clone());
            }

            /// Any formatting of the same Russian mobile number gives the same string; a
            /// different digit gives a different one.
            #[test]
            fn phone_formatting_invariance(
                n in "9[0-9]{9}",
                prefix in prop::sample::select(vec!["+7", "8", "7", "", "+7 ", "8 ("]),
                seps in prop::collection::vec(sep(), 10),
                pos in 0usize..10,
                delta in 1u8..10,
            ) {
                let mut s = prefix.to_owned();
                for (c, sp) in n.chars().zip(&seps) {
                    s.push(c);
                    s.push_str(sp);
                }
                let want = format!("+7{n}");
                prop_assert_eq!(phone(&s), Ok(want.clone()));
                let mut other: Vec<u8> = n.clone().into_bytes();
                other[pos] = b'0' + (other[pos] - b'0' + delta) % 10;
                let other = String::from_utf8(other).unwrap_or_default();
                if let Ok(p) = phone(&other) {
                    prop_assert_ne!(p, want);
                }
            }

            /// Every valid phone is E.164: `+`, 7–15 ASCII digits, known country code.
            #[test]
            fn phone_output_is_e164(s in "\\+?[0-9 ]{0,18}") {
                if let Ok(p) = phone(&s) {
                    let d = p.strip_prefix('+').unwrap_or_default();
                    prop_assert!((7..=15).contains(&d.len()));
                    prop_assert!(d.bytes().all(|b| b.is_ascii_digit()));
                    prop_assert!(country_code_len(d).is_some());
                }
            }

            /// A single changed digit of 7707083893 always breaks the checksum: every weight is
            /// non-zero mod 11, so the sum mod 11 changes, and only 3 maps to check digit 3.
            #[test]
            fn inn_single_digit_change(pos in 0usize..10, delta in 1u8..10) {
                let mut v = b"7707083893".to_vec();
                v[pos] = b'0' + (v[pos] - b'0' + delta) % 10;
                let s = String::from_utf8(v).unwrap_or_default();
                prop_assert!(tax_id(&s).is_err());
            }

            /// Error messages never contain the input (4+ characters of it).
            #[test]
            fn errors_do_not_echo(s in "[+0-9a-zа-я@. ]{4,30}") {
                let t = s.trim();
                prop_assume!(t.chars().count() >= 4);
                for e in [email(&s).err(), phone(&s).err(), tax_id(&s).err()]
                    .into_iter()
                    .flatten()
                {
                    prop_assert!(!e.to_string().contains(t));
                }
            }

            #[test]
            fn words_are_folded_and_unique(s in "[ a-zA-Zа-яА-ЯёЁ0-9«»,.!-]{0,40}") {
                let w = words(&s);
                let set: std::collections::HashSet<_> = w.iter().collect();
                prop_assert_eq!(set.len(), w.len());
                for x in &w {
                    prop_assert!(!x.is_empty());
                    prop_assert_eq!(&fold(x), x);
                    prop_assert!(x.chars().all(char::is_alphanumeric));
                }
            }
        }
    }
}
