//! What the person at this computer is told on the terminal by the
//! long-running agent (`tether-agent run`): plain sentences, kept apart
//! from the logs (`crate::logging`). The link reports through a [`Notify`]
//! function, which `main.rs` points at [`print`]; a code's session says
//! its own through `connect`'s progress and the loopback page.

use std::fmt;

/// Something the person at this computer should know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// The agent reached its server and is reachable for technicians.
    Connected,
    /// The connection dropped; the agent tries again.
    Reconnecting,
    /// A session started.
    SessionStarted { technician: String, why: String },
    /// A technician's request was refused here.
    SessionDeclined { technician: String, reason: String },
    /// A session ended.
    SessionEnded { reason: String },
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Notice::Connected => f.write_str("Connected to the server; technicians can reach this computer."),
            Notice::Reconnecting => f.write_str("Lost the connection to the server; reconnecting…"),
            Notice::SessionStarted { technician, why } => {
                write!(f, "A session with {technician} has started ({why}).")
            }
            Notice::SessionDeclined { technician, reason } => {
                write!(f, "Declined a session requested by {technician}: {}.", sentence(reason))
            }
            Notice::SessionEnded { reason } => write!(f, "Session ended: {}.", sentence(reason)),
        }
    }
}

/// `reason` without its own full stop, to end a sentence with one.
fn sentence(reason: &str) -> &str {
    reason.trim_end_matches('.')
}

/// Where notices go.
pub type Notify = fn(Notice);

/// Prints the notice on standard output.
pub fn print(notice: Notice) {
    println!("{notice}");
}

/// Tells nobody (a code's session reports through its own progress).
pub fn ignore(_notice: Notice) {}

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
        let ended = Notice::SessionEnded { reason: "the controller left: done.".into() };
        assert_eq!(ended.to_string(), "Session ended: the controller left: done.");
    }
}
