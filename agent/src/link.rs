//! The agent's lasting connection to its server: a WebSocket authenticated
//! by the agent credential, re-established with backoff whenever it drops.
//! While connected, a [`Dispatcher`] starts a [`Session`] per accepted
//! request and routes signalling between the server and each session;
//! [`serve_socket`] is that loop, shared with the broker session socket
//! (`crate::broker::socket`).

use crate::backoff::Backoff;
use crate::config::AgentConfig;
use crate::notice::{Notice, Notify};
use crate::session::{Session, SessionConfig, SessionEvent};
use futures_util::{SinkExt, StreamExt};
use std::collections::HashMap;
use std::time::Duration;
use tether_shared::consent::{Acceptance, ConsentGate, Denial, Event, LocalRules, Origin, Purpose, Request, Verdict};
use tether_shared::signal::{
    AgentToServer, ConsentStep, MAX_SIGNAL_MESSAGE_BYTES, PROTOCOL_VERSION, ServerToAgent, Signal, check_protocol,
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
    /// An enrolled computer: each request goes through its own consent
    /// gate (`tether_shared::consent`), which starts it only with
    /// `unattended` (the operator's choice, `run --unattended`). The link
    /// has no prompt yet, so any other request is declined with a `bye`.
    Enrolled { unattended: bool },
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
                                dispatcher.on_server_message(message).await.into_iter().collect()
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

    /// Acts on a message from the server; returns the reply to send, if any.
    pub async fn on_server_message(&mut self, message: ServerToAgent) -> Option<AgentToServer> {
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
                None
            }
            ServerToAgent::Error { message } => {
                tracing::warn!(%message, "the server reported an error");
                None
            }
            ServerToAgent::SessionRequest { session_id, technician, ice_servers } => {
                if matches!(&self.options.consent, Consent::Code { session_id: id, .. } if *id == session_id)
                    && self.sessions.contains_key(&session_id)
                {
                    tracing::debug!(%session_id, "the session this code started already runs");
                    return None;
                }
                let why = match self.admit(&session_id, &technician) {
                    Ok(why) => why,
                    Err(reason) => {
                        tracing::info!(%session_id, %technician, %reason, "declining a session");
                        (self.options.notify)(Notice::SessionDeclined { technician, reason: reason.clone() });
                        return Some(bye(session_id, reason));
                    }
                };
                tracing::info!(%session_id, %technician, %why, "starting a session");
                (self.options.notify)(Notice::SessionStarted { technician, why });
                let session = Session::start(
                    session_id.clone(),
                    ice_servers,
                    self.options.session.clone(),
                    self.session_events.clone(),
                );
                self.sessions.insert(session_id, session);
                None
            }
            ServerToAgent::Signal { session_id, signal } => {
                match self.sessions.get(&session_id) {
                    Some(session) => {
                        if !session.signal(signal).await {
                            tracing::debug!(%session_id, "signal for a session that just ended");
                        }
                    }
                    None => tracing::debug!(%session_id, "ignoring signalling for an unknown or declined session"),
                }
                None
            }
        }
    }

    /// Whether a new session may start: why, or why not.
    fn admit(&self, session_id: &str, technician: &str) -> Result<String, String> {
        if self.sessions.contains_key(session_id) {
            return Err("this session already runs".into());
        }
        match &self.options.consent {
            Consent::Code { session_id: allowed, .. } if allowed != session_id => {
                Err("this connection is for another session".into())
            }
            Consent::Code { accepted, .. } => Ok(Verdict::Accepted(*accepted).reason()),
            Consent::Enrolled { unattended } => {
                let verdict = enrolled_verdict(*unattended, session_id, technician);
                if !verdict.is_accepted() {
                    return Err(verdict.reason());
                }
                if self.sessions.len() >= MAX_SESSIONS {
                    return Err("this computer is already in as many sessions as it allows".into());
                }
                Ok(verdict.reason())
            }
        }
    }

    /// Acts on what a session reports; returns the message for the server, if any.
    pub fn on_session_event(&mut self, event: SessionEvent) -> Option<AgentToServer> {
        match event {
            SessionEvent::Signal { session_id, signal } => Some(AgentToServer::Signal { session_id, signal }),
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

/// Now, as Unix milliseconds by this computer's clock.
fn unix_millis() -> i64 {
    let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}

fn bye(session_id: String, reason: String) -> AgentToServer {
    AgentToServer::Signal { session_id, signal: Signal::Bye { reason } }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn request(id: &str) -> ServerToAgent {
        ServerToAgent::SessionRequest { session_id: id.into(), technician: "tech".into(), ice_servers: vec![] }
    }

    #[tokio::test]
    async fn without_consent_requests_are_declined_with_a_bye() {
        let (events, _receiver) = mpsc::unbounded_channel();
        let options = LinkOptions {
            consent: Consent::Enrolled { unattended: false },
            session: SessionConfig::default(),
            notify: crate::notice::ignore,
        };
        let mut dispatcher = Dispatcher::new(options, events);
        let reply = dispatcher.on_server_message(request("s1")).await;
        assert!(
            matches!(reply, Some(AgentToServer::Signal { ref session_id, signal: Signal::Bye { .. } }) if session_id == "s1"),
            "{reply:?}"
        );
        assert_eq!(dispatcher.session_count(), 0);
        let offer = ServerToAgent::Signal {
            session_id: "s1".into(),
            signal: Signal::Offer { negotiation: 1, sdp: "v=0".into() },
        };
        assert_eq!(dispatcher.on_server_message(offer).await, None);
    }

    #[tokio::test]
    async fn session_signals_go_to_the_server_and_ended_sessions_are_forgotten() {
        let (events, _receiver) = mpsc::unbounded_channel();
        let options = LinkOptions {
            consent: Consent::Enrolled { unattended: true },
            session: SessionConfig { udp_addrs: vec!["127.0.0.1:0".into()], ..SessionConfig::default() },
            notify: crate::notice::ignore,
        };
        let mut dispatcher = Dispatcher::new(options, events);
        assert_eq!(dispatcher.on_server_message(request("s1")).await, None);
        assert_eq!(dispatcher.session_count(), 1);
        let duplicate = dispatcher.on_server_message(request("s1")).await;
        assert!(matches!(duplicate, Some(AgentToServer::Signal { signal: Signal::Bye { .. }, .. })));

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
        let options = LinkOptions {
            consent: Consent::Code { session_id: "s1".into(), accepted: Acceptance::ByPerson },
            session: SessionConfig { udp_addrs: vec!["127.0.0.1:0".into()], ..SessionConfig::default() },
            notify: crate::notice::ignore,
        };
        let mut dispatcher = Dispatcher::new(options, events);
        let other = dispatcher.on_server_message(request("s2")).await;
        assert!(matches!(other, Some(AgentToServer::Signal { signal: Signal::Bye { .. }, .. })), "{other:?}");
        assert_eq!(dispatcher.on_server_message(request("s1")).await, None);
        assert_eq!(dispatcher.session_count(), 1);
        // The server may announce the session the code started: no bye.
        assert_eq!(dispatcher.on_server_message(request("s1")).await, None);
        assert_eq!(dispatcher.session_count(), 1);
    }
}
