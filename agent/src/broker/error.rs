//! Why taking a connection code failed, worded for the person who typed it,
//! with a stable code for the loopback UI (`LocalAgentStatus::Failed`).

use tether_shared::broker::redeem_error;
use tether_shared::connection_code::CodeParseError;

/// Everything that can stop a code from becoming a session.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectError {
    /// No server URL or broker list yet.
    #[error("{0}")]
    NotConfigured(String),
    /// The text is not a code; nothing was sent.
    #[error("That is not a connection code: {0}.")]
    InvalidCode(CodeParseError),
    /// A connection link for another server than this agent's.
    #[error(
        "That link is for the server {link}, but this agent belongs to {configured}. Ask your technician for a code from {configured}."
    )]
    OtherServer { link: String, configured: String },
    /// No live code matches.
    #[error("That connection code is not valid. Check the digits with your technician and try again.")]
    WrongCode,
    /// The code's time ran out.
    #[error("That connection code has expired. Ask your technician for a new one.")]
    Expired,
    /// The code was taken already.
    #[error("That connection code has already been used. Ask your technician for a new one.")]
    Used,
    /// The server will not let this computer take the session.
    #[error("This computer is not authorised to take that session: {0}")]
    NotAuthorised(String),
    /// Too many tries; `retry_after` seconds from the server.
    #[error("{}", rate_limited_message(*.retry_after))]
    RateLimited { retry_after: Option<u64> },
    /// Any other refusal from the server, with its own words.
    #[error("The server refused the code: {message}")]
    Refused { error: String, message: String },
    /// The server did not answer (or not like a Tether server).
    #[error("Cannot reach the Tether server at {server}: {detail}")]
    ServerUnreachable { server: String, detail: String },
    /// No broker answered its probe.
    #[error("Cannot reach any broker ({0}). Check this computer's network connection and try again.")]
    BrokerUnreachable(String),
    /// The session started but failed.
    #[error("The session ended with an error: {0}")]
    Session(String),
}

fn rate_limited_message(retry_after: Option<u64>) -> String {
    match retry_after {
        Some(secs) => format!("Too many attempts. Wait {secs} seconds, then try again."),
        None => "Too many attempts. Wait a while, then try again.".to_owned(),
    }
}

impl ConnectError {
    /// The stable identifier for the UI.
    pub fn code(&self) -> &str {
        match self {
            Self::NotConfigured(_) => "not_configured",
            Self::InvalidCode(_) => redeem_error::MALFORMED,
            Self::OtherServer { .. } => "other_server",
            Self::WrongCode => redeem_error::WRONG,
            Self::Expired => redeem_error::EXPIRED,
            Self::Used => redeem_error::USED,
            Self::NotAuthorised(_) => redeem_error::NOT_AUTHORISED,
            Self::RateLimited { .. } => redeem_error::RATE_LIMITED,
            Self::Refused { error, .. } => error,
            Self::ServerUnreachable { .. } => "server_unreachable",
            Self::BrokerUnreachable(_) => "broker_unreachable",
            Self::Session(_) => "session_failed",
        }
    }

    /// Maps a refused redemption: the `ApiError` code (if the body was one),
    /// its message, and the `Retry-After` header.
    pub fn from_refusal(status: u16, error: Option<(String, String)>, retry_after: Option<u64>) -> Self {
        let Some((error, message)) = error else {
            return match status {
                429 => Self::RateLimited { retry_after },
                _ => Self::Refused { error: format!("http_{status}"), message: format!("HTTP status {status}") },
            };
        };
        match error.as_str() {
            redeem_error::MALFORMED | redeem_error::WRONG => Self::WrongCode,
            redeem_error::EXPIRED => Self::Expired,
            redeem_error::USED => Self::Used,
            redeem_error::NOT_AUTHORISED => Self::NotAuthorised(message),
            redeem_error::RATE_LIMITED => Self::RateLimited { retry_after },
            _ if status == 429 => Self::RateLimited { retry_after },
            _ => Self::Refused { error, message },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(status: u16, code: &str) -> ConnectError {
        ConnectError::from_refusal(status, Some((code.into(), "server words".into())), Some(30))
    }

    #[test]
    fn refusals_map_to_clear_messages() {
        assert_eq!(refusal(404, redeem_error::WRONG), ConnectError::WrongCode);
        assert_eq!(refusal(400, redeem_error::MALFORMED), ConnectError::WrongCode);
        assert_eq!(refusal(410, redeem_error::EXPIRED), ConnectError::Expired);
        assert_eq!(refusal(409, redeem_error::USED), ConnectError::Used);
        let denied = refusal(403, redeem_error::NOT_AUTHORISED);
        assert_eq!(denied.code(), redeem_error::NOT_AUTHORISED);
        assert!(denied.to_string().contains("server words"));
        let limited = refusal(429, redeem_error::RATE_LIMITED);
        assert_eq!(limited, ConnectError::RateLimited { retry_after: Some(30) });
        assert!(limited.to_string().contains("Wait 30 seconds"), "{limited}");
        assert_eq!(ConnectError::from_refusal(429, None, None).code(), redeem_error::RATE_LIMITED);
        let other = refusal(500, "internal");
        assert_eq!(other.code(), "internal");
        assert!(other.to_string().contains("server words"));
        assert_eq!(ConnectError::from_refusal(502, None, None).code(), "http_502");
    }

    #[test]
    fn expired_and_used_codes_say_to_ask_for_a_new_one() {
        for error in [ConnectError::Expired, ConnectError::Used] {
            assert!(error.to_string().contains("Ask your technician for a new one"), "{error}");
        }
        let bad = ConnectError::InvalidCode(CodeParseError::WrongLength { digits: 8 });
        assert_eq!(bad.code(), redeem_error::MALFORMED);
        assert!(bad.to_string().contains("9 digits"), "{bad}");
    }
}
