//! The `clipboard` tool: the technician sends text to the computer's
//! clipboard or takes what it holds, each on request (nothing is read
//! behind anyone's back). Text only, at most [`MAX_CLIPBOARD_BYTES`].

use crate::tool_message::{ToolRejected, at_most, decode};
use serde::{Deserialize, Serialize};

/// The most clipboard text either way, in bytes of UTF-8.
pub const MAX_CLIPBOARD_BYTES: usize = 128 * 1024;
/// The largest clipboard message (the text escaped as JSON, and its tag):
/// the most one data-channel message carries.
pub const MAX_CLIPBOARD_MESSAGE_BYTES: usize = crate::tool_message::MAX_DATA_CHANNEL_MESSAGE_BYTES;

/// The controller's requests. (v10)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case", deny_unknown_fields)]
pub enum ControllerToAgent {
    /// Put `text` on the computer's clipboard.
    Set { text: String },
    /// Send back the text the computer's clipboard holds.
    Get {},
}

/// The agent's answers. (v10)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case", deny_unknown_fields)]
pub enum AgentToController {
    /// The computer's clipboard holds `text` (the answer to `Get`).
    Text { text: String },
    /// The text of a `Set` is on the computer's clipboard now.
    Stored { chars: usize },
    /// The request could not be done, and why.
    Failed { reason: String },
}

/// Decodes a request from the controller (run by the agent).
pub fn decode_from_controller(bytes: &[u8]) -> Result<ControllerToAgent, ToolRejected> {
    let message: ControllerToAgent = decode(bytes, MAX_CLIPBOARD_MESSAGE_BYTES)?;
    if let ControllerToAgent::Set { text } = &message {
        at_most("text", text.len(), MAX_CLIPBOARD_BYTES)?;
    }
    Ok(message)
}

/// Decodes an answer from the agent (run by the controller).
pub fn decode_from_agent(bytes: &[u8]) -> Result<AgentToController, ToolRejected> {
    let message: AgentToController = decode(bytes, MAX_CLIPBOARD_MESSAGE_BYTES)?;
    match &message {
        AgentToController::Text { text } => at_most("text", text.len(), MAX_CLIPBOARD_BYTES)?,
        AgentToController::Stored { chars } => at_most("chars", *chars, MAX_CLIPBOARD_BYTES)?,
        AgentToController::Failed { reason } => at_most("reason", reason.len(), 1_000)?,
    }
    Ok(message)
}

/// Why text cannot go to a clipboard, in words for the sender; `None` when
/// it can. (Text of many control characters escapes to six bytes each and
/// may not fit a message even under [`MAX_CLIPBOARD_BYTES`].)
pub fn check_text(text: &str) -> Option<String> {
    let escaped = crate::tool_message::encode(&AgentToController::Text { text: text.to_owned() }).len();
    (text.len() > MAX_CLIPBOARD_BYTES || escaped > MAX_CLIPBOARD_MESSAGE_BYTES).then(|| {
        format!(
            "The text is {} KiB; the clipboard carries at most {} KiB.",
            text.len() / 1024,
            MAX_CLIPBOARD_BYTES / 1024
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tool_message::encode;

    #[test]
    fn every_message_round_trips() {
        for message in [ControllerToAgent::Set { text: "päste \"me\"\n".into() }, ControllerToAgent::Get {}] {
            assert_eq!(decode_from_controller(encode(&message).as_bytes()), Ok(message));
        }
        assert_eq!(encode(&ControllerToAgent::Get {}), r#"{"t":"get"}"#);
        assert!(decode_from_controller(br#"{"t":"get","all":true}"#).is_err(), "extra fields are refused");
        for message in [
            AgentToController::Text { text: "copied".into() },
            AgentToController::Stored { chars: 6 },
            AgentToController::Failed { reason: "no clipboard on this display".into() },
        ] {
            assert_eq!(decode_from_agent(encode(&message).as_bytes()), Ok(message));
        }
    }

    #[test]
    fn text_over_the_limit_is_refused_both_ways() {
        let big = "x".repeat(MAX_CLIPBOARD_BYTES + 1);
        let set = encode(&ControllerToAgent::Set { text: big.clone() });
        assert_eq!(decode_from_controller(set.as_bytes()), Err(ToolRejected::OverLimit { field: "text" }));
        let text = encode(&AgentToController::Text { text: big.clone() });
        assert_eq!(decode_from_agent(text.as_bytes()), Err(ToolRejected::OverLimit { field: "text" }));
        assert!(check_text(&big).is_some_and(|why| why.contains("128 KiB")));
        assert_eq!(check_text("fine"), None);
        // Text that escapes to six bytes a character does not fit a message.
        let escapes = "\u{1}".repeat(MAX_CLIPBOARD_BYTES / 2);
        assert!(check_text(&escapes).is_some());
        let set = encode(&ControllerToAgent::Set { text: escapes });
        assert!(matches!(decode_from_controller(set.as_bytes()), Err(ToolRejected::TooLarge { .. })));
    }

    #[test]
    fn unknown_or_extra_fields_are_refused() {
        assert!(matches!(decode_from_controller(br#"{"t":"wipe"}"#), Err(ToolRejected::Malformed(_))));
        assert!(matches!(
            decode_from_controller(br#"{"t":"set","text":"a","all":true}"#),
            Err(ToolRejected::Malformed(_))
        ));
    }
}
