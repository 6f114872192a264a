//! Extractors for the two non-account credentials, each sent as
//! `Authorization: Bearer …`: an enrolled agent's credential and a broker
//! session's token (held by the target that redeemed a code). A missing,
//! malformed, unknown or revoked one is a 401 with a code that says which.

use crate::agents;
use crate::broker_sessions;
use crate::error::HttpError;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use tether_shared::error_code;

/// The token of a `Bearer` authorization header, or a 401 saying `how` to
/// send one.
pub fn bearer<'a>(parts: &'a Parts, how: &str) -> Result<&'a str, HttpError> {
    parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .filter(|token| !token.is_empty())
        .ok_or_else(|| HttpError::unauthorized(format!("send 'Authorization: Bearer <{how}>'")))
}

/// An enrolled agent whose credential is live.
#[derive(Debug, Clone)]
pub struct AgentCredential {
    pub agent_id: String,
}

impl FromRequestParts<AppState> for AgentCredential {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let credential = bearer(parts, "agent credential")?;
        let agent_id = agents::authenticate(state.store.pool(), credential).await?.ok_or_else(|| {
            HttpError::Unauthorized { code: error_code::UNKNOWN_AGENT, message: "unknown or revoked agent".into() }
        })?;
        Ok(AgentCredential { agent_id })
    }
}

/// The target of a live broker session, by the token its redemption gave.
#[derive(Debug, Clone)]
pub struct BrokerSessionToken {
    pub session_id: String,
}

impl FromRequestParts<AppState> for BrokerSessionToken {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = bearer(parts, "session token")?;
        let session_id = broker_sessions::live_by_token(state.store.pool(), token).await?.ok_or_else(|| {
            HttpError::Unauthorized {
                code: error_code::INVALID_SESSION_TOKEN,
                message: "the session token is unknown or its session has ended".into(),
            }
        })?;
        Ok(BrokerSessionToken { session_id })
    }
}
