//! REST API types: every request and response body of `/api`, shared by the
//! server (which parses requests strictly) and the web client.
//!
//! Request bodies reject unknown fields, so a typo in a client is an error
//! rather than a silently ignored setting.

use crate::Role;
use serde::{Deserialize, Serialize};

/// The body of every error response: a stable machine-readable code and a
/// sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// Stable identifier, e.g. `invalid_credentials`, `rate_limited`.
    pub error: String,
    /// Human-readable explanation, safe to show in the UI.
    pub message: String,
}

/// `POST /api/auth/login`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

/// Answer to a successful login or refresh. The refresh token travels only in
/// an `HttpOnly` cookie, never in a body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    /// Short-lived access JWT for the `Authorization: Bearer` header.
    pub access_token: String,
    /// Seconds until `access_token` expires.
    pub expires_in: u64,
    /// The account that logged in.
    pub user: UserView,
}

/// An account as the API shows it. Never carries the password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// Disabled accounts cannot log in and their sessions are revoked.
    pub disabled: bool,
    /// Set for one-time passwords: the account must choose a new password
    /// before it may do anything else.
    pub must_change_password: bool,
    /// Creation time, Unix milliseconds.
    pub created_at: i64,
}

/// `POST /api/users` (admin).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// Initial password; the user must change it at first login.
    pub password: String,
}

/// `PATCH /api/users/{id}` (admin). Absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
}

/// `POST /api/users/{id}/password` (admin): sets a one-time password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResetPasswordRequest {
    pub password: String,
}

/// `POST /api/me/password`: the signed-in user changes their own password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
}

/// One audit log entry as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntryView {
    /// Position in the chain, starting at 1, without gaps.
    pub seq: i64,
    /// Unix milliseconds.
    pub at: i64,
    /// Account id of the actor, if an account acted.
    pub actor_id: Option<String>,
    /// Username of the actor, or a system name such as `system`.
    pub actor: String,
    /// Dotted action name, e.g. `auth.login`, `user.create`.
    pub action: String,
    /// What the action was about, e.g. a username.
    pub target: Option<String>,
    /// A readable name for a target stored as an id, when the server knows
    /// it: a computer's host name (an agent, or a session or broker session
    /// with that computer), an enrollment token's label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_name: Option<String>,
    /// A readable name for an actor stored as an id (an agent acting: its
    /// computer's host name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_name: Option<String>,
    /// The live session this entry concerns, if any (its timeline is
    /// `GET /api/sessions/{id}/timeline`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// Source address of the request, if there was one.
    pub source: Option<String>,
    /// Action-specific details.
    pub details: serde_json::Value,
    /// Hex SHA-256 of this entry, chained to the previous one.
    pub hash: String,
}

/// `GET /api/audit` query. All filters are optional and combine with AND.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Part of the actor's name (or, for an agent, its computer's), any case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// Part of the action's name, any case (e.g. `broker`, `auth.`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// Part of the target or of its readable name, any case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Entries at or after this time, Unix milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<i64>,
    /// Entries before this time, Unix milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<i64>,
    /// Page cursor: only entries with a smaller `seq` (newest first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before_seq: Option<i64>,
    /// Page size, 1 to 200; 50 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// A page of audit entries, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntryView>,
    /// Pass as `before_seq` for the next (older) page; absent on the last page.
    pub next_before_seq: Option<i64>,
}

/// The result of checking the whole audit chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainStatus {
    /// True when every entry is intact and in order.
    pub ok: bool,
    /// Number of entries examined.
    pub entries_checked: u64,
    /// Hash of the newest entry: note it down to detect later truncation.
    pub head_hash: Option<String>,
    /// The first entry found edited, deleted or reordered.
    pub first_break: Option<crate::audit_chain::ChainBreak>,
}

/// Longest text filter `GET /api/audit` accepts, in characters.
pub const MAX_AUDIT_FILTER_CHARS: usize = 200;

/// `GET /api/sessions/{id}/timeline` (auditor): one session and every audit
/// entry about it, oldest first — its request (or its connection code's
/// life), the user's answers, its start, re-attachments and its end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionTimeline {
    pub session: SessionSummary,
    pub entries: Vec<AuditEntryView>,
    /// Set when the session has more entries than one answer carries (the
    /// oldest are shown).
    #[serde(default)]
    pub truncated: bool,
}

/// `POST /api/sessions` (technician): ask for a live session with a target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateSessionRequest {
    pub target_id: String,
}

/// A live session as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    pub id: String,
    pub target_id: String,
    /// `requested` or `ended` for now.
    pub state: String,
    pub created_at: i64,
}

/// `GET /api/sessions` query.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionListQuery {
    /// Only sessions that have not ended.
    #[serde(default)]
    pub live: bool,
}

/// A session in a list: the technician's Sessions page, the
/// administrator's live sessions (`GET /api/sessions`, `?live=true`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionSummary {
    pub id: String,
    /// The technician's display name.
    pub technician: String,
    /// The computer: an enrolled computer's host name, or the host name a
    /// broker session's target gave.
    pub computer: String,
    /// The person at the computer, when known (the user the agent runs as).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<String>,
    /// `enrolled` (from the Targets list) or `code` (a connection code).
    pub kind: String,
    /// `requested`, `asking`, `accepted`, `active` or `ended`.
    pub state: String,
    pub created_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_reason: Option<String>,
    /// Who ended it (a username, `system`, or the target).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_by: Option<String>,
    /// The mode the person at the computer accepted the session in, once
    /// their agent said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<crate::mode::SessionMode>,
    /// For a live session: how it is connected — `host:port` of its broker
    /// (TURN relay), if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broker: Option<String>,
    /// For a live session: whether the technician's controller is attached.
    #[serde(default)]
    pub controller_attached: bool,
}

/// `GET /healthz`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub status: String,
    pub version: String,
}
