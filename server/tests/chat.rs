//! Chat in a live session: either end's line is checked, recorded in the
//! audit log, then relayed to both ends with the speaker's name and the
//! server's time, in order; a line before the person accepted, or a
//! malformed one, goes nowhere and says why.

#![allow(clippy::unwrap_used)]

mod common;

use common::live::live_session;
use common::on_each_backend;
use common::ws::{next, send, setup};
use serde_json::json;
use tether_shared::chat::PERSON_NAME;

#[tokio::test]
async fn lines_from_both_sides_are_recorded_in_order_then_reach_both_ends() {
    on_each_backend(|app| async move {
        let mut s = setup(&app).await;
        let (session_id, mut controller) = live_session(&app, &mut s).await;

        send(&mut controller, json!({ "type": "chat", "text": "  Hello, can you see my cursor?\n" })).await;
        let to_agent = next(&mut s.agent).await;
        assert_eq!(to_agent["type"], "chat", "{to_agent}");
        assert_eq!(to_agent["session_id"], session_id.as_str());
        assert_eq!(to_agent["line"]["text"], "Hello, can you see my cursor?", "trimmed");
        assert_eq!(
            (to_agent["line"]["from"].as_str(), to_agent["line"]["name"].as_str()),
            (Some("technician"), Some("tech"))
        );
        let echoed = next(&mut controller).await;
        assert_eq!(echoed["line"], to_agent["line"], "the technician's page shows the recorded line");

        send(&mut s.agent, json!({ "type": "chat", "session_id": session_id, "text": "Yes!" })).await;
        let to_controller = next(&mut controller).await;
        assert_eq!(
            (to_controller["line"]["from"].as_str(), to_controller["line"]["name"].as_str()),
            (Some("person"), Some(PERSON_NAME))
        );
        assert_eq!(next(&mut s.agent).await["line"]["text"], "Yes!");

        // Malformed lines go nowhere; the technician hears why.
        send(&mut controller, json!({ "type": "chat", "text": "   " })).await;
        assert_eq!(next(&mut controller).await["message"], "a chat message needs some text");
        send(&mut controller, json!({ "type": "chat", "text": "ring\u{7}" })).await;
        assert_eq!(next(&mut controller).await["message"], "a chat message may not hold control characters");
        send(&mut s.agent, json!({ "type": "chat", "session_id": session_id, "text": "x".repeat(2001) })).await;
        send(&mut s.agent, json!({ "type": "chat", "session_id": "another", "text": "elsewhere" })).await;

        let transcript = app.audit_details("session.chat").await;
        assert_eq!(
            transcript,
            vec![
                json!({ "from": "technician", "text": "Hello, can you see my cursor?" }),
                json!({ "from": "person", "text": "Yes!" }),
            ]
        );
    })
    .await;
}

#[tokio::test]
async fn chat_opens_once_the_session_is_accepted() {
    on_each_backend(|app| async move {
        let mut s = setup(&app).await;
        let session_id = common::ws::open_session(&app, &mut s).await;
        let (mut controller, _ready) = common::ws::connect_controller(s.address, &session_id, &s.technician).await;
        send(&mut controller, json!({ "type": "chat", "text": "hello?" })).await;
        let told = next(&mut controller).await;
        assert!(told["message"].as_str().unwrap().starts_with("Chat opens once"), "{told}");
        assert!(app.audit_details("session.chat").await.is_empty());
    })
    .await;
}
