//! Account identifiers and credentials as residents type them on a phone.

use crate::i18n::Code;
use std::fmt;

/// Machine code of why a value was refused; the API turns it into a localised message.
pub type Refusal = Code;

/// A Thai phone number in E.164 form (`+66` and 8 or 9 national digits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    /// Accepts what people actually type: `0812345678`, `081-234-5678`, `+66 81 234 5678`,
    /// `66812345678`, with spaces, dashes, dots or brackets, and Thai digits (๐–๙).
    pub fn parse(raw: &str) -> Result<Self, Refusal> {
        let mut digits = String::with_capacity(raw.len());
        let mut plus = false;
        for (i, c) in raw.trim().chars().enumerate() {
            match c {
                '0'..='9' => digits.push(c),
                '๐'..='๙' => {
                    let value = c as u32 - '๐' as u32;
                    digits.push(char::from_digit(value, 10).ok_or(Code::InvalidPhone)?);
                }
                '+' if i == 0 => plus = true,
                ' ' | '-' | '.' | '(' | ')' => {}
                _ => return Err(Code::InvalidPhone),
            }
        }
        let national = if plus {
            digits.strip_prefix("66").ok_or(Code::PhoneNotThai)?
        } else if let Some(rest) = digits.strip_prefix('0') {
            rest
        } else if let Some(rest) = digits.strip_prefix("66").filter(|r| r.len() >= 8) {
            rest
        } else {
            return Err(Code::InvalidPhone);
        };
        // +66 followed by a trunk zero (`+66 081…`) is a common slip; tolerate it.
        let national = national.strip_prefix('0').unwrap_or(national);
        let valid = match national.len() {
            // Mobile numbers: 06, 08, 09 nationally.
            9 => matches!(national.as_bytes()[0], b'6' | b'8' | b'9'),
            // Fixed lines: 02 Bangkok, 03x–07x provinces.
            8 => matches!(national.as_bytes()[0], b'2'..=b'7'),
            _ => false,
        };
        if !valid {
            return Err(Code::InvalidPhone);
        }
        Ok(Phone(format!("+66{national}")))
    }

    /// Whether it is a mobile number (one a text message reaches): +66 6…, 8…, 9….
    pub fn is_mobile(&self) -> bool {
        self.0.len() == 12 && matches!(self.0.as_bytes()[3], b'6' | b'8' | b'9')
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An e-mail address, trimmed and lower-cased so the same mailbox is one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, Refusal> {
        let email = raw.trim().to_lowercase();
        if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(Code::InvalidEmail);
        }
        let (local, domain) = email.rsplit_once('@').ok_or(Code::InvalidEmail)?;
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && !domain.contains('@');
        if local.is_empty() || local.len() > 64 || local.contains('@') || !domain_ok {
            return Err(Code::InvalidEmail);
        }
        Ok(Email(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password of 8–128 characters (counted as characters, so Thai counts fairly).
pub struct Password(String);

impl Password {
    pub const MIN_CHARS: usize = 8;
    pub const MAX_CHARS: usize = 128;

    pub fn parse(raw: &str) -> Result<Self, Refusal> {
        let chars = raw.chars().count();
        if chars < Self::MIN_CHARS {
            return Err(Code::PasswordTooShort);
        }
        if chars > Self::MAX_CHARS {
            return Err(Code::PasswordTooLong);
        }
        if raw.trim().is_empty() {
            return Err(Code::PasswordTooShort);
        }
        Ok(Password(raw.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// The name shown to staff and in greetings: 1–100 characters after trimming.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(raw: &str) -> Result<Self, Refusal> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(Code::Required);
        }
        // At most 100 characters as sent (the spec's `maxLength` counts padding too).
        if raw.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(Code::InvalidDisplayName);
        }
        Ok(DisplayName(name.to_string()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// The key a login attempt is recorded under: the E.164 phone or the normalised e-mail,
/// so `081…` and `+6681…` are throttled as the same account.
pub fn normalise_login(raw: &str) -> String {
    if let Ok(phone) = Phone::parse(raw) {
        return phone.0;
    }
    if let Ok(email) = Email::parse(raw) {
        return email.0;
    }
    // Neither a phone nor an e-mail: looked up as typed, without the control characters
    // (a NUL byte is refused by PostgreSQL in any text parameter), so it matches nobody.
    raw.trim()
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .to_lowercase()
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    /// A national number without its trunk zero: mobile (9 digits) or fixed line (8).
    fn national() -> impl Strategy<Value = String> {
        prop_oneof!["[689][0-9]{8}", "[2-7][0-9]{7}"]
    }

    /// The ways people write the same number.
    fn written(national: &str, form: u8, separators: &[&str], thai: bool) -> String {
        let prefix = match form % 4 {
            0 => "0",
            1 => "+66",
            2 => "66",
            _ => "+66 0",
        };
        let mut out = prefix.to_string();
        for (i, d) in national.chars().enumerate() {
            out.push_str(separators[i % separators.len()]);
            let digit = d.to_digit(10).unwrap();
            out.push(if thai {
                char::from_u32('๐' as u32 + digit).unwrap()
            } else {
                d
            });
        }
        out
    }

    proptest! {
        #[test]
        fn every_way_of_writing_a_number_gives_one_e164_form(
            national in national(),
            form in 0u8..4,
            separators in proptest::collection::vec(prop_oneof![Just(""), Just(" "), Just("-"), Just(".")], 1..4),
            thai in any::<bool>(),
            pad in " {0,2}",
        ) {
            let typed = format!("{pad}{}{pad}", written(&national, form, &separators, thai));
            let phone = Phone::parse(&typed);
            prop_assert_eq!(phone.map(|p| p.0), Ok(format!("+66{national}")), "typed {:?}", typed);
        }

        #[test]
        fn any_text_gives_an_e164_number_or_a_refusal_and_parsing_is_stable(raw in "\\PC{0,30}|[0-9+ ()\\-]{0,20}") {
            if let Ok(phone) = Phone::parse(&raw) {
                let digits = &phone.as_str()[3..];
                prop_assert!(phone.as_str().starts_with("+66"));
                prop_assert!(digits.len() == 8 || digits.len() == 9);
                prop_assert!(digits.chars().all(|c| c.is_ascii_digit()));
                prop_assert_eq!(Phone::parse(phone.as_str()), Ok(phone.clone()));
                prop_assert_eq!(normalise_login(&raw), phone.as_str());
            }
        }

        #[test]
        fn one_mailbox_is_one_account_however_it_is_typed(
            local in "[a-z0-9._%+-]{1,30}",
            domain in "[a-z0-9-]{1,20}\\.(co\\.th|go\\.th|com|th)",
            upper in proptest::collection::vec(any::<bool>(), 60),
            pad in "[ \\t]{0,2}",
        ) {
            let address = format!("{local}@{domain}");
            let typed: String = address
                .chars()
                .zip(upper.iter().cycle())
                .map(|(c, up)| if *up { c.to_ascii_uppercase() } else { c })
                .collect();
            let parsed = Email::parse(&format!("{pad}{typed}{pad}"));
            prop_assert_eq!(parsed.map(|e| e.0), Ok(address));
        }

        #[test]
        fn any_text_gives_a_plausible_address_or_a_refusal(raw in "\\PC{0,80}") {
            if let Ok(email) = Email::parse(&raw) {
                let text = email.as_str();
                prop_assert!(text.len() <= 254);
                prop_assert_eq!(text.matches('@').count(), 1);
                prop_assert!(!text.chars().any(char::is_whitespace));
                prop_assert_eq!(text.to_lowercase(), text);
                prop_assert_eq!(Email::parse(text), Ok(email.clone()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thai_phone_numbers_normalise_to_e164() {
        for raw in [
            "0812345678",
            "+66812345678",
            "66 81 234 5678",
            "081-234-5678",
            "(081) 234 5678",
            "+66 081 234 5678",
            "๐๘๑๒๓๔๕๖๗๘",
        ] {
            assert_eq!(
                Phone::parse(raw).map(|p| p.0),
                Ok("+66812345678".into()),
                "{raw}"
            );
        }
        assert_eq!(
            Phone::parse("02 123 4567").map(|p| p.0),
            Ok("+6621234567".into())
        );
    }

    #[test]
    fn garbage_is_not_a_phone_number() {
        for raw in [
            "",
            "abc",
            "12345",
            "081234567",
            "08123456789",
            "+1 415 555 0100",
            "0012345678",
            "08123x5678",
            "+",
            "++66812345678",
            "0812345678+",
            "66",
        ] {
            assert!(Phone::parse(raw).is_err(), "{raw:?} was accepted");
        }
        assert_eq!(Phone::parse("+1 415 555 0100"), Err(Code::PhoneNotThai));
    }

    #[test]
    fn emails_are_trimmed_and_lowercased() {
        assert_eq!(
            Email::parse(" Somchai@Example.CO.TH ").map(|e| e.0),
            Ok("somchai@example.co.th".into())
        );
        for bad in [
            "",
            "a@b",
            "@x.th",
            "a@.th",
            "a b@x.th",
            "a@x..th",
            "a@x.th.",
            "noat.example.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn passwords_count_characters_not_bytes() {
        // Eight Thai characters are 24 bytes but a valid eight-character password.
        assert!(Password::parse("รหัสผ่านดี").is_ok());
        assert_eq!(Password::parse("short").err(), Some(Code::PasswordTooShort));
        assert_eq!(
            Password::parse(&"ก".repeat(129)).err(),
            Some(Code::PasswordTooLong)
        );
        assert!(Password::parse(&"ก".repeat(128)).is_ok());
        assert_eq!(
            Password::parse("         ").err(),
            Some(Code::PasswordTooShort)
        );
    }

    #[test]
    fn logins_normalise_like_registration() {
        assert_eq!(normalise_login("081 234 5678"), "+66812345678");
        assert_eq!(normalise_login("A@X.TH"), "a@x.th");
        assert_eq!(normalise_login("  Whatever "), "whatever");
    }
}
