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
//!
//! Each request to an enrolled computer goes through its own consent gate
//! (`waiting.rs`): unattended only when the grant's policy and this
//! computer's floor both allow it, else the person at it is asked through
//! the page ([`LinkOptions::asker`]) and the session starts only on their
//! yes, held to the mode they picked; with nobody to ask it is declined.

mod dispatcher;
mod person;
mod running;
mod waiter;
mod waiting;

use crate::backoff::Backoff;
use crate::config::AgentConfig;
use crate::consent::Ask;
use crate::notice::{Notice, Notify};
use crate::session::{SessionConfig, SessionEvent};
use crate::trust::ServerTrust;
pub use dispatcher::{DEFAULT_SERVER_LOSS_TIMEOUT, Dispatcher};
use futures_util::{SinkExt, StreamExt};
use person::next_request;
pub use person::{PersonRequest, PersonRequests};
use std::sync::Arc;
use std::time::Duration;
use tether_shared::consent::Acceptance;
use tether_shared::local_floor::LocalFloor;
use tether_shared::mode::SessionMode;
use tether_shared::signal::{AgentToServer, MAX_SIGNAL_MESSAGE_BYTES, PROTOCOL_VERSION, ServerToAgent, check_protocol};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
pub(crate) use waiting::EarlyMessages;

/// A signalling WebSocket to the server.
pub type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Whether session requests may start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Consent {
    /// An enrolled computer (`agent_id`): each request goes through its
    /// own consent gate (`tether_shared::consent`), which starts it
    /// unattended only when the grant's policy allows it and this
    /// computer's `floor` does (`run --unattended` lifts "never
    /// unattended"; "always ask" keeps it down), and otherwise asks the
    /// person through the link's asker — or, without one, declines it.
    Enrolled { agent_id: String, floor: LocalFloor },
    /// Only this session, which its consent gate already accepted: the
    /// person at this computer typed its connection code and, when asked,
    /// said yes (`crate::broker::awaiting`). A repeated request for it is
    /// ignored; any other is declined. `accepted` is the gate's reason,
    /// `offered` the mode its grant asked for, `always_ask` the person's
    /// own rule (which makes every widening of the mode asked too).
    Code { session_id: String, accepted: Acceptance, offered: SessionMode, always_ask: bool },
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
    /// Who puts an enrolled computer's requests to the person at it (its
    /// loopback page), if anyone can.
    pub asker: Option<Arc<dyn Ask>>,
    /// Where the person's requests about running sessions arrive (the
    /// page's End session and "Allow only …"), if they can make any.
    pub requests: Option<PersonRequests>,
}

/// Most sessions one agent runs at once.
pub(crate) const MAX_SESSIONS: usize = 4;

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
                options.notify.tell(Notice::Reconnecting);
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
            Some(event) = from_sessions.recv() => dispatcher.on_session_event(event).await,
            Some((session_id, request)) = next_request(dispatcher.options.requests.clone()) => {
                dispatcher.on_person_request(&session_id, request).await
            }
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
