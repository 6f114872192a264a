//! Decides whether a file name sent by the technician may be written, listed or
//! read on the user's computer: no traversal, no absolute paths, no device
//! names, no disguised extensions and no hidden files created by stealth.

use std::fmt;

/// The longest accepted name, in UTF-8 bytes (the common limit of NTFS, ext4 and APFS).
pub const MAX_NAME_BYTES: usize = 255;

/// The suffix of the hidden file a download is written to before it is complete.
const PARTIAL_SUFFIX: &str = ".tether-part";

/// Why a name was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NameError {
    /// The name is empty.
    Empty,
    /// The name is longer than [`MAX_NAME_BYTES`].
    TooLong {
        /// Its length in UTF-8 bytes.
        bytes: usize,
    },
    /// The name contains `/` or `\`, so it would reach into another folder.
    Separator,
    /// The name is `.` or `..`, the current or the parent folder.
    Traversal,
    /// The name contains a control character or an invisible text-direction mark.
    ControlCharacter,
    /// The name is a Windows device name such as `NUL` or `COM1`, with or without an extension.
    Reserved {
        /// The device part of the name, as sent.
        name: String,
    },
    /// The name starts with `.`, which would create a hidden file.
    Hidden,
    /// The name ends with a dot or a space, or starts with a space.
    TrailingDotOrSpace,
    /// The name contains a character Windows forbids in names: `: * ? " < > |`.
    InvalidCharacter {
        /// The offending character.
        character: char,
    },
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("the file name is empty"),
            Self::TooLong { bytes } => {
                write!(f, "the file name is {bytes} bytes long; at most {MAX_NAME_BYTES} are allowed")
            }
            Self::Separator => f.write_str("the file name contains a folder separator (\"/\" or \"\\\")"),
            Self::Traversal => f.write_str("the names \".\" and \"..\" refer to the current or parent folder"),
            Self::ControlCharacter => {
                f.write_str("the file name contains a control character or an invisible text-direction mark")
            }
            Self::Reserved { name } => write!(f, "the name {name:?} is reserved for a device on Windows"),
            Self::Hidden => f.write_str("the file name starts with \".\", which would create a hidden file"),
            Self::TrailingDotOrSpace => f.write_str("the file name ends with a dot or a space, or starts with a space"),
            Self::InvalidCharacter { character } => {
                write!(f, "the character {character:?} is not allowed in a file name")
            }
        }
    }
}

impl std::error::Error for NameError {}

/// A name that passed [`check_file_name`] or [`check_path_component`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SafeName(String);

impl SafeName {
    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name as an owned `String`.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for SafeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Checks one file name as sent by the technician for a file to be saved:
/// returns it unchanged if acceptable, otherwise the first rule it breaks.
pub fn check_file_name(name: &str) -> Result<SafeName, NameError> {
    check(name, false)
}

/// Checks one path component the technician asks to browse or fetch: the same
/// rules as [`check_file_name`], except that hidden names (leading `.`) are
/// allowed so the user's own dotfiles can be listed. `.` and `..` are still
/// refused as [`NameError::Traversal`].
pub fn check_path_component(component: &str) -> Result<SafeName, NameError> {
    check(component, true)
}

fn check(name: &str, allow_hidden: bool) -> Result<SafeName, NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(NameError::TooLong { bytes: name.len() });
    }
    if name == "." || name == ".." {
        return Err(NameError::Traversal);
    }
    if name.contains(['/', '\\']) {
        return Err(NameError::Separator);
    }
    if name.chars().any(is_control_or_direction_mark) {
        return Err(NameError::ControlCharacter);
    }
    if let Some(character) = name.chars().find(|c| matches!(c, ':' | '*' | '?' | '"' | '<' | '>' | '|')) {
        return Err(NameError::InvalidCharacter { character });
    }
    if !allow_hidden && name.starts_with('.') {
        return Err(NameError::Hidden);
    }
    if name.ends_with(['.', ' ']) || name.starts_with(' ') {
        return Err(NameError::TrailingDotOrSpace);
    }
    // Windows ignores everything from the first dot and trailing spaces when
    // matching device names: "nul.txt" and "NUL .tar.gz" both open the device.
    let device = name.split('.').next().unwrap_or_default().trim_end_matches([' ', '.']);
    if is_device_name(device) {
        return Err(NameError::Reserved { name: device.to_owned() });
    }
    Ok(SafeName(name.to_owned()))
}

/// Control characters, plus the bidirectional marks and overrides that can make
/// "a\u{202E}fdp.exe" display as "aexe.pdf".
fn is_control_or_direction_mark(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn is_device_name(base: &str) -> bool {
    let upper = base.to_ascii_uppercase();
    if matches!(upper.as_str(), "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$" | "CLOCK$") {
        return true;
    }
    let Some(digit) = upper.strip_prefix("COM").or_else(|| upper.strip_prefix("LPT")) else {
        return false;
    };
    let mut chars = digit.chars();
    matches!((chars.next(), chars.next()), (Some('0'..='9' | '¹' | '²' | '³'), None))
}

/// The name to save under when `wanted` is taken: "report (1).pdf",
/// "report (2).pdf", … The counter goes before the last extension only
/// ("archive.tar (1).gz"); a name without an extension, or a dotfile such as
/// ".bashrc", gets it at the end. The stem is shortened at a character
/// boundary to stay within [`MAX_NAME_BYTES`]. Counting starts at 1.
pub fn numbered(wanted: &SafeName, n: u32) -> SafeName {
    SafeName(fit(wanted.as_str(), "", &format!(" ({n})"), ""))
}

/// The hidden name a partial download is written under beside its final name,
/// e.g. ".report.pdf.tether-part", shortened to stay within [`MAX_NAME_BYTES`].
/// Two very long names may shorten to the same partial name, so create it
/// exclusively (create-new) rather than overwriting.
pub fn partial_name(name: &SafeName) -> String {
    fit(name.as_str(), ".", "", PARTIAL_SUFFIX)
}

/// `before + stem + between + extension + after`, shortening the stem (never to
/// nothing) so the whole fits in [`MAX_NAME_BYTES`]. If the extension leaves no
/// room, the whole name is treated as the stem.
fn fit(name: &str, before: &str, between: &str, after: &str) -> String {
    let (stem, extension) = match name.rfind('.') {
        Some(dot) if dot > 0 => name.split_at(dot),
        _ => (name, ""),
    };
    let fixed = before.len() + between.len() + after.len();
    let room = MAX_NAME_BYTES.saturating_sub(fixed + extension.len());
    let kept = &stem[..stem.floor_char_boundary(room)];
    if kept.is_empty() {
        let kept = &name[..name.floor_char_boundary(MAX_NAME_BYTES - fixed)];
        return format!("{before}{kept}{between}{after}");
    }
    format!("{before}{kept}{between}{extension}{after}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn safe(name: &str) -> SafeName {
        check_path_component(name).expect("acceptable")
    }

    #[test]
    fn accepts_ordinary_and_unicode_names() {
        for name in ["report.pdf", "Résumé 2026.pdf", "報告.docx", "console.txt", "nullable", "COM10", "LPT", "a$b"]
        {
            assert_eq!(check_file_name(name).map(SafeName::into_string), Ok(name.to_owned()));
        }
    }

    #[test]
    fn refuses_empty_and_too_long() {
        assert_eq!(check_file_name(""), Err(NameError::Empty));
        assert!(check_file_name(&"a".repeat(MAX_NAME_BYTES)).is_ok());
        assert_eq!(check_file_name(&"é".repeat(128)), Err(NameError::TooLong { bytes: 256 }));
    }

    #[test]
    fn refuses_traversal_and_separators() {
        for check in [check_file_name, check_path_component] {
            assert_eq!(check("."), Err(NameError::Traversal));
            assert_eq!(check(".."), Err(NameError::Traversal));
            for name in ["../../etc/passwd", "/etc/passwd", "C:\\Windows", "a/b", "..\\x", "x/"] {
                assert_eq!(check(name), Err(NameError::Separator), "{name}");
            }
        }
    }

    #[test]
    fn refuses_control_characters_and_direction_marks() {
        for name in ["a\0b", "a\nb", "a\tb", "a\u{7F}", "a\u{202E}fdp.exe", "a\u{2066}b", "\u{200F}x", "x\u{061C}"] {
            assert_eq!(check_file_name(name), Err(NameError::ControlCharacter), "{name:?}");
        }
    }

    #[test]
    fn refuses_windows_illegal_characters() {
        for character in [':', '*', '?', '"', '<', '>', '|'] {
            let name = format!("a{character}b");
            assert_eq!(check_file_name(&name), Err(NameError::InvalidCharacter { character }));
        }
        assert_eq!(check_file_name("C:"), Err(NameError::InvalidCharacter { character: ':' }));
        assert_eq!(check_file_name("a.txt:stream"), Err(NameError::InvalidCharacter { character: ':' }));
    }

    #[test]
    fn hidden_names_only_for_browsing() {
        assert_eq!(check_file_name(".bashrc"), Err(NameError::Hidden));
        assert_eq!(check_file_name("...x"), Err(NameError::Hidden));
        assert_eq!(check_path_component(".bashrc").map(SafeName::into_string), Ok(".bashrc".to_owned()));
        assert_eq!(check_path_component("..."), Err(NameError::TrailingDotOrSpace));
    }

    #[test]
    fn refuses_trailing_dot_or_space_and_leading_space() {
        for name in ["a.", "a ", " a", "report.pdf. ", "x..."] {
            assert_eq!(check_file_name(name), Err(NameError::TrailingDotOrSpace), "{name:?}");
        }
    }

    #[test]
    fn refuses_device_names() {
        let cases = [
            ("CON", "CON"),
            ("nul.txt", "nul"),
            ("Com1.tar.gz", "Com1"),
            ("lpt9", "lpt9"),
            ("COM0", "COM0"),
            ("com¹.txt", "com¹"),
            ("LPT³", "LPT³"),
            ("NUL .txt", "NUL"),
            ("conin$", "conin$"),
            ("CONOUT$.log", "CONOUT$"),
            ("Clock$", "Clock$"),
            ("aux", "aux"),
            ("prn.pdf", "prn"),
        ];
        for (name, device) in cases {
            assert_eq!(check_path_component(name), Err(NameError::Reserved { name: device.to_owned() }), "{name}");
        }
    }

    #[test]
    fn numbered_puts_the_counter_before_the_last_extension() {
        assert_eq!(numbered(&safe("report.pdf"), 1).as_str(), "report (1).pdf");
        assert_eq!(numbered(&safe("report.pdf"), 2).as_str(), "report (2).pdf");
        assert_eq!(numbered(&safe("archive.tar.gz"), 1).as_str(), "archive.tar (1).gz");
        assert_eq!(numbered(&safe("README"), 3).as_str(), "README (3)");
        assert_eq!(numbered(&safe(".bashrc"), 1).as_str(), ".bashrc (1)");
        assert_eq!(numbered(&safe(".config.json"), 1).as_str(), ".config (1).json");
    }

    #[test]
    fn numbered_stays_within_the_limit_at_a_char_boundary() {
        let long = safe(&format!("{}.pdf", "é".repeat(125)));
        let name = numbered(&long, 1);
        assert!(name.as_str().len() <= MAX_NAME_BYTES);
        assert!(name.as_str().ends_with("é (1).pdf"));
        assert_eq!(check_path_component(name.as_str()), Ok(name.clone()));

        let huge_extension = safe(&format!("a.{}", "x".repeat(250)));
        let name = numbered(&huge_extension, u32::MAX);
        assert!(name.as_str().len() <= MAX_NAME_BYTES && name.as_str().starts_with("a.xxx"));
        assert!(name.as_str().ends_with(" (4294967295)"));
    }

    #[test]
    fn partial_name_is_hidden_and_within_the_limit() {
        assert_eq!(partial_name(&safe("report.pdf")), ".report.pdf.tether-part");
        let long = partial_name(&safe(&format!("{}.txt", "報".repeat(83))));
        assert!(long.len() <= MAX_NAME_BYTES && long.ends_with("報.txt.tether-part"));
        assert!(check_path_component(&long).is_ok());
    }

    #[test]
    fn display_round_trips_and_errors_read_clearly() {
        let name = safe("Résumé 2026.pdf");
        assert_eq!(check_file_name(&name.to_string()), Ok(name));
        let reserved = NameError::Reserved { name: "nul".to_owned() };
        assert_eq!(reserved.to_string(), "the name \"nul\" is reserved for a device on Windows");
        assert_eq!(
            NameError::TooLong { bytes: 300 }.to_string(),
            "the file name is 300 bytes long; at most 255 are allowed"
        );
        assert!(NameError::Traversal.to_string().contains("parent folder"));
        assert!(NameError::InvalidCharacter { character: '|' }.to_string().contains("'|'"));
    }
}
