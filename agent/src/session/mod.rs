//! Live sessions: one [`Session`] per `session_id` answers the controller's
//! WebRTC offer, streams this display as H.264, and injects the input the
//! controller sends, each message decoded strictly first. It ends on `bye`,
//! when the connection fails, or when the handle is dropped.
//!
//! Everything a session unlocks follows its current grant (verified by the
//! link before it gets here; `grant.rs` holds the rules): no answer to an
//! offer from a controller the grant does not name, no frames without
//! `view`, no input without `control`, no data channel for access not
//! granted. What it refuses it reports ([`SessionEvent::Refused`]).

mod activity;
mod assent;
mod channels;
mod clipboard;
mod control;
mod cursor;
mod files;
pub mod grant;
mod guide;
mod keyframe;
mod local_use;
mod media;
mod negotiation;
mod pacing;
mod path_probe;
pub mod peer;
mod rtp_clock;
mod run;
mod system_info;
mod turn_tunnel;

pub use assent::ToolAssent;
pub use files::FilesConfig;

use std::time::Duration;
use tether_shared::control::QualityPreset;
use tether_shared::grant::Grant;
use tether_shared::signal::{IceServer, Refusal, Refused, Signal, ToolEvent};
use tokio::sync::mpsc;

/// Where sessions bind and what they stream.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionConfig {
    /// Local UDP addresses for ICE. A wildcard (`0.0.0.0:0`) binds every
    /// non-loopback interface, as webrtc-rs expands it.
    pub udp_addrs: Vec<String>,
    /// The X display to stream and control; `None` = `$DISPLAY`.
    pub display: Option<String>,
    /// The quality the stream starts with; the controller may change it.
    pub quality: QualityPreset,
    /// When a silent connection counts as lost.
    pub ice_timeouts: IceTimeouts,
    /// How long a session whose peer failed or closed waits for the
    /// controller to offer again (a reloaded page) before it ends.
    pub rejoin_timeout: Duration,
    /// Where the files tool saves and browses.
    pub files: FilesConfig,
}

/// How long ICE waits before calling a silent connection disconnected, and
/// then failed (which ends the session with a `bye`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IceTimeouts {
    pub disconnected: Duration,
    pub failed: Duration,
}

impl Default for IceTimeouts {
    /// webrtc-rs's (and Chromium's) 5 s and 25 s: a Wi-Fi hiccup does not end a session.
    fn default() -> Self {
        Self { disconnected: Duration::from_secs(5), failed: Duration::from_secs(25) }
    }
}

/// Every interface, plus loopback (for a controller on this machine).
pub const DEFAULT_UDP_ADDRS: [&str; 2] = ["0.0.0.0:0", "127.0.0.1:0"];

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            udp_addrs: DEFAULT_UDP_ADDRS.map(str::to_owned).to_vec(),
            display: None,
            quality: QualityPreset::default(),
            ice_timeouts: IceTimeouts::default(),
            rejoin_timeout: Duration::from_secs(60),
            files: FilesConfig::from_environment(),
        }
    }
}

/// What a session tells the link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionEvent {
    /// A signal for the controller (answer, candidate, bye).
    Signal { session_id: String, signal: Signal },
    /// The session is over and can be forgotten.
    Ended { session_id: String, reason: String },
    /// The session refused something (an offer, a channel, input, a grant)
    /// and why, for the server to audit.
    Refused { session_id: String, refusal: Refusal },
    /// The person at this computer answered the question about a waiting
    /// request (`crate::link`), or (`None`) its deadline came first.
    Consent { session_id: String, answer: Option<crate::consent::Answer> },
    /// The person answered the question about changing a running session's
    /// mode, or (`None`) its deadline came first.
    ModeAnswer { session_id: String, answer: Option<crate::consent::Answer> },
    /// The person clicked the X on the session's bar.
    EndedFromBar { session_id: String },
    /// The person sent a chat line from the session's bar.
    BarChat { session_id: String, text: String },
    /// What the session did with a tool, for the server to audit.
    Tool { session_id: String, event: ToolEvent },
    /// The kinds of access in use right now changed (view while the screen
    /// is sent, control while input arrives, file transfer while a file
    /// moves), for the session bar.
    InUse { session_id: String, in_use: tether_shared::access::AccessSet, transfer: Option<String> },
}

/// Reports a session's refusals to the link.
#[derive(Debug, Clone)]
pub(crate) struct Reporter {
    session_id: String,
    events: mpsc::UnboundedSender<SessionEvent>,
}

impl Reporter {
    /// Logs the refusal and reports it.
    pub(crate) fn refused(&self, what: Refused, reason: String) {
        tracing::warn!(session = %self.session_id, what = what.as_str(), %reason, "refused");
        let refusal = Refusal { what, reason };
        if self.events.send(SessionEvent::Refused { session_id: self.session_id.clone(), refusal }).is_err() {
            tracing::debug!("a refusal after the link stopped listening");
        }
    }

    /// Reports what the session did with a tool.
    pub(crate) fn tool(&self, event: ToolEvent) {
        tracing::info!(session = %self.session_id, ?event, "tool");
        if self.events.send(SessionEvent::Tool { session_id: self.session_id.clone(), event }).is_err() {
            tracing::debug!("a tool event after the link stopped listening");
        }
    }
}

/// What the link hands a session.
#[derive(Debug)]
enum Input {
    /// Negotiation from the controller.
    Signal(Signal),
    /// A grant the link verified (signature, session, computer, time).
    Grant(Box<Grant>),
}

/// A handle on a running session. Dropping it ends the session (capture
/// stops, the connection closes).
#[derive(Debug)]
pub struct Session {
    inputs: mpsc::Sender<Input>,
}

impl Session {
    /// Starts a session; its signals and end come out on `events`;
    /// `assent` asks the person before a tool's first use where needed.
    pub fn start(
        session_id: String,
        ice_servers: Vec<IceServer>,
        config: SessionConfig,
        assent: ToolAssent,
        events: mpsc::UnboundedSender<SessionEvent>,
    ) -> Self {
        let (inputs, receiver) = mpsc::channel(64);
        tokio::spawn(run::run(session_id, ice_servers, config, assent, events, receiver));
        Self { inputs }
    }

    /// Hands the session a signal from its controller; `false` once it has ended.
    pub async fn signal(&self, signal: Signal) -> bool {
        self.inputs.send(Input::Signal(signal)).await.is_ok()
    }

    /// Hands the session a grant the caller verified with the pinned server
    /// key (`crate::trust`); it replaces the current one at once. `false`
    /// once the session has ended.
    pub async fn grant(&self, grant: Grant) -> bool {
        self.inputs.send(Input::Grant(Box::new(grant))).await.is_ok()
    }
}
