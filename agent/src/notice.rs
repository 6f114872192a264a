//! What the person at this computer is told by the long-running agent
//! (`tether-agent run`): plain sentences on the terminal, kept apart from
//! the logs (`crate::logging`), and the same news on its loopback page when
//! it has one. The link reports through a [`Notify`], which `main.rs`
//! points at [`Notify::print`] (and the page); a code's session says its
//! own through `connect`'s progress and the loopback page.

use std::fmt;
use std::sync::Arc;
use tether_shared::chat::ChatLine;
use tether_shared::mode::SessionMode;
use tether_shared::signal::ModeChangedBy;

/// Something the person at this computer should know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// The agent reached its server and is reachable for technicians.
    Connected,
    /// The connection dropped; the agent tries again.
    Reconnecting,
    /// A session started: `technician` is accessing this computer in `mode`.
    SessionStarted { session_id: String, technician: String, mode: SessionMode, why: String },
    /// A technician's request was refused here.
    SessionDeclined { technician: String, reason: String },
    /// A running session's mode changed, by the technician's request or
    /// the person's own choice.
    ModeChanged { session_id: String, mode: SessionMode, by: ModeChangedBy },
    /// A chat line of a running session (either side's, as the server
    /// recorded it).
    Chat { session_id: String, line: ChatLine },
    /// A session ended.
    SessionEnded { session_id: String, reason: String },
    /// What a running session uses right now changed ("viewing,
    /// transferring a.iso 5% (…)"; empty: nothing). For pages, not
    /// terminals ([`Notice::for_terminal`]): it changes every half second
    /// while a file moves.
    InUse { session_id: String, words: String },
}

impl Notice {
    /// Whether a terminal prints it.
    pub fn for_terminal(&self) -> bool {
        !matches!(self, Notice::InUse { .. })
    }
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Notice::Connected => f.write_str("Connected to the server; technicians can reach this computer."),
            Notice::Reconnecting => f.write_str("Lost the connection to the server; reconnecting…"),
            Notice::SessionStarted { technician, mode, why, .. } => write!(
                f,
                "This computer is being accessed by {technician}, in {} mode. {}.",
                mode.name(),
                capitalized(sentence(why))
            ),
            Notice::SessionDeclined { technician, reason } => {
                write!(f, "Declined a session requested by {technician}: {}.", sentence(reason))
            }
            Notice::ModeChanged { mode, by: ModeChangedBy::Technician, .. } => {
                write!(f, "The technician changed the session to {} mode: {}", mode.name(), mode.description())
            }
            Notice::ModeChanged { mode, by: ModeChangedBy::Person, .. } => {
                write!(f, "The session is now in {} mode, as you chose: {}", mode.name(), mode.description())
            }
            Notice::Chat { line, .. } => write!(f, "{}: {}", line.name, line.text),
            Notice::SessionEnded { reason, .. } => write!(f, "Session ended: {}.", sentence(reason)),
            Notice::InUse { words, .. } if words.is_empty() => f.write_str("Nothing is in use right now."),
            Notice::InUse { words, .. } => write!(f, "Right now: {words}."),
        }
    }
}

/// `text` with a capital first letter, to start a sentence with.
fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// `reason` without its own full stop, to end a sentence with one.
fn sentence(reason: &str) -> &str {
    reason.trim_end_matches('.')
}

/// Where notices go: a function the link calls with each.
#[derive(Clone)]
pub struct Notify(Arc<dyn Fn(&Notice) + Send + Sync>);

impl Notify {
    /// Calls `tell` with every notice.
    pub fn new(tell: impl Fn(&Notice) + Send + Sync + 'static) -> Self {
        Self(Arc::new(tell))
    }

    /// Prints every notice on standard output.
    pub fn print() -> Self {
        Self::new(|notice| {
            if notice.for_terminal() {
                println!("{notice}");
            }
        })
    }

    /// Tells nobody (a code's session reports through its own progress).
    pub fn ignore() -> Self {
        Self::new(|_| {})
    }

    /// Passes `notice` on.
    pub fn tell(&self, notice: Notice) {
        (self.0)(&notice);
    }
}

impl fmt::Debug for Notify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Notify")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_are_plain_sentences() {
        let declined = Notice::SessionDeclined {
            technician: "Tess".into(),
            reason: "nobody at this computer can accept sessions yet".into(),
        };
        assert_eq!(
            declined.to_string(),
            "Declined a session requested by Tess: nobody at this computer can accept sessions yet."
        );
        let ended = Notice::SessionEnded { session_id: "s".into(), reason: "the controller left: done.".into() };
        assert_eq!(ended.to_string(), "Session ended: the controller left: done.");
        let started = Notice::SessionStarted {
            session_id: "s".into(),
            technician: "Tess".into(),
            mode: SessionMode::Monitor,
            why: "You accepted the session in Monitor mode.".into(),
        };
        assert_eq!(
            started.to_string(),
            "This computer is being accessed by Tess, in Monitor mode. You accepted the session in Monitor mode."
        );
    }
}
