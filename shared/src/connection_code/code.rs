//! The connection code itself: nine random digits read aloud in groups of
//! three ("123 456 789"), generated from a caller-supplied CSPRNG, parsed
//! tolerantly of spaces and dashes but strictly otherwise, and its URL form
//! (`<server>/connect/123-456-789`).

use core::fmt;
use core::str::FromStr;

use rand_core::RngCore;

/// Digits in a connection code.
pub const CODE_DIGITS: usize = 9;
/// The path segment before the code in a code's URL form.
pub const URL_PATH: &str = "/connect/";

/// Number of distinct codes, 10^9.
const CODE_SPACE: u32 = 1_000_000_000;
/// The largest multiple of `CODE_SPACE` that fits in a `u32`: draws at or
/// above it are rejected so every code is equally likely.
const UNBIASED_LIMIT: u32 = 4 * CODE_SPACE;
/// Longest typed code accepted, in characters (digits plus separators).
const MAX_CODE_CHARS: usize = 64;
/// Longest URL form accepted, in bytes.
const MAX_URL_BYTES: usize = 2048;

/// A connection code: a number below 10^9, shown with leading zeros.
///
/// `Debug` hides the digits so a code never lands in a log by accident;
/// use `Display` (grouped) or [`ConnectionCode::digits`] deliberately.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnectionCode(u32);

impl ConnectionCode {
    /// A fresh, uniformly random code. Pass a CSPRNG (the server's `OsRng`);
    /// tests pass a seeded one.
    pub fn generate(rng: &mut impl RngCore) -> Self {
        loop {
            let draw = rng.next_u32();
            if draw < UNBIASED_LIMIT {
                return ConnectionCode(draw % CODE_SPACE);
            }
        }
    }

    /// The code with this numeric value, if it is below 10^9.
    pub fn from_value(value: u32) -> Option<Self> {
        (value < CODE_SPACE).then_some(ConnectionCode(value))
    }

    /// The numeric value.
    pub fn value(self) -> u32 {
        self.0
    }

    /// The nine digits without separators: the canonical form to hash.
    pub fn digits(self) -> String {
        format!("{:09}", self.0)
    }

    /// The URL form under `server_base` (e.g. `https://tether.example`; a
    /// trailing `/` is dropped): `https://tether.example/connect/123-456-789`.
    pub fn url(self, server_base: &str) -> String {
        let digits = self.digits();
        format!("{}{URL_PATH}{}-{}-{}", server_base.trim_end_matches('/'), &digits[0..3], &digits[3..6], &digits[6..9])
    }

    /// Reads a typed code. Spaces, tabs and dashes anywhere are ignored;
    /// anything else but the ASCII digits 0–9 is an error naming the
    /// character and its position.
    pub fn parse(input: &str) -> Result<Self, CodeParseError> {
        if input.chars().count() > MAX_CODE_CHARS {
            return Err(CodeParseError::TooLong);
        }
        let mut value: u32 = 0;
        let mut digits = 0_usize;
        for (index, character) in input.chars().enumerate() {
            if character.is_ascii_digit() {
                digits += 1;
                if digits <= CODE_DIGITS {
                    value = value * 10 + u32::from(character as u8 - b'0');
                }
            } else if !is_separator(character) {
                return Err(CodeParseError::InvalidCharacter { character, position: index + 1 });
            }
        }
        match digits {
            0 => Err(CodeParseError::Empty),
            CODE_DIGITS => Ok(ConnectionCode(value)),
            found => Err(CodeParseError::WrongLength { digits: found }),
        }
    }

    /// Every code one slip away from this one: one digit changed (81) or
    /// two neighbouring different digits swapped (at most 8). The server
    /// checks a wrong guess's near misses against live codes to count the
    /// tries aimed at a code (see `Event::WrongGuess`).
    pub fn near_misses(self) -> Vec<ConnectionCode> {
        let digits: Vec<u8> = self.digits().bytes().map(|b| b - b'0').collect();
        let to_code = |candidate: &[u8]| {
            ConnectionCode(candidate.iter().fold(0_u32, |value, &digit| value * 10 + u32::from(digit)))
        };
        let mut misses = Vec::with_capacity(89);
        let mut candidate = digits.clone();
        for position in 0..CODE_DIGITS {
            for digit in (0..10).filter(|&d| d != digits[position]) {
                candidate[position] = digit;
                misses.push(to_code(&candidate));
            }
            candidate[position] = digits[position];
        }
        for position in 0..CODE_DIGITS - 1 {
            if digits[position] != digits[position + 1] {
                candidate.swap(position, position + 1);
                misses.push(to_code(&candidate));
                candidate.swap(position, position + 1);
            }
        }
        misses
    }
}

/// Characters a person may put between digits: whitespace (including
/// no-break spaces from pasted text) and dashes.
fn is_separator(character: char) -> bool {
    character.is_whitespace() || matches!(character, '-' | '\u{2010}'..='\u{2015}' | '\u{2212}')
}

impl fmt::Display for ConnectionCode {
    /// Grouped for reading aloud: `123 456 789`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.digits();
        write!(f, "{} {} {}", &digits[0..3], &digits[3..6], &digits[6..9])
    }
}

impl fmt::Debug for ConnectionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ConnectionCode(<redacted>)")
    }
}

impl FromStr for ConnectionCode {
    type Err = CodeParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ConnectionCode::parse(s)
    }
}

/// What a person entered: a code, or a code's URL form, which also names
/// the server to send it to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeInput {
    /// The server from the URL form (`scheme://host[:port][/prefix]`), or
    /// `None` for a bare code.
    pub server: Option<String>,
    /// The code.
    pub code: ConnectionCode,
}

impl CodeInput {
    /// Reads a bare code (as [`ConnectionCode::parse`]) or an `http(s)` URL
    /// ending in `/connect/<code>`. Surrounding whitespace is ignored.
    pub fn parse(input: &str) -> Result<Self, CodeParseError> {
        let trimmed = input.trim();
        if !trimmed.contains("://") {
            return ConnectionCode::parse(trimmed).map(|code| CodeInput { server: None, code });
        }
        if trimmed.len() > MAX_URL_BYTES {
            return Err(CodeParseError::TooLong);
        }
        let (server, code) = trimmed.rsplit_once(URL_PATH).ok_or(CodeParseError::NotAConnectionLink)?;
        let server = server.trim_end_matches('/');
        let code = code.strip_suffix('/').unwrap_or(code);
        if !is_server_base(server) || code.contains('/') {
            return Err(CodeParseError::NotAConnectionLink);
        }
        let code = ConnectionCode::parse(code)?;
        Ok(CodeInput { server: Some(server.to_owned()), code })
    }
}

/// `http(s)://authority[/path]` with no user info, query, fragment,
/// backslash or whitespace.
fn is_server_base(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once("://") else {
        return false;
    };
    let authority = rest.split('/').next().unwrap_or_default();
    (scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http"))
        && !authority.is_empty()
        && rest.bytes().all(|b| b.is_ascii_graphic() && !matches!(b, b'@' | b'?' | b'#' | b'\\'))
}

/// Why an entered code was not accepted, worded for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodeParseError {
    /// Nothing but spaces and dashes was entered.
    #[error("enter the 9-digit connection code")]
    Empty,
    /// Far longer than a code or its link.
    #[error("that is too long to be a connection code")]
    TooLong,
    /// A character that is neither a digit 0–9 nor a space or dash.
    #[error("{character:?} (character {position}) is not a digit; a connection code has only digits 0-9")]
    InvalidCharacter {
        /// The offending character.
        character: char,
        /// Its position, counting characters from 1.
        position: usize,
    },
    /// Too few or too many digits.
    #[error("a connection code has 9 digits; this has {digits}")]
    WrongLength {
        /// How many digits were entered.
        digits: usize,
    },
    /// A URL that is not a connection link (`http(s)://server/connect/<code>`).
    #[error("that link is not a Tether connection link")]
    NotAConnectionLink,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic `RngCore` replaying fixed draws.
    struct Replay(Vec<u32>);

    impl RngCore for Replay {
        fn next_u32(&mut self) -> u32 {
            self.0.remove(0)
        }
        fn next_u64(&mut self) -> u64 {
            u64::from(self.next_u32())
        }
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            rand_core::impls::fill_bytes_via_next(self, dest);
        }
        fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
            self.fill_bytes(dest);
            Ok(())
        }
    }

    fn code(value: u32) -> ConnectionCode {
        ConnectionCode::from_value(value).expect("below 10^9")
    }

    #[test]
    fn generation_rejects_biased_draws_and_keeps_leading_zeros() {
        let mut rng = Replay(vec![u32::MAX, UNBIASED_LIMIT, 3_000_000_042]);
        let generated = ConnectionCode::generate(&mut rng);
        assert_eq!(generated.digits(), "000000042");
        assert_eq!(generated.to_string(), "000 000 042");
        assert!(rng.0.is_empty(), "two biased draws skipped, the third used");
    }

    #[test]
    fn generated_codes_use_every_digit_position() {
        let mut state = 0x9e37_79b9_u32;
        let mut draws = Vec::new();
        for _ in 0..2000 {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            draws.push(state);
        }
        let mut rng = Replay(draws);
        let mut seen = [[false; 10]; CODE_DIGITS];
        for _ in 0..1000 {
            for (position, digit) in ConnectionCode::generate(&mut rng).digits().bytes().enumerate() {
                seen[position][usize::from(digit - b'0')] = true;
            }
        }
        assert!(seen.iter().all(|digits| digits.iter().all(|&d| d)), "{seen:?}");
    }

    #[test]
    fn formats() {
        let c = code(123_456_789);
        assert_eq!(c.to_string(), "123 456 789");
        assert_eq!(c.digits(), "123456789");
        assert_eq!(c.url("https://tether.example/"), "https://tether.example/connect/123-456-789");
        assert_eq!(format!("{c:?}"), "ConnectionCode(<redacted>)");
        assert_eq!(ConnectionCode::from_value(CODE_SPACE), None);
    }

    #[test]
    fn parsing_tolerates_spaces_and_dashes() {
        for input in [
            "123456789",
            "123 456 789",
            " 123-456-789 ",
            "123\u{a0}456\u{2013}789",
            "1 2 3 4 5 6 7 8 9",
            "\t123--456  789\n",
        ] {
            assert_eq!(ConnectionCode::parse(input), Ok(code(123_456_789)), "{input:?}");
        }
        assert_eq!("000 000 001".parse(), Ok(code(1)));
    }

    #[test]
    fn parsing_is_strict_otherwise() {
        let cases = [
            ("", CodeParseError::Empty),
            (" - ", CodeParseError::Empty),
            ("12345678", CodeParseError::WrongLength { digits: 8 }),
            ("1234567890", CodeParseError::WrongLength { digits: 10 }),
            ("123.456.789", CodeParseError::InvalidCharacter { character: '.', position: 4 }),
            ("123 456 78O", CodeParseError::InvalidCharacter { character: 'O', position: 11 }),
            ("+123456789", CodeParseError::InvalidCharacter { character: '+', position: 1 }),
            ("١٢٣٤٥٦٧٨٩", CodeParseError::InvalidCharacter { character: '١', position: 1 }),
            ("１２３４５６７８９", CodeParseError::InvalidCharacter { character: '１', position: 1 }),
        ];
        for (input, error) in cases {
            assert_eq!(ConnectionCode::parse(input), Err(error), "{input:?}");
        }
        assert_eq!(ConnectionCode::parse(&"1".repeat(65)), Err(CodeParseError::TooLong));
        assert_eq!(ConnectionCode::parse(&"9".repeat(40)), Err(CodeParseError::WrongLength { digits: 40 }));
    }

    #[test]
    fn errors_read_well() {
        assert_eq!(
            CodeParseError::InvalidCharacter { character: 'O', position: 11 }.to_string(),
            "'O' (character 11) is not a digit; a connection code has only digits 0-9"
        );
        assert_eq!(CodeParseError::WrongLength { digits: 8 }.to_string(), "a connection code has 9 digits; this has 8");
    }

    #[test]
    fn input_is_a_code_or_its_link() {
        let c = code(7_654_321);
        assert_eq!(CodeInput::parse(" 007 654 321 "), Ok(CodeInput { server: None, code: c }));
        for (link, server) in [
            ("https://tether.example/connect/007-654-321", "https://tether.example"),
            ("http://127.0.0.1:8080//connect/007654321/", "http://127.0.0.1:8080"),
            ("HTTPS://[::1]:8443/tether/connect/007 654 321", "HTTPS://[::1]:8443/tether"),
        ] {
            assert_eq!(CodeInput::parse(link), Ok(CodeInput { server: Some(server.into()), code: c }), "{link}");
        }
        assert_eq!(CodeInput::parse(&c.url("https://t.example")).map(|input| input.code), Ok(c));
    }

    #[test]
    fn links_are_strict() {
        for link in [
            "ftp://tether.example/connect/007-654-321",
            "https:///connect/007-654-321",
            "https://user@tether.example/connect/007-654-321",
            "https://tether.example/?x=/connect/007-654-321",
            "https://tether.example/connect/007-654-321/extra",
            "https://tether.example/join/007-654-321",
            "https://tether example/connect/007-654-321",
        ] {
            assert_eq!(CodeInput::parse(link), Err(CodeParseError::NotAConnectionLink), "{link}");
        }
        assert_eq!(
            CodeInput::parse("https://tether.example/connect/007-654"),
            Err(CodeParseError::WrongLength { digits: 6 })
        );
    }

    #[test]
    fn near_misses_are_one_slip_away() {
        let c = code(112_345_678);
        let misses = c.near_misses();
        assert_eq!(misses.len(), 81 + 7, "the equal leading 1s swap to the same code");
        assert!(!misses.contains(&c));
        assert!(misses.contains(&code(112_345_679)), "last digit changed");
        assert!(misses.contains(&code(121_345_678)), "second and third swapped");
        assert!(misses.contains(&code(12_345_678)), "first digit changed to 0");
        assert!(!misses.contains(&code(212_345_679)), "two changes away");
    }
}
