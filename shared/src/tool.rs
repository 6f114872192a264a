//! The tools of a live session: each is one WebRTC data channel between the
//! controller and the agent, with its label, the kind of access a grant
//! must include for the agent to serve it. One list, so a label is written
//! once, and the agent serves a channel only as the tool its label names
//! and only if the session's grant allows that tool.
//!
//! Each tool's messages have their own module with a strict, size-limited
//! decoder: [`crate::input`] for `input`, [`crate::control`] for `control`,
//! [`crate::clipboard`] for `clipboard`, [`crate::system_info`] for
//! `system`, [`crate::files`] for `files`, [`crate::guidance`] for `guide`.

use crate::access::{Access, AccessSet};
use crate::grant::Grant;

/// One tool of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tool {
    /// Mouse and keyboard from the technician ([`crate::input`]).
    Input,
    /// Stream quality one way, the remote pointer the other
    /// ([`crate::control`]).
    Control,
    /// Clipboard text both ways, on request ([`crate::clipboard`]). (v10)
    Clipboard,
    /// The computer's system information ([`crate::system_info`]). (v10)
    System,
    /// Files both ways ([`crate::files`]). (v10)
    Files,
    /// Pointing and drawing over the person's screen
    /// ([`crate::guidance`]). (v11)
    Guide,
}

impl Tool {
    /// Every tool. The controller opens `input` and `control` with the
    /// session, the others when the technician first uses them — which is
    /// when the person is asked, where the policy wants assent for them.
    pub const ALL: [Tool; 6] = [Tool::Input, Tool::Control, Tool::Clipboard, Tool::System, Tool::Files, Tool::Guide];

    /// The data channel's label.
    pub fn label(self) -> &'static str {
        match self {
            Tool::Input => "input",
            Tool::Control => "control",
            Tool::Clipboard => "clipboard",
            Tool::System => "system",
            Tool::Files => "files",
            Tool::Guide => "guide",
        }
    }

    /// The tool whose channel is labelled `label`, if any.
    pub fn from_label(label: &str) -> Option<Tool> {
        Tool::ALL.into_iter().find(|tool| tool.label() == label)
    }

    /// The kind of access a grant must include for the agent to serve the
    /// tool: control for input, the screen for the pointer and quality,
    /// each other tool its own.
    pub fn needs(self) -> Access {
        match self {
            Tool::Input => Access::Control,
            Tool::Control => Access::View,
            Tool::Clipboard => Access::Clipboard,
            Tool::System => Access::SystemInfo,
            Tool::Files => Access::FileTransfer,
            Tool::Guide => Access::Draw,
        }
    }

    /// Whether the person is asked before the tool is first served in a
    /// session, when the policy wants assent for its access each time.
    /// Screen and control were answered when the session or its mode was
    /// accepted; the others are asked for on first use — files when the
    /// technician first browses or takes one, and for each file they send
    /// ([`use_of`]), not when the channel opens.
    pub fn asked_on_first_use(self) -> bool {
        matches!(self, Tool::Clipboard | Tool::System)
    }

    /// Whether `access` (a grant's) lets the agent serve the tool.
    pub fn allowed_by(self, access: AccessSet) -> bool {
        access.contains(self.needs())
    }
}

/// What the agent does when the controller opens a tool's channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opening {
    /// Serve it.
    Serve,
    /// Ask the person first; serve it only if they allow it.
    Ask,
    /// Close it, for this reason.
    Refuse(String),
}

/// Whether a tool is served when its channel opens, given the session's
/// `grant` (none yet refuses), the kinds of access the person already
/// allowed in this session, whether the session is unattended (nobody to
/// ask, by this computer's own rules) and whether anyone can be asked.
pub fn opening(tool: Tool, grant: Option<&Grant>, allowed: AccessSet, unattended: bool, can_ask: bool) -> Opening {
    let needs = tool.needs();
    let Some(grant) = grant else {
        return Opening::Refuse(format!("the {} channel needs a grant, and none covers the session yet", tool.label()));
    };
    if !grant.access.contains(needs) {
        return Opening::Refuse(format!(
            "the {} channel needs {needs:?} access, which the session's grant ({}) does not include",
            tool.label(),
            grant.mode.name()
        ));
    }
    if !tool.asked_on_first_use() {
        return Opening::Serve;
    }
    use_of(needs, grant, allowed, unattended, can_ask, false)
}

/// Whether one use of `access` (which `grant` includes) goes ahead, where
/// the policy wants the person's assent to it each time: asked unless the
/// session is unattended or — when not `each_time` (an incoming file is
/// asked about each time) — the person allowed it already.
pub fn use_of(
    access: Access,
    grant: &Grant,
    allowed: AccessSet,
    unattended: bool,
    can_ask: bool,
    each_time: bool,
) -> Opening {
    let wants_assent = grant.assent_each_time.contains(access);
    if !wants_assent || unattended || (allowed.contains(access) && !each_time) {
        Opening::Serve
    } else if can_ask {
        Opening::Ask
    } else {
        Opening::Refuse(format!(
            "the policy wants the person to allow {}, and nobody can be asked",
            access.label().to_lowercase()
        ))
    }
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
        assert_eq!(Tool::from_label("shell"), None);
        assert_eq!(Tool::from_label("INPUT"), None, "labels are exact");
    }

    fn grant(mode: SessionMode, assent_each_time: AccessSet) -> Grant {
        Grant {
            session_id: "s".into(),
            technician_id: "t".into(),
            technician_name: "Tess".into(),
            target: "a".into(),
            mode,
            access: mode.access(),
            controller_fingerprint: None,
            unattended: false,
            allowed_modes: crate::mode::ModeSet::empty(),
            user_acceptance: true,
            assent_each_time,
            acceptance_timeout_secs: 30,
            max_file_mib: Some(10_240),
            issued_at: 0,
            expires_at: 60_000,
            key_id: "k".into(),
        }
    }

    #[test]
    fn a_tool_is_asked_for_once_where_the_policy_wants_assent_and_someone_can_answer() {
        let asks = grant(SessionMode::Active, AccessSet::of(&[Access::Clipboard]));
        let none = AccessSet::empty();
        assert_eq!(opening(Tool::Clipboard, Some(&asks), none, false, true), Opening::Ask);
        let allowed = AccessSet::of(&[Access::Clipboard]);
        assert_eq!(opening(Tool::Clipboard, Some(&asks), allowed, false, true), Opening::Serve, "asked once");
        assert_eq!(opening(Tool::System, Some(&asks), none, false, true), Opening::Serve, "no assent wanted");
        assert_eq!(opening(Tool::Clipboard, Some(&asks), none, true, false), Opening::Serve, "unattended");
        assert!(matches!(opening(Tool::Clipboard, Some(&asks), none, false, false), Opening::Refuse(_)));
        // Screen and control were asked for with the session's mode; files ask per use.
        let all = grant(SessionMode::Active, AccessSet::all());
        assert_eq!(opening(Tool::Input, Some(&all), none, false, true), Opening::Serve);
        assert_eq!(opening(Tool::Files, Some(&all), none, false, true), Opening::Serve);
    }

    #[test]
    fn an_incoming_file_is_asked_about_each_time_browsing_once() {
        let all = grant(SessionMode::Active, AccessSet::all());
        let allowed = AccessSet::of(&[Access::FileTransfer]);
        let file = Access::FileTransfer;
        assert_eq!(use_of(file, &all, AccessSet::empty(), false, true, false), Opening::Ask);
        assert_eq!(use_of(file, &all, allowed, false, true, false), Opening::Serve, "browsing again");
        assert_eq!(use_of(file, &all, allowed, false, true, true), Opening::Ask, "another incoming file");
        assert_eq!(use_of(file, &all, allowed, true, false, true), Opening::Serve, "unattended");
        let relaxed = grant(SessionMode::Active, AccessSet::empty());
        assert_eq!(use_of(file, &relaxed, AccessSet::empty(), false, false, true), Opening::Serve);
    }

    #[test]
    fn a_tool_the_grant_does_not_cover_is_refused_whatever_the_person_says() {
        let monitor = grant(SessionMode::Monitor, AccessSet::empty());
        let everything = AccessSet::all();
        let Opening::Refuse(why) = opening(Tool::Clipboard, Some(&monitor), everything, true, true) else {
            panic!("served beyond the grant")
        };
        assert!(why.contains("Monitor"), "{why}");
        assert!(matches!(opening(Tool::Control, None, everything, true, true), Opening::Refuse(_)));
    }

    #[test]
    fn each_mode_allows_the_tools_its_access_covers() {
        let tools =
            |mode: SessionMode| Tool::ALL.into_iter().filter(|tool| tool.allowed_by(mode.access())).collect::<Vec<_>>();
        assert_eq!(tools(SessionMode::Active), Tool::ALL.to_vec());
        assert_eq!(tools(SessionMode::Monitor), vec![Tool::Control]);
        assert_eq!(tools(SessionMode::Guidance), vec![Tool::Control, Tool::Guide], "Guidance points and draws");
        assert_eq!(tools(SessionMode::Chat), vec![]);
        assert_eq!(tools(SessionMode::FileTransfer), vec![Tool::Files]);
    }
}
