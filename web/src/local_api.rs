//! Typed client for the agent's loopback UI API (`/local/*` on the page's
//! own origin, the agent). Separate from [`crate::api`]'s technician API on
//! purpose: no login, no token refresh; every call carries the per-launch
//! key the agent put in the page's address.

use crate::api::{ApiFailure, send_empty, send_json};
use gloo_net::http::{Request, RequestBuilder};
use std::fmt;
use tether_shared::broker::{
    LocalAcceptRequest, LocalAgentStatus, LocalChatRequest, LocalConnectRequest, LocalModeRequest,
};
use tether_shared::mode::SessionMode;

/// The header that carries the per-launch key.
pub const KEY_HEADER: &str = "X-Tether-Local-Key";

/// The agent's loopback API, holding the per-launch key.
#[derive(Clone, PartialEq, Eq)]
pub struct LocalApi {
    key: String,
}

impl fmt::Debug for LocalApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalApi").field("key", &"<redacted>").finish()
    }
}

impl LocalApi {
    /// A client that sends `key` with every call.
    pub fn new(key: String) -> Self {
        Self { key }
    }

    fn keyed(&self, builder: RequestBuilder) -> RequestBuilder {
        builder.header(KEY_HEADER, &self.key)
    }

    /// `GET /local/status`.
    pub async fn status(&self) -> Result<LocalAgentStatus, ApiFailure> {
        send_json(self.keyed(Request::get("/local/status")).build()).await
    }

    /// `POST /local/connect`: redeem the code the user typed.
    pub async fn connect(&self, code: &str) -> Result<(), ApiFailure> {
        send_empty(self.keyed(Request::post("/local/connect")).json(&LocalConnectRequest { code: code.to_owned() }))
            .await
    }

    /// `POST /local/accept`: the user accepts the session they are asked
    /// about, as asked or (`mode`) in one of the narrower modes offered.
    pub async fn accept(&self, mode: Option<SessionMode>) -> Result<(), ApiFailure> {
        send_empty(self.keyed(Request::post("/local/accept")).json(&LocalAcceptRequest { mode })).await
    }

    /// `POST /local/reject`: the user rejects it.
    pub async fn reject(&self) -> Result<(), ApiFailure> {
        send_empty(self.keyed(Request::post("/local/reject")).build()).await
    }

    /// `POST /local/cancel`: stop connecting, or end the session.
    pub async fn cancel(&self) -> Result<(), ApiFailure> {
        send_empty(self.keyed(Request::post("/local/cancel")).build()).await
    }

    /// `POST /local/mode`: the session on screen goes on only in `mode`,
    /// which asks for less.
    pub async fn narrow(&self, mode: SessionMode) -> Result<(), ApiFailure> {
        send_empty(self.keyed(Request::post("/local/mode")).json(&LocalModeRequest { mode })).await
    }

    /// `POST /local/chat`: a chat line for the technician.
    pub async fn chat(&self, text: &str) -> Result<(), ApiFailure> {
        send_empty(self.keyed(Request::post("/local/chat")).json(&LocalChatRequest { text: text.to_owned() })).await
    }

    /// `POST /local/reset`: leave a failure behind, back to code entry.
    pub async fn reset(&self) -> Result<(), ApiFailure> {
        send_empty(self.keyed(Request::post("/local/reset")).build()).await
    }
}
