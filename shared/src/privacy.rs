//! The privacy screen: what the controller is told about it and what it
//! says to the people in the room. (The screen itself comes and goes with
//! the local-input lock: `local_input::InputLock` decides.)

use crate::local_input::{ESCAPE_COMBO_WORDS, Unlocked};
use serde::{Deserialize, Serialize};

/// The longest technician name the screen shows (longer ones are cut).
const MAX_NAME_CHARS: usize = 60;

/// Where the privacy screen stands, as the controller is told. (v12)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case", deny_unknown_fields)]
pub enum PrivacyState {
    /// The display shows what it shows (`why`: what took the last screen
    /// away, if one was up).
    Off { why: Option<Unlocked> },
    /// Asked for: the person is being asked, or the screen is going up.
    Covering {},
    /// Up on the X server, over `monitors` monitors.
    On { monitors: u32 },
    /// It could not be put up or kept, and why; nothing hides the display.
    Failed { reason: String },
}

/// Why a privacy screen went away, in words for both ends.
pub fn removed_sentence(why: Unlocked) -> &'static str {
    match why {
        Unlocked::ByTechnician => "the technician took the privacy screen away",
        Unlocked::Escape => "the person at the computer took the privacy screen away",
        Unlocked::HeartbeatLost => "the technician's connection went quiet, so the privacy screen was taken away",
        Unlocked::SessionEnded => "the session ended, so the privacy screen was taken away",
    }
}

/// What the privacy screen says, line by line: who is connected and how
/// to take it away.
pub fn screen_lines(technician: &str) -> Vec<String> {
    let name: String = technician.chars().filter(|c| !c.is_control()).take(MAX_NAME_CHARS).collect();
    let name = if name.trim().is_empty() { "A technician".to_owned() } else { name };
    vec![
        "Tether: remote support in progress".to_owned(),
        format!("{name} is working on this computer."),
        "The screen is hidden from the room, and this".to_owned(),
        "computer's keyboard and mouse are locked.".to_owned(),
        format!("Press {ESCAPE_COMBO_WORDS} to take this screen away"),
        "and unlock them.".to_owned(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_screen_says_who_and_how_to_remove_it() {
        let lines = screen_lines("Tess\u{7}Tech");
        assert!(lines.iter().any(|line| line == "TessTech is working on this computer."));
        assert!(lines.iter().any(|line| line.contains("Ctrl+Alt+Shift+Esc")));
        assert_eq!(screen_lines("  ")[1], "A technician is working on this computer.");
        assert!(screen_lines(&"x".repeat(500))[1].chars().count() < 100);
    }
}
