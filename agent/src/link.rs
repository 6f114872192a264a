//! The agent's lasting connection to its server: a WebSocket authenticated
//! by the agent credential, re-established with backoff whenever it drops.
//! While connected, a [`Dispatcher`] starts a [`Session`] per accepted
//! request and routes signalling between the server and each session;
//! [`serve_socket`] is that loop, shared with the broker session socket
//! (`crate::broker::socket`).
//!
//! The dispatcher believes a grant only once the pinned key verifies it
//! for the session and this computer (`crate::trust`): an enrolled
//! computer's request needs one, and each grant that comes with an offer
//! goes to its session only then. A grant that does not verify ends its
//! session; the server hears why (`AgentToServer::Refused`, then a `bye`).

use crate::backoff::Backoff;
use crate::config::AgentConfig;
use crate::notice::{Notice, Notify};
use crate::session::{Session, SessionConfig, SessionEvent};
use crate::trust::{ServerTrust, unix_millis};
use futures_util::{SinkExt, StreamExt};
use std::collections::HashMap;
use std::time::Duration;
use tether_shared::access_policy::Policy;
use tether_shared::consent::{Acceptance, ConsentGate, Denial, Event, LocalRules, Origin, Purpose, Request, Verdict};
use tether_shared::grant::{Grant, SignedGrant, code_target};
use tether_shared::local_floor::LocalFloor;
use tether_shared::signal::{
    AgentToServer, ConsentStep, MAX_SIGNAL_MESSAGE_BYTES, PROTOCOL_VERSION, Refusal, Refused, ServerToAgent, Signal,
    check_protocol,
};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// A signalling WebSocket to the server.
pub type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Whether session requests may start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Consent {
    /// An enrolled computer (`agent_id`): each request goes through its
    /// own consent gate (`tether_shared::consent`), which starts it
    /// unattended only when the grant's policy allows it and this
    /// computer's `floor` does (`run --unattended` lifts "never
    /// unattended"; "always ask" keeps it down). The link has no prompt
    /// yet, so any other request is declined with a `bye`.
    Enrolled { agent_id: String, floor: LocalFloor },
    /// Only this session, which its consent gate already accepted: the
    /// person at this computer typed its connection code and, when asked,
    /// said yes (`crate::broker::awaiting`). A repeated request for it is
    /// ignored; any other is declined. `accepted` is the gate's reason.
    Code { session_id: String, accepted: Acceptance },
}

/// How the link treats sessions.
#[derive(Debug, Clone)]
pub struct LinkOptions {
    pub consent: Consent,
    pub session: SessionConfig,
    /// Where what the person at this computer should know goes.
    pub notify: Notify,
    /// The server key whose grants this agent believes.
    pub trust: ServerTrust,
}

/// Most sessions one agent runs at once.
const MAX_SESSIONS: usize = 4;

/// How one connection ended.
#[derive(Debug)]
enum Ended {
    /// The connection worked for a while and then closed.
    AfterWelcome,
    /// The server refused the credential: retrying will not help.
    Refused(String),
}

/// Stays connected until `shutdown` completes.
pub async fn run(
    config: AgentConfig,
    options: LinkOptions,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let mut backoff = Backoff::default();
    tokio::pin!(shutdown);
    loop {
        let attempt = tokio::select! {
            result = connect_once(&config, &options) => result,
            () = &mut shutdown => return Ok(()),
        };
        match attempt {
            Ok(Ended::AfterWelcome) => {
                backoff.reset();
                tracing::info!("disconnected from the server; reconnecting");
                (options.notify)(Notice::Reconnecting);
            }
            Ok(Ended::Refused(reason)) => anyhow::bail!("the server refused this agent: {reason}; enroll it again"),
            Err(err) => tracing::warn!(error = format!("{err:#}"), "cannot connect to the server"),
        }
        let delay = backoff.next_delay(rand::random::<f64>());
        tracing::info!(?delay, "waiting before reconnecting");
        tokio::select! {
            () = tokio::time::sleep(delay) => {},
            () = &mut shutdown => return Ok(()),
        }
    }
}

/// One connection. Its sessions end with it: the server ends them when the
/// agent goes away.
async fn connect_once(config: &AgentConfig, options: &LinkOptions) -> anyhow::Result<Ended> {
    let enrollment = config.enrollment()?;
    let (mut socket, _) = match open_socket(config.socket_url()?, enrollment.credential).await {
        Ok(connected) => connected,
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) if response.status().as_u16() == 401 => {
            return Ok(Ended::Refused("unknown or revoked agent credential".into()));
        }
        Err(err) => return Err(err.into()),
    };
    let hello = AgentToServer::Hello { info: crate::machine::info(), protocol: PROTOCOL_VERSION };
    socket.send(Message::text(serde_json::to_string(&hello)?)).await?;
    let (session_events, mut from_sessions) = mpsc::unbounded_channel();
    let mut dispatcher = Dispatcher::new(options.clone(), session_events);
    serve_socket(&mut socket, &mut dispatcher, &mut from_sessions, Until::Closed).await?;
    Ok(Ended::AfterWelcome)
}

/// Opens a signalling socket authenticated by `Authorization: Bearer`,
/// with the signalling size limits.
pub async fn open_socket(
    url: url::Url,
    bearer: &str,
) -> Result<(Socket, tokio_tungstenite::tungstenite::handshake::client::Response), tokio_tungstenite::tungstenite::Error>
{
    let mut request = url.as_str().into_client_request()?;
    let value = http::HeaderValue::from_str(&format!("Bearer {bearer}")).map_err(http::Error::from)?;
    request.headers_mut().insert(http::header::AUTHORIZATION, value);
    let limits = WebSocketConfig::default()
        .max_message_size(Some(MAX_SIGNAL_MESSAGE_BYTES))
        .max_frame_size(Some(MAX_SIGNAL_MESSAGE_BYTES));
    tokio_tungstenite::connect_async_with_config(request, Some(limits), false).await
}

/// When [`serve_socket`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    /// When the server closes the socket.
    Closed,
    /// Also as soon as no session runs any more (a broker session's socket
    /// serves its one session).
    NoSessions,
}

/// How often the agent checks that it still hears the server.
const SERVER_WATCH_PERIOD: Duration = Duration::from_millis(500);

/// Refuses a server whose welcome names another protocol version: nothing
/// it says afterwards can be trusted to mean what this agent reads.
pub fn check_welcome(message: &ServerToAgent) -> anyhow::Result<()> {
    match message {
        ServerToAgent::Welcome { protocol, .. } => {
            check_protocol(*protocol).map_err(|mismatch| anyhow::anyhow!("this server cannot be used: {mismatch}"))
        }
        _ => Ok(()),
    }
}

/// Serves one signalling socket: messages from the server go to the
/// dispatcher, what sessions report goes back to the server. Whatever the
/// server sends (its heartbeat pings included) shows it is alive; after
/// the server-loss limit of silence the agent ends its sessions itself,
/// and tells the server so when it can hear again.
pub async fn serve_socket(
    socket: &mut Socket,
    dispatcher: &mut Dispatcher,
    from_sessions: &mut mpsc::UnboundedReceiver<SessionEvent>,
    until: Until,
) -> anyhow::Result<()> {
    let mut last_heard = Instant::now();
    let mut watch = tokio::time::interval(SERVER_WATCH_PERIOD);
    loop {
        let outgoing = tokio::select! {
            message = socket.next() => match message {
                None => break,
                Some(message) => {
                    last_heard = Instant::now();
                    match message? {
                        Message::Text(text) => match serde_json::from_str::<ServerToAgent>(&text) {
                            Ok(message) => {
                                check_welcome(&message)?;
                                dispatcher.on_server_message(message).await
                            }
                            Err(err) => {
                                tracing::warn!(error = %err, "ignoring a malformed message from the server");
                                Vec::new()
                            }
                        },
                        Message::Close(_) => break,
                        _ => Vec::new(),
                    }
                }
            },
            Some(event) = from_sessions.recv() => dispatcher.on_session_event(event).into_iter().collect(),
            _ = watch.tick() => match last_heard.elapsed() {
                silent if silent > dispatcher.server_loss_timeout() && dispatcher.session_count() > 0 => {
                    dispatcher.end_alone(silent)
                }
                _ => Vec::new(),
            },
        };
        for message in outgoing {
            socket.send(Message::text(serde_json::to_string(&message)?)).await?;
        }
        if until == Until::NoSessions && dispatcher.session_count() == 0 {
            // The session's bye (if any) went out before its end was reported.
            if let Err(err) = socket.close(None).await {
                tracing::debug!(error = %err, "closing the session socket");
            }
            break;
        }
    }
    Ok(())
}

/// Routes messages between the server and the sessions, keyed by id.
#[derive(Debug)]
pub struct Dispatcher {
    options: LinkOptions,
    sessions: HashMap<String, Session>,
    session_events: mpsc::UnboundedSender<SessionEvent>,
    /// Why the last session that ended did.
    last_ended: Option<String>,
    /// How long the server may be silent before sessions end here.
    server_loss_timeout: Duration,
}

/// The server-loss limit until the server names one in its welcome.
pub const DEFAULT_SERVER_LOSS_TIMEOUT: Duration = Duration::from_secs(15);

impl Dispatcher {
    pub fn new(options: LinkOptions, session_events: mpsc::UnboundedSender<SessionEvent>) -> Self {
        Self {
            options,
            sessions: HashMap::new(),
            session_events,
            last_ended: None,
            server_loss_timeout: DEFAULT_SERVER_LOSS_TIMEOUT,
        }
    }

    /// How long the server may be silent before sessions end here.
    pub fn server_loss_timeout(&self) -> Duration {
        self.server_loss_timeout
    }

    /// Ends every session here because the server has been silent for
    /// `silent`; returns the reports the server gets once it hears again.
    pub fn end_alone(&mut self, silent: Duration) -> Vec<AgentToServer> {
        let reason = format!(
            "this computer heard nothing from the server for {} s and ended the session itself",
            silent.as_secs()
        );
        let ended_at = unix_millis();
        let reports = self
            .sessions
            .drain()
            .map(|(session_id, _ended_by_dropping)| {
                tracing::warn!(%session_id, %reason, "ending a session: the server is unreachable");
                (self.options.notify)(Notice::SessionEnded { reason: reason.clone() });
                AgentToServer::EndedAlone { session_id, reason: reason.clone(), ended_at }
            })
            .collect();
        self.last_ended = Some(reason);
        reports
    }

    /// Acts on a message from the server; returns the replies to send.
    pub async fn on_server_message(&mut self, message: ServerToAgent) -> Vec<AgentToServer> {
        match message {
            ServerToAgent::Welcome { agent_id, server_loss_timeout_secs, .. } => {
                if let Some(secs) = server_loss_timeout_secs {
                    // Never below two heartbeats, whatever the server says: a late
                    // beat must not end a healthy session.
                    let floor = 2 * tether_shared::signal::HEARTBEAT_INTERVAL_SECS;
                    self.server_loss_timeout = Duration::from_secs(u64::from(secs).max(floor));
                }
                tracing::info!(%agent_id, server_loss_timeout = ?self.server_loss_timeout, "connected to the server");
                (self.options.notify)(Notice::Connected);
                Vec::new()
            }
            ServerToAgent::Error { message } => {
                tracing::warn!(%message, "the server reported an error");
                Vec::new()
            }
            ServerToAgent::SessionRequest { session_id, technician, ice_servers, grant } => {
                if matches!(&self.options.consent, Consent::Code { session_id: id, .. } if *id == session_id)
                    && self.sessions.contains_key(&session_id)
                {
                    tracing::debug!(%session_id, "the session this code started already runs");
                    return Vec::new();
                }
                let admitted = self.request_grant(&session_id, grant.as_ref()).and_then(|grant| {
                    let why = self.admit(&session_id, &technician, grant.as_ref())?;
                    Ok((grant, why))
                });
                let (grant, why) = match admitted {
                    Ok(admitted) => admitted,
                    Err(Declined { reason, refusal }) => {
                        tracing::info!(%session_id, %technician, %reason, "declining a session");
                        (self.options.notify)(Notice::SessionDeclined { technician, reason: reason.clone() });
                        let refused =
                            refusal.map(|refusal| AgentToServer::Refused { session_id: session_id.clone(), refusal });
                        return refused.into_iter().chain([bye(session_id, reason)]).collect();
                    }
                };
                // The signed name, when there is one, over the request's word.
                let technician = grant.as_ref().map_or(technician, |grant| grant.technician_name.clone());
                tracing::info!(%session_id, %technician, %why, "starting a session");
                (self.options.notify)(Notice::SessionStarted { technician, why });
                let session = Session::start(
                    session_id.clone(),
                    ice_servers,
                    self.options.session.clone(),
                    self.session_events.clone(),
                );
                if let Some(grant) = grant
                    && !session.grant(grant).await
                {
                    tracing::warn!(%session_id, "the session ended before its grant reached it");
                }
                self.sessions.insert(session_id, session);
                Vec::new()
            }
            ServerToAgent::Grant { session_id, grant } => self.on_grant(session_id, &grant).await,
            ServerToAgent::Signal { session_id, signal } => {
                match self.sessions.get(&session_id) {
                    Some(session) => {
                        if !session.signal(signal).await {
                            tracing::debug!(%session_id, "signal for a session that just ended");
                        }
                    }
                    None => tracing::debug!(%session_id, "ignoring signalling for an unknown or declined session"),
                }
                Vec::new()
            }
        }
    }

    /// The computer grants for `session_id` must name: this agent's id, or
    /// for a code's session the name the server gives its target.
    fn target_for(&self, session_id: &str) -> String {
        match &self.options.consent {
            Consent::Enrolled { agent_id, .. } => agent_id.clone(),
            Consent::Code { .. } => code_target(session_id),
        }
    }

    /// The verified grant of a session request: required for an enrolled
    /// computer; a code's session (admitted by the person who typed it) gets
    /// its grants with the controller's offers.
    fn request_grant(&self, session_id: &str, signed: Option<&SignedGrant>) -> Result<Option<Grant>, Declined> {
        match (&self.options.consent, signed) {
            (Consent::Code { .. }, _) => Ok(None),
            (Consent::Enrolled { .. }, None) => {
                Err(Declined::refusing_grant("the server sent no grant with the request"))
            }
            (Consent::Enrolled { .. }, Some(signed)) => self
                .options
                .trust
                .check(signed, session_id, &self.target_for(session_id))
                .map(Some)
                .map_err(|reason| Declined::refusing_grant(&reason)),
        }
    }

    /// A grant for a running session: verified, then handed to it (which
    /// applies it at once); one that does not verify ends the session.
    async fn on_grant(&mut self, session_id: String, signed: &SignedGrant) -> Vec<AgentToServer> {
        if !self.sessions.contains_key(&session_id) {
            tracing::debug!(%session_id, "ignoring a grant for an unknown or declined session");
            return Vec::new();
        }
        let checked = self.options.trust.check(signed, &session_id, &self.target_for(&session_id));
        let reason = match checked {
            Ok(grant) => match self.sessions.get(&session_id) {
                Some(session) if session.grant(grant).await => return Vec::new(),
                _ => {
                    tracing::debug!(%session_id, "a grant for a session that just ended");
                    return Vec::new();
                }
            },
            Err(reason) => reason,
        };
        tracing::warn!(%session_id, %reason, "refusing the server's grant; ending the session");
        // Dropping the handle ends the session; its end is not reported again.
        self.sessions.remove(&session_id);
        let ended = format!("this computer refused the server's grant: {reason}");
        (self.options.notify)(Notice::SessionEnded { reason: ended.clone() });
        self.last_ended = Some(ended.clone());
        let refusal = Refusal { what: Refused::Grant, reason };
        vec![AgentToServer::Refused { session_id: session_id.clone(), refusal }, bye(session_id, ended)]
    }

    /// Whether a new session may start: why, or why not.
    fn admit(&self, session_id: &str, technician: &str, grant: Option<&Grant>) -> Result<String, Declined> {
        if self.sessions.contains_key(session_id) {
            return Err(Declined::plainly("this session already runs"));
        }
        match &self.options.consent {
            Consent::Code { session_id: allowed, .. } if allowed != session_id => {
                Err(Declined::plainly("this connection is for another session"))
            }
            Consent::Code { accepted, .. } => Ok(Verdict::Accepted(*accepted).reason()),
            Consent::Enrolled { floor, .. } => {
                let unattended = grant.is_some_and(|grant| may_start_unattended(*floor, grant));
                let verdict = enrolled_verdict(unattended, session_id, technician);
                if !verdict.is_accepted() {
                    return Err(Declined::plainly(&verdict.reason()));
                }
                if self.sessions.len() >= MAX_SESSIONS {
                    return Err(Declined::plainly("this computer is already in as many sessions as it allows"));
                }
                Ok(verdict.reason())
            }
        }
    }

    /// Acts on what a session reports; returns the message for the server, if any.
    pub fn on_session_event(&mut self, event: SessionEvent) -> Option<AgentToServer> {
        match event {
            SessionEvent::Signal { session_id, signal } => Some(AgentToServer::Signal { session_id, signal }),
            SessionEvent::Refused { session_id, refusal } => Some(AgentToServer::Refused { session_id, refusal }),
            SessionEvent::Ended { session_id, reason } => {
                tracing::info!(%session_id, %reason, "session ended");
                // A session ended here already (the server was lost) keeps that reason.
                if self.sessions.remove(&session_id).is_some() {
                    (self.options.notify)(Notice::SessionEnded { reason: reason.clone() });
                    self.last_ended = Some(reason);
                }
                None
            }
        }
    }

    /// Why the last session that ended did, if one has.
    pub fn last_ended(&self) -> Option<&str> {
        self.last_ended.as_deref()
    }

    /// How many sessions are running.
    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }
}

/// Why a session request was declined, and what the server should audit
/// as refused (a grant), if anything.
#[derive(Debug)]
struct Declined {
    reason: String,
    refusal: Option<Refusal>,
}

impl Declined {
    fn plainly(reason: &str) -> Self {
        Self { reason: reason.to_owned(), refusal: None }
    }

    fn refusing_grant(reason: &str) -> Self {
        let refusal = Refusal { what: Refused::Grant, reason: reason.to_owned() };
        Self { reason: format!("this computer refused the server's grant: {reason}"), refusal: Some(refusal) }
    }
}

/// Whether an enrolled computer's session may start without asking anyone:
/// the grant's policy must allow unattended access and this computer's own
/// floor too — "never unattended" (no `run --unattended`) and "always ask"
/// each win over any policy.
fn may_start_unattended(floor: LocalFloor, grant: &Grant) -> bool {
    let mut policy = Policy::default();
    policy.access.unattended = grant.unattended;
    floor.apply(policy).access.unattended && !floor.always_ask
}

/// The consent gate's verdict on an enrolled computer's request. The link
/// cannot ask anyone (`can_ask` is false), so the gate decides at once.
fn enrolled_verdict(unattended: bool, session_id: &str, technician: &str) -> Verdict {
    let mut gate = ConsentGate::new(LocalRules { unattended, always_ask: false, can_ask: false });
    let request = Request {
        session_id: session_id.to_owned(),
        technician: technician.to_owned(),
        purpose: Purpose::RemoteSession,
        origin: Origin::EnrolledLink,
        broker: None,
        policy_asks: false,
        timeout_secs: ConsentStep::MAX_TIMEOUT_SECS,
    };
    match gate.handle(Event::Requested(request), unix_millis()) {
        Ok(()) => gate.verdict().unwrap_or_else(|| {
            tracing::error!(%session_id, phase = gate.phase().as_str(), "the consent gate wants an answer nobody can give");
            Verdict::Denied(Denial::NobodyToAsk)
        }),
        Err(refusal) => {
            tracing::error!(%session_id, %refusal, "the consent gate refused a fresh request");
            Verdict::Denied(Denial::NobodyToAsk)
        }
    }
}

fn bye(session_id: String, reason: String) -> AgentToServer {
    AgentToServer::Signal { session_id, signal: Signal::Bye { reason } }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use ed25519_dalek::SigningKey;
    use tether_shared::mode::SessionMode;

    fn server_key() -> SigningKey {
        SigningKey::from_bytes(&[3; 32])
    }

    fn grant_for(session: &str, target: &str, unattended: bool) -> Grant {
        let now = unix_millis();
        Grant {
            session_id: session.into(),
            technician_id: "t1".into(),
            technician_name: "tech".into(),
            target: target.into(),
            mode: SessionMode::Active,
            access: SessionMode::Active.access(),
            controller_fingerprint: None,
            unattended,
            issued_at: now,
            expires_at: now + 60_000,
            key_id: String::new(),
        }
    }

    fn request(id: &str, grant: Option<SignedGrant>) -> ServerToAgent {
        ServerToAgent::SessionRequest { session_id: id.into(), technician: "tech".into(), ice_servers: vec![], grant }
    }

    /// A request for `id` with a grant the server key signed for agent `a1`.
    fn granted(id: &str) -> ServerToAgent {
        request(id, Some(tether_shared::grant::sign(&grant_for(id, "a1", true), &server_key())))
    }

    fn enrolled(unattended: bool) -> Consent {
        Consent::Enrolled {
            agent_id: "a1".into(),
            floor: LocalFloor { always_ask: false, never_unattended: !unattended },
        }
    }

    fn options(consent: Consent) -> LinkOptions {
        LinkOptions {
            consent,
            session: SessionConfig { udp_addrs: vec!["127.0.0.1:0".into()], ..SessionConfig::default() },
            notify: crate::notice::ignore,
            trust: ServerTrust::pinned(server_key().verifying_key()),
        }
    }

    fn is_bye(message: &AgentToServer, id: &str) -> bool {
        matches!(message, AgentToServer::Signal { session_id, signal: Signal::Bye { .. } } if session_id == id)
    }

    #[tokio::test]
    async fn without_consent_requests_are_declined_with_a_bye() {
        let (events, _receiver) = mpsc::unbounded_channel();
        let mut dispatcher = Dispatcher::new(options(enrolled(false)), events);
        let reply = dispatcher.on_server_message(granted("s1")).await;
        assert!(matches!(&reply[..], [bye] if is_bye(bye, "s1")), "{reply:?}");
        assert_eq!(dispatcher.session_count(), 0);
        let offer = ServerToAgent::Signal {
            session_id: "s1".into(),
            signal: Signal::Offer { negotiation: 1, sdp: "v=0".into() },
        };
        assert_eq!(dispatcher.on_server_message(offer).await, vec![]);
    }

    #[tokio::test]
    async fn unattended_needs_the_policy_and_this_computers_opt_in_and_a_verified_grant() {
        let (events, _receiver) = mpsc::unbounded_channel();
        let mut dispatcher = Dispatcher::new(options(enrolled(true)), events);
        let refused_grant = |reply: &[AgentToServer], id: &str| {
            matches!(reply, [AgentToServer::Refused { session_id, refusal }, bye]
                if session_id == id && refusal.what == Refused::Grant && is_bye(bye, id))
        };
        let reply = dispatcher.on_server_message(request("s1", None)).await;
        assert!(refused_grant(&reply, "s1"), "no grant: {reply:?}");
        let forged = tether_shared::grant::sign(&grant_for("s2", "a1", true), &SigningKey::from_bytes(&[9; 32]));
        let reply = dispatcher.on_server_message(request("s2", Some(forged))).await;
        assert!(refused_grant(&reply, "s2"), "another key: {reply:?}");
        let elsewhere = tether_shared::grant::sign(&grant_for("s3", "a2", true), &server_key());
        let reply = dispatcher.on_server_message(request("s3", Some(elsewhere))).await;
        assert!(refused_grant(&reply, "s3"), "another computer: {reply:?}");
        let attended = tether_shared::grant::sign(&grant_for("s4", "a1", false), &server_key());
        let reply = dispatcher.on_server_message(request("s4", Some(attended))).await;
        assert!(matches!(&reply[..], [bye] if is_bye(bye, "s4")), "the policy forbids unattended: {reply:?}");
        assert_eq!(dispatcher.session_count(), 0);
        let mut asks = Dispatcher::new(
            options(Consent::Enrolled {
                agent_id: "a1".into(),
                floor: LocalFloor { always_ask: true, never_unattended: false },
            }),
            mpsc::unbounded_channel().0,
        );
        let reply = asks.on_server_message(granted("s5")).await;
        assert!(matches!(&reply[..], [bye] if is_bye(bye, "s5")), "always ask wins: {reply:?}");
    }

    #[tokio::test]
    async fn a_grant_that_does_not_verify_ends_its_session() {
        let (events, _receiver) = mpsc::unbounded_channel();
        let mut dispatcher = Dispatcher::new(options(enrolled(true)), events);
        assert_eq!(dispatcher.on_server_message(granted("s1")).await, vec![]);
        let mut expired = grant_for("s1", "a1", true);
        (expired.issued_at, expired.expires_at) = (expired.issued_at - 600_000, expired.issued_at - 300_000);
        let message = ServerToAgent::Grant {
            session_id: "s1".into(),
            grant: tether_shared::grant::sign(&expired, &server_key()),
        };
        let reply = dispatcher.on_server_message(message).await;
        assert!(
            matches!(&reply[..], [AgentToServer::Refused { refusal, .. }, bye]
                if refusal.reason == "the grant has expired" && is_bye(bye, "s1")),
            "{reply:?}"
        );
        assert_eq!(dispatcher.session_count(), 0);
        assert!(dispatcher.last_ended().unwrap().contains("expired"));
    }

    #[tokio::test]
    async fn session_signals_go_to_the_server_and_ended_sessions_are_forgotten() {
        let (events, _receiver) = mpsc::unbounded_channel();
        let mut dispatcher = Dispatcher::new(options(enrolled(true)), events);
        assert_eq!(dispatcher.on_server_message(granted("s1")).await, vec![]);
        assert_eq!(dispatcher.session_count(), 1);
        let duplicate = dispatcher.on_server_message(granted("s1")).await;
        assert!(matches!(&duplicate[..], [bye] if is_bye(bye, "s1")), "{duplicate:?}");

        let answer = SessionEvent::Signal {
            session_id: "s1".into(),
            signal: Signal::Answer { negotiation: 1, sdp: "v=0".into() },
        };
        assert_eq!(
            dispatcher.on_session_event(answer),
            Some(AgentToServer::Signal {
                session_id: "s1".into(),
                signal: Signal::Answer { negotiation: 1, sdp: "v=0".into() }
            })
        );
        let ended = SessionEvent::Ended { session_id: "s1".into(), reason: "done".into() };
        assert_eq!(dispatcher.on_session_event(ended), None);
        assert_eq!(dispatcher.session_count(), 0);
    }

    #[tokio::test]
    async fn a_code_admits_its_own_session_once_and_nothing_else() {
        let (events, _receiver) = mpsc::unbounded_channel();
        let consent = Consent::Code { session_id: "s1".into(), accepted: Acceptance::ByPerson };
        let mut dispatcher = Dispatcher::new(options(consent), events);
        let other = dispatcher.on_server_message(request("s2", None)).await;
        assert!(matches!(&other[..], [bye] if is_bye(bye, "s2")), "{other:?}");
        assert_eq!(dispatcher.on_server_message(request("s1", None)).await, vec![]);
        assert_eq!(dispatcher.session_count(), 1);
        // The server may announce the session the code started: no bye.
        assert_eq!(dispatcher.on_server_message(request("s1", None)).await, vec![]);
        assert_eq!(dispatcher.session_count(), 1);
        // Its grants name the code's target.
        let wrong_target = tether_shared::grant::sign(&grant_for("s1", "a1", false), &server_key());
        let reply =
            dispatcher.on_server_message(ServerToAgent::Grant { session_id: "s1".into(), grant: wrong_target }).await;
        assert!(matches!(&reply[..], [AgentToServer::Refused { .. }, _]), "{reply:?}");
    }
}
