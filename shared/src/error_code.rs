//! Every error code the server puts in an `ApiError`'s `error` field, so the
//! server that sends one and the clients that react to it spell it once.
//! Codes of the connection-code redemption are in
//! [`crate::broker::redeem_error`].

/// The request could not be understood.
pub const BAD_REQUEST: &str = "bad_request";
/// No credentials, or not valid ones.
pub const NOT_AUTHENTICATED: &str = "not_authenticated";
/// Signed in, but the role may not do this.
pub const FORBIDDEN: &str = "forbidden";
/// No such resource.
pub const NOT_FOUND: &str = "not_found";
/// The body is larger than the server accepts.
pub const PAYLOAD_TOO_LARGE: &str = "payload_too_large";
/// The body is not JSON.
pub const UNSUPPORTED_MEDIA_TYPE: &str = "unsupported_media_type";
/// A field of the request breaks the rules in `tether_shared::validate`.
pub const INVALID_FIELD: &str = "invalid_field";
/// Too many attempts; the `Retry-After` header says when to try again.
pub const RATE_LIMITED: &str = "rate_limited";
/// The server failed; the cause is in its log, not in the answer.
pub const INTERNAL: &str = "internal";

/// The access token's time ran out.
pub const TOKEN_EXPIRED: &str = "token_expired";
/// The access token is not one the server signed.
pub const INVALID_TOKEN: &str = "invalid_token";
/// The login session behind the token was signed out or revoked.
pub const SESSION_ENDED: &str = "session_ended";
/// Wrong username or password (login, or the current password when changing it).
pub const INVALID_CREDENTIALS: &str = "invalid_credentials";
/// The account must choose a new password before anything else.
pub const PASSWORD_CHANGE_REQUIRED: &str = "password_change_required";
/// The account was disabled by an administrator.
pub const ACCOUNT_DISABLED: &str = "account_disabled";
/// The current password given with a password change is wrong.
pub const WRONG_PASSWORD: &str = "wrong_password";
/// The username is already in use.
pub const USERNAME_TAKEN: &str = "username_taken";
/// The change would leave no enabled administrator.
pub const LAST_ADMIN: &str = "last_admin";
/// An account cannot delete itself.
pub const CANNOT_DELETE_SELF: &str = "cannot_delete_self";

/// The target's agent is not connected, so no session can start.
pub const TARGET_OFFLINE: &str = "target_offline";
/// The enrollment token is unknown, used up, expired or revoked.
pub const INVALID_ENROLLMENT_TOKEN: &str = "invalid_enrollment_token";
/// The agent's credential is unknown or was revoked.
pub const UNKNOWN_AGENT: &str = "unknown_agent";

/// The connection code's state does not allow this (cancelled, used, expired).
pub const CODE_STATE: &str = "code_state";
/// The broker session token is unknown or its session has ended.
pub const INVALID_SESSION_TOKEN: &str = "invalid_session_token";
/// A broker with this name or address exists already.
pub const BROKER_EXISTS: &str = "broker_exists";
/// The built-in relay cannot be changed or removed.
pub const BROKER_BUILT_IN: &str = "broker_built_in";
/// A socket spoke another protocol version than the server.
pub const PROTOCOL_MISMATCH: &str = "protocol_mismatch";
/// A group of this kind with this name exists already.
pub const GROUP_NAME_TAKEN: &str = "group_name_taken";
/// The pair of groups already has a policy assignment.
pub const ASSIGNMENT_EXISTS: &str = "assignment_exists";
/// No policy lets this technician open a session on this computer.
pub const TARGET_NOT_ALLOWED: &str = "target_not_allowed";
