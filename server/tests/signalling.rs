//! Session signalling over real sockets: a technician opens a session with
//! an online agent, and offer, answer and candidates pass between the two
//! ends and nowhere else; either end leaving ends the session, audited.

#![allow(clippy::unwrap_used)]

mod common;

use axum::http::{Method, StatusCode};
use common::on_each_backend;
use common::ws::{connect_controller, next, offer_after_grant, open_session, send, session_row, setup};
use serde_json::json;
use std::time::Duration;
use tether_shared::signal::PROTOCOL_VERSION;

#[tokio::test]
async fn offer_answer_and_candidates_pass_between_the_two_ends_only() {
    on_each_backend(|app| async move {
        let mut s = setup(&app).await;
        let session_id = open_session(&app, &mut s).await;

        let (mut intruder, refused) = connect_controller(s.address, &session_id, &s.other_technician).await;
        assert_eq!(refused["type"], "ended", "{refused}");
        drop(intruder.close(None).await);
        let (_, bad_token) = connect_controller(s.address, &session_id, "not-a-token").await;
        assert_eq!(bad_token["type"], "error");

        let (mut controller, ready) = connect_controller(s.address, &session_id, &s.technician).await;
        assert_eq!((ready["type"].as_str(), ready["session_id"].as_str()), (Some("ready"), Some(session_id.as_str())));

        assert_eq!(ready["last_negotiation"], 0);
        send(&mut controller, json!({ "type": "signal", "signal": { "kind": "offer", "negotiation": 1, "sdp": "v=0 offer" } })).await;
        let offer = offer_after_grant(&mut s.agent).await;
        assert_eq!(offer, json!({ "type": "signal", "session_id": session_id, "signal": { "kind": "offer", "negotiation": 1, "sdp": "v=0 offer" } }));
        assert_eq!(session_row(&app, &session_id).await.0, "requested");

        // A signal for another session goes nowhere.
        send(&mut s.agent, json!({ "type": "signal", "session_id": "someone-else", "signal": { "kind": "answer", "negotiation": 1, "sdp": "x" } })).await;
        send(&mut s.agent, json!({ "type": "signal", "session_id": session_id, "signal": { "kind": "answer", "negotiation": 1, "sdp": "v=0 answer" } })).await;
        assert_eq!(next(&mut controller).await, json!({ "type": "signal", "signal": { "kind": "answer", "negotiation": 1, "sdp": "v=0 answer" } }));
        assert_eq!(next(&mut controller).await, json!({ "type": "mode_chosen", "mode": "active" }), "the mode granted");
        assert_eq!(session_row(&app, &session_id).await.0, "active", "the target's answer makes the session active");

        let candidate = json!({ "kind": "candidate", "candidate": "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host", "sdp_mid": "0", "sdp_mline_index": 0, "negotiation": 1 });
        send(&mut controller, json!({ "type": "signal", "signal": candidate })).await;
        assert_eq!(next(&mut s.agent).await["signal"], candidate);

        send(&mut controller, json!({ "type": "signal", "signal": { "kind": "offer", "sdp": "no negotiation id" } })).await;
        assert_eq!(next(&mut controller).await["type"], "error", "malformed signals are refused, the session stays");

        send(&mut controller, json!({ "type": "signal", "signal": { "kind": "bye", "reason": "done" } })).await;
        let bye = next(&mut s.agent).await;
        assert_eq!((bye["signal"]["kind"].as_str(), bye["session_id"].as_str()), (Some("bye"), Some(session_id.as_str())));
        let actions = app.audit_actions().await;
        let lived = ["session.request", "session.grant", "session.grant", "session.start", "session.end"].map(str::to_owned);
        assert!(actions.ends_with(&lived), "{actions:?}");
    })
    .await;
}

#[tokio::test]
async fn the_agent_leaving_ends_the_session_for_the_controller() {
    on_each_backend(|app| async move {
        let mut s = setup(&app).await;
        let session_id = open_session(&app, &mut s).await;
        let (mut controller, ready) = connect_controller(s.address, &session_id, &s.technician).await;
        assert_eq!(ready["type"], "ready");
        s.agent.close(None).await.unwrap();
        let ended = next(&mut controller).await;
        assert_eq!(
            (ended["type"].as_str(), ended["reason"].as_str()),
            (Some("ended"), Some("the target disconnected"))
        );
        let offline = app
            .call(Method::POST, "/api/sessions", Some(&s.technician), Some(json!({ "target_id": s.agent_id })))
            .await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        let mut offline = offline;
        while offline.status == StatusCode::CREATED && tokio::time::Instant::now() < deadline {
            offline = app
                .call(Method::POST, "/api/sessions", Some(&s.technician), Some(json!({ "target_id": s.agent_id })))
                .await;
        }
        assert_eq!((offline.status, offline.error()), (StatusCode::CONFLICT, "target_offline"));
    })
    .await;
}

#[tokio::test]
async fn a_socket_that_speaks_another_protocol_version_is_told_why_and_closed() {
    on_each_backend(|app| async move {
        let mut s = setup(&app).await;
        let session_id = open_session(&app, &mut s).await;
        let admin = app.token("admin", common::ADMIN_PASSWORD).await;
        let token = common::enrollment_token(&app, &admin, 2).await;
        let credential = common::enroll(&app, &token, "pc-2").await.body["credential"].as_str().unwrap().to_owned();
        let hello = |protocol: Option<u32>| {
            let mut hello = json!({ "type": "hello", "info": common::agent_info("pc-2") });
            if let Some(protocol) = protocol {
                hello["protocol"] = json!(protocol);
            }
            hello
        };
        for (protocol, says) in [(None, "older than v5"), (Some(PROTOCOL_VERSION + 1), "update this end")] {
            let mut agent = common::ws::open_agent_socket(s.address, &credential).await;
            send(&mut agent, hello(protocol)).await;
            let refused = next(&mut agent).await;
            assert_eq!(refused["type"], "error", "{refused}");
            assert!(refused["message"].as_str().unwrap().contains(says), "{refused}");
            assert!(common::ws::closes(&mut agent).await, "the socket stays open after a refused hello");
        }

        let url = format!("ws://{}/api/sessions/{session_id}/signal", s.address);
        let (mut controller, _) = tokio_tungstenite::connect_async(url.as_str()).await.unwrap();
        send(&mut controller, json!({ "type": "auth", "token": s.technician, "protocol": PROTOCOL_VERSION - 1 })).await;
        let refused = next(&mut controller).await;
        assert_eq!(refused["type"], "error", "{refused}");
        assert!(refused["message"].as_str().unwrap().starts_with("this page is out of date: reload it"), "{refused}");
        assert!(common::ws::closes(&mut controller).await);
        assert_eq!(session_row(&app, &session_id).await.0, "requested", "a refused controller changed nothing");
    })
    .await;
}
