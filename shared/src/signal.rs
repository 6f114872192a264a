//! Signalling: the messages on the agent's WebSocket (`/api/agent/ws`) and
//! on the controller's session WebSocket (`/api/sessions/{id}/signal`), one
//! enum per direction. The server relays [`Signal`]s between the two ends of
//! a session after checking that both belong to it. Each variant notes the
//! protocol version that added it (or its newer fields).
//!
//! Negotiation ids (v2): the controller numbers its offers, increasing for
//! the whole session (a reloaded page continues after
//! `ServerToController::Ready::last_negotiation`); the agent echoes the
//! number in its answer and tags its candidates with it, so either end
//! drops an answer or candidates of a negotiation it has abandoned.

use crate::access::Access;
use crate::agent::AgentInfo;
use crate::chat::ChatLine;
use crate::grant::SignedGrant;
use crate::guidance::Shape;
use crate::local_input::Unlocked;
use crate::mode::SessionMode;
use serde::{Deserialize, Serialize};

/// The signalling protocol this build speaks. v2 added negotiation ids; v3
/// the user's acceptance (`AgentToServer::Consent`,
/// `ServerToController::AwaitingUser`); v4 heartbeats and the agent's own
/// end of a session when it lost the server (`Welcome`'s
/// `server_loss_timeout_secs`, `AgentToServer::EndedAlone`); v5 the
/// version itself on every socket: the agent's `hello` and the
/// controller's `auth` carry theirs, `welcome` and `ready` the server's, and
/// each end refuses another version with [`ProtocolMismatch`]'s sentence;
/// v6 the server-signed grant (`crate::grant`): `SessionRequest` carries
/// the session's grant (no controller bound yet), `ServerToAgent::Grant`
/// re-issues it bound to the controller's DTLS fingerprint before each
/// offer it relays, and the agent reports what it refused
/// (`AgentToServer::Refused`: a grant, an offer from another controller, a
/// data channel or input the grant does not cover); v7 modes the person
/// chooses: grants carry the policy's allowed modes and acceptance terms,
/// the agent's `accepted` step names the mode the person accepted, and the
/// controller hears it (`ServerToController::ModeChosen`); v8 changes of
/// mode during a session: the technician asks (`ControllerToServer::
/// RequestMode`), the server grants, the agent applies a narrowing at once
/// and puts a widening to the person where the policy says so, and reports
/// each step (`AgentToServer::Mode`, relayed as `ServerToController::
/// ModeChange`); grants carry the policy's `assent_each_time`; v9 chat
/// (`crate::chat`): either end sends `chat` with its text, the server
/// records the line and relays it to both ends as a `ChatLine`; v10 the
/// clipboard and system tools (`crate::tool`), the person's assent to a
/// tool on its first use, and what the agent did with each
/// (`AgentToServer::Tool`, audited); v11 monitors: the agent lists them
/// on the control channel and the controller picks what is shown
/// (`crate::monitor`); guidance drawing (`crate::guidance`), audited
/// (`ToolEvent::Drew`); v12 the privacy screen (`crate::privacy`; control
/// messages `privacy`, audited as `ToolEvent::PrivacyShown` and its kin).
pub const PROTOCOL_VERSION: u32 = 12;

/// The other end of a socket speaks another protocol version (`theirs`; 0
/// when it sent none, i.e. it predates v5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.sentence())]
pub struct ProtocolMismatch {
    pub theirs: u32,
}

impl ProtocolMismatch {
    fn sentence(&self) -> String {
        let theirs = match self.theirs {
            0 => "a signalling protocol older than v5".to_owned(),
            version => format!("signalling protocol v{version}"),
        };
        let update = if self.theirs < PROTOCOL_VERSION { "the other end" } else { "this end" };
        format!("the other end speaks {theirs} and this end v{PROTOCOL_VERSION}: update {update}")
    }
}

/// Whether this build can talk to an end that announced `theirs`.
pub fn check_protocol(theirs: u32) -> Result<(), ProtocolMismatch> {
    if theirs == PROTOCOL_VERSION { Ok(()) } else { Err(ProtocolMismatch { theirs }) }
}

/// How often the server sends a heartbeat (a WebSocket ping) on every
/// signalling socket, in seconds; a peer silent for
/// [`HEARTBEATS_MISSED`] of them counts as gone.
pub const HEARTBEAT_INTERVAL_SECS: u64 = 5;
/// Heartbeat intervals of silence after which the server drops a socket.
pub const HEARTBEATS_MISSED: u32 = 3;

/// Largest WebSocket message either side accepts, in bytes.
pub const MAX_SIGNAL_MESSAGE_BYTES: usize = 64 * 1024;

/// A STUN or TURN server for ICE, as `RTCIceServer` takes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IceServer {
    pub urls: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

/// WebRTC negotiation between the controller and the agent. The controller
/// offers (receive-only video plus data channels); the agent answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Signal {
    /// An SDP offer, the `negotiation`th of its session. (v1; `negotiation` v2)
    Offer { negotiation: u64, sdp: String },
    /// The SDP answer to offer number `negotiation`. (v1; `negotiation` v2)
    Answer { negotiation: u64, sdp: String },
    /// A trickled ICE candidate; an empty `candidate` ends gathering.
    /// `negotiation` names the offer it belongs to, when known. (v1;
    /// `negotiation` v2)
    Candidate {
        candidate: String,
        #[serde(default)]
        sdp_mid: Option<String>,
        #[serde(default)]
        sdp_mline_index: Option<u16>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        negotiation: Option<u64>,
    },
    /// The sender is leaving the session. (v1)
    Bye { reason: String },
}

/// From the agent to the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum AgentToServer {
    /// First message after connecting: the machine as it is now (v1) and
    /// the protocol version the agent speaks (v5; 0 when absent).
    Hello {
        info: AgentInfo,
        #[serde(default)]
        protocol: u32,
    },
    /// Negotiation for one of this agent's sessions. (v1)
    Signal { session_id: String, signal: Signal },
    /// The person at the target is asked to accept a session, or answered.
    /// The agent starts nothing before `Accepted`. (v3)
    Consent { session_id: String, step: ConsentStep },
    /// The agent ended a session on its own at `ended_at` (Unix ms, its
    /// clock) because it heard nothing from the server for too long; sent
    /// as soon as the server can hear it again. (v4)
    EndedAlone { session_id: String, reason: String, ended_at: i64 },
    /// The agent refused something for this session — a grant that does
    /// not verify, an offer from a controller the grant does not name, a
    /// data channel or input the grant does not cover — and why; the
    /// server audits it. A refused grant also ends the session (a `bye`
    /// follows). (v6)
    Refused { session_id: String, refusal: Refusal },
    /// Where a change of the session's mode stands: the person is asked,
    /// the session runs in a new mode, or the change was refused. (v8)
    Mode { session_id: String, step: ModeStep },
    /// The person at the computer typed a chat line. (v9)
    Chat { session_id: String, text: String },
    /// What the agent did with a tool in this session, for the audit log;
    /// sent before the technician sees its result. (v10)
    Tool { session_id: String, event: ToolEvent },
}

/// What the agent did with a tool in a session. (v10)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case", deny_unknown_fields)]
pub enum ToolEvent {
    /// The person is asked to allow a kind of access on its first use.
    AccessAsked { access: Access },
    /// The person allowed it; the tool is served from now on this session.
    AccessAllowed { access: Access },
    /// The technician's text (this many characters) is on the clipboard.
    ClipboardSet { chars: u64 },
    /// The clipboard's text (this many characters) went to the technician.
    ClipboardTaken { chars: u64 },
    /// The technician read the computer's system information.
    SystemInfoRead,
    /// A file transfer started or ended: which way, the file's name (as
    /// saved or as read), its size, its SHA-256 once known, and how it
    /// went (with the reason when it failed or was refused).
    File {
        direction: FileDirection,
        name: String,
        size: u64,
        sha256: Option<String>,
        outcome: FileOutcome,
        reason: Option<String>,
    },
    /// The technician drew this shape on the person's screen (on the whole
    /// screen's pixels). (v11)
    Drew { shape: Shape },
    /// The technician took their drawing away. (v11)
    DrawingCleared,
    /// The person's keyboard and mouse are about to be locked. (v11)
    InputLocked,
    /// The lock ended, and why. (v11)
    InputUnlocked { why: Unlocked },
    /// The lock could not be taken, and why; nothing was locked. (v11)
    InputLockFailed { reason: String },
    /// The privacy screen is about to cover the display. (v12)
    PrivacyShown,
    /// The privacy screen was taken away, and why (`ByTechnician` with the
    /// lock staying, or whatever ended the lock). (v12)
    PrivacyRemoved { why: Unlocked },
    /// The privacy screen could not be put up or kept, and why; nothing
    /// hides the display. (v12)
    PrivacyFailed { reason: String },
}

/// Which way a file moved. (v10)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileDirection {
    /// From the technician to this computer.
    ToComputer,
    /// From this computer to the technician.
    FromComputer,
}

/// Where a file transfer stands. (v10)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileOutcome {
    /// Allowed; the first byte is about to move.
    Started,
    /// Every byte moved and the SHA-256 matched.
    Completed,
    /// Stopped by either side.
    Cancelled,
    /// It broke (a write failed, the hash did not match) or was refused
    /// (a bad name, too large, the person said no).
    Failed,
}

impl ToolEvent {
    /// The audit log's action for it.
    pub fn action(&self) -> &'static str {
        match self {
            ToolEvent::AccessAsked { .. } => "session.access_asked",
            ToolEvent::AccessAllowed { .. } => "session.access_allowed",
            ToolEvent::ClipboardSet { .. } => "session.clipboard_set",
            ToolEvent::ClipboardTaken { .. } => "session.clipboard_taken",
            ToolEvent::SystemInfoRead => "session.system_info_read",
            ToolEvent::File { .. } => "session.file_transfer",
            ToolEvent::Drew { .. } => "session.drawing",
            ToolEvent::DrawingCleared => "session.drawing_cleared",
            ToolEvent::InputLocked => "session.input_locked",
            ToolEvent::InputUnlocked { .. } => "session.input_unlocked",
            ToolEvent::InputLockFailed { .. } => "session.input_lock_failed",
            ToolEvent::PrivacyShown => "session.privacy_shown",
            ToolEvent::PrivacyRemoved { .. } => "session.privacy_removed",
            ToolEvent::PrivacyFailed { .. } => "session.privacy_failed",
        }
    }
}

/// A step in changing a running session's mode (`crate::mode_change`). (v8)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case", deny_unknown_fields)]
pub enum ModeStep {
    /// The person at the computer is asked to allow `mode`, for
    /// `timeout_secs` at most; the session goes on as it is meanwhile.
    Asking { mode: SessionMode, timeout_secs: u32 },
    /// The session now runs in `mode`.
    InForce { mode: SessionMode, by: ModeChangedBy },
    /// The change to `mode` did not happen; the session goes on as it was.
    Refused { mode: SessionMode, reason: ModeRefusal },
}

/// Who changed a running session's mode. (v8)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModeChangedBy {
    /// The technician's request, which needed nobody's answer (a
    /// narrowing, an unattended session, or a policy that does not ask).
    Technician,
    /// The person at the computer: they accepted a request (maybe in a
    /// narrower mode) or took access away themselves.
    Person,
}

/// Why a change of mode did not happen. (v8)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModeRefusal {
    /// The person said no.
    Rejected,
    /// The person did not answer in time.
    NoAnswer,
    /// It needed the person's answer and nobody can be asked here.
    NobodyToAsk,
    /// Another grant came before the answer (a reloaded page, another
    /// request).
    Superseded,
}

impl ModeStep {
    /// The sentence for the technician (and the audit log's reader).
    pub fn sentence(&self) -> String {
        match self {
            ModeStep::Asking { mode, timeout_secs } => {
                format!("Asking the person at the computer to allow {} mode ({timeout_secs} s to answer).", mode.name())
            }
            ModeStep::InForce { mode, by: ModeChangedBy::Technician } => {
                format!("The session is now in {} mode.", mode.name())
            }
            ModeStep::InForce { mode, by: ModeChangedBy::Person } => {
                format!("The person at the computer set the session to {} mode.", mode.name())
            }
            ModeStep::Refused { mode, reason } => {
                let why = match reason {
                    ModeRefusal::Rejected => "the person at the computer said no",
                    ModeRefusal::NoAnswer => "the person at the computer did not answer in time",
                    ModeRefusal::NobodyToAsk => "nobody at the computer can be asked",
                    ModeRefusal::Superseded => "another request replaced it",
                };
                format!("{} mode was not allowed: {why}.", mode.name())
            }
        }
    }
}

/// What the agent refused in a session. (v6)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Refused {
    /// A grant: forged or signed by another key, expired, for another
    /// session or computer, or for another technician than the session's.
    Grant,
    /// An offer from a controller whose DTLS fingerprint is not the
    /// current grant's.
    Offer,
    /// A data channel for a kind of access the grant does not include.
    Channel,
    /// Input while the grant does not include control.
    Input,
}

/// The agent's refusal: what, and the sentence saying why. (v6)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Refusal {
    pub what: Refused,
    pub reason: String,
}

impl Refused {
    /// The name, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            Refused::Grant => "grant",
            Refused::Offer => "offer",
            Refused::Channel => "channel",
            Refused::Input => "input",
        }
    }
}

/// Where the target's user is with accepting a session (policy: user
/// acceptance for incoming connections).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case", deny_unknown_fields)]
pub enum ConsentStep {
    /// The prompt is on screen; it stays for `timeout_secs` at most.
    Asking { timeout_secs: u32 },
    /// The user accepted; the session starts, in `mode`: the grant's, or a
    /// narrower one the person picked (v7; absent from older agents).
    Accepted {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mode: Option<SessionMode>,
    },
    /// The user rejected the session.
    Rejected,
    /// The prompt timed out unanswered, which refuses the session.
    NoAnswer,
}

impl ConsentStep {
    /// Longest prompt an agent may announce, in seconds.
    pub const MAX_TIMEOUT_SECS: u32 = 600;

    /// The step's name, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentStep::Asking { .. } => "asking",
            ConsentStep::Accepted { .. } => "accepted",
            ConsentStep::Rejected => "rejected",
            ConsentStep::NoAnswer => "no_answer",
        }
    }
}

/// From the server to the agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ServerToAgent {
    /// The server accepted the connection. (v1) The agent ends its sessions
    /// itself after hearing nothing from the server for
    /// `server_loss_timeout_secs` (v4; 15 when absent).
    /// `protocol` is the version the server speaks (v5; 0 when absent).
    Welcome {
        agent_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        server_loss_timeout_secs: Option<u32>,
        #[serde(default)]
        protocol: u32,
    },
    /// A technician asks for a session; an offer follows. (v1) `grant` is
    /// the session's signed grant, bound to no controller yet: the agent
    /// checks it before it admits the session (v6; the server always sends
    /// one, a code's own start has none).
    SessionRequest {
        session_id: String,
        technician: String,
        ice_servers: Vec<IceServer>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        grant: Option<SignedGrant>,
    },
    /// The session's grant, (re-)issued bound to the controller whose offer
    /// follows; the agent answers no offer its current grant does not name.
    /// (v6) `requested` (v8): the technician asks for the grant's mode — a
    /// wider one is put to the person where the policy says so; without
    /// it a grant only binds the controller and is held to the mode in
    /// force (it may narrow it, never widen it).
    Grant {
        session_id: String,
        grant: SignedGrant,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        requested: bool,
    },
    /// Negotiation from the controller of a session. (v1)
    Signal { session_id: String, signal: Signal },
    /// A chat line of a session, recorded by the server. (v9)
    Chat { session_id: String, line: ChatLine },
    /// A message was refused; the connection stays up. (v1)
    Error { message: String },
}

/// From the controller (the technician's browser) to the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ControllerToServer {
    /// First message: the access token (browsers cannot set headers on a
    /// WebSocket) (v1) and the protocol version the page speaks (v5; 0
    /// when absent).
    Auth {
        token: String,
        #[serde(default)]
        protocol: u32,
    },
    /// Negotiation for the agent. (v1)
    Signal { signal: Signal },
    /// The technician asks to run the session in `mode` from now on; the
    /// policy may give a narrower one, and the person may be asked. (v8)
    RequestMode { mode: SessionMode },
    /// The technician typed a chat line. (v9)
    Chat { text: String },
}

/// From the server to the controller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ServerToController {
    /// Authenticated; send the offer, numbered above `last_negotiation`
    /// (the highest offer number this session has seen, 0 for none).
    /// (v1; `last_negotiation` v2)
    Ready {
        session_id: String,
        ice_servers: Vec<IceServer>,
        #[serde(default)]
        last_negotiation: u64,
        /// `host:port` of the session's broker (TURN relay), for
        /// "Connecting to: host:port". (v2, additive)
        #[serde(default, skip_serializing_if = "Option::is_none")]
        broker: Option<String>,
        /// The protocol version the server speaks. (v5; 0 when absent)
        #[serde(default)]
        protocol: u32,
    },
    /// Negotiation from the agent. (v1)
    Signal { signal: Signal },
    /// The target's user is being asked to accept the session, for
    /// `timeout_secs` at most; the agent's answer (or the end) follows. (v3)
    AwaitingUser { timeout_secs: u32 },
    /// The person at the computer accepted the session in `mode`, which
    /// may be narrower than the one asked for: the agent allows nothing
    /// beyond it. Sent again to a controller that attaches later. (v7)
    ModeChosen { mode: SessionMode },
    /// Where the technician's request to change mode stands, as the agent
    /// reported it. (v8)
    ModeChange { step: ModeStep },
    /// A chat line of the session (either side's), recorded by the server.
    /// (v9)
    Chat { line: ChatLine },
    /// The session is over. (v1)
    Ended { reason: String },
    /// A message was refused; the connection stays up. (v1)
    Error { message: String },
}

impl Signal {
    /// The negotiation a signal belongs to, if it names one.
    pub fn negotiation(&self) -> Option<u64> {
        match self {
            Signal::Offer { negotiation, .. } | Signal::Answer { negotiation, .. } => Some(*negotiation),
            Signal::Candidate { negotiation, .. } => *negotiation,
            Signal::Bye { .. } => None,
        }
    }
}

/// The DTLS certificate fingerprint an SDP announces (`a=fingerprint:`,
/// the first one, session or media level), normalised to lower case. A
/// new `RTCPeerConnection` has a new certificate, so a different
/// fingerprint means a different peer, not a renegotiation.
pub fn dtls_fingerprint(sdp: &str) -> Option<String> {
    sdp.lines()
        .find_map(|line| line.trim().strip_prefix("a=fingerprint:"))
        .map(|value| value.split_whitespace().collect::<Vec<_>>().join(" ").to_ascii_lowercase())
        .filter(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::DisplayInfo;
    use serde::de::DeserializeOwned;

    fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(value: T) {
        let text = serde_json::to_string(&value).expect("serialize");
        assert_eq!(serde_json::from_str::<T>(&text).expect("parse"), value, "{text}");
    }

    fn signals() -> Vec<Signal> {
        vec![
            Signal::Offer { negotiation: 1, sdp: "v=0".into() },
            Signal::Answer { negotiation: 1, sdp: "v=0".into() },
            Signal::Candidate {
                candidate: "candidate:1 1 udp 1 127.0.0.1 9 typ host".into(),
                sdp_mid: Some("0".into()),
                sdp_mline_index: Some(0),
                negotiation: Some(1),
            },
            Signal::Candidate { candidate: String::new(), sdp_mid: None, sdp_mline_index: None, negotiation: None },
            Signal::Bye { reason: "done".into() },
        ]
    }

    #[test]
    fn every_variant_round_trips() {
        let info = AgentInfo {
            hostname: "pc".into(),
            os: "Linux".into(),
            os_user: "u".into(),
            agent_version: "0.1.0".into(),
            displays: vec![DisplayInfo { name: ":0".into(), width: 800, height: 600, primary: true }],
        };
        round_trip(AgentToServer::Hello { info, protocol: PROTOCOL_VERSION });
        let ice = vec![IceServer {
            urls: vec!["turn:127.0.0.1:3478".into()],
            username: Some("u".into()),
            credential: Some("p".into()),
        }];
        round_trip(ServerToAgent::Welcome { agent_id: "a".into(), server_loss_timeout_secs: None, protocol: 5 });
        round_trip(ServerToAgent::Welcome { agent_id: "a".into(), server_loss_timeout_secs: Some(15), protocol: 5 });
        round_trip(AgentToServer::EndedAlone { session_id: "s".into(), reason: "r".into(), ended_at: 7 });
        round_trip(ServerToAgent::SessionRequest {
            session_id: "s".into(),
            technician: "t".into(),
            ice_servers: ice.clone(),
            grant: None,
        });
        let grant = SignedGrant { payload: "p".into(), signature: "s".into(), key_id: "k".into() };
        round_trip(ServerToAgent::SessionRequest {
            session_id: "s".into(),
            technician: "t".into(),
            ice_servers: ice.clone(),
            grant: Some(grant.clone()),
        });
        round_trip(ServerToAgent::Grant { session_id: "s".into(), grant: grant.clone(), requested: false });
        round_trip(ServerToAgent::Grant { session_id: "s".into(), grant, requested: true });
        for what in [Refused::Grant, Refused::Offer, Refused::Channel, Refused::Input] {
            let refusal = Refusal { what, reason: "r".into() };
            round_trip(AgentToServer::Refused { session_id: "s".into(), refusal });
        }
        for step in [
            ModeStep::Asking { mode: SessionMode::Active, timeout_secs: 30 },
            ModeStep::InForce { mode: SessionMode::Monitor, by: ModeChangedBy::Person },
            ModeStep::Refused { mode: SessionMode::FileTransfer, reason: ModeRefusal::Superseded },
        ] {
            round_trip(AgentToServer::Mode { session_id: "s".into(), step });
            round_trip(ServerToController::ModeChange { step });
        }
        round_trip(ControllerToServer::RequestMode { mode: SessionMode::Guidance });
        let line = ChatLine { from: crate::chat::Speaker::Person, name: "Pat".into(), text: "hi".into(), at: 1 };
        round_trip(ControllerToServer::Chat { text: "hello".into() });
        round_trip(ServerToController::Chat { line: line.clone() });
        round_trip(ServerToAgent::Chat { session_id: "s".into(), line });
        round_trip(AgentToServer::Chat { session_id: "s".into(), text: "hi".into() });
        for event in [
            ToolEvent::AccessAsked { access: Access::Clipboard },
            ToolEvent::AccessAllowed { access: Access::SystemInfo },
            ToolEvent::ClipboardSet { chars: 3 },
            ToolEvent::ClipboardTaken { chars: 0 },
            ToolEvent::SystemInfoRead,
            ToolEvent::File {
                direction: FileDirection::ToComputer,
                name: "report.pdf".into(),
                size: 3,
                sha256: None,
                outcome: FileOutcome::Failed,
                reason: Some("the person said no".into()),
            },
        ] {
            assert!(event.action().starts_with("session."));
            round_trip(AgentToServer::Tool { session_id: "s".into(), event });
        }
        round_trip(ServerToAgent::Error { message: "m".into() });
        round_trip(ControllerToServer::Auth { token: "jwt".into(), protocol: PROTOCOL_VERSION });
        round_trip(ServerToController::Ready {
            session_id: "s".into(),
            ice_servers: ice.clone(),
            last_negotiation: 7,
            broker: None,
            protocol: PROTOCOL_VERSION,
        });
        round_trip(ServerToController::Ready {
            session_id: "s".into(),
            ice_servers: ice,
            last_negotiation: 7,
            broker: Some("turn.example:3478".into()),
            protocol: PROTOCOL_VERSION,
        });
        round_trip(ServerToController::Ended { reason: "r".into() });
        round_trip(ServerToController::Error { message: "m".into() });
        for signal in signals() {
            round_trip(AgentToServer::Signal { session_id: "s".into(), signal: signal.clone() });
            round_trip(ServerToAgent::Signal { session_id: "s".into(), signal: signal.clone() });
            round_trip(ControllerToServer::Signal { signal: signal.clone() });
            round_trip(ServerToController::Signal { signal });
        }
    }

    #[test]
    fn wire_format_is_stable() {
        let offer = ControllerToServer::Signal { signal: Signal::Offer { negotiation: 3, sdp: "x".into() } };
        let text = serde_json::to_string(&offer).expect("json");
        assert_eq!(text, r#"{"type":"signal","signal":{"kind":"offer","negotiation":3,"sdp":"x"}}"#);
        assert!(
            serde_json::from_str::<ControllerToServer>(
                r#"{"type":"signal","signal":{"kind":"offer","negotiation":3,"sdp":"x","evil":1}}"#
            )
            .is_err()
        );
        let answer = AgentToServer::Signal {
            session_id: "s".into(),
            signal: Signal::Answer { negotiation: 3, sdp: "y".into() },
        };
        assert_eq!(
            serde_json::to_string(&answer).expect("json"),
            r#"{"type":"signal","session_id":"s","signal":{"kind":"answer","negotiation":3,"sdp":"y"}}"#
        );
        let tagged = Signal::Candidate {
            candidate: "c".into(),
            sdp_mid: Some("0".into()),
            sdp_mline_index: Some(0),
            negotiation: Some(3),
        };
        assert_eq!(
            serde_json::to_string(&tagged).expect("json"),
            r#"{"kind":"candidate","candidate":"c","sdp_mid":"0","sdp_mline_index":0,"negotiation":3}"#
        );
        let ready = ServerToController::Ready {
            session_id: "s".into(),
            ice_servers: vec![],
            last_negotiation: 4,
            broker: None,
            protocol: 5,
        };
        assert_eq!(
            serde_json::to_string(&ready).expect("json"),
            r#"{"type":"ready","session_id":"s","ice_servers":[],"last_negotiation":4,"protocol":5}"#
        );
    }

    #[test]
    fn only_the_same_protocol_version_is_spoken() {
        assert_eq!(check_protocol(PROTOCOL_VERSION), Ok(()));
        let old: AgentToServer = serde_json::from_str(
            r#"{"type":"hello","info":{"hostname":"pc","os":"Linux","os_user":"u","agent_version":"0.1.0","displays":[]}}"#,
        )
        .expect("a hello from before v5 still parses");
        let AgentToServer::Hello { protocol, .. } = old else { panic!("{old:?}") };
        let refusal = check_protocol(protocol).expect_err("no version is not this version");
        assert_eq!(
            refusal.to_string(),
            format!(
                "the other end speaks a signalling protocol older than v5 and this end v{PROTOCOL_VERSION}: update the other end"
            )
        );
        let newer = check_protocol(PROTOCOL_VERSION + 1).expect_err("a newer version");
        assert!(newer.to_string().ends_with("update this end"), "{newer}");
        assert!(check_protocol(PROTOCOL_VERSION - 1).is_err());
    }

    #[test]
    fn v2_requires_offer_and_answer_numbers_but_not_candidate_tags() {
        assert!(serde_json::from_str::<Signal>(r#"{"kind":"offer","sdp":"x"}"#).is_err());
        assert!(serde_json::from_str::<Signal>(r#"{"kind":"answer","sdp":"x"}"#).is_err());
        assert!(serde_json::from_str::<Signal>(r#"{"kind":"offer","negotiation":-1,"sdp":"x"}"#).is_err());
        let untagged: Signal = serde_json::from_str(r#"{"kind":"candidate","candidate":"c"}"#).expect("v1 candidate");
        assert_eq!(untagged.negotiation(), None);
        let ready: ServerToController =
            serde_json::from_str(r#"{"type":"ready","session_id":"s","ice_servers":[]}"#).expect("v1 ready");
        assert!(matches!(ready, ServerToController::Ready { last_negotiation: 0, .. }));
    }

    #[test]
    fn finds_the_dtls_fingerprint() {
        let sdp = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\nm=video 9 UDP/TLS/RTP/SAVPF 108\r\na=fingerprint:sha-256 AB:CD:EF\r\na=setup:actpass\r\n";
        assert_eq!(dtls_fingerprint(sdp), Some("sha-256 ab:cd:ef".into()));
        assert_eq!(dtls_fingerprint("v=0\r\na=fingerprint:\r\n"), None);
        assert_eq!(dtls_fingerprint("v=0\r\n"), None);
    }
}
