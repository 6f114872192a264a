//! Writing to a broker session's socket, and naming its failures: the one
//! piece both the wait for the user's answer (`awaiting.rs`) and the
//! session's own loop (`socket.rs`) need, kept apart so neither imports
//! the other.

use super::ConnectError;
use crate::link::Socket;
use futures_util::SinkExt;
use tether_shared::signal::AgentToServer;
use tokio_tungstenite::tungstenite::Message;

/// Sends `message` on the session socket to `server`.
pub(super) async fn send(socket: &mut Socket, message: &AgentToServer, server: &str) -> Result<(), ConnectError> {
    let text = serde_json::to_string(message)
        .map_err(|err| ConnectError::Session(format!("cannot encode a message for the server: {err}")))?;
    socket.send(Message::text(text)).await.map_err(|err| closed(server, &err))
}

/// The session socket to `server` failed.
pub(super) fn closed(server: &str, err: &tokio_tungstenite::tungstenite::Error) -> ConnectError {
    ConnectError::ServerUnreachable { server: server.to_owned(), detail: format!("the session socket closed: {err}") }
}
