//! Typed client for Tether's REST API (`/api`), split by type state:
//! [`UnauthorizedApi`] can only log in or restore a session, and those return
//! the [`AuthorizedApi`] that every other call needs, so "forgot to log in" is
//! a compile error.

use crate::text::capitalize;
use gloo_net::http::{Request, RequestBuilder, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt;
use tether_shared::agent::{CreateEnrollmentTokenRequest, CreatedEnrollmentToken, EnrollmentTokenView, TargetView};
use tether_shared::api::{
    ApiError, AuditPage, AuditQuery, ChainStatus, ChangePasswordRequest, CreateSessionRequest, CreateUserRequest,
    LoginRequest, ResetPasswordRequest, SessionSummary, SessionTimeline, SessionView, TokenResponse, UpdateUserRequest,
    UserView,
};
use tether_shared::broker::{BrokerSessionView, CreateBrokerSessionRequest};
use tether_shared::policy::SessionPolicy;
use tether_shared::signal::ControllerToServer;

mod groups;

/// Error codes the client reacts to (the server's `ApiError::error`).
pub use tether_shared::error_code as codes;

/// Why an API call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ApiFailure {
    /// The server answered with an error status and (usually) an [`ApiError`] body.
    Api {
        /// HTTP status code.
        status: u16,
        /// The server's error; synthesised from the status when the body was not JSON.
        error: ApiError,
        /// Seconds from a `Retry-After` header, sent with `429 Too Many Requests`.
        retry_after: Option<u32>,
    },
    /// No answer: the server is down or the network failed.
    Network(String),
    /// An answer that does not match the API's types.
    Decode(String),
    /// The call needs a session and there is none (signed out meanwhile).
    SignedOut,
}

impl ApiFailure {
    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiFailure::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The server's machine-readable error code, when it sent one.
    pub fn code(&self) -> Option<&str> {
        match self {
            ApiFailure::Api { error, .. } => Some(error.error.as_str()),
            _ => None,
        }
    }

    /// Whether this is a `401` about the session itself (expired or revoked
    /// token), as opposed to a wrong password typed into a form.
    pub fn is_session_expired(&self) -> bool {
        self.status() == Some(401) && self.code() != Some(codes::INVALID_CREDENTIALS)
    }

    /// A sentence to show to the user.
    pub fn message(&self) -> String {
        match self {
            ApiFailure::Api { error, .. } if error.message.is_empty() => {
                format!("The request failed ({}).", error.error)
            }
            ApiFailure::Api { error, .. } => capitalize(&error.message),
            ApiFailure::Network(_) => "Cannot reach the Tether server. Check your connection and try again.".to_owned(),
            ApiFailure::Decode(_) => {
                "The server sent an answer this page does not understand. Reload the page.".to_owned()
            }
            ApiFailure::SignedOut => "You are signed out. Please sign in again.".to_owned(),
        }
    }
}

impl fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiFailure::Api { status, error, .. } => {
                write!(f, "HTTP {status} {}: {}", error.error, error.message)
            }
            ApiFailure::Network(detail) => write!(f, "network error: {detail}"),
            ApiFailure::Decode(detail) => write!(f, "unexpected answer: {detail}"),
            ApiFailure::SignedOut => f.write_str("signed out"),
        }
    }
}

impl std::error::Error for ApiFailure {}

/// Sends a built request and turns non-2xx answers into [`ApiFailure::Api`].
async fn send(request: Result<Request, gloo_net::Error>) -> Result<Response, ApiFailure> {
    let request = request.map_err(|e| ApiFailure::Network(e.to_string()))?;
    let response = request.send().await.map_err(|e| ApiFailure::Network(e.to_string()))?;
    if response.ok() {
        return Ok(response);
    }
    let status = response.status();
    let retry_after = response.headers().get("retry-after").and_then(|v| v.trim().parse().ok());
    let error = match response.json::<ApiError>().await {
        Ok(error) => error,
        Err(_) => ApiError {
            error: format!("http_{status}"),
            message: match status {
                502..=504 => "The Tether server is not reachable right now. Try again shortly.".to_owned(),
                _ => format!("The server answered {status} {}.", response.status_text()),
            },
        },
    };
    Err(ApiFailure::Api { status, error, retry_after })
}

/// Sends a request and decodes a JSON answer.
pub(crate) async fn send_json<T: DeserializeOwned>(request: Result<Request, gloo_net::Error>) -> Result<T, ApiFailure> {
    send(request).await?.json::<T>().await.map_err(|e| ApiFailure::Decode(e.to_string()))
}

/// Sends a request whose answer has no body we need (`204 No Content`).
pub(crate) async fn send_empty(request: Result<Request, gloo_net::Error>) -> Result<(), ApiFailure> {
    send(request).await.map(drop)
}

/// The API before signing in.
#[derive(Debug, Clone, Copy, Default)]
pub struct UnauthorizedApi;

impl UnauthorizedApi {
    /// `POST /api/auth/login`. The server also sets the refresh cookie.
    pub async fn login(self, credentials: &LoginRequest) -> Result<AuthorizedApi, ApiFailure> {
        let tokens: TokenResponse = send_json(Request::post("/api/auth/login").json(credentials)).await?;
        Ok(AuthorizedApi::from(tokens))
    }

    /// `POST /api/auth/refresh`: restores a session from the `HttpOnly`
    /// refresh cookie (sent by the browser; this code never sees it).
    pub async fn refresh(self) -> Result<AuthorizedApi, ApiFailure> {
        let tokens: TokenResponse = send_json(Request::post("/api/auth/refresh").build()).await?;
        Ok(AuthorizedApi::from(tokens))
    }
}

/// The API of a signed-in user: an access token and the account it belongs to.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthorizedApi {
    token: String,
    user: UserView,
}

impl fmt::Debug for AuthorizedApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizedApi").field("token", &"<redacted>").field("user", &self.user.username).finish()
    }
}

impl From<TokenResponse> for AuthorizedApi {
    fn from(tokens: TokenResponse) -> Self {
        Self { token: tokens.access_token, user: tokens.user }
    }
}

impl AuthorizedApi {
    /// The signed-in account as last seen by this client.
    pub fn user(&self) -> &UserView {
        &self.user
    }

    /// The first message on a session's signalling WebSocket, which carries
    /// the access token because browsers cannot set headers on WebSockets.
    pub fn signal_auth(&self) -> ControllerToServer {
        ControllerToServer::Auth { token: self.token.clone(), protocol: tether_shared::signal::PROTOCOL_VERSION }
    }

    /// Whether two handles carry the same access token.
    pub fn same_token(&self, other: &AuthorizedApi) -> bool {
        self.token == other.token
    }

    /// The same session with an updated view of the account.
    pub fn with_user(self, user: UserView) -> Self {
        Self { user, ..self }
    }

    fn authorize(&self, builder: RequestBuilder) -> RequestBuilder {
        builder.header("Authorization", &format!("Bearer {}", self.token))
    }

    fn get(&self, url: &str) -> RequestBuilder {
        self.authorize(Request::get(url))
    }

    fn post(&self, url: &str) -> RequestBuilder {
        self.authorize(Request::post(url))
    }

    fn patch(&self, url: &str) -> RequestBuilder {
        self.authorize(Request::patch(url))
    }

    fn put(&self, url: &str) -> RequestBuilder {
        self.authorize(Request::put(url))
    }

    fn delete(&self, url: &str) -> RequestBuilder {
        self.authorize(Request::delete(url))
    }

    fn post_json<B: Serialize>(&self, url: &str, body: &B) -> Result<Request, gloo_net::Error> {
        self.post(url).json(body)
    }

    /// `POST /api/auth/logout`: revokes the refresh token and clears its cookie.
    pub async fn logout(&self) -> Result<(), ApiFailure> {
        send_empty(self.post("/api/auth/logout").build()).await
    }

    /// `GET /api/me`.
    pub async fn me(&self) -> Result<UserView, ApiFailure> {
        send_json(self.get("/api/me").build()).await
    }

    /// `POST /api/me/password`.
    pub async fn change_password(&self, body: &ChangePasswordRequest) -> Result<(), ApiFailure> {
        send_empty(self.post_json("/api/me/password", body)).await
    }

    /// `GET /api/users` (admin).
    pub async fn list_users(&self) -> Result<Vec<UserView>, ApiFailure> {
        send_json(self.get("/api/users").build()).await
    }

    /// `POST /api/users` (admin).
    pub async fn create_user(&self, body: &CreateUserRequest) -> Result<UserView, ApiFailure> {
        send_json(self.post_json("/api/users", body)).await
    }

    /// `PATCH /api/users/{id}` (admin).
    pub async fn update_user(&self, id: &str, body: &UpdateUserRequest) -> Result<UserView, ApiFailure> {
        send_json(self.patch(&resource_url("/api/users", id, "")).json(body)).await
    }

    /// `DELETE /api/users/{id}` (admin): deletes an account for good; its
    /// live sessions end.
    pub async fn delete_user(&self, id: &str) -> Result<(), ApiFailure> {
        send_empty(self.delete(&resource_url("/api/users", id, "")).build()).await
    }

    /// `POST /api/users/{id}/password` (admin): sets a one-time password.
    pub async fn reset_password(&self, id: &str, body: &ResetPasswordRequest) -> Result<(), ApiFailure> {
        send_empty(self.post_json(&resource_url("/api/users", id, "/password"), body)).await
    }

    /// `GET /api/audit` (auditor): one page, newest first.
    pub async fn audit(&self, query: &AuditQuery) -> Result<AuditPage, ApiFailure> {
        send_json(self.get("/api/audit").query(audit_params(query)).build()).await
    }

    /// `GET /api/audit/verify` (auditor): checks the whole hash chain.
    pub async fn verify_audit(&self) -> Result<ChainStatus, ApiFailure> {
        send_json(self.get("/api/audit/verify").build()).await
    }

    /// `GET /api/enrollment-tokens` (admin): newest first, without secrets.
    pub async fn list_enrollment_tokens(&self) -> Result<Vec<EnrollmentTokenView>, ApiFailure> {
        send_json(self.get("/api/enrollment-tokens").build()).await
    }

    /// `POST /api/enrollment-tokens` (admin): the answer holds the secret, once.
    pub async fn create_enrollment_token(
        &self,
        body: &CreateEnrollmentTokenRequest,
    ) -> Result<CreatedEnrollmentToken, ApiFailure> {
        send_json(self.post_json("/api/enrollment-tokens", body)).await
    }

    /// `DELETE /api/enrollment-tokens/{id}` (admin): no agent can enroll with it any more.
    pub async fn revoke_enrollment_token(&self, id: &str) -> Result<(), ApiFailure> {
        send_empty(self.delete(&resource_url("/api/enrollment-tokens", id, "")).build()).await
    }

    /// `GET /api/targets` (technician): enrolled agents and whether they are connected.
    pub async fn list_targets(&self) -> Result<Vec<TargetView>, ApiFailure> {
        send_json(self.get("/api/targets").build()).await
    }

    /// `POST /api/sessions` (technician): asks an online target for a live
    /// session; signalling follows on the session's WebSocket.
    pub async fn create_session(&self, target_id: &str) -> Result<SessionView, ApiFailure> {
        send_json(self.post_json("/api/sessions", &CreateSessionRequest { target_id: target_id.to_owned() })).await
    }

    /// `GET /api/sessions` (`?live=true` for live ones only): a
    /// technician's own sessions, everyone's for administrators and
    /// auditors; newest first.
    pub async fn list_sessions(&self, live_only: bool) -> Result<Vec<SessionSummary>, ApiFailure> {
        let request =
            if live_only { self.get("/api/sessions").query([("live", "true")]) } else { self.get("/api/sessions") };
        send_json(request.build()).await
    }

    /// `POST /api/sessions/{id}/end`: an administrator ends any live
    /// session, a technician their own; both ends are told who ended it.
    pub async fn end_session(&self, id: &str) -> Result<(), ApiFailure> {
        send_empty(self.post(&resource_url("/api/sessions", id, "/end")).build()).await
    }

    /// `GET /api/sessions/{id}/timeline` (auditor): the session and its
    /// audit entries, oldest first.
    pub async fn session_timeline(&self, id: &str) -> Result<SessionTimeline, ApiFailure> {
        send_json(self.get(&resource_url("/api/sessions", id, "/timeline")).build()).await
    }

    /// `GET /api/brokers` (admin): every broker with its load.
    pub async fn list_brokers(&self) -> Result<Vec<tether_shared::broker::BrokerView>, ApiFailure> {
        send_json(self.get("/api/brokers").build()).await
    }

    /// `POST /api/brokers` (admin): add a TURN relay sharing the server's secret.
    pub async fn create_broker(
        &self,
        body: &tether_shared::broker::CreateBrokerRequest,
    ) -> Result<tether_shared::broker::BrokerView, ApiFailure> {
        send_json(self.post_json("/api/brokers", body)).await
    }

    /// `DELETE /api/brokers/{id}` (admin): remove an admin-added broker.
    pub async fn delete_broker(&self, id: &str) -> Result<(), ApiFailure> {
        send_empty(self.delete(&resource_url("/api/brokers", id, "")).build()).await
    }

    /// `GET /api/policies/session` (any role): the session policy in force.
    pub async fn session_policy(&self) -> Result<SessionPolicy, ApiFailure> {
        send_json(self.get("/api/policies/session").build()).await
    }

    /// `PUT /api/policies/session` (admin): replaces the session policy; the
    /// answer is what was saved.
    pub async fn save_session_policy(&self, policy: &SessionPolicy) -> Result<SessionPolicy, ApiFailure> {
        send_json(self.put("/api/policies/session").json(policy)).await
    }

    /// `POST /api/broker-sessions` (technician): a new connection code; the
    /// answer is the only one that carries its digits.
    pub async fn create_broker_session(&self) -> Result<BrokerSessionView, ApiFailure> {
        send_json(self.post_json("/api/broker-sessions", &CreateBrokerSessionRequest::default())).await
    }

    /// `GET /api/broker-sessions/{id}` (technician): the code's state, without its digits.
    pub async fn broker_session(&self, id: &str) -> Result<BrokerSessionView, ApiFailure> {
        send_json(self.get(&resource_url("/api/broker-sessions", id, "")).build()).await
    }

    /// `POST /api/broker-sessions/{id}/{action}` (technician), `action` being
    /// `renew` (Request New: a new code), `extend` (the timer starts over) or
    /// `cancel`. The answer is the session after it, except for a cancel,
    /// whose answer is not needed (the window closes).
    pub async fn broker_session_action(
        &self,
        id: &str,
        action: BrokerAction,
    ) -> Result<Option<BrokerSessionView>, ApiFailure> {
        let request = self.post(&resource_url("/api/broker-sessions", id, &format!("/{}", action.as_str()))).build();
        match action {
            BrokerAction::Cancel => send_empty(request).await.map(|()| None),
            BrokerAction::Renew | BrokerAction::Extend => send_json(request).await.map(Some),
        }
    }
}

/// What the technician can do to a broker session's code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrokerAction {
    /// Request New: a new code replaces the old one.
    Renew,
    /// Extend Timeout: the code's lifetime starts over.
    Extend,
    /// Cancel: the code stops working and the window closes.
    Cancel,
}

impl BrokerAction {
    /// The last path segment of the action's endpoint.
    pub fn as_str(self) -> &'static str {
        match self {
            BrokerAction::Renew => "renew",
            BrokerAction::Extend => "extend",
            BrokerAction::Cancel => "cancel",
        }
    }
}

/// `{collection}/{id}{suffix}` with the id percent-encoded as a path segment.
fn resource_url(collection: &str, id: &str, suffix: &str) -> String {
    let id = String::from(js_sys::encode_uri_component(id));
    format!("{collection}/{id}{suffix}")
}

/// The query-string pairs of an [`AuditQuery`], leaving out absent filters.
fn audit_params(query: &AuditQuery) -> Vec<(&'static str, String)> {
    let mut params = Vec::new();
    if let Some(actor) = &query.actor {
        params.push(("actor", actor.clone()));
    }
    if let Some(action) = &query.action {
        params.push(("action", action.clone()));
    }
    if let Some(target) = &query.target {
        params.push(("target", target.clone()));
    }
    let numbers = [
        ("since", query.since),
        ("until", query.until),
        ("before_seq", query.before_seq),
        ("limit", query.limit.map(i64::from)),
    ];
    for (name, value) in numbers {
        if let Some(value) = value {
            params.push((name, value.to_string()));
        }
    }
    params
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(status: u16, code: &str, message: &str) -> ApiFailure {
        ApiFailure::Api {
            status,
            error: ApiError { error: code.to_owned(), message: message.to_owned() },
            retry_after: None,
        }
    }

    #[test]
    fn only_session_401s_count_as_expired() {
        assert!(failure(401, "not_authenticated", "not signed in").is_session_expired());
        assert!(!failure(401, codes::INVALID_CREDENTIALS, "wrong").is_session_expired());
        assert!(!failure(403, codes::PASSWORD_CHANGE_REQUIRED, "change").is_session_expired());
        assert!(!ApiFailure::Network("down".into()).is_session_expired());
    }

    #[test]
    fn messages_are_sentences() {
        assert_eq!(
            failure(401, codes::INVALID_CREDENTIALS, "wrong username or password").message(),
            "Wrong username or password"
        );
        assert_eq!(failure(500, "internal", "").message(), "The request failed (internal).");
        assert!(ApiFailure::Network("x".into()).message().starts_with("Cannot reach"));
    }

    #[test]
    fn audit_query_leaves_out_absent_filters() {
        assert!(audit_params(&AuditQuery::default()).is_empty());
        let query = AuditQuery {
            actor: Some("tina".into()),
            action: Some("auth.".into()),
            target: Some("pc-1".into()),
            since: Some(1_000),
            until: None,
            before_seq: Some(42),
            limit: Some(50),
        };
        assert_eq!(
            audit_params(&query),
            vec![
                ("actor", "tina".to_owned()),
                ("action", "auth.".to_owned()),
                ("target", "pc-1".to_owned()),
                ("since", "1000".to_owned()),
                ("before_seq", "42".to_owned()),
                ("limit", "50".to_owned()),
            ]
        );
    }
}
