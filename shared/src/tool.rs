//! The tools of a live session: each is one WebRTC data channel between the
//! controller and the agent, with its label, the kind of access a grant
//! must include for the agent to serve it. One list, so a label is written
//! once, and the agent serves a channel only as the tool its label names
//! and only if the session's grant allows that tool.
//!
//! Each tool's messages have their own module with a strict, size-limited
//! decoder: [`crate::input`] for `input`, [`crate::control`] for `control`.

use crate::access::{Access, AccessSet};

/// One tool of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tool {
    /// Mouse and keyboard from the technician ([`crate::input`]).
    Input,
    /// Stream quality one way, the remote pointer the other
    /// ([`crate::control`]).
    Control,
}

impl Tool {
    /// Every tool, in the order the controller opens their channels.
    pub const ALL: [Tool; 2] = [Tool::Input, Tool::Control];

    /// The data channel's label.
    pub fn label(self) -> &'static str {
        match self {
            Tool::Input => "input",
            Tool::Control => "control",
        }
    }

    /// The tool whose channel is labelled `label`, if any.
    pub fn from_label(label: &str) -> Option<Tool> {
        Tool::ALL.into_iter().find(|tool| tool.label() == label)
    }

    /// The kind of access a grant must include for the agent to serve the
    /// tool: control for input, the screen for the pointer and quality.
    pub fn needs(self) -> Access {
        match self {
            Tool::Input => Access::Control,
            Tool::Control => Access::View,
        }
    }

    /// Whether `access` (a grant's) lets the agent serve the tool.
    pub fn allowed_by(self, access: AccessSet) -> bool {
        access.contains(self.needs())
    }
}

/// The tools a grant giving `access` allows, in [`Tool::ALL`] order.
pub fn allowed(access: AccessSet) -> impl Iterator<Item = Tool> {
    Tool::ALL.into_iter().filter(move |tool| tool.allowed_by(access))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mode::SessionMode;

    #[test]
    fn labels_are_unique_and_read_back() {
        for tool in Tool::ALL {
            assert_eq!(Tool::from_label(tool.label()), Some(tool));
        }
        assert_eq!(Tool::from_label("files"), None);
        assert_eq!(Tool::from_label("INPUT"), None, "labels are exact");
    }

    #[test]
    fn each_mode_allows_the_tools_its_access_covers() {
        let tools = |mode: SessionMode| allowed(mode.access()).collect::<Vec<_>>();
        assert_eq!(tools(SessionMode::Active), vec![Tool::Input, Tool::Control]);
        assert_eq!(tools(SessionMode::Monitor), vec![Tool::Control]);
        assert_eq!(tools(SessionMode::Guidance), vec![Tool::Control]);
        assert_eq!(tools(SessionMode::Chat), vec![]);
        assert_eq!(tools(SessionMode::FileTransfer), vec![]);
    }
}
