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

mod waiting;

use crate::backoff::Backoff;
use crate::config::AgentConfig;
use crate::consent::{Ask, Clock};
use crate::notice::{Notice, Notify};
use crate::session::{Session, SessionConfig, SessionEvent};
use crate::trust::{ServerTrust, unix_millis};
use futures_util::{SinkExt, StreamExt};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tether_shared::access_policy::Policy;
use tether_shared::consent::{
    Acceptance, ConsentGate, Denial, Effect, Event, LocalRules, Offer, Origin, Request, Verdict,
};
use tether_shared::grant::{Grant, SignedGrant, code_target};
use tether_shared::local_floor::LocalFloor;
use tether_shared::mode::SessionMode;
use tether_shared::signal::{
    AgentToServer, IceServer, MAX_SIGNAL_MESSAGE_BYTES, PROTOCOL_VERSION, Refusal, Refused, ServerToAgent, Signal,
    check_protocol,
};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
pub(crate) use waiting::EarlyMessages;
use waiting::Waiting;

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
    /// Who puts an enrolled computer's requests to the person at it (its
    /// loopback page), if anyone can.
    pub asker: Option<Arc<dyn Ask>>,
    /// Where the person's requests to end a session arrive (the page's End
    /// session), if they can make any.
    pub ends: Option<EndRequests>,
}

/// The person's requests to end a session (by id), kept across the link's
/// reconnections.
#[derive(Debug, Clone)]
pub struct EndRequests(Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<String>>>);

impl EndRequests {
    /// The sending end (for the page) and the link's end.
    pub fn channel() -> (mpsc::UnboundedSender<String>, Self) {
        let (sender, receiver) = mpsc::unbounded_channel();
        (sender, Self(Arc::new(tokio::sync::Mutex::new(receiver))))
    }
}

/// The next session the person wants ended, or nothing ever.
async fn next_end(ends: Option<EndRequests>) -> Option<String> {
    match ends {
        Some(ends) => ends.0.lock().await.recv().await,
        None => std::future::pending().await,
    }
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
            Some(session_id) = next_end(dispatcher.options.ends.clone()) => dispatcher.end_here(&session_id),
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
    /// Requests to this enrolled computer waiting for the person at it.
    waiting: HashMap<String, Waiting>,
    /// The mode the person accepted each running session in, when they
    /// narrowed it: every grant of the session is held to it.
    limits: HashMap<String, SessionMode>,
    session_events: mpsc::UnboundedSender<SessionEvent>,
    /// Why the last session that ended did.
    last_ended: Option<String>,
    /// How long the server may be silent before sessions end here.
    server_loss_timeout: Duration,
    /// `now` for the consent gates.
    clock: Clock,
}

/// The server-loss limit until the server names one in its welcome.
pub const DEFAULT_SERVER_LOSS_TIMEOUT: Duration = Duration::from_secs(15);

impl Dispatcher {
    pub fn new(options: LinkOptions, session_events: mpsc::UnboundedSender<SessionEvent>) -> Self {
        Self {
            options,
            sessions: HashMap::new(),
            waiting: HashMap::new(),
            limits: HashMap::new(),
            session_events,
            last_ended: None,
            server_loss_timeout: DEFAULT_SERVER_LOSS_TIMEOUT,
            clock: Clock::start(),
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
        self.withdraw_all();
        let running: Vec<String> = self.sessions.keys().cloned().collect();
        running
            .into_iter()
            .filter(|session_id| self.forget(session_id, &reason))
            .map(|session_id| {
                tracing::warn!(%session_id, %reason, "ended a session: the server is unreachable");
                AgentToServer::EndedAlone { session_id, reason: reason.clone(), ended_at }
            })
            .collect()
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
                self.options.notify.tell(Notice::Connected);
                Vec::new()
            }
            ServerToAgent::Error { message } => {
                tracing::warn!(%message, "the server reported an error");
                Vec::new()
            }
            ServerToAgent::SessionRequest { session_id, technician, ice_servers, grant } => {
                match self.options.consent.clone() {
                    Consent::Code { .. } => self.code_request(session_id, technician, ice_servers).await,
                    Consent::Enrolled { floor, .. } => {
                        self.enrolled_request(session_id, technician, ice_servers, grant.as_ref(), floor).await
                    }
                }
            }
            ServerToAgent::Signal { session_id, signal: Signal::Bye { reason } }
                if self.waiting.contains_key(&session_id) =>
            {
                tracing::info!(%session_id, %reason, "the request went away before the person answered");
                self.feed_gate(&session_id, Event::Withdrawn).await
            }
            message @ (ServerToAgent::Grant { .. } | ServerToAgent::Signal { .. }) => self.forward(message).await,
        }
    }

    /// A grant or a signal for a session: kept while its request waits for
    /// the person, else handed to the session.
    async fn forward(&mut self, message: ServerToAgent) -> Vec<AgentToServer> {
        match message {
            ServerToAgent::Grant { ref session_id, .. } | ServerToAgent::Signal { ref session_id, .. }
                if self.waiting.contains_key(session_id) =>
            {
                let session_id = session_id.clone();
                if let Some(waiting) = self.waiting.get_mut(&session_id) {
                    waiting.keep(message);
                }
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
            other => {
                tracing::debug!(?other, "not a session's message");
                Vec::new()
            }
        }
    }

    /// The request of a code's session: its consent gate already accepted
    /// it (`crate::broker::awaiting`); it gets its grants with the offers.
    async fn code_request(
        &mut self,
        session_id: String,
        technician: String,
        ice_servers: Vec<IceServer>,
    ) -> Vec<AgentToServer> {
        let Consent::Code { session_id: allowed, accepted } = &self.options.consent else {
            return Vec::new();
        };
        if *allowed == session_id && self.sessions.contains_key(&session_id) {
            tracing::debug!(%session_id, "the session this code started already runs");
            return Vec::new();
        }
        if *allowed != session_id {
            return self.decline(session_id, technician, Declined::plainly("this connection is for another session"));
        }
        let verdict = Verdict::Accepted(*accepted);
        if let Acceptance::ByPerson { mode } = accepted {
            self.limits.insert(session_id.clone(), *mode);
        }
        self.start(session_id, technician, None, ice_servers, verdict.reason()).await;
        Vec::new()
    }

    /// A request to this enrolled computer: its grant verified, then its
    /// own consent gate decides — unattended only when the grant's policy
    /// and this computer's floor allow it, else by asking the person
    /// through the page, else declined.
    async fn enrolled_request(
        &mut self,
        session_id: String,
        technician: String,
        ice_servers: Vec<IceServer>,
        signed: Option<&SignedGrant>,
        floor: LocalFloor,
    ) -> Vec<AgentToServer> {
        if self.sessions.contains_key(&session_id) || self.waiting.contains_key(&session_id) {
            return self.decline(session_id, technician, Declined::plainly("this session already runs"));
        }
        let grant = match signed {
            None => Err("the server sent no grant with the request".to_owned()),
            Some(signed) => self.options.trust.check(signed, &session_id, &self.target_for(&session_id)),
        };
        let grant = match grant {
            Ok(grant) => grant,
            Err(reason) => return self.decline(session_id, technician, Declined::refusing_grant(&reason)),
        };
        if self.sessions.len() + self.waiting.len() >= MAX_SESSIONS {
            let declined = Declined::plainly("this computer is already in as many sessions as it allows");
            return self.decline(session_id, grant.technician_name, declined);
        }
        let rules = LocalRules {
            unattended: may_start_unattended(floor, &grant),
            always_ask: floor.always_ask,
            can_ask: self.options.asker.is_some(),
        };
        let request = Request {
            session_id: session_id.clone(),
            technician: grant.technician_name.clone(),
            offer: Offer::of(&grant),
            origin: Origin::EnrolledLink,
            policy_asks: grant.user_acceptance,
            timeout_secs: grant.acceptance_timeout_secs,
        };
        self.waiting.insert(session_id.clone(), Waiting::new(ConsentGate::new(rules), ice_servers, grant));
        self.feed_gate(&session_id, Event::Requested(request)).await
    }

    /// Feeds the gate of waiting request `session_id` and carries out its
    /// effects: steps reported, the question asked or withdrawn, and the
    /// verdict — the session starts, or is declined.
    async fn feed_gate(&mut self, session_id: &str, event: Event) -> Vec<AgentToServer> {
        let now = self.clock.now();
        let Some(waiting) = self.waiting.get_mut(session_id) else {
            tracing::debug!(%session_id, "no request waits under this id");
            return Vec::new();
        };
        if let Err(refusal) = waiting.gate.handle(event, now) {
            tracing::info!(%session_id, %refusal, "the consent gate refused an event");
        }
        let mut replies = Vec::new();
        while let Some(effect) = self.waiting.get_mut(session_id).and_then(|waiting| waiting.gate.poll_effect()) {
            match effect {
                Effect::Report(step) => {
                    tracing::info!(%session_id, step = step.as_str(), "telling the server where consent is");
                    replies.push(AgentToServer::Consent { session_id: session_id.to_owned(), step });
                }
                Effect::Ask(question) => {
                    tracing::info!(%session_id, technician = %question.technician, "asking the person at this computer");
                    let answer = self.options.asker.as_ref().map(|asker| asker.ask(&question));
                    if let Some(waiting) = self.waiting.get_mut(session_id) {
                        waiting.wait(session_id, answer, self.clock, self.session_events.clone());
                    }
                }
                Effect::Withdraw => {
                    if let Some(asker) = &self.options.asker {
                        asker.withdraw(session_id);
                    }
                }
                Effect::Decided(verdict) => {
                    if let Some(waiting) = self.waiting.remove(session_id) {
                        replies.extend(self.decided(session_id, waiting, verdict).await);
                    }
                }
            }
        }
        // Still asking with nobody waiting (an early tick, an answer the
        // gate refused): go on waiting for the deadline.
        if let Some(waiting) = self.waiting.get_mut(session_id)
            && !waiting.is_waiting()
        {
            waiting.wait(session_id, None, self.clock, self.session_events.clone());
        }
        replies
    }

    /// Starts the waiting request's session, or declines it.
    async fn decided(&mut self, session_id: &str, mut waiting: Waiting, verdict: Verdict) -> Vec<AgentToServer> {
        tracing::info!(%session_id, ?verdict, "consent decided");
        waiting.stop_waiting();
        let technician = waiting.grant.technician_name.clone();
        match verdict {
            Verdict::Accepted(by) => {
                if let Acceptance::ByPerson { mode } = by {
                    self.limits.insert(session_id.to_owned(), mode);
                }
                let early = waiting.take_early();
                let grant = waiting.grant.clone();
                let ice_servers = std::mem::take(&mut waiting.ice_servers);
                self.start(session_id.to_owned(), technician, Some(grant), ice_servers, verdict.reason()).await;
                let mut replies = Vec::new();
                for message in early {
                    replies.extend(self.forward(message).await);
                }
                replies
            }
            // The server already ended it: nothing to say back.
            Verdict::Denied(Denial::Withdrawn) => {
                self.options.notify.tell(Notice::SessionDeclined { technician, reason: verdict.reason() });
                Vec::new()
            }
            Verdict::Denied(_) => self.decline(session_id.to_owned(), technician, Declined::plainly(&verdict.reason())),
        }
    }

    /// Starts a session with `technician`, under `grant` (held to the
    /// person's limit) if it came with the request.
    async fn start(
        &mut self,
        session_id: String,
        technician: String,
        grant: Option<Grant>,
        ice_servers: Vec<IceServer>,
        why: String,
    ) {
        let grant = grant.map(|grant| self.within_consent(&session_id, grant));
        let mode = grant.as_ref().map(|grant| grant.mode).or_else(|| self.limits.get(&session_id).copied());
        tracing::info!(%session_id, %technician, %why, ?mode, "starting a session");
        let mode = mode.unwrap_or(SessionMode::Active);
        let notice = Notice::SessionStarted { session_id: session_id.clone(), technician, mode, why };
        self.options.notify.tell(notice);
        let session =
            Session::start(session_id.clone(), ice_servers, self.options.session.clone(), self.session_events.clone());
        if let Some(grant) = grant
            && !session.grant(grant).await
        {
            tracing::warn!(%session_id, "the session ended before its grant reached it");
        }
        self.sessions.insert(session_id, session);
    }

    /// Declines a request: logged, told here, refused (a grant) and `bye`
    /// to the server.
    fn decline(&self, session_id: String, technician: String, declined: Declined) -> Vec<AgentToServer> {
        let Declined { reason, refusal } = declined;
        tracing::info!(%session_id, %technician, %reason, "declining a session");
        self.options.notify.tell(Notice::SessionDeclined { technician, reason: reason.clone() });
        let refused = refusal.map(|refusal| AgentToServer::Refused { session_id: session_id.clone(), refusal });
        refused.into_iter().chain([bye(session_id, reason)]).collect()
    }

    /// The computer grants for `session_id` must name: this agent's id, or
    /// for a code's session the name the server gives its target.
    fn target_for(&self, session_id: &str) -> String {
        match &self.options.consent {
            Consent::Enrolled { agent_id, .. } => agent_id.clone(),
            Consent::Code { .. } => code_target(session_id),
        }
    }

    /// A grant for a running session: verified, held to what the person
    /// accepted, then handed to it (which applies it at once); one that
    /// does not verify ends the session.
    async fn on_grant(&mut self, session_id: String, signed: &SignedGrant) -> Vec<AgentToServer> {
        if !self.sessions.contains_key(&session_id) {
            tracing::debug!(%session_id, "ignoring a grant for an unknown or declined session");
            return Vec::new();
        }
        let checked = self.options.trust.check(signed, &session_id, &self.target_for(&session_id));
        let reason = match checked {
            Ok(grant) => {
                let grant = self.within_consent(&session_id, grant);
                match self.sessions.get(&session_id) {
                    Some(session) if session.grant(grant).await => return Vec::new(),
                    _ => {
                        tracing::debug!(%session_id, "a grant for a session that just ended");
                        return Vec::new();
                    }
                }
            }
            Err(reason) => reason,
        };
        tracing::warn!(%session_id, %reason, "refusing the server's grant; ending the session");
        let Declined { reason: ended, refusal } = Declined::refusing_grant(&reason);
        self.forget(&session_id, &ended);
        let refused = refusal.map(|refusal| AgentToServer::Refused { session_id: session_id.clone(), refusal });
        refused.into_iter().chain([bye(session_id, ended)]).collect()
    }

    /// Forgets session `session_id` because it ended for `reason` (dropping
    /// its handle ends it; its end is not reported again): the page and the
    /// terminal hear why. False if it was not running.
    fn forget(&mut self, session_id: &str, reason: &str) -> bool {
        self.limits.remove(session_id);
        if self.sessions.remove(session_id).is_none() {
            return false;
        }
        self.options.notify.tell(Notice::SessionEnded { session_id: session_id.to_owned(), reason: reason.to_owned() });
        self.last_ended = Some(reason.to_owned());
        true
    }

    /// `grant` as the person at this computer limited it when they accepted
    /// the session in a narrower mode: never wider than what they said yes to.
    fn within_consent(&self, session_id: &str, grant: Grant) -> Grant {
        match self.limits.get(session_id) {
            Some(limit) => grant.narrowed_to(*limit),
            None => grant,
        }
    }

    /// Acts on what a session (or a waiting request's waiter) reports;
    /// returns the messages for the server.
    pub async fn on_session_event(&mut self, event: SessionEvent) -> Vec<AgentToServer> {
        match event {
            SessionEvent::Signal { session_id, signal } => vec![AgentToServer::Signal { session_id, signal }],
            SessionEvent::Refused { session_id, refusal } => vec![AgentToServer::Refused { session_id, refusal }],
            SessionEvent::Consent { session_id, answer } => {
                if let Some(waiting) = self.waiting.get_mut(&session_id) {
                    waiting.waiter_reported();
                }
                self.feed_gate(&session_id, answer.map_or(Event::Tick, Event::Answered)).await
            }
            SessionEvent::Ended { session_id, reason } => {
                tracing::info!(%session_id, %reason, "session ended");
                // A session ended here already (the server was lost) keeps that reason.
                self.forget(&session_id, &reason);
                Vec::new()
            }
        }
    }

    /// The person at this computer ended session `session_id`: it ends here
    /// now; the server hears a `bye`.
    pub fn end_here(&mut self, session_id: &str) -> Vec<AgentToServer> {
        let reason = "the person at the computer ended the session";
        if !self.forget(session_id, reason) {
            tracing::debug!(%session_id, "the person ended a session that is not running");
            return Vec::new();
        }
        tracing::info!(%session_id, "the person at this computer ended the session");
        vec![bye(session_id.to_owned(), reason.to_owned())]
    }

    /// Why the last session that ended did, if one has.
    pub fn last_ended(&self) -> Option<&str> {
        self.last_ended.as_deref()
    }

    /// How many sessions are running.
    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    /// How many requests wait for the person at this computer.
    pub fn waiting_count(&self) -> usize {
        self.waiting.len()
    }

    /// Takes every open question off the screen: the link is going away.
    fn withdraw_all(&mut self) {
        for (session_id, mut waiting) in self.waiting.drain() {
            waiting.stop_waiting();
            if let Some(asker) = &self.options.asker {
                asker.withdraw(&session_id);
            }
        }
    }
}

impl Drop for Dispatcher {
    fn drop(&mut self) {
        self.withdraw_all();
        // Dropping the sessions ends them; the page hears so.
        for session_id in self.sessions.keys() {
            let reason = "the connection to the server ended".to_owned();
            self.options.notify.tell(Notice::SessionEnded { session_id: session_id.clone(), reason });
        }
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

fn bye(session_id: String, reason: String) -> AgentToServer {
    AgentToServer::Signal { session_id, signal: Signal::Bye { reason } }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::consent::Answer;
    use ed25519_dalek::SigningKey;

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
            allowed_modes: tether_shared::mode::ModeSet::of(&[SessionMode::Active, SessionMode::Monitor]),
            user_acceptance: true,
            acceptance_timeout_secs: 120,
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
            notify: crate::notice::Notify::ignore(),
            trust: ServerTrust::pinned(server_key().verifying_key()),
            asker: None,
            ends: None,
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
            dispatcher.on_session_event(answer).await,
            vec![AgentToServer::Signal {
                session_id: "s1".into(),
                signal: Signal::Answer { negotiation: 1, sdp: "v=0".into() }
            }]
        );
        let ended = SessionEvent::Ended { session_id: "s1".into(), reason: "done".into() };
        assert_eq!(dispatcher.on_session_event(ended).await, vec![]);
        assert_eq!(dispatcher.session_count(), 0);
    }

    #[tokio::test]
    async fn a_code_admits_its_own_session_once_and_nothing_else() {
        let (events, _receiver) = mpsc::unbounded_channel();
        let consent = Consent::Code { session_id: "s1".into(), accepted: Acceptance::CodeEntered };
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

    /// Answers every question with `answer` at once (`None`: never), and
    /// remembers what it was asked and what it withdrew.
    #[derive(Debug, Default)]
    struct Person {
        answer: Option<crate::consent::Answer>,
        asked: std::sync::Mutex<Vec<crate::consent::Question>>,
        withdrawn: std::sync::Mutex<Vec<String>>,
        /// Kept so an unanswered question stays open until its deadline.
        replies: std::sync::Mutex<Vec<tokio::sync::oneshot::Sender<crate::consent::Answer>>>,
    }

    impl Ask for Person {
        fn ask(&self, question: &crate::consent::Question) -> tokio::sync::oneshot::Receiver<crate::consent::Answer> {
            self.asked.lock().unwrap().push(question.clone());
            let (reply, answer) = tokio::sync::oneshot::channel();
            match self.answer {
                Some(answer) => reply.send(answer).unwrap(),
                None => self.replies.lock().unwrap().push(reply),
            }
            answer
        }

        fn withdraw(&self, session_id: &str) {
            self.withdrawn.lock().unwrap().push(session_id.to_owned());
        }
    }

    fn attended(person: &Arc<Person>) -> LinkOptions {
        LinkOptions { asker: Some(person.clone()), ..options(enrolled(false)) }
    }

    /// A request for `id` whose grant forbids unattended access (timeout 120 s).
    fn attended_request(id: &str) -> ServerToAgent {
        request(id, Some(tether_shared::grant::sign(&grant_for(id, "a1", false), &server_key())))
    }

    fn consent_step(message: &AgentToServer) -> Option<tether_shared::signal::ConsentStep> {
        match message {
            AgentToServer::Consent { step, .. } => Some(*step),
            _ => None,
        }
    }

    #[tokio::test]
    async fn an_attended_request_asks_the_person_and_starts_in_the_mode_they_pick() {
        use tether_shared::signal::ConsentStep;
        let person = Arc::new(Person { answer: Some(Answer::Accept(SessionMode::Monitor)), ..Person::default() });
        let (events, mut receiver) = mpsc::unbounded_channel();
        let mut dispatcher = Dispatcher::new(attended(&person), events);
        let asked = dispatcher.on_server_message(attended_request("s1")).await;
        assert_eq!(
            asked,
            vec![AgentToServer::Consent { session_id: "s1".into(), step: ConsentStep::Asking { timeout_secs: 120 } }]
        );
        let question = person.asked.lock().unwrap()[0].clone();
        assert_eq!(question.technician, "tech", "the grant's signed name");
        assert_eq!(question.offer.mode, SessionMode::Active);
        assert!(question.offer.choices.contains(SessionMode::Monitor), "{question:?}");
        assert_eq!(dispatcher.waiting_count(), 1);
        assert_eq!(dispatcher.session_count(), 0, "nothing runs before the answer");
        // An offer meanwhile is kept for the session, not answered.
        let offer = ServerToAgent::Signal {
            session_id: "s1".into(),
            signal: Signal::Offer { negotiation: 1, sdp: "v=0".into() },
        };
        assert_eq!(dispatcher.on_server_message(offer).await, vec![]);

        let answered = receiver.recv().await.unwrap();
        let replies = dispatcher.on_session_event(answered).await;
        let steps: Vec<_> = replies.iter().filter_map(consent_step).collect();
        assert_eq!(steps, vec![ConsentStep::Accepted { mode: Some(SessionMode::Monitor) }]);
        assert_eq!((dispatcher.waiting_count(), dispatcher.session_count()), (0, 1));
        // Every later grant is held to Monitor.
        let active = grant_for("s1", "a1", false);
        assert_eq!(dispatcher.within_consent("s1", active).mode, SessionMode::Monitor);
    }

    #[tokio::test]
    async fn a_rejection_declines_and_nobody_to_ask_declines_at_once() {
        use tether_shared::signal::ConsentStep;
        let person = Arc::new(Person { answer: Some(Answer::Reject), ..Person::default() });
        let (events, mut receiver) = mpsc::unbounded_channel();
        let mut dispatcher = Dispatcher::new(attended(&person), events);
        dispatcher.on_server_message(attended_request("s1")).await;
        let replies = dispatcher.on_session_event(receiver.recv().await.unwrap()).await;
        assert!(
            matches!(&replies[..], [AgentToServer::Consent { step: ConsentStep::Rejected, .. }, bye] if is_bye(bye, "s1")),
            "{replies:?}"
        );
        assert_eq!((dispatcher.waiting_count(), dispatcher.session_count()), (0, 0));

        let mut mute = Dispatcher::new(options(enrolled(false)), mpsc::unbounded_channel().0);
        let reply = mute.on_server_message(attended_request("s2")).await;
        assert!(matches!(&reply[..], [bye] if is_bye(bye, "s2")), "{reply:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn no_answer_by_the_deadline_declines_and_takes_the_question_away() {
        use tether_shared::signal::ConsentStep;
        let person = Arc::new(Person::default());
        let (events, mut receiver) = mpsc::unbounded_channel();
        let mut dispatcher = Dispatcher::new(attended(&person), events);
        dispatcher.on_server_message(attended_request("s1")).await;
        // The paused clock jumps to the deadline.
        let due = receiver.recv().await.unwrap();
        assert!(matches!(&due, SessionEvent::Consent { answer: None, .. }), "{due:?}");
        let replies = dispatcher.on_session_event(due).await;
        assert!(
            matches!(&replies[..], [AgentToServer::Consent { step: ConsentStep::NoAnswer, .. }, bye] if is_bye(bye, "s1")),
            "{replies:?}"
        );
        assert_eq!(*person.withdrawn.lock().unwrap(), vec!["s1".to_owned()]);
    }

    #[tokio::test]
    async fn a_bye_while_asking_withdraws_the_question_without_a_reply() {
        let person = Arc::new(Person::default());
        let mut dispatcher = Dispatcher::new(attended(&person), mpsc::unbounded_channel().0);
        dispatcher.on_server_message(attended_request("s1")).await;
        let bye = ServerToAgent::Signal { session_id: "s1".into(), signal: Signal::Bye { reason: "gone".into() } };
        assert_eq!(dispatcher.on_server_message(bye).await, vec![]);
        assert_eq!(*person.withdrawn.lock().unwrap(), vec!["s1".to_owned()]);
        assert_eq!((dispatcher.waiting_count(), dispatcher.session_count()), (0, 0));
    }

    #[tokio::test]
    async fn the_person_ends_a_session_here_and_the_server_hears_a_bye() {
        let person = Arc::new(Person { answer: Some(Answer::Accept(SessionMode::Active)), ..Person::default() });
        let (events, mut receiver) = mpsc::unbounded_channel();
        let mut dispatcher = Dispatcher::new(attended(&person), events);
        dispatcher.on_server_message(attended_request("s1")).await;
        dispatcher.on_session_event(receiver.recv().await.unwrap()).await;
        assert_eq!(dispatcher.session_count(), 1);
        let reply = dispatcher.end_here("s1");
        assert!(matches!(&reply[..], [bye] if is_bye(bye, "s1")), "{reply:?}");
        assert_eq!(dispatcher.session_count(), 0);
        assert_eq!(dispatcher.last_ended(), Some("the person at the computer ended the session"));
        assert_eq!(dispatcher.end_here("s1"), vec![], "only once");
    }
}
