//! The [`Dispatcher`]: session requests → a consent gate each (an
//! enrolled computer's) or the code's own session → a [`Running`] session
//! each, whose mode keeper every later grant goes through; signals routed
//! by session id; what sessions report sent back to the server.

use super::person::PersonRequest;
use super::running::Running;
use super::waiter::Waiter;
use super::waiting::Waiting;
use super::{Consent, LinkOptions, MAX_SESSIONS};
use crate::consent::Clock;
use crate::notice::Notice;
use crate::platform::x11_bar::{BarContent, SessionBar};
use crate::session::{Session, SessionEvent, ToolAssent};
use crate::trust::unix_millis;
use std::collections::HashMap;
use std::time::Duration;
use tether_shared::access::{Access, AccessSet};
use tether_shared::access_policy::Policy;
use tether_shared::activity::in_use_words;
use tether_shared::chat::{Speaker, check_text};
use tether_shared::consent::{
    Acceptance, ConsentGate, Denial, Effect, Event, LocalRules, Offer, Origin, Request, Verdict,
};
use tether_shared::grant::{Grant, SignedGrant, code_target};
use tether_shared::local_floor::LocalFloor;
use tether_shared::mode::SessionMode;
use tether_shared::mode_change::{self, AskRules, Basis, ModeKeeper};
use tether_shared::signal::{AgentToServer, IceServer, ModeStep, Refusal, Refused, ServerToAgent, Signal};
use tokio::sync::mpsc;

/// Routes messages between the server and the sessions, keyed by id.
#[derive(Debug)]
pub struct Dispatcher {
    pub(super) options: LinkOptions,
    sessions: HashMap<String, Running>,
    /// Requests to this enrolled computer waiting for the person at it.
    waiting: HashMap<String, Waiting>,
    session_events: mpsc::UnboundedSender<SessionEvent>,
    /// Why the last session that ended did.
    last_ended: Option<String>,
    /// How long the server may be silent before sessions end here.
    server_loss_timeout: Duration,
    /// `now` for the pure machines.
    clock: Clock,
}

/// The server-loss limit until the server names one in its welcome.
pub const DEFAULT_SERVER_LOSS_TIMEOUT: Duration = Duration::from_secs(15);

/// How a session that is about to start was agreed.
#[derive(Debug, Clone)]
struct Start {
    session_id: String,
    technician: String,
    /// The mode it starts in, and on what basis.
    mode: SessionMode,
    basis: Basis,
    /// The grant it came with, if any (a code's arrives with the offer).
    grant: Option<Grant>,
    ice_servers: Vec<IceServer>,
    why: String,
}

impl Dispatcher {
    pub fn new(options: LinkOptions, session_events: mpsc::UnboundedSender<SessionEvent>) -> Self {
        Self {
            options,
            sessions: HashMap::new(),
            waiting: HashMap::new(),
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
            ServerToAgent::Chat { session_id, line } => {
                // The terminal and the page show it: nothing but printable text.
                let printable = check_text(&line.text).is_ok_and(|text| text == line.text)
                    && !line.name.chars().any(char::is_control);
                if !printable {
                    tracing::warn!(%session_id, "dropping a chat line that is not printable text");
                } else if self.chat_allowed(&session_id) {
                    if line.from == Speaker::Technician
                        && let Some(bar) = self.sessions.get(&session_id).and_then(|running| running.bar.as_ref())
                    {
                        bar.heard(&line.name, &line.text);
                    }
                    self.options.notify.tell(Notice::Chat { session_id, line });
                } else {
                    tracing::warn!(%session_id, "dropping a chat line for a session without chat");
                }
                Vec::new()
            }
        }
    }

    /// Whether running session `session_id`'s mode in force includes chat.
    fn chat_allowed(&self, session_id: &str) -> bool {
        self.sessions.get(session_id).is_some_and(|running| running.keeper.in_force().access().contains(Access::Chat))
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
            ServerToAgent::Grant { session_id, grant, requested } => self.on_grant(session_id, &grant, requested).await,
            ServerToAgent::Signal { session_id, signal } => {
                match self.sessions.get(&session_id) {
                    Some(running) => {
                        if !running.session.signal(signal).await {
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
        let Consent::Code { session_id: allowed, accepted, offered, .. } = &self.options.consent else {
            return Vec::new();
        };
        if *allowed == session_id && self.sessions.contains_key(&session_id) {
            tracing::debug!(%session_id, "the session this code started already runs");
            return Vec::new();
        }
        if *allowed != session_id {
            return self.decline(session_id, technician, Declined::plainly("this connection is for another session"));
        }
        let (mode, basis) = agreed(*accepted, *offered);
        let why = Verdict::Accepted(*accepted).reason();
        self.start(Start { session_id, technician, mode, basis, grant: None, ice_servers, why }).await;
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
                Effect::Withdraw => self.withdraw_question(session_id),
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
            && !waiting.waiter.is_waiting()
        {
            waiting.wait(session_id, None, self.clock, self.session_events.clone());
        }
        replies
    }

    /// Starts the waiting request's session, or declines it.
    async fn decided(&mut self, session_id: &str, mut waiting: Waiting, verdict: Verdict) -> Vec<AgentToServer> {
        tracing::info!(%session_id, ?verdict, "consent decided");
        waiting.waiter.stop();
        let technician = waiting.grant.technician_name.clone();
        match verdict {
            Verdict::Accepted(by) => {
                let (mode, basis) = agreed(by, waiting.grant.mode);
                let early = waiting.take_early();
                let start = Start {
                    session_id: session_id.to_owned(),
                    technician,
                    mode,
                    basis,
                    grant: Some(waiting.grant.clone()),
                    ice_servers: std::mem::take(&mut waiting.ice_servers),
                    why: verdict.reason(),
                };
                self.start(start).await;
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

    /// Starts a session as agreed; its grant (if it came with one) held to
    /// the agreed mode.
    async fn start(&mut self, start: Start) {
        let Start { session_id, technician, mode, basis, grant, ice_servers, why } = start;
        tracing::info!(%session_id, %technician, %why, mode = mode.name(), ?basis, "starting a session");
        let bar = self.open_bar(&session_id, &technician, mode);
        let notice =
            Notice::SessionStarted { session_id: session_id.clone(), technician: technician.clone(), mode, why };
        self.options.notify.tell(notice);
        let asking = AskRules { always: self.always_asks(), possible: self.options.asker.is_some() };
        let keeper = ModeKeeper::start(mode, basis, asking, grant);
        let assent = ToolAssent::new(self.options.asker.clone(), basis == Basis::Unattended);
        let session = Session::start(
            session_id.clone(),
            ice_servers,
            self.options.session.clone(),
            assent,
            self.session_events.clone(),
        );
        if let Some(grant) = keeper.effective()
            && !session.grant(grant).await
        {
            tracing::warn!(%session_id, "the session ended before its grant reached it");
        }
        let in_use = AccessSet::empty();
        self.sessions.insert(
            session_id,
            Running { session, keeper, waiter: Waiter::default(), technician, bar, in_use, transfer: None },
        );
    }

    /// The session bar for `session_id` on this session's display, whose X
    /// ends the session as the person's choice; none without a display.
    fn open_bar(&self, session_id: &str, technician: &str, mode: SessionMode) -> Option<SessionBar> {
        let display = self.options.session.display.clone().or_else(|| std::env::var("DISPLAY").ok())?;
        let content =
            BarContent { technician: technician.to_owned(), mode, in_use: AccessSet::empty(), transfer: None };
        let (events, id) = (self.session_events.clone(), session_id.to_owned());
        let on_end = move || {
            if events.send(SessionEvent::EndedFromBar { session_id: id }).is_err() {
                tracing::debug!("the bar's X after the link stopped listening");
            }
        };
        let (events, id) = (self.session_events.clone(), session_id.to_owned());
        let on_chat = move |text: String| {
            if events.send(SessionEvent::BarChat { session_id: id.clone(), text }).is_err() {
                tracing::debug!("a chat line from the bar after the link stopped listening");
            }
        };
        match SessionBar::open(Some(&display), content, on_end, on_chat) {
            Ok(bar) => Some(bar),
            Err(err) => {
                tracing::warn!(%session_id, error = format!("{err:#}"), "no session bar on the display");
                None
            }
        }
    }

    /// Whether this computer's own rules ask the person before every
    /// session (and so before every widening of one).
    fn always_asks(&self) -> bool {
        match &self.options.consent {
            Consent::Enrolled { floor, .. } => floor.always_ask,
            Consent::Code { always_ask, .. } => *always_ask,
        }
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

    /// A grant for a running session: verified, then through its mode
    /// keeper (one binding an offer's controller is held to the mode in
    /// force; the technician's request narrows at once or may be put to
    /// the person); one that does not verify ends the session.
    async fn on_grant(&mut self, session_id: String, signed: &SignedGrant, requested: bool) -> Vec<AgentToServer> {
        if !self.sessions.contains_key(&session_id) {
            tracing::debug!(%session_id, "ignoring a grant for an unknown or declined session");
            return Vec::new();
        }
        let reason = match self.options.trust.check(signed, &session_id, &self.target_for(&session_id)) {
            Ok(grant) => {
                let event =
                    if requested { mode_change::Event::Requested(grant) } else { mode_change::Event::Bound(grant) };
                return self.feed_keeper(&session_id, event).await;
            }
            Err(reason) => reason,
        };
        tracing::warn!(%session_id, %reason, "refusing the server's grant; ending the session");
        let Declined { reason: ended, refusal } = Declined::refusing_grant(&reason);
        self.forget(&session_id, &ended);
        let refused = refusal.map(|refusal| AgentToServer::Refused { session_id: session_id.clone(), refusal });
        refused.into_iter().chain([bye(session_id, ended)]).collect()
    }

    /// Feeds the mode keeper of running session `session_id` and carries
    /// out its effects: the grant applied, the question asked or taken
    /// away, each step reported to the server (and a new mode told here).
    async fn feed_keeper(&mut self, session_id: &str, event: mode_change::Event) -> Vec<AgentToServer> {
        let now = self.clock.now();
        let Some(running) = self.sessions.get_mut(session_id) else {
            tracing::debug!(%session_id, "no session runs under this id");
            return Vec::new();
        };
        if let Err(refusal) = running.keeper.handle(event, now) {
            tracing::warn!(%session_id, %refusal, "the session's mode keeper refused an event");
            if refusal == mode_change::Refusal::ForeignGrant {
                let refusal = Refusal { what: Refused::Grant, reason: refusal.to_string() };
                return vec![AgentToServer::Refused { session_id: session_id.to_owned(), refusal }];
            }
        }
        let mut replies = Vec::new();
        while let Some(effect) = self.sessions.get_mut(session_id).and_then(|running| running.keeper.poll_effect()) {
            let Some(running) = self.sessions.get_mut(session_id) else { break };
            match effect {
                mode_change::Effect::Apply(grant) => {
                    if !running.session.grant(grant).await {
                        tracing::debug!(%session_id, "a grant for a session that just ended");
                    }
                }
                mode_change::Effect::Ask(question) => {
                    tracing::info!(%session_id, mode = question.offer.mode.name(), "asking the person to allow another mode");
                    let answer = self.options.asker.as_ref().map(|asker| asker.ask(&question));
                    running.wait(session_id, answer, self.clock, self.session_events.clone());
                }
                mode_change::Effect::Withdraw => {
                    running.waiter.stop();
                    self.withdraw_question(session_id);
                }
                mode_change::Effect::Report(step) => {
                    tracing::info!(%session_id, ?step, "a step in changing the session's mode");
                    if let ModeStep::InForce { mode, by } = step {
                        running.show_bar();
                        let notice = Notice::ModeChanged { session_id: session_id.to_owned(), mode, by };
                        self.options.notify.tell(notice);
                    }
                    replies.push(AgentToServer::Mode { session_id: session_id.to_owned(), step });
                }
            }
        }
        // Still asking with nobody waiting (an answer the keeper refused):
        // go on waiting for the deadline.
        if let Some(running) = self.sessions.get_mut(session_id)
            && running.keeper.next_deadline().is_some()
            && !running.waiter.is_waiting()
        {
            running.wait(session_id, None, self.clock, self.session_events.clone());
        }
        replies
    }

    /// Takes the question about `session_id` off the person's screen.
    fn withdraw_question(&self, session_id: &str) {
        if let Some(asker) = &self.options.asker {
            asker.withdraw(session_id);
        }
    }

    /// Forgets session `session_id` because it ended for `reason` (dropping
    /// its handle ends it; its end is not reported again): the page and the
    /// terminal hear why. False if it was not running.
    fn forget(&mut self, session_id: &str, reason: &str) -> bool {
        let Some(running) = self.sessions.remove(session_id) else {
            return false;
        };
        if running.keeper.asking_for().is_some() {
            self.withdraw_question(session_id);
        }
        self.options.notify.tell(Notice::SessionEnded { session_id: session_id.to_owned(), reason: reason.to_owned() });
        self.last_ended = Some(reason.to_owned());
        true
    }

    /// Acts on what a session (or a question's waiter) reports; returns
    /// the messages for the server.
    pub async fn on_session_event(&mut self, event: SessionEvent) -> Vec<AgentToServer> {
        match event {
            SessionEvent::Signal { session_id, signal } => vec![AgentToServer::Signal { session_id, signal }],
            SessionEvent::Refused { session_id, refusal } => vec![AgentToServer::Refused { session_id, refusal }],
            SessionEvent::Tool { session_id, event } => vec![AgentToServer::Tool { session_id, event }],
            SessionEvent::Consent { session_id, answer } => {
                if let Some(waiting) = self.waiting.get_mut(&session_id) {
                    waiting.waiter.reported();
                }
                self.feed_gate(&session_id, answer.map_or(Event::Tick, Event::Answered)).await
            }
            SessionEvent::ModeAnswer { session_id, answer } => {
                if let Some(running) = self.sessions.get_mut(&session_id) {
                    running.waiter.reported();
                }
                let event = answer.map_or(mode_change::Event::Tick, mode_change::Event::Answered);
                self.feed_keeper(&session_id, event).await
            }
            SessionEvent::EndedFromBar { session_id } => self.end_here(&session_id),
            SessionEvent::BarChat { session_id, text } => match check_text(&text) {
                Ok(text) => self.on_person_request(&session_id, PersonRequest::Say(text)).await,
                Err(bad) => {
                    tracing::warn!(%session_id, reason = %bad, "not sending a chat line from the bar");
                    Vec::new()
                }
            },
            SessionEvent::InUse { session_id, in_use, transfer } => {
                if let Some(running) = self.sessions.get_mut(&session_id) {
                    let words = in_use_words(in_use, transfer.as_deref());
                    running.in_use = in_use;
                    running.transfer = transfer;
                    running.show_bar();
                    self.options.notify.tell(Notice::InUse { session_id, words });
                }
                Vec::new()
            }
            SessionEvent::Ended { session_id, reason } => {
                tracing::info!(%session_id, %reason, "session ended");
                // A session ended here already (the server was lost) keeps that reason.
                self.forget(&session_id, &reason);
                Vec::new()
            }
        }
    }

    /// What the person at this computer asked about a running session from
    /// their page.
    pub async fn on_person_request(&mut self, session_id: &str, request: PersonRequest) -> Vec<AgentToServer> {
        match request {
            PersonRequest::End => self.end_here(session_id),
            PersonRequest::Narrow(mode) => self.feed_keeper(session_id, mode_change::Event::PersonNarrowed(mode)).await,
            PersonRequest::Say(text) if self.chat_allowed(session_id) => {
                vec![AgentToServer::Chat { session_id: session_id.to_owned(), text }]
            }
            PersonRequest::Say(_) => {
                tracing::warn!(%session_id, "not sending a chat line: no running session with chat");
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

    /// The mode running session `session_id` is in.
    pub fn mode_of(&self, session_id: &str) -> Option<SessionMode> {
        self.sessions.get(session_id).map(|running| running.keeper.in_force())
    }

    /// Takes every open question off the screen: the link is going away.
    fn withdraw_all(&mut self) {
        let waiting: Vec<String> = self.waiting.keys().cloned().collect();
        self.waiting.clear();
        let asking = self.sessions.iter_mut().filter(|(_, running)| running.keeper.asking_for().is_some());
        let asking: Vec<String> = asking
            .map(|(session_id, running)| {
                running.waiter.stop();
                session_id.clone()
            })
            .collect();
        for session_id in waiting.iter().chain(&asking) {
            self.withdraw_question(session_id);
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

/// The mode a session starts in and the basis of it, from how it was
/// accepted and the mode its grant offered.
fn agreed(accepted: Acceptance, offered: SessionMode) -> (SessionMode, Basis) {
    match accepted {
        Acceptance::ByPerson { mode } if mode == offered => (mode, Basis::AsAsked),
        Acceptance::ByPerson { mode } => (mode, Basis::Limited),
        Acceptance::CodeEntered => (offered, Basis::AsAsked),
        Acceptance::Unattended => (offered, Basis::Unattended),
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
mod tests;
