//! The clipboard and system tools as the controller follows them: what was
//! asked, and what the agent's answer (or the channel's closing) means for
//! the page. Pure, tested natively; [`super::runtime`] feeds it.

use tether_shared::clipboard;
use tether_shared::system_info::{self, SystemReport};
use tether_shared::tool::Tool;

/// Where one tool's latest request stands.
#[derive(Debug, Clone, PartialEq)]
pub enum ToolStatus {
    /// Nothing asked yet.
    Idle,
    /// Asked; waiting for the agent (which may be asking the person).
    Waiting,
    /// Done, and what to say about it.
    Done(String),
    /// Refused or failed, and why.
    Failed(String),
}

impl ToolStatus {
    /// A stable name for styling and tests.
    pub fn key(&self) -> &'static str {
        match self {
            ToolStatus::Idle => "idle",
            ToolStatus::Waiting => "waiting",
            ToolStatus::Done(_) => "done",
            ToolStatus::Failed(_) => "failed",
        }
    }

    /// The sentence to show, if any.
    pub fn text(&self) -> Option<&str> {
        match self {
            ToolStatus::Done(text) | ToolStatus::Failed(text) => Some(text),
            ToolStatus::Idle | ToolStatus::Waiting => None,
        }
    }
}

/// What an answer on the clipboard channel changes: the status, and the
/// computer's clipboard text when it sent it.
pub fn clipboard_answer(bytes: &[u8]) -> (ToolStatus, Option<String>) {
    match clipboard::decode_from_agent(bytes) {
        Ok(clipboard::AgentToController::Text { text }) => {
            let status = if text.is_empty() {
                "The computer's clipboard holds no text.".to_owned()
            } else {
                format!("Received {} characters from the computer's clipboard.", text.chars().count())
            };
            (ToolStatus::Done(status), Some(text))
        }
        Ok(clipboard::AgentToController::Stored { chars }) => {
            (ToolStatus::Done(format!("Sent {chars} characters to the computer's clipboard.")), None)
        }
        Ok(clipboard::AgentToController::Failed { reason }) => (ToolStatus::Failed(reason), None),
        Err(bad) => (ToolStatus::Failed(format!("The computer's answer was not understood: {bad}")), None),
    }
}

/// What an answer on the system channel changes: the status, and the
/// report when it came.
pub fn system_answer(bytes: &[u8]) -> (ToolStatus, Option<SystemReport>) {
    match system_info::decode_from_agent(bytes) {
        Ok(system_info::AgentToController::Report(report)) => (ToolStatus::Done("Up to date.".into()), Some(*report)),
        Ok(system_info::AgentToController::Failed { reason }) => (ToolStatus::Failed(reason), None),
        Err(bad) => (ToolStatus::Failed(format!("The computer's answer was not understood: {bad}")), None),
    }
}

/// What the closing of `tool`'s channel means for a request `waiting` on
/// it: the agent closes a channel it will not serve.
pub fn closed(tool: Tool, waiting: bool) -> Option<ToolStatus> {
    waiting.then(|| {
        ToolStatus::Failed(format!(
            "The computer did not allow the {}: the session's mode does not include it, or the person at the computer said no.",
            match tool {
                Tool::Clipboard => "clipboard",
                Tool::System => "system information",
                Tool::Files => "file transfer",
                Tool::Guide => "drawing on their screen",
                Tool::Input | Tool::Control => "channel",
            }
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tether_shared::tool_message::encode;

    #[test]
    fn clipboard_answers_become_a_status_and_text() {
        let text = encode(&clipboard::AgentToController::Text { text: "héllo".into() });
        let (status, received) = clipboard_answer(text.as_bytes());
        assert_eq!(status.text(), Some("Received 5 characters from the computer's clipboard."));
        assert_eq!(received.as_deref(), Some("héllo"));
        let stored = encode(&clipboard::AgentToController::Stored { chars: 3 });
        assert_eq!(clipboard_answer(stored.as_bytes()).0.key(), "done");
        let (bad, none) = clipboard_answer(b"{\"t\":\"text\"}");
        assert_eq!((bad.key(), none), ("failed", None));
    }

    #[test]
    fn a_closed_channel_fails_only_a_waiting_request() {
        assert_eq!(closed(Tool::System, false), None);
        let failed = closed(Tool::Clipboard, true).expect("waiting");
        assert!(failed.text().is_some_and(|text| text.contains("clipboard")));
        let report = encode(&system_info::AgentToController::Report(Box::default()));
        let (status, report) = system_answer(report.as_bytes());
        assert_eq!((status.key(), report.is_some()), ("done", true));
    }
}
