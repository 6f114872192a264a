//! The wait for the user's answer on a broker session's socket (policy:
//! user acceptance). The agent tells the server it is asking, keeps reading
//! the socket meanwhile — the technician's offer may already arrive and is
//! kept for the session; a `bye` or a closed socket ends the wait — and then
//! reports the answer. Nothing of the session runs before `Accepted`.

use super::ConnectError;
use super::consent::{Answer, Ask, Question};
use super::wire;
use crate::link::Socket;
use futures_util::StreamExt;
use std::time::Duration;
use tether_shared::broker::RedeemCodeResponse;
use tether_shared::signal::{AgentToServer, ConsentStep, ServerToAgent, Signal};
use tokio_tungstenite::tungstenite::Message;

/// Most server messages kept while the user decides (an offer and its
/// candidates need a few dozen).
const MAX_EARLY_MESSAGES: usize = 256;

/// How the wait ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The user accepted; start the session and hand it `early`.
    Accepted { early: Vec<ServerToAgent> },
    /// No session: why, for the user.
    Refused(String),
}

/// Asks through `ask` and reports each step to the server.
pub async fn ask_user(
    socket: &mut Socket,
    redeemed: &RedeemCodeResponse,
    ask: &dyn Ask,
    server: &str,
) -> Result<Outcome, ConnectError> {
    let timeout_secs = redeemed.policy.acceptance_timeout_secs.clamp(1, ConsentStep::MAX_TIMEOUT_SECS);
    let question = Question {
        session_id: redeemed.session_id.clone(),
        technician: redeemed.technician.clone(),
        broker: redeemed.broker.clone(),
        timeout: Duration::from_secs(u64::from(timeout_secs)),
    };
    send(socket, &redeemed.session_id, ConsentStep::Asking { timeout_secs }, server).await?;
    let answer = ask.ask(&question);
    let deadline = tokio::time::sleep(question.timeout);
    tokio::pin!(answer, deadline);
    let mut early = Vec::new();
    let step = loop {
        tokio::select! {
            answer = &mut answer => break match answer {
                Ok(Answer::Accept) => ConsentStep::Accepted,
                Ok(Answer::Reject) => ConsentStep::Rejected,
                Err(_) => ConsentStep::NoAnswer,
            },
            () = &mut deadline => break ConsentStep::NoAnswer,
            message = socket.next() => match message {
                None | Some(Ok(Message::Close(_))) => {
                    return Ok(Outcome::Refused("The technician ended the session before you answered.".into()));
                }
                Some(Err(err)) => return Err(wire::closed(server, &err)),
                Some(Ok(Message::Text(text))) => match serde_json::from_str::<ServerToAgent>(&text) {
                    Ok(ServerToAgent::Signal { signal: Signal::Bye { reason }, .. }) => {
                        return Ok(Outcome::Refused(format!("The session ended before you answered: {reason}.")));
                    }
                    Ok(message) if early.len() < MAX_EARLY_MESSAGES => early.push(message),
                    Ok(_) => tracing::warn!("too many messages while waiting for the user; dropping one"),
                    Err(err) => tracing::warn!(error = %err, "ignoring a malformed message from the server"),
                },
                Some(Ok(_)) => {}
            },
        }
    };
    tracing::info!(session = %redeemed.session_id, step = step.as_str(), "the user answered");
    send(socket, &redeemed.session_id, step, server).await?;
    Ok(match step {
        ConsentStep::Accepted => Outcome::Accepted { early },
        ConsentStep::Rejected => Outcome::Refused("You rejected the session.".into()),
        ConsentStep::NoAnswer | ConsentStep::Asking { .. } => {
            Outcome::Refused(format!("Nobody accepted the session within {timeout_secs} seconds."))
        }
    })
}

async fn send(socket: &mut Socket, session_id: &str, step: ConsentStep, server: &str) -> Result<(), ConnectError> {
    let message = AgentToServer::Consent { session_id: session_id.to_owned(), step };
    wire::send(socket, &message, server).await
}
