//! A connection code's session through its consent gate
//! (`tether_shared::consent`), on the broker session socket: the thin
//! driver that carries out the gate's effects — steps reported to the
//! server, the question put through an [`Ask`] — and feeds it the answer,
//! its deadline and a withdrawal (the technician's `bye`, a closed socket).
//! Meanwhile it keeps what the server sends (the technician's offer may
//! arrive) for the session. Nothing of the session runs before `Accepted`.
//!
//! The question is built from the redemption's signed grant, once the
//! pinned key verifies it: the technician's signed name, the mode and the
//! access it grants, the narrower modes its policy leaves the person, and
//! the policy's acceptance terms. A grant that does not verify refuses the
//! session before anyone is asked (and the server hears why).

use super::ConnectError;
use super::wire;
use crate::consent::{Answer, Ask, Clock, next_answer};
use crate::link::{EarlyMessages, Socket, check_welcome};
use crate::trust::ServerTrust;
use futures_util::StreamExt;
use tether_shared::broker::RedeemCodeResponse;
use tether_shared::consent::{
    Acceptance, ConsentGate, Denial, Effect, Event, LocalRules, Offer, Origin, Request, Verdict,
};
use tether_shared::grant::{Grant, code_target};
use tether_shared::mode::SessionMode;
use tether_shared::signal::{AgentToServer, ConsentStep, Refusal, Refused, ServerToAgent, Signal};
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::Message;

/// How the wait ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The session may start (`by` says why) with `technician` (the
    /// grant's signed name) in `mode` (the grant's, or the narrower one the
    /// person picked); hand it `early`.
    /// `offered` is the mode the grant asked for.
    Accepted { by: Acceptance, technician: String, mode: SessionMode, offered: SessionMode, early: Vec<ServerToAgent> },
    /// No session: why, for the user.
    Refused(String),
}

/// The redemption's grant, if `trust` verifies it for this code's session.
fn verified_grant(redeemed: &RedeemCodeResponse, trust: &ServerTrust) -> Result<Grant, String> {
    let signed = redeemed.grant.as_ref().ok_or("the server sent no grant for this session")?;
    trust.check(signed, &redeemed.session_id, &code_target(&redeemed.session_id))
}

/// The gate's request for the redeemed session, in the words its verified
/// grant signs.
fn request(session_id: &str, grant: &Grant) -> Request {
    Request {
        session_id: session_id.to_owned(),
        technician: grant.technician_name.clone(),
        offer: Offer::of(grant),
        origin: Origin::ConnectionCode,
        policy_asks: grant.user_acceptance,
        timeout_secs: grant.acceptance_timeout_secs,
    }
}

/// Decides whether the redeemed session starts, under `always_ask` (the
/// person's own rule), asking through `ask` when the gate wants an answer.
pub async fn decide(
    socket: &mut Socket,
    redeemed: &RedeemCodeResponse,
    trust: &ServerTrust,
    always_ask: bool,
    ask: &dyn Ask,
    server: &str,
) -> Result<Outcome, ConnectError> {
    let grant = match verified_grant(redeemed, trust) {
        Ok(grant) => grant,
        Err(reason) => {
            tracing::warn!(session = %redeemed.session_id, %reason, "refusing the server's grant for the code's session");
            let refusal = Refusal { what: Refused::Grant, reason: reason.clone() };
            let refused = AgentToServer::Refused { session_id: redeemed.session_id.clone(), refusal };
            wire::send(socket, &refused, server).await?;
            return Ok(Outcome::Refused(format!("This computer refused the server's grant: {reason}.")));
        }
    };
    let clock = Clock::start();
    // Every path into a code session has someone to ask (the page, the
    // terminal, or an answer given with `--accept`).
    let mut gate = ConsentGate::new(LocalRules { unattended: false, always_ask, can_ask: true });
    let mut pending = Pending { answer: None, early: EarlyMessages::default(), withdrawn_because: None };
    let mut next = Some(Event::Requested(request(&redeemed.session_id, &grant)));
    loop {
        if let Some(event) = next.take()
            && let Err(refusal) = gate.handle(event, clock.now())
        {
            tracing::debug!(%refusal, "the consent gate refused an event");
        }
        while let Some(effect) = gate.poll_effect() {
            match effect {
                Effect::Report(step) => report(socket, &redeemed.session_id, step, server).await?,
                Effect::Ask(question) => pending.answer = Some(ask.ask(&question)),
                Effect::Withdraw => pending.answer = None,
                Effect::Decided(verdict) => {
                    tracing::info!(session = %redeemed.session_id, ?verdict, "consent decided");
                    return Ok(pending.outcome(verdict, &grant));
                }
            }
        }
        next = Some(pending.next_event(socket, &gate, &clock, server).await?);
    }
}

/// What the driver holds while the person is asked.
struct Pending {
    /// Where the person's answer arrives; gone once the question is.
    answer: Option<oneshot::Receiver<Answer>>,
    /// The server's messages for the session, kept for after a yes.
    early: EarlyMessages,
    /// Why the request went away, for the person.
    withdrawn_because: Option<String>,
}

impl Pending {
    /// Waits for the gate's next event: the answer, the deadline, or a
    /// withdrawal; keeps the server's other messages.
    async fn next_event(
        &mut self,
        socket: &mut Socket,
        gate: &ConsentGate,
        clock: &Clock,
        server: &str,
    ) -> Result<Event, ConnectError> {
        let deadline = gate.next_deadline();
        loop {
            tokio::select! {
                answer = next_answer(&mut self.answer) => return Ok(Event::Answered(answer)),
                () = clock.sleep_until(deadline) => return Ok(Event::Tick),
                message = socket.next() => match message {
                    None | Some(Ok(Message::Close(_))) => {
                        self.withdrawn_because = Some("The technician ended the session before you answered.".into());
                        return Ok(Event::Withdrawn);
                    }
                    Some(Err(err)) => return Err(wire::closed(server, &err)),
                    Some(Ok(Message::Text(text))) => match serde_json::from_str::<ServerToAgent>(&text) {
                        Ok(ServerToAgent::Signal { signal: Signal::Bye { reason }, .. }) => {
                            self.withdrawn_because = Some(format!("The session ended before you answered: {reason}."));
                            return Ok(Event::Withdrawn);
                        }
                        Ok(message) => {
                            check_welcome(&message).map_err(|err| ConnectError::Session(err.to_string()))?;
                            self.early.keep(message);
                        }
                        Err(err) => tracing::warn!(error = %err, "ignoring a malformed message from the server"),
                    },
                    Some(Ok(_)) => {}
                },
            }
        }
    }

    fn outcome(mut self, verdict: Verdict, grant: &Grant) -> Outcome {
        match verdict {
            Verdict::Accepted(by) => {
                let mode = match by {
                    Acceptance::ByPerson { mode } => mode,
                    Acceptance::Unattended | Acceptance::CodeEntered => grant.mode,
                };
                let technician = grant.technician_name.clone();
                Outcome::Accepted { by, technician, mode, offered: grant.mode, early: self.early.take() }
            }
            Verdict::Denied(Denial::Withdrawn) => {
                Outcome::Refused(self.withdrawn_because.unwrap_or_else(|| verdict.reason()))
            }
            Verdict::Denied(_) => Outcome::Refused(verdict.reason()),
        }
    }
}

async fn report(socket: &mut Socket, session_id: &str, step: ConsentStep, server: &str) -> Result<(), ConnectError> {
    tracing::info!(session = %session_id, step = step.as_str(), "telling the server where consent is");
    let message = AgentToServer::Consent { session_id: session_id.to_owned(), step };
    wire::send(socket, &message, server).await
}
