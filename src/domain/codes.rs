//! Codes people read aloud, type or print: check-in tickets and certificates. Digits and
//! upper-case letters without the look-alikes 0, O, 1, I and L, drawn from the operating
//! system's CSPRNG, shown in groups of five with a hyphen and accepted however they are
//! typed (lower case, spaces, hyphens or none).

/// The 31 symbols a code may use.
pub const CODE_ALPHABET: &[u8; 31] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// Symbols of a ticket: 31^9 ≈ 2^44.6 possible codes, shown as 10 characters (`ABCDE-FGHJ`).
pub const TICKET_SYMBOLS: usize = 9;

/// Symbols of a certificate, whose page is public: 31^12 ≈ 2^59.4 (`ABCDE-FGHJK-MN`).
pub const CERTIFICATE_SYMBOLS: usize = 12;

/// `symbols` random symbols of the alphabet, without modulo bias (bytes ≥ 248 are drawn
/// again).
pub fn random_code(symbols: usize) -> String {
    let mut code = String::with_capacity(symbols);
    let mut buffer = [0u8; 32];
    while code.len() < symbols {
        getrandom::fill(&mut buffer).expect("the operating system's random source");
        for byte in buffer {
            // 248 = 8 × 31: the bytes below it map evenly onto the alphabet.
            if byte < 248 && code.len() < symbols {
                code.push(CODE_ALPHABET[usize::from(byte) % CODE_ALPHABET.len()] as char);
            }
        }
    }
    code
}

/// A code as typed, in its stored form (symbols only, upper case), or `None` if it holds
/// anything but symbols, spaces and hyphens, or not exactly `symbols` of them.
pub fn normalise_code(input: &str, symbols: usize) -> Option<String> {
    let mut code = String::with_capacity(symbols);
    for c in input.chars() {
        match c {
            ' ' | '-' | '\u{2010}'..='\u{2015}' => continue,
            c if c.is_ascii() && CODE_ALPHABET.contains(&(c.to_ascii_uppercase() as u8)) => {
                code.push(c.to_ascii_uppercase())
            }
            _ => return None,
        }
    }
    (code.len() == symbols).then_some(code)
}

/// A stored code as people see it: groups of five joined by hyphens.
pub fn display_code(code: &str) -> String {
    code.as_bytes()
        .chunks(5)
        .map(|group| std::str::from_utf8(group).unwrap_or_default())
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_use_only_the_alphabet_and_are_unique() {
        let mut seen = HashSet::new();
        for _ in 0..20_000 {
            let code = random_code(TICKET_SYMBOLS);
            assert_eq!(code.len(), TICKET_SYMBOLS);
            assert!(code.bytes().all(|b| CODE_ALPHABET.contains(&b)), "{code}");
            assert!(!code.contains(['0', 'O', '1', 'I', 'L']));
            assert!(seen.insert(code));
        }
        // Every symbol turns up (none is unreachable through the mapping).
        let all: HashSet<u8> = seen.iter().flat_map(|c| c.bytes()).collect();
        assert_eq!(all.len(), CODE_ALPHABET.len());
    }

    #[test]
    fn shown_codes_fit_ten_characters_and_are_read_back_however_typed() {
        let code = random_code(TICKET_SYMBOLS);
        let shown = display_code(&code);
        assert_eq!(shown.len(), 10);
        assert_eq!(&shown[5..6], "-");
        assert_eq!(
            normalise_code(&shown, TICKET_SYMBOLS).as_deref(),
            Some(&*code)
        );
        let typed = format!(" {} ", shown.to_lowercase().replace('-', " "));
        assert_eq!(
            normalise_code(&typed, TICKET_SYMBOLS).as_deref(),
            Some(&*code)
        );
        assert_eq!(normalise_code(&code[..8], TICKET_SYMBOLS), None);
        assert_eq!(normalise_code("ABCDE-FGH0", TICKET_SYMBOLS), None);
        assert_eq!(normalise_code("ABCDE-FGHกข", TICKET_SYMBOLS), None);
        assert_eq!(display_code("ABCDEFGHJKMN"), "ABCDE-FGHJK-MN");
    }
}
