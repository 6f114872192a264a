//! What the newer tools' channels (`clipboard`, `system`, `files`) share:
//! their text messages are small JSON objects tagged by `t`, decoded
//! strictly (size first, then shape, then each tool's own limits), since
//! neither end trusts the other's bytes.

use serde::Serialize;
use serde::de::DeserializeOwned;

/// The largest message either end sends on a data channel: what the agent
/// advertises as its SCTP `max-message-size` (the default when nothing is
/// advertised is 64 KiB; Chromium advertises 256 KiB too).
pub const MAX_DATA_CHANNEL_MESSAGE_BYTES: usize = 256 * 1024;

/// Why a tool's message was refused. The session goes on; the receiver
/// logs the reason (and answers with it where the tool has an answer).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ToolRejected {
    /// Longer than the tool's limit.
    #[error("message of {bytes} bytes is over the {limit}-byte limit")]
    TooLarge { bytes: usize, limit: usize },
    /// Not a well-formed message (bad JSON, unknown type, extra fields).
    #[error("malformed message: {0}")]
    Malformed(String),
    /// A field longer, larger or more numerous than the tool allows.
    #[error("{field} is over its limit")]
    OverLimit { field: &'static str },
}

/// Decodes one message of at most `limit` bytes.
pub fn decode<T: DeserializeOwned>(bytes: &[u8], limit: usize) -> Result<T, ToolRejected> {
    if bytes.len() > limit {
        return Err(ToolRejected::TooLarge { bytes: bytes.len(), limit });
    }
    serde_json::from_slice(bytes).map_err(|err| ToolRejected::Malformed(err.to_string()))
}

/// Encodes one message.
pub fn encode<T: Serialize>(message: &T) -> String {
    // Serialising these plain enums, numbers and strings cannot fail.
    serde_json::to_string(message).unwrap_or_default()
}

/// `Ok` when `value` is at most `limit`, the field named otherwise.
pub fn at_most(field: &'static str, value: usize, limit: usize) -> Result<(), ToolRejected> {
    if value <= limit { Ok(()) } else { Err(ToolRejected::OverLimit { field }) }
}
