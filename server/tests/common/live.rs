//! A live session on real sockets and the checks that both of its ends
//! hear its end promptly.

#![allow(dead_code, clippy::unwrap_used)]

use super::TestApp;
use super::ws::{Setup, Socket, connect_controller, next, offer_after_grant, open_session, send};
use serde_json::{Value, json};
use std::time::Duration;

/// What each end must hear within.
pub const PROMPTLY: Duration = Duration::from_secs(1);

/// A live session: controller attached, target answered.
pub async fn live_session(app: &TestApp, s: &mut Setup) -> (String, Socket) {
    let session_id = open_session(app, s).await;
    let (mut controller, ready) = connect_controller(s.address, &session_id, &s.technician).await;
    assert_eq!(ready["type"], "ready");
    send(&mut controller, json!({ "type": "signal", "signal": { "kind": "offer", "negotiation": 1, "sdp": "v=0" } }))
        .await;
    assert_eq!(offer_after_grant(&mut s.agent).await["signal"]["kind"], "offer");
    let answer = json!({ "type": "signal", "session_id": session_id, "signal": { "kind": "answer", "negotiation": 1, "sdp": "v=0" } });
    send(&mut s.agent, answer).await;
    assert_eq!(next(&mut controller).await["signal"]["kind"], "answer");
    // Nobody chose a mode: the session runs in the one granted, and the page hears it.
    assert_eq!(next(&mut controller).await, json!({ "type": "mode_chosen", "mode": "active" }));
    (session_id, controller)
}

/// The next message within [`PROMPTLY`].
pub async fn promptly(socket: &mut Socket, what: &str) -> Value {
    use futures_util::StreamExt;
    let message =
        tokio::time::timeout(PROMPTLY, socket.next()).await.unwrap_or_else(|_| panic!("{what}: not within 1 s"));
    serde_json::from_str(message.unwrap().unwrap().to_text().unwrap()).unwrap()
}

/// Both ends hear the end within a second, with `reason`.
pub async fn both_told(agent: &mut Socket, controller: &mut Socket, session_id: &str, reason: &str) {
    let bye = promptly(agent, "the agent's bye").await;
    assert_eq!(bye["session_id"], session_id);
    assert_eq!((bye["signal"]["kind"].as_str(), bye["signal"]["reason"].as_str()), (Some("bye"), Some(reason)));
    let ended = promptly(controller, "the controller's end").await;
    assert_eq!((ended["type"].as_str(), ended["reason"].as_str()), (Some("ended"), Some(reason)));
}
