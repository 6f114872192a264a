//! Extractors that authenticate a request: the bearer token must verify, its
//! login session must be live and its account enabled. The role comes from
//! the database, not the token, so role changes apply at once.

use crate::error::HttpError;
use crate::state::AppState;
use crate::store::now_ms;
use crate::users::{self, UserRow};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use std::net::{IpAddr, SocketAddr};
use tether_shared::Role;

use super::tokens::TokenError;
use tether_shared::error_code;

/// The source address of the request, when known.
#[derive(Debug, Clone, Copy)]
pub struct Source(pub Option<IpAddr>);

impl Source {
    pub fn label(self) -> Option<String> {
        self.0.map(|ip| ip.to_string())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Source {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Source(parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip())))
    }
}

/// An authenticated account, even one that must still change its password.
/// Only the password-change, profile and logout endpoints take this.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user: UserRow,
    pub role: Role,
    pub session_id: String,
    pub source: Source,
}

/// An authenticated account that may use the API.
#[derive(Debug, Clone)]
pub struct AuthUser(pub Authenticated);

impl AuthUser {
    /// Refuses unless the account has `allowed(role)`.
    pub fn require(&self, allowed: fn(Role) -> bool, what: &str) -> Result<(), HttpError> {
        if allowed(self.0.role) { Ok(()) } else { Err(HttpError::forbidden(format!("your role may not {what}"))) }
    }
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if !parts.headers.contains_key(AUTHORIZATION) {
            return Err(HttpError::unauthorized("sign in first: no access token"));
        }
        let token = super::bearer::bearer(parts, "access token")?.to_owned();
        let source = Source::from_request_parts(parts, state).await.unwrap_or(Source(None));
        authenticate_token(state, &token, source).await
    }
}

/// Checks an access token from wherever it came (a header, or the first
/// message of a WebSocket): signature and claims, live login session,
/// enabled account.
pub async fn authenticate_token(state: &AppState, token: &str, source: Source) -> Result<Authenticated, HttpError> {
    let claims = state.keys.verify(token).map_err(|err| match err {
        TokenError::Expired => HttpError::Unauthorized { code: error_code::TOKEN_EXPIRED, message: err.to_string() },
        TokenError::Invalid(_) => HttpError::Unauthorized { code: error_code::INVALID_TOKEN, message: err.to_string() },
    })?;
    let user = users::by_live_session(state.store.pool(), &claims.sid, &claims.sub, now_ms()).await?;
    let user = user.ok_or_else(|| HttpError::Unauthorized {
        code: error_code::SESSION_ENDED,
        message: "your session has ended; sign in again".to_owned(),
    })?;
    let role = user.role()?;
    Ok(Authenticated { user, role, session_id: claims.sid, source })
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let auth = Authenticated::from_request_parts(parts, state).await?;
        if auth.user.must_change_password() {
            return Err(HttpError::Forbidden {
                code: error_code::PASSWORD_CHANGE_REQUIRED,
                message: "choose a new password before continuing".to_owned(),
            });
        }
        Ok(AuthUser(auth))
    }
}
