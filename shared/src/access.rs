//! The kinds of access a technician can have to a computer (seed:
//! bomgar-remote-assistance-faq.txt — the person is asked before each
//! kind), as a plain enum, the small set of them a mode, a policy or a
//! grant names ([`AccessSet`]), and the words the person at the computer
//! reads in a prompt ([`Access::describe`]).

use serde::{Deserialize, Serialize};

use crate::flag_set::{Flag, FlagSet};

/// One kind of access. Serialized in `snake_case` (`"view"`,
/// `"file_transfer"`, …); the declaration order is the order sets list them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    /// See the screen.
    View,
    /// Move the mouse and type on the keyboard.
    Control,
    /// Send files to the computer and take files from it.
    FileTransfer,
    /// Read the computer's system information (hardware, software,
    /// processes).
    SystemInfo,
    /// Read and set the clipboard.
    Clipboard,
    /// Exchange chat messages with the person.
    Chat,
    /// Blank the computer's own display while the technician works.
    PrivacyScreen,
    /// Lock the computer's own mouse and keyboard for a while, so the
    /// person's movements do not override the technician's.
    LocalInputLock,
    /// Point and draw over the person's screen (Guidance), without
    /// touching their mouse or keyboard. (v11)
    Draw,
}

impl Access {
    /// Every kind, in declaration order.
    pub const ALL: [Access; 9] = [
        Access::View,
        Access::Control,
        Access::FileTransfer,
        Access::SystemInfo,
        Access::Clipboard,
        Access::Chat,
        Access::PrivacyScreen,
        Access::LocalInputLock,
        Access::Draw,
    ];

    /// Its name in a list or a sentence ("File transfer").
    pub fn label(self) -> &'static str {
        match self {
            Access::View => "View the screen",
            Access::Control => "Control",
            Access::FileTransfer => "File transfer",
            Access::SystemInfo => "System information",
            Access::Clipboard => "Clipboard",
            Access::Chat => "Chat",
            Access::PrivacyScreen => "Privacy screen",
            Access::LocalInputLock => "Local-input lock",
            Access::Draw => "Point and draw",
        }
    }

    /// What this access lets the technician do, in the words of a prompt
    /// to the person at the computer: "The technician wants to …".
    pub fn describe(self) -> &'static str {
        match self {
            Access::View => "see your screen",
            Access::Control => "use your mouse and keyboard",
            Access::FileTransfer => "send files to and take files from your computer",
            Access::SystemInfo => "read your computer's system information",
            Access::Clipboard => "read and change your clipboard",
            Access::Chat => "chat with you",
            Access::PrivacyScreen => "hide your screen from the room and lock your mouse and keyboard while they work",
            Access::LocalInputLock => "lock your mouse and keyboard for a while",
            Access::Draw => "point and draw on your screen",
        }
    }
}

impl Flag for Access {
    const ALL: &'static [Self] = &Access::ALL;

    fn index(self) -> usize {
        self as usize
    }
}

/// A set of [`Access`] kinds: ordered, no duplicates, a JSON array of names
/// (`["view","chat"]`); an unknown name or a repeated one is refused.
pub type AccessSet = FlagSet<Access>;
