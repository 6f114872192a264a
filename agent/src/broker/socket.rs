//! The broker session socket (`GET /api/broker/ws`, `Authorization: Bearer
//! <session_token>`): the same signalling messages as the agent socket
//! (`hello` first, then `ServerToAgent` in, `AgentToServer` out), serving
//! exactly the one session the code started. Its consent gate decides first
//! (`awaiting.rs`: at once, or after asking the person); the session then
//! starts with the ICE servers from the redemption (the server's own
//! `session_request` for it is ignored); the socket closes when the session
//! ends, and the session ends if the socket does.

use super::ConnectError;
use super::awaiting::{self, Outcome};
use super::connect::Person;
use super::wire::send;
use crate::config::AgentConfig;
use crate::link::{self, Consent, Dispatcher, LinkOptions, Until};
use crate::session::SessionConfig;
use tether_shared::agent::AgentInfo;
use tether_shared::broker::RedeemCodeResponse;
use tether_shared::mode::SessionMode;
use tether_shared::signal::{AgentToServer, PROTOCOL_VERSION, ServerToAgent};
use tokio::sync::mpsc;

/// Serves the redeemed session until it ends; returns why it ended.
pub async fn serve(
    config: &AgentConfig,
    redeemed: &RedeemCodeResponse,
    info: AgentInfo,
    session: SessionConfig,
    person: Person,
    on_live: impl FnOnce(String, SessionMode),
) -> Result<String, ConnectError> {
    let unreachable = |detail: String| ConnectError::ServerUnreachable { server: config.server_url.clone(), detail };
    let url = config.ws_url("/api/broker/ws").map_err(|err| unreachable(format!("{err:#}")))?;
    let (mut socket, _) = link::open_socket(url, &redeemed.session_token).await.map_err(|err| match err {
        tokio_tungstenite::tungstenite::Error::Http(response) => ConnectError::Refused {
            error: format!("http_{}", response.status().as_u16()),
            message: format!("the server refused the session socket (HTTP {})", response.status()),
        },
        other => unreachable(format!("cannot open the session socket: {other}")),
    })?;
    send(&mut socket, &AgentToServer::Hello { info, protocol: PROTOCOL_VERSION }, &config.server_url).await?;
    let trust =
        crate::trust::ServerTrust::from_config(config).map_err(|err| ConnectError::Session(format!("{err:#}")))?;
    // The consent gate decides: at once, or after asking the person.
    let (accepted, technician, mode, offered, early) =
        match awaiting::decide(&mut socket, redeemed, &trust, config.always_ask, &*person.ask, &config.server_url)
            .await?
        {
            Outcome::Accepted { by, technician, mode, offered, early } => (by, technician, mode, offered, early),
            Outcome::Refused(reason) => {
                if let Err(err) = socket.close(None).await {
                    tracing::debug!(error = %err, "closing the session socket");
                }
                return Ok(reason);
            }
        };
    let (events, mut from_sessions) = mpsc::unbounded_channel();
    let consent =
        Consent::Code { session_id: redeemed.session_id.clone(), accepted, offered, always_ask: config.always_ask };
    // `connect` and the page say what happens in their own words; the
    // same asker puts a request to change mode to the person.
    let Person { ask, requests, notify } = person;
    let options = LinkOptions { consent, session, notify, trust, asker: Some(ask), requests };
    let mut dispatcher = Dispatcher::new(options, events);
    let start = ServerToAgent::SessionRequest {
        session_id: redeemed.session_id.clone(),
        technician: technician.clone(),
        ice_servers: redeemed.ice_servers.clone(),
        grant: None,
    };
    if let Some(refusal) = dispatcher.on_server_message(start).await.first() {
        return Err(ConnectError::Session(format!("the session could not start: {refusal:?}")));
    }
    // What the server sent while the user decided (the grant, the offer, candidates).
    for message in early {
        for reply in dispatcher.on_server_message(message).await {
            send(&mut socket, &reply, &config.server_url).await?;
        }
    }
    on_live(technician, mode);
    let served = link::serve_socket(&mut socket, &mut dispatcher, &mut from_sessions, Until::NoSessions).await;
    match (served, dispatcher.last_ended()) {
        (Ok(()), Some(reason)) => Ok(reason.to_owned()),
        // The server closed the socket (the session ended there); dropping
        // the dispatcher ends the session here.
        (Ok(()), None) => Ok("the server ended the session".into()),
        (Err(err), _) => Err(ConnectError::Session(format!("the session socket failed: {err:#}"))),
    }
}
