//! Broker sessions (seed: bigfix-broker-session.txt): the REST types of the
//! technician's connection-code window, the agent's code redemption, the
//! broker (TURN relay) list, and the agent's loopback UI.
//!
//! The flow: a technician creates a broker session and reads its code out;
//! the end user enters it in the agent; the agent redeems it with its target
//! data and the broker it picked; the server answers with a session-scoped
//! token and the session's ICE servers (short-lived TURN credentials for that
//! broker); the agent opens the session socket (`/api/broker/ws`) and the
//! live session proceeds as any other, the controller joining the same
//! broker. Codes themselves are in [`crate::connection_code`].

use crate::access::AccessSet;
use crate::agent::AgentInfo;
use crate::connection_code::{CodeState, UnixMillis};
use crate::grant::SignedGrant;
use crate::mode::{ModeSet, SessionMode};
use crate::policy::SessionPolicy;
use crate::signal::IceServer;
use serde::{Deserialize, Serialize};

/// `POST /api/broker-sessions` (technician): no body fields yet; the
/// session's policy (lifetime included) comes from the server's settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBrokerSessionRequest {}

/// A broker session as its technician sees it. The code's digits appear only
/// in the answers that make a code (create and Request New): the server keeps
/// nothing but a keyed hash of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokerSessionView {
    /// Stable across Request New; the code changes, the window stays.
    pub id: String,
    /// `123 456 789`, only when this answer made the code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The URL form of the code (`<server>/connect/123-456-789`), with `code`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Where the code is in its life; `expires_at`/`deadline` are server time.
    pub state: CodeState,
    /// The server's clock when it answered, so the countdown does not depend
    /// on the browser's clock being right.
    pub server_now: UnixMillis,
    /// The policy's code lifetime in seconds (15 min by default).
    pub lifetime_secs: u64,
    /// The live session once a target redeemed the code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// The redeeming target's data, once known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<AgentInfo>,
    /// `host:port` of the broker the target picked, once known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broker: Option<String>,
}

/// One broker (TURN relay) as the agent and the admin UI see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokerView {
    /// Stable name, e.g. `embedded` or an admin-given one.
    pub id: String,
    /// `turn:host:port?transport=udp` style URLs.
    pub urls: Vec<String>,
    /// `host:port` for "Connecting to: host:port".
    pub address: String,
    /// Sessions currently assigned to it, for least-loaded choice.
    pub active_sessions: u32,
    /// Comes from the server's own config (the embedded relay, `--broker`
    /// flags) rather than the admin UI; such brokers cannot be removed there.
    #[serde(default)]
    pub built_in: bool,
}

/// `POST /api/brokers` (admin): add a TURN relay (e.g. a coturn) that shares
/// the server's TURN REST secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBrokerRequest {
    /// 1–64 of `a-z0-9-`.
    pub id: String,
    /// One to eight `turn:`/`turns:` URLs.
    pub urls: Vec<String>,
}

/// `GET /api/broker/config` (unauthenticated): what an agent needs before it
/// can take a code. Cached by the agent ("contacted the server").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokerConfig {
    pub brokers: Vec<BrokerView>,
}

/// `POST /api/broker/redeem` (unauthenticated, throttled): the agent trades
/// the code its user typed for a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedeemCodeRequest {
    /// As typed; the server parses it with `ConnectionCode::parse`.
    pub code: String,
    pub target: AgentInfo,
    /// The `id` of the broker the agent picked from [`BrokerConfig`], if any.
    #[serde(default)]
    pub broker: Option<String>,
}

/// The answer to a good code: the session and how to reach it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedeemCodeResponse {
    pub session_id: String,
    /// Bearer token for `/api/broker/ws`, valid for this session only.
    pub session_token: String,
    /// The technician's display name, for the user's prompt.
    pub technician: String,
    /// ICE servers for this session (TURN credentials for the chosen broker).
    pub ice_servers: Vec<IceServer>,
    /// `host:port` of the broker used, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broker: Option<String>,
    /// The session's policy, which the agent enforces (a server that sends
    /// none gets the defaults: the user is asked).
    #[serde(default)]
    pub policy: SessionPolicy,
    /// The session's signed grant, bound to no controller yet: the agent
    /// asks the person about what it grants, by the name it signs. (v7)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant: Option<SignedGrant>,
}

/// Error codes (`ApiError::error`) a redemption can fail with, so the agent
/// can tell its user why.
pub mod redeem_error {
    /// The text is not a 9-digit code.
    pub const MALFORMED: &str = "malformed_code";
    /// No live code matches (never existed, cancelled, replaced or voided).
    pub const WRONG: &str = "wrong_code";
    /// The code existed but its time ran out.
    pub const EXPIRED: &str = "code_expired";
    /// The code was redeemed already.
    pub const USED: &str = "code_used";
    /// The target may not take this session.
    pub const NOT_AUTHORISED: &str = "target_not_authorised";
    /// Too many tries; see `Retry-After`.
    pub const RATE_LIMITED: &str = "rate_limited";
}

/// What the agent's loopback UI shows; `GET /local/status` on the agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum LocalAgentStatus {
    /// No server URL and broker list yet: codes cannot be taken.
    NotConfigured { message: String },
    /// Ready for a code; `last_session` says how the last session ended.
    Idle {
        server: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        last_session: Option<String>,
    },
    /// Redeeming a code.
    Connecting { server: String },
    /// A technician asks for a session in `mode`, which brings `access`;
    /// the person accepts it (`POST /local/accept`, optionally in one of
    /// `choices`, each asking for less) or rejects it (`/local/reject`)
    /// within `seconds_left`. `change_from`: the session already runs in
    /// that mode and the technician asks to change it (no answer leaves it
    /// as it is).
    AwaitingAcceptance {
        session_id: String,
        technician: String,
        mode: SessionMode,
        access: AccessSet,
        choices: ModeSet,
        seconds_left: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        change_from: Option<SessionMode>,
        /// The tool the technician asks to use in the running session,
        /// when that is the question (allowing it leaves the mode as it is).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tool: Option<crate::consent::ToolUse>,
    },
    /// A session is live with this technician, in `mode` once the agent
    /// knows it. `from_link`: a technician's request to this enrolled
    /// computer (its link ends it); otherwise a connection code's session.
    /// **End session** (`POST /local/cancel`) ends either.
    InSession {
        session_id: String,
        technician: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mode: Option<SessionMode>,
        #[serde(default)]
        from_link: bool,
        /// The session's chat so far, oldest first (the last
        /// [`crate::chat::MAX_KEPT_LINES`]).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        chat: Vec<crate::chat::ChatLine>,
        /// What the session uses right now, in words ("viewing,
        /// transferring a.iso 5% (…)"), when anything.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        in_use: Option<String>,
    },
    /// The last try failed; the UI offers Try Again and Cancel.
    Failed { error: String, message: String },
}

/// `POST /local/accept` on the agent's loopback UI: yes, in `mode` (one of
/// the question's choices), or as asked when `mode` is absent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalAcceptRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<SessionMode>,
}

/// `POST /local/mode` on the agent's loopback UI: the person takes access
/// away from the session on screen, which goes on only in `mode` (one that
/// asks for less than the mode in force).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalModeRequest {
    pub mode: SessionMode,
}

/// `POST /local/chat` on the agent's loopback UI: a chat line for the
/// technician of the session on screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalChatRequest {
    pub text: String,
}

/// `POST /local/connect` on the agent's loopback UI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalConnectRequest {
    pub code: String,
}
