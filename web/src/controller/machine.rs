//! The controller's connection logic as a plain state machine, with no
//! sockets, peer connections or clocks: [`Machine::handle`] feeds it what
//! happened, [`Machine::poll_command`] says what to do, and
//! [`Machine::poll_timeout`] when to call [`Machine::handle_timeout`]. Time
//! comes in as an argument (milliseconds), so reconnection is tested
//! natively without waiting.
//!
//! Renegotiation restarts ICE on the same peer connection with a new offer
//! (the agent answers it on its own connection, which keeps DTLS and the
//! data channels); only a connection that broke (an offer or answer
//! failed) is replaced by a new one. Peer connections are numbered so
//! events of a replaced one are ignored, and each offer takes one answer.
//!
//! Offers carry a negotiation id, increasing for the whole session: a
//! reloaded page continues after the `last_negotiation` the server's
//! `ready` reports. Only the answer echoing the current offer's id is
//! applied, and candidates tagged with another id are dropped, so a late
//! answer to an abandoned offer never lands on a new one.

use super::mode_request::ModeRequest;
use std::collections::VecDeque;
use tether_shared::chat::{ChatLine, MAX_KEPT_LINES};
use tether_shared::mode::SessionMode;
use tether_shared::signal::{ControllerToServer, IceServer, ServerToController, Signal, check_protocol};

/// Attempts to reconnect before giving up.
pub const MAX_ATTEMPTS: u32 = 6;
/// How long a new peer connection may take to connect, milliseconds.
pub const NEGOTIATION_TIMEOUT_MS: f64 = 20_000.0;
/// How long an ICE restart may take to bring a connection back before the
/// next attempt starts a fresh one, milliseconds (a restart on a working
/// path takes well under a second or two).
pub const RESTART_TIMEOUT_MS: f64 = 8_000.0;
/// The `bye` reason the agent and the audit log see when the technician ends.
pub const END_REASON: &str = "the technician ended the session";

/// The wait before reconnection attempt `attempt` (1-based): 2 s, 4 s, 8 s,
/// then 15 s. The first wait also lets a `disconnected` connection recover
/// by itself.
pub fn backoff_ms(attempt: u32) -> f64 {
    match attempt {
        0 | 1 => 2_000.0,
        2 => 4_000.0,
        3 => 8_000.0,
        _ => 15_000.0,
    }
}

/// Where the session stands, as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Signalling and negotiating for the first time.
    Connecting,
    /// The user at the target is being asked to accept, for `timeout_secs`
    /// at most; the offer waits for their answer.
    AwaitingUser { timeout_secs: u32 },
    /// The peer connection is up.
    Connected,
    /// Lost the server or the peer; trying again.
    Reconnecting { attempt: u32 },
    /// The session is over (the agent left or declined, or the technician ended it).
    Ended { reason: String },
    /// Could not connect (refused, or out of attempts); the session may live on.
    Failed { message: String },
}

impl Status {
    /// The state line: "Connecting…", "Ended: <reason>".
    pub fn label(&self) -> String {
        match self {
            Status::Connecting => "Connecting…".to_owned(),
            Status::AwaitingUser { timeout_secs } => format!(
                "Waiting for the person at the computer to accept (up to {})…",
                tether_shared::connection_code::countdown_text(i64::from(*timeout_secs) * 1000, 0)
            ),
            Status::Connected => "Connected".to_owned(),
            Status::Reconnecting { attempt } => format!("Reconnecting… (attempt {attempt} of {MAX_ATTEMPTS})"),
            Status::Ended { reason } => format!("Ended: {reason}"),
            Status::Failed { message } => format!("Failed: {message}"),
        }
    }

    /// A stable name for styling and tests.
    pub fn key(&self) -> &'static str {
        match self {
            Status::Connecting => "connecting",
            Status::AwaitingUser { .. } => "awaiting_user",
            Status::Connected => "connected",
            Status::Reconnecting { .. } => "reconnecting",
            Status::Ended { .. } => "ended",
            Status::Failed { .. } => "failed",
        }
    }

    /// Ended or failed: nothing more happens without the user.
    pub fn is_final(&self) -> bool {
        matches!(self, Status::Ended { .. } | Status::Failed { .. })
    }
}

/// `RTCPeerConnection.connectionState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerState {
    New,
    Connecting,
    Connected,
    Disconnected,
    Failed,
    Closed,
}

/// Something that happened.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// A message from the server.
    Server(ServerToController),
    /// The signalling socket closed (or could not open).
    SocketClosed,
    /// Peer `peer` made its offer (local description set).
    OfferCreated { peer: u32, sdp: String },
    /// Peer `peer` could not make an offer or apply the answer.
    PeerError { peer: u32, error: String },
    /// Peer `peer` found a local ICE candidate (an empty one ends gathering).
    LocalCandidate { peer: u32, signal: Signal },
    /// Peer `peer`'s connection state changed.
    PeerState { peer: u32, state: PeerState },
    /// The technician pressed "End session".
    End,
    /// The technician pressed "Try again" after a failure.
    Retry,
    /// The technician asks to run the session in another mode.
    RequestMode(SessionMode),
    /// The technician typed a chat line (checked already).
    Say(String),
}

/// Something to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Open the signalling socket and authenticate.
    OpenSocket,
    /// Send on the signalling socket.
    Send(ControllerToServer),
    /// Replace the peer connection by a new one numbered `peer` (receive-only
    /// video, the data channels) and make an offer.
    StartPeer { peer: u32, ice_servers: Vec<IceServer> },
    /// Make a new offer on peer `peer` that restarts ICE.
    RestartIce { peer: u32 },
    /// Apply the agent's answer or candidate to peer `peer`.
    ToPeer { peer: u32, signal: Signal },
    /// Close the peer connection.
    ClosePeer,
    /// Close the signalling socket.
    CloseSocket,
    /// Tell the user something that does not change the status.
    Notice(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Socket {
    Closed,
    Opening,
    /// Authenticated: the server sent `ready`.
    Ready,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wake {
    ReopenSocket,
    Renegotiate,
    NegotiationTimeout,
}

#[derive(Debug)]
struct Peer {
    id: u32,
    /// The offer went out; candidates may follow it.
    offered: bool,
    /// The answer to the current offer arrived; later ones are stale.
    answered: bool,
    /// Candidates found before the offer went out.
    early_candidates: Vec<Signal>,
    /// The id of the current offer.
    negotiation: u64,
    /// An offer or answer failed: replace the connection, do not restart it.
    broken: bool,
}

/// The controller's connection state machine.
#[derive(Debug)]
pub struct Machine {
    status: Status,
    socket: Socket,
    ice_servers: Vec<IceServer>,
    peer: Option<Peer>,
    next_peer: u32,
    /// The highest negotiation id used (by this page or, per the server, an earlier one).
    last_negotiation: u64,
    /// Failed attempts in a row.
    attempt: u32,
    wake: Option<(f64, Wake)>,
    commands: VecDeque<Command>,
    /// The mode the session runs in, once the server said.
    mode: Option<SessionMode>,
    /// The technician's latest request to change it.
    mode_request: ModeRequest,
    /// The session's chat as the server relayed it, oldest first (the last
    /// lines).
    chat: VecDeque<ChatLine>,
}

impl Default for Machine {
    fn default() -> Self {
        Self::new()
    }
}

impl Machine {
    /// A machine that has not started.
    pub fn new() -> Self {
        Self {
            status: Status::Connecting,
            socket: Socket::Closed,
            ice_servers: Vec::new(),
            peer: None,
            next_peer: 1,
            last_negotiation: 0,
            attempt: 0,
            wake: None,
            commands: VecDeque::new(),
            mode: None,
            mode_request: ModeRequest::Idle,
            chat: VecDeque::new(),
        }
    }

    /// The session's chat so far, oldest first.
    pub fn chat(&self) -> &VecDeque<ChatLine> {
        &self.chat
    }

    /// The technician's latest request to change the mode, as it stands.
    pub fn mode_request(&self) -> &ModeRequest {
        &self.mode_request
    }

    /// The status to show.
    pub fn status(&self) -> &Status {
        &self.status
    }

    /// The mode the person at the computer accepted the session in, once
    /// known: the agent allows nothing beyond it.
    pub fn mode(&self) -> Option<SessionMode> {
        self.mode
    }

    /// The number of the current peer connection, if any.
    pub fn current_peer(&self) -> Option<u32> {
        self.peer.as_ref().map(|peer| peer.id)
    }

    /// Starts connecting.
    pub fn start(&mut self) {
        self.open_socket();
    }

    /// The next thing to do, if any.
    pub fn poll_command(&mut self) -> Option<Command> {
        self.commands.pop_front()
    }

    /// When [`Machine::handle_timeout`] is due, if ever.
    pub fn poll_timeout(&self) -> Option<f64> {
        self.wake.map(|(at, _)| at)
    }

    /// Feeds one event at time `now`.
    pub fn handle(&mut self, input: Input, now: f64) {
        if self.status.is_final() && input != Input::Retry {
            return;
        }
        match input {
            Input::Server(message) => self.on_server(message, now),
            Input::SocketClosed => {
                self.socket = Socket::Closed;
                // A drop may leave the media flowing; the new socket's
                // `ready` renegotiates anyway, so the agent can find us again.
                self.retry_later(now, Wake::ReopenSocket);
            }
            Input::OfferCreated { peer, sdp } => {
                let Some(current) = self.peer.as_mut().filter(|current| current.id == peer) else { return };
                current.offered = true;
                let negotiation = current.negotiation;
                let early = std::mem::take(&mut current.early_candidates);
                self.send(Signal::Offer { negotiation, sdp });
                for signal in early {
                    self.send(tag(signal, negotiation));
                }
            }
            Input::PeerError { peer, error } => {
                let Some(current) = self.peer.as_mut().filter(|current| current.id == peer) else { return };
                current.broken = true;
                self.commands.push_back(Command::Notice(format!("Negotiation failed: {error}")));
                self.peer_lost(now);
            }
            Input::LocalCandidate { peer, signal } => {
                let Some(current) = self.peer.as_mut().filter(|current| current.id == peer) else { return };
                if current.offered {
                    let negotiation = current.negotiation;
                    self.send(tag(signal, negotiation));
                } else {
                    current.early_candidates.push(signal);
                }
            }
            Input::PeerState { peer, state } => {
                if self.current_peer() != Some(peer) {
                    return;
                }
                match state {
                    PeerState::Connected => {
                        self.status = Status::Connected;
                        self.attempt = 0;
                        self.wake = None;
                    }
                    PeerState::Disconnected | PeerState::Failed => self.peer_lost(now),
                    PeerState::New | PeerState::Connecting | PeerState::Closed => {}
                }
            }
            Input::End => {
                if self.socket == Socket::Ready {
                    self.send(Signal::Bye { reason: END_REASON.to_owned() });
                }
                self.finish(Status::Ended { reason: "you ended the session".to_owned() });
            }
            Input::RequestMode(mode) => {
                if self.socket == Socket::Ready && !self.mode_request.is_pending() {
                    self.commands.push_back(Command::Send(ControllerToServer::RequestMode { mode }));
                    self.mode_request = ModeRequest::Sent(mode);
                }
            }
            Input::Say(text) => {
                if self.socket == Socket::Ready {
                    self.commands.push_back(Command::Send(ControllerToServer::Chat { text }));
                } else {
                    self.commands.push_back(Command::Notice("Not connected: the message was not sent.".to_owned()));
                }
            }
            Input::Retry => {
                if !matches!(self.status, Status::Failed { .. }) {
                    return;
                }
                self.attempt = 0;
                self.status = Status::Connecting;
                if self.socket == Socket::Ready { self.negotiate(now) } else { self.open_socket() }
            }
        }
    }

    /// The time from [`Machine::poll_timeout`] has come.
    pub fn handle_timeout(&mut self, now: f64) {
        let Some((at, wake)) = self.wake else { return };
        if now < at || self.status.is_final() {
            return;
        }
        self.wake = None;
        match wake {
            Wake::ReopenSocket => self.open_socket(),
            Wake::Renegotiate if self.socket == Socket::Ready => self.negotiate(now),
            // The socket is down; its `ready` will renegotiate.
            Wake::Renegotiate => {}
            Wake::NegotiationTimeout => {
                // Whatever did not connect in time is not tried again: the
                // next attempt starts a fresh connection.
                if let Some(peer) = self.peer.as_mut() {
                    peer.broken = true;
                }
                self.peer_lost(now);
            }
        }
    }

    fn on_server(&mut self, message: ServerToController, now: f64) {
        match message {
            ServerToController::Ready { protocol, .. } if check_protocol(protocol).is_err() => {
                let message = "This page is out of date for the server: reload it.".to_owned();
                self.finish(Status::Failed { message });
            }
            ServerToController::Ready { ice_servers, last_negotiation, .. } => {
                self.socket = Socket::Ready;
                self.ice_servers = ice_servers;
                self.last_negotiation = self.last_negotiation.max(last_negotiation);
                self.negotiate(now);
            }
            ServerToController::Signal { signal: Signal::Bye { reason } } | ServerToController::Ended { reason } => {
                self.finish(Status::Ended { reason });
            }
            // The answer comes once the user accepts: the offer's timeout
            // waits for them too.
            ServerToController::AwaitingUser { timeout_secs } => {
                if matches!(self.status, Status::Connecting | Status::Reconnecting { .. }) {
                    self.status = Status::AwaitingUser { timeout_secs };
                }
                if let Some((_, Wake::NegotiationTimeout)) = self.wake {
                    let at = now + f64::from(timeout_secs) * 1000.0 + NEGOTIATION_TIMEOUT_MS;
                    self.wake = Some((at, Wake::NegotiationTimeout));
                }
            }
            // The person chose the session's mode: the agent allows nothing
            // beyond it, and the page says so.
            ServerToController::ModeChosen { mode } => self.mode = Some(mode),
            ServerToController::ModeChange { step } => self.mode_request.on_step(step),
            ServerToController::Chat { line } => {
                if self.chat.len() == MAX_KEPT_LINES {
                    self.chat.pop_front();
                }
                self.chat.push_back(line);
            }
            ServerToController::Signal { signal: signal @ Signal::Answer { negotiation, .. } } => {
                let current = |peer: &&mut Peer| peer.offered && !peer.answered && peer.negotiation == negotiation;
                if let Some(peer) = self.peer.as_mut().filter(current) {
                    peer.answered = true;
                    self.commands.push_back(Command::ToPeer { peer: peer.id, signal });
                }
            }
            ServerToController::Signal { signal: signal @ Signal::Candidate { negotiation, .. } } => {
                let current = |peer: &&Peer| peer.offered && negotiation.is_none_or(|id| id == peer.negotiation);
                if let Some(peer) = self.peer.as_ref().filter(current) {
                    self.commands.push_back(Command::ToPeer { peer: peer.id, signal });
                }
            }
            // The controller offers; an offer from the agent is a mistake.
            ServerToController::Signal { signal: Signal::Offer { .. } } => {}
            // Before `ready` an error is the server refusing us (bad token,
            // wrong role); trying again would not help.
            ServerToController::Error { message } if self.socket != Socket::Ready => {
                self.finish(Status::Failed { message });
            }
            // A pending request to change mode is what the server refused.
            ServerToController::Error { message } if self.mode_request.is_pending() => {
                self.mode_request.refused(message);
            }
            ServerToController::Error { message } => {
                self.commands.push_back(Command::Notice(format!("The server refused a message: {message}")));
            }
        }
    }

    fn open_socket(&mut self) {
        self.socket = Socket::Opening;
        self.commands.push_back(Command::OpenSocket);
    }

    /// Makes a new offer: an ICE restart on a working connection, else a
    /// new connection.
    fn negotiate(&mut self, now: f64) {
        self.last_negotiation += 1;
        let negotiation = self.last_negotiation;
        let timeout = match self.peer.as_mut().filter(|peer| !peer.broken) {
            Some(peer) => {
                peer.offered = false;
                peer.answered = false;
                peer.negotiation = negotiation;
                peer.early_candidates.clear();
                self.commands.push_back(Command::RestartIce { peer: peer.id });
                RESTART_TIMEOUT_MS
            }
            None => {
                let id = self.next_peer;
                self.next_peer += 1;
                self.peer = Some(Peer {
                    id,
                    offered: false,
                    answered: false,
                    early_candidates: Vec::new(),
                    negotiation,
                    broken: false,
                });
                self.commands.push_back(Command::StartPeer { peer: id, ice_servers: self.ice_servers.clone() });
                NEGOTIATION_TIMEOUT_MS
            }
        };
        self.wake = Some((now + timeout, Wake::NegotiationTimeout));
    }

    /// The peer connection broke (or never came up).
    fn peer_lost(&mut self, now: f64) {
        if matches!(self.wake, Some((_, Wake::Renegotiate))) {
            return; // already counted; `disconnected` is often followed by `failed`
        }
        if self.socket == Socket::Ready {
            self.retry_later(now, Wake::Renegotiate);
        } else {
            // The socket's own reconnection is under way and renegotiates.
            self.status = Status::Reconnecting { attempt: self.attempt.max(1) };
        }
    }

    fn retry_later(&mut self, now: f64, wake: Wake) {
        self.attempt += 1;
        if self.attempt > MAX_ATTEMPTS {
            let message = format!("could not reconnect after {MAX_ATTEMPTS} attempts");
            self.finish(Status::Failed { message });
            return;
        }
        self.status = Status::Reconnecting { attempt: self.attempt };
        self.wake = Some((now + backoff_ms(self.attempt), wake));
    }

    fn send(&mut self, signal: Signal) {
        if self.socket == Socket::Ready {
            self.commands.push_back(Command::Send(ControllerToServer::Signal { signal }));
        }
    }

    fn finish(&mut self, status: Status) {
        self.status = status;
        self.wake = None;
        self.peer = None;
        self.socket = Socket::Closed;
        self.commands.push_back(Command::ClosePeer);
        self.commands.push_back(Command::CloseSocket);
    }
}

/// `signal` (a local candidate) tagged with negotiation `negotiation`.
fn tag(signal: Signal, negotiation: u64) -> Signal {
    match signal {
        Signal::Candidate { candidate, sdp_mid, sdp_mline_index, .. } => {
            Signal::Candidate { candidate, sdp_mid, sdp_mline_index, negotiation: Some(negotiation) }
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ready() -> Input {
        ready_after(0)
    }

    /// `ready` from a server that has seen offers up to `last_negotiation`.
    fn ready_after(last_negotiation: u64) -> Input {
        Input::Server(ServerToController::Ready {
            session_id: "s".into(),
            ice_servers: vec![IceServer { urls: vec!["stun:127.0.0.1:3478".into()], username: None, credential: None }],
            last_negotiation,
            broker: None,
            protocol: tether_shared::signal::PROTOCOL_VERSION,
        })
    }

    /// A candidate as the peer connection reports it (untagged).
    fn candidate(text: &str) -> Signal {
        Signal::Candidate {
            candidate: text.into(),
            sdp_mid: Some("0".into()),
            sdp_mline_index: Some(0),
            negotiation: None,
        }
    }

    /// A candidate of negotiation `negotiation`.
    fn tagged(text: &str, negotiation: u64) -> Signal {
        tag(candidate(text), negotiation)
    }

    fn offer(negotiation: u64, sdp: &str) -> Signal {
        Signal::Offer { negotiation, sdp: sdp.into() }
    }

    fn answer(negotiation: u64, sdp: &str) -> Input {
        Input::Server(ServerToController::Signal { signal: Signal::Answer { negotiation, sdp: sdp.into() } })
    }

    fn commands(machine: &mut Machine) -> Vec<Command> {
        std::iter::from_fn(|| machine.poll_command()).collect()
    }

    fn sent(signal: Signal) -> Command {
        Command::Send(ControllerToServer::Signal { signal })
    }

    /// A machine with peer 1 offered and connected.
    fn connected() -> Machine {
        let mut machine = Machine::new();
        machine.start();
        machine.handle(ready(), 0.0);
        machine.handle(Input::OfferCreated { peer: 1, sdp: "offer".into() }, 10.0);
        machine.handle(Input::PeerState { peer: 1, state: PeerState::Connected }, 50.0);
        commands(&mut machine);
        machine
    }

    #[test]
    fn first_connection() {
        let mut machine = Machine::new();
        machine.start();
        assert_eq!(commands(&mut machine), vec![Command::OpenSocket]);
        assert_eq!(machine.status().label(), "Connecting…");
        machine.handle(ready(), 0.0);
        let started = commands(&mut machine);
        let [Command::StartPeer { peer: 1, ice_servers }] = started.as_slice() else { panic!("expected StartPeer") };
        assert_eq!(ice_servers[0].urls, vec!["stun:127.0.0.1:3478".to_owned()]);
        // A candidate found before the offer went out waits for it.
        machine.handle(Input::LocalCandidate { peer: 1, signal: candidate("a") }, 5.0);
        assert_eq!(commands(&mut machine), vec![]);
        machine.handle(Input::OfferCreated { peer: 1, sdp: "offer".into() }, 10.0);
        machine.handle(Input::LocalCandidate { peer: 1, signal: candidate("b") }, 11.0);
        assert_eq!(commands(&mut machine), vec![sent(offer(1, "offer")), sent(tagged("a", 1)), sent(tagged("b", 1))]);
        machine.handle(answer(1, "answer"), 20.0);
        machine.handle(Input::Server(ServerToController::Signal { signal: tagged("c", 1) }), 21.0);
        machine.handle(Input::Server(ServerToController::Signal { signal: candidate("v1") }), 21.0);
        assert_eq!(
            commands(&mut machine),
            vec![
                Command::ToPeer { peer: 1, signal: Signal::Answer { negotiation: 1, sdp: "answer".into() } },
                Command::ToPeer { peer: 1, signal: tagged("c", 1) },
                Command::ToPeer { peer: 1, signal: candidate("v1") },
            ]
        );
        assert_eq!(machine.poll_timeout(), Some(NEGOTIATION_TIMEOUT_MS));
        machine.handle(Input::PeerState { peer: 1, state: PeerState::Connected }, 30.0);
        assert_eq!(machine.status(), &Status::Connected);
        assert_eq!(machine.poll_timeout(), None);
    }

    #[test]
    fn the_offer_waits_while_the_user_is_asked() {
        let mut machine = Machine::new();
        machine.start();
        machine.handle(ready(), 0.0);
        machine.handle(Input::OfferCreated { peer: 1, sdp: "offer".into() }, 10.0);
        machine.handle(Input::Server(ServerToController::AwaitingUser { timeout_secs: 120 }), 100.0);
        assert_eq!(machine.status().label(), "Waiting for the person at the computer to accept (up to 2:00)…");
        assert_eq!(machine.status().key(), "awaiting_user");
        assert_eq!(machine.poll_timeout(), Some(100.0 + 120_000.0 + NEGOTIATION_TIMEOUT_MS));
        machine.handle_timeout(NEGOTIATION_TIMEOUT_MS + 20.0);
        assert_eq!(machine.status().key(), "awaiting_user", "no retry while the user decides");
        assert_eq!(machine.mode(), None);
        machine.handle(Input::Server(ServerToController::ModeChosen { mode: SessionMode::Monitor }), 200.0);
        assert_eq!(machine.mode(), Some(SessionMode::Monitor));
        commands(&mut machine);
        machine.handle(answer(1, "answer"), 60_000.0);
        machine.handle(Input::PeerState { peer: 1, state: PeerState::Connected }, 60_100.0);
        assert_eq!(machine.status(), &Status::Connected);

        let mut rejected = Machine::new();
        rejected.start();
        rejected.handle(ready(), 0.0);
        rejected.handle(Input::Server(ServerToController::AwaitingUser { timeout_secs: 30 }), 5.0);
        let reason = "the user at the target rejected the session";
        rejected.handle(Input::Server(ServerToController::Ended { reason: reason.into() }), 9.0);
        assert_eq!(rejected.status(), &Status::Ended { reason: reason.into() });
    }

    #[test]
    fn a_mode_request_goes_out_once_and_follows_the_agents_steps() {
        use tether_shared::signal::{ModeChangedBy, ModeStep};
        let mut machine = Machine::new();
        machine.start();
        machine.handle(Input::RequestMode(SessionMode::Active), 0.0);
        assert_eq!(machine.mode_request(), &ModeRequest::Idle, "nothing before ready");
        machine.handle(ready(), 0.0);
        commands(&mut machine);
        machine.handle(Input::RequestMode(SessionMode::Active), 1.0);
        machine.handle(Input::RequestMode(SessionMode::Chat), 2.0);
        assert_eq!(
            commands(&mut machine),
            vec![Command::Send(ControllerToServer::RequestMode { mode: SessionMode::Active })],
            "one at a time"
        );
        let asking = ModeStep::Asking { mode: SessionMode::Active, timeout_secs: 30 };
        machine.handle(Input::Server(ServerToController::ModeChange { step: asking }), 3.0);
        assert_eq!(machine.mode_request().key(), "asking");
        let changed = ModeStep::InForce { mode: SessionMode::Active, by: ModeChangedBy::Person };
        machine.handle(Input::Server(ServerToController::ModeChange { step: changed }), 4.0);
        machine.handle(Input::Server(ServerToController::ModeChosen { mode: SessionMode::Active }), 4.0);
        assert_eq!((machine.mode_request().key(), machine.mode()), ("settled", Some(SessionMode::Active)));

        machine.handle(Input::RequestMode(SessionMode::Active), 5.0);
        let message = "The session is already in Active mode.";
        machine.handle(Input::Server(ServerToController::Error { message: message.into() }), 6.0);
        assert_eq!(machine.mode_request().line().as_deref(), Some(message));
        assert_eq!(machine.status(), &Status::Connecting, "a refused request ends nothing");
    }

    #[test]
    fn chat_goes_out_on_the_socket_and_the_servers_lines_are_kept_in_order() {
        use tether_shared::chat::{ChatLine, Speaker};
        let mut machine = Machine::new();
        machine.start();
        machine.handle(Input::Say("too early".into()), 0.0);
        assert!(matches!(commands(&mut machine).last(), Some(Command::Notice(_))), "not sent before ready");
        machine.handle(ready(), 0.0);
        commands(&mut machine);
        machine.handle(Input::Say("hello".into()), 1.0);
        assert_eq!(commands(&mut machine), vec![Command::Send(ControllerToServer::Chat { text: "hello".into() })]);
        let line = |text: &str, from| ChatLine { from, name: "n".into(), text: text.into(), at: 1 };
        machine.handle(Input::Server(ServerToController::Chat { line: line("hello", Speaker::Technician) }), 2.0);
        machine.handle(Input::Server(ServerToController::Chat { line: line("hi!", Speaker::Person) }), 3.0);
        let texts: Vec<&str> = machine.chat().iter().map(|line| line.text.as_str()).collect();
        assert_eq!(texts, ["hello", "hi!"]);
    }

    #[test]
    fn the_agent_declines() {
        let mut machine = Machine::new();
        machine.start();
        machine.handle(ready(), 0.0);
        commands(&mut machine);
        let ended = ServerToController::Ended { reason: "this agent cannot stream yet".into() };
        machine.handle(Input::Server(ended), 5.0);
        assert_eq!(machine.status().label(), "Ended: this agent cannot stream yet");
        assert_eq!(commands(&mut machine), vec![Command::ClosePeer, Command::CloseSocket]);
        // Nothing happens any more.
        machine.handle(Input::SocketClosed, 6.0);
        machine.handle(Input::OfferCreated { peer: 1, sdp: "late".into() }, 7.0);
        assert_eq!(commands(&mut machine), vec![]);
        assert_eq!(machine.poll_timeout(), None);
    }

    #[test]
    fn a_bye_relayed_from_the_agent_ends_too() {
        let mut machine = connected();
        let bye = ServerToController::Signal { signal: Signal::Bye { reason: "user declined".into() } };
        machine.handle(Input::Server(bye), 100.0);
        assert_eq!(machine.status(), &Status::Ended { reason: "user declined".into() });
    }

    #[test]
    fn a_refused_token_fails_without_retrying() {
        let mut machine = Machine::new();
        machine.start();
        commands(&mut machine);
        machine.handle(Input::Server(ServerToController::Error { message: "not signed in".into() }), 1.0);
        assert_eq!(machine.status().label(), "Failed: not signed in");
        assert_eq!(commands(&mut machine), vec![Command::ClosePeer, Command::CloseSocket]);
        machine.handle(Input::SocketClosed, 2.0);
        assert_eq!(machine.poll_timeout(), None);
    }

    #[test]
    fn a_server_speaking_another_protocol_fails_the_page() {
        let mut machine = Machine::new();
        machine.start();
        commands(&mut machine);
        let Input::Server(ServerToController::Ready { session_id, ice_servers, last_negotiation, broker, .. }) =
            ready()
        else {
            unreachable!()
        };
        let newer = ServerToController::Ready {
            session_id,
            ice_servers,
            last_negotiation,
            broker,
            protocol: tether_shared::signal::PROTOCOL_VERSION + 1,
        };
        machine.handle(Input::Server(newer), 1.0);
        assert_eq!(machine.status().label(), "Failed: This page is out of date for the server: reload it.");
        assert_eq!(commands(&mut machine), vec![Command::ClosePeer, Command::CloseSocket]);
    }

    #[test]
    fn errors_after_ready_are_notices() {
        let mut machine = connected();
        machine.handle(Input::Server(ServerToController::Error { message: "malformed".into() }), 100.0);
        assert_eq!(machine.status(), &Status::Connected);
        assert_eq!(commands(&mut machine), vec![Command::Notice("The server refused a message: malformed".into())]);
    }

    #[test]
    fn a_failed_peer_restarts_ice_after_a_backoff() {
        let mut machine = connected();
        machine.handle(Input::PeerState { peer: 1, state: PeerState::Failed }, 1_000.0);
        assert_eq!(machine.status(), &Status::Reconnecting { attempt: 1 });
        assert_eq!(machine.poll_timeout(), Some(3_000.0));
        machine.handle_timeout(2_999.0);
        assert_eq!(commands(&mut machine), vec![]);
        machine.handle_timeout(3_000.0);
        assert_eq!(commands(&mut machine), vec![Command::RestartIce { peer: 1 }]);
        // Candidates of the restarted ICE wait for the new offer.
        machine.handle(Input::LocalCandidate { peer: 1, signal: candidate("new") }, 3_001.0);
        assert_eq!(commands(&mut machine), vec![]);
        machine.handle(Input::OfferCreated { peer: 1, sdp: "offer 2".into() }, 3_010.0);
        assert_eq!(commands(&mut machine), vec![sent(offer(2, "offer 2")), sent(tagged("new", 2))]);
        // A late answer and candidates of the abandoned first offer are dropped.
        machine.handle(answer(1, "late answer 1"), 3_015.0);
        machine.handle(Input::Server(ServerToController::Signal { signal: tagged("old", 1) }), 3_016.0);
        assert_eq!(commands(&mut machine), vec![]);
        // One answer per offer: a second one is dropped.
        machine.handle(answer(2, "answer 2"), 3_020.0);
        machine.handle(answer(2, "again"), 3_021.0);
        assert_eq!(
            commands(&mut machine),
            vec![Command::ToPeer { peer: 1, signal: Signal::Answer { negotiation: 2, sdp: "answer 2".into() } }]
        );
        machine.handle(Input::PeerState { peer: 1, state: PeerState::Connected }, 3_100.0);
        assert_eq!(machine.status(), &Status::Connected);
        assert_eq!(machine.poll_timeout(), None);
    }

    #[test]
    fn a_broken_peer_is_replaced() {
        let mut machine = connected();
        machine.handle(Input::PeerError { peer: 1, error: "bad answer".into() }, 1_000.0);
        assert_eq!(commands(&mut machine), vec![Command::Notice("Negotiation failed: bad answer".into())]);
        assert_eq!(machine.status(), &Status::Reconnecting { attempt: 1 });
        machine.handle_timeout(3_000.0);
        assert!(matches!(commands(&mut machine).as_slice(), [Command::StartPeer { peer: 2, .. }]));
        // The old connection's events no longer count.
        machine.handle(Input::PeerState { peer: 1, state: PeerState::Connected }, 3_001.0);
        machine.handle(Input::LocalCandidate { peer: 1, signal: candidate("old") }, 3_001.0);
        machine.handle(Input::PeerError { peer: 1, error: "old".into() }, 3_001.0);
        assert_eq!(commands(&mut machine), vec![]);
        assert_eq!(machine.status(), &Status::Reconnecting { attempt: 1 });
        machine.handle(Input::OfferCreated { peer: 2, sdp: "offer".into() }, 3_010.0);
        machine.handle(Input::PeerState { peer: 2, state: PeerState::Connected }, 3_100.0);
        assert_eq!(machine.status(), &Status::Connected);
    }

    #[test]
    fn disconnected_then_failed_counts_once() {
        let mut machine = connected();
        machine.handle(Input::PeerState { peer: 1, state: PeerState::Disconnected }, 1_000.0);
        machine.handle(Input::PeerState { peer: 1, state: PeerState::Failed }, 1_500.0);
        assert_eq!(machine.status(), &Status::Reconnecting { attempt: 1 });
        assert_eq!(machine.poll_timeout(), Some(3_000.0));
    }

    #[test]
    fn a_disconnection_that_heals_itself_needs_no_new_offer() {
        let mut machine = connected();
        machine.handle(Input::PeerState { peer: 1, state: PeerState::Disconnected }, 1_000.0);
        assert_eq!(machine.status().key(), "reconnecting");
        machine.handle(Input::PeerState { peer: 1, state: PeerState::Connected }, 1_500.0);
        machine.handle_timeout(10_000.0);
        assert_eq!(commands(&mut machine), vec![]);
        assert_eq!(machine.status(), &Status::Connected);
    }

    #[test]
    fn retries_are_bounded_then_the_user_may_try_again() {
        let mut machine = connected();
        let mut now = 1_000.0;
        machine.handle(Input::PeerState { peer: 1, state: PeerState::Failed }, now);
        for attempt in 1..=MAX_ATTEMPTS {
            assert_eq!(machine.status(), &Status::Reconnecting { attempt });
            now = machine.poll_timeout().expect("a retry is scheduled");
            machine.handle_timeout(now);
            let started = now;
            // First an ICE restart; once that did not connect, fresh connections.
            match commands(&mut machine).as_slice() {
                [Command::RestartIce { peer: 1 }] if attempt == 1 => {}
                [Command::StartPeer { peer, .. }] if attempt > 1 && *peer == attempt => {}
                other => panic!("attempt {attempt}: {other:?}"),
            }
            // The agent never answers: the negotiation times out.
            now = machine.poll_timeout().expect("negotiation timeout");
            let timeout = if attempt == 1 { RESTART_TIMEOUT_MS } else { NEGOTIATION_TIMEOUT_MS };
            assert_eq!(now - started, timeout);
            machine.handle_timeout(now);
        }
        assert_eq!(machine.status().label(), format!("Failed: could not reconnect after {MAX_ATTEMPTS} attempts"));
        assert_eq!(commands(&mut machine), vec![Command::ClosePeer, Command::CloseSocket]);
        machine.handle(Input::Retry, now);
        assert_eq!(machine.status(), &Status::Connecting);
        assert_eq!(commands(&mut machine), vec![Command::OpenSocket]);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let waits: Vec<f64> = (1..=6).map(backoff_ms).collect();
        assert_eq!(waits, vec![2_000.0, 4_000.0, 8_000.0, 15_000.0, 15_000.0, 15_000.0]);
    }

    #[test]
    fn a_dropped_socket_reconnects_and_renegotiates() {
        let mut machine = connected();
        machine.handle(Input::SocketClosed, 1_000.0);
        assert_eq!(machine.status(), &Status::Reconnecting { attempt: 1 });
        // While the socket is down, candidates cannot go out and a peer
        // failure waits for the socket.
        machine.handle(Input::PeerState { peer: 1, state: PeerState::Failed }, 1_100.0);
        assert_eq!(machine.poll_timeout(), Some(3_000.0));
        machine.handle_timeout(3_000.0);
        assert_eq!(commands(&mut machine), vec![Command::OpenSocket]);
        machine.handle(ready(), 3_050.0);
        assert_eq!(commands(&mut machine), vec![Command::RestartIce { peer: 1 }]);
    }

    #[test]
    fn a_reloaded_page_numbers_its_offers_after_the_old_one() {
        let mut machine = Machine::new();
        machine.start();
        machine.handle(ready_after(7), 0.0);
        commands(&mut machine);
        machine.handle(Input::OfferCreated { peer: 1, sdp: "offer".into() }, 10.0);
        assert_eq!(commands(&mut machine), vec![sent(offer(8, "offer"))]);
        // The old page's answer, relayed late, is not applied.
        machine.handle(answer(7, "for the old page"), 20.0);
        assert_eq!(commands(&mut machine), vec![]);
        machine.handle(answer(8, "ours"), 21.0);
        assert!(matches!(commands(&mut machine).as_slice(), [Command::ToPeer { peer: 1, .. }]));
    }

    #[test]
    fn a_socket_that_keeps_failing_gives_up() {
        let mut machine = Machine::new();
        machine.start();
        let mut now = 0.0;
        for _ in 0..MAX_ATTEMPTS {
            machine.handle(Input::SocketClosed, now);
            now = machine.poll_timeout().expect("retry");
            machine.handle_timeout(now);
        }
        machine.handle(Input::SocketClosed, now);
        assert_eq!(machine.status().key(), "failed");
    }

    #[test]
    fn ending_sends_bye_and_closes() {
        let mut machine = connected();
        machine.handle(Input::End, 100.0);
        assert_eq!(
            commands(&mut machine),
            vec![sent(Signal::Bye { reason: END_REASON.into() }), Command::ClosePeer, Command::CloseSocket]
        );
        assert_eq!(machine.status().label(), "Ended: you ended the session");
        // Retry only follows a failure.
        machine.handle(Input::Retry, 200.0);
        assert_eq!(commands(&mut machine), vec![]);
    }
}
