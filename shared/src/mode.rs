//! Session modes (seed: bigfix-broker-session.txt) — Active, Guidance,
//! Monitor, Chat, File transfer, in that order of precedence — what each
//! lets the technician use, and the pure choice of a mode: the requested one
//! if policy allows it, else the next allowed one down ([`select`]), and the
//! modes the person at the computer may pick instead ([`choices_for_person`]).
//!
//! Neither ever escalates: a fallback or a pick is always *after* the mode
//! asked for in [`PRECEDENCE`], and it never uses a kind of access the mode
//! asked for lacks. Starting from Active (which holds every kind) that is
//! exactly the seed's "the next enabled session mode is used"; starting
//! lower it stops a request to watch from turning into a file transfer.

use serde::{Deserialize, Serialize};

use crate::access::{Access, AccessSet};
use crate::flag_set::{Flag, FlagSet};

/// How a session runs. Serialized in `snake_case` (`"active"`,
/// `"file_transfer"`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionMode {
    /// The technician sees the screen and controls the computer.
    Active,
    /// The technician sees the screen and shows the person what to do —
    /// the pointer and drawings appear on the person's screen — but never
    /// moves the mouse or types.
    Guidance,
    /// The technician sees the screen and nothing more.
    Monitor,
    /// Chat only.
    Chat,
    /// Files (and chat about them) only.
    FileTransfer,
}

/// The seed's order of precedence: when a mode is not allowed, the next
/// allowed one after it is used.
pub const PRECEDENCE: [SessionMode; 5] =
    [SessionMode::Active, SessionMode::Guidance, SessionMode::Monitor, SessionMode::Chat, SessionMode::FileTransfer];

impl SessionMode {
    /// Every kind of access the mode may use; a grant for the mode gives at
    /// most these.
    ///
    /// - Active: everything — screen, control, clipboard, chat, files,
    ///   system information, and the privacy screen and local-input lock,
    ///   which only make sense while the technician is in control.
    /// - Guidance and Monitor: the screen and chat. Guidance differs in what
    ///   the agent draws over the screen (the technician's pointer and
    ///   marks), not in access: it never injects input.
    /// - Chat: chat.
    /// - File transfer: files, and chat to talk about them.
    pub fn access(self) -> AccessSet {
        match self {
            SessionMode::Active => AccessSet::all(),
            SessionMode::Guidance => AccessSet::of(&[Access::View, Access::Chat, Access::Draw]),
            SessionMode::Monitor => AccessSet::of(&[Access::View, Access::Chat]),
            SessionMode::Chat => AccessSet::of(&[Access::Chat]),
            SessionMode::FileTransfer => AccessSet::of(&[Access::FileTransfer, Access::Chat]),
        }
    }

    /// The mode's name as the person at the computer reads it.
    pub fn name(self) -> &'static str {
        match self {
            SessionMode::Active => "Active",
            SessionMode::Guidance => "Guidance",
            SessionMode::Monitor => "Monitor",
            SessionMode::Chat => "Chat",
            SessionMode::FileTransfer => "File transfer",
        }
    }

    /// The mode's wire name (`"monitor"`, `"file_transfer"`), as serde
    /// writes it: for page element ids and query strings.
    pub fn key(self) -> &'static str {
        match self {
            SessionMode::Active => "active",
            SessionMode::Guidance => "guidance",
            SessionMode::Monitor => "monitor",
            SessionMode::Chat => "chat",
            SessionMode::FileTransfer => "file_transfer",
        }
    }

    /// The mode whose [`Self::key`] is `key`, if any.
    pub fn from_key(key: &str) -> Option<SessionMode> {
        PRECEDENCE.into_iter().find(|mode| mode.key() == key)
    }

    /// One line saying what the technician could do in this mode, for the
    /// person choosing.
    pub fn description(self) -> &'static str {
        match self {
            SessionMode::Active => "The technician sees your screen and uses your mouse and keyboard.",
            SessionMode::Guidance => {
                "The technician sees your screen and points or draws on it; only you use your mouse and keyboard."
            }
            SessionMode::Monitor => "The technician sees your screen but cannot use your mouse or keyboard.",
            SessionMode::Chat => "You and the technician exchange chat messages; nothing else is shared.",
            SessionMode::FileTransfer => "The technician sends and takes files; your screen is not shared.",
        }
    }

    /// Where the mode stands in [`PRECEDENCE`], 0 for Active.
    pub fn rank(self) -> usize {
        self as usize
    }

    /// The later of two modes in [`PRECEDENCE`]: the one asking for less
    /// when one narrows the other.
    #[must_use]
    pub fn max_by_rank(self, other: SessionMode) -> SessionMode {
        if other.rank() > self.rank() { other } else { self }
    }

    /// Whether this mode asks for nothing `other` does not: it is `other`,
    /// or comes after it in precedence using no access it lacks. Moving
    /// from `other` to this mode narrows a session.
    pub fn is_within(self, other: SessionMode) -> bool {
        self == other || self.is_narrower_than(other)
    }

    /// Whether this mode asks for less than `other`: within it, and not it.
    pub fn is_narrower_than(self, other: SessionMode) -> bool {
        other.falls_to(self)
    }

    /// Whether `other` is a step down from this mode that asks for nothing
    /// more: after it in precedence and using no access it lacks.
    fn falls_to(self, other: SessionMode) -> bool {
        other.rank() > self.rank() && other.access().is_subset(self.access())
    }
}

impl Flag for SessionMode {
    const ALL: &'static [Self] = &PRECEDENCE;

    fn index(self) -> usize {
        self.rank()
    }
}

/// A set of modes, e.g. those a policy allows: ordered by precedence, a
/// JSON array of names; an unknown name or a repeated one is refused.
pub type ModeSet = FlagSet<SessionMode>;

/// The mode a session runs in when `requested` is asked for and policy
/// allows `allowed`: `requested` itself if allowed, else the first allowed
/// mode after it in [`PRECEDENCE`] that uses no access `requested` lacks;
/// `None` when there is none (the session is refused).
pub fn select(requested: SessionMode, allowed: &ModeSet) -> Option<SessionMode> {
    if allowed.contains(requested) {
        return Some(requested);
    }
    allowed.iter().find(|mode| requested.falls_to(*mode))
}

/// The modes the person at the computer may pick instead of `offered`
/// (besides accepting or rejecting it): allowed, after it in
/// [`PRECEDENCE`], and using no access it lacks. Check a person's pick with
/// `choices_for_person(offered, allowed).contains(picked)`.
pub fn choices_for_person(offered: SessionMode, allowed: &ModeSet) -> ModeSet {
    allowed.iter().filter(|mode| offered.falls_to(*mode)).collect()
}
