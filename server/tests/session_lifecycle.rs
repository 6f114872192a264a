//! How sessions live and end beyond a plain offer and answer: the
//! configured ICE servers reach both ends; a controller that reloads
//! re-attaches within the grace period and numbers its offers after the
//! old page's; an abandoned or never-answered session ends on its own with
//! a clear reason; sessions a crashed server left open end at the next
//! start. Timers are set short and waited for with a deadline.

#![allow(clippy::unwrap_used)]

mod common;

use common::ws::{connect_controller, ended_reason, next, offer_after_grant, open_session, send, session_row, setup};
use common::{on_each_backend, on_each_backend_with, relaxed_limits, serve_router};
use serde_json::{Value, json};
use std::time::Duration;
use tether_server::ice::IceConfig;
use tether_server::state::{AppState, SessionTimings};
use tether_server::{app, sessions};

fn timings(reload_grace: Duration, request_timeout: Duration) -> SessionTimings {
    SessionTimings { reload_grace, request_timeout, ..SessionTimings::default() }
}

const LONG: Duration = Duration::from_secs(600);

fn offer(negotiation: u64) -> Value {
    json!({ "type": "signal", "signal": { "kind": "offer", "negotiation": negotiation, "sdp": format!("v=0 offer {negotiation}") } })
}

#[tokio::test]
async fn configured_ice_servers_reach_both_ends() {
    let ice = || {
        IceConfig::new(
            &["stun:127.0.0.1:3478".to_owned(), "turn:127.0.0.1:3478?transport=udp".to_owned()],
            Some("tether"),
            Some("secret"),
        )
        .unwrap()
    };
    on_each_backend_with(
        |state: AppState| state.with_signalling(ice(), SessionTimings::default()),
        |app| async move {
            let mut s = setup(&app).await;
            let reply = app
                .call(
                    axum::http::Method::POST,
                    "/api/sessions",
                    Some(&s.technician),
                    Some(json!({ "target_id": s.agent_id })),
                )
                .await;
            let session_id = reply.body["id"].as_str().unwrap().to_owned();
            let request = next(&mut s.agent).await;
            let expected = json!([
                { "urls": ["stun:127.0.0.1:3478"] },
                { "urls": ["turn:127.0.0.1:3478?transport=udp"], "username": "tether", "credential": "secret" }
            ]);
            assert_eq!(request["session_id"], session_id.as_str());
            assert_eq!(request["ice_servers"], expected);
            let (_controller, ready) = connect_controller(s.address, &session_id, &s.technician).await;
            assert_eq!(ready["type"], "ready");
            assert_eq!(ready["ice_servers"], expected);
        },
    )
    .await;
}

#[tokio::test]
async fn a_reloaded_controller_reattaches_within_the_grace_period() {
    on_each_backend_with(
        |state: AppState| state.with_signalling(IceConfig::default(), timings(LONG, LONG)),
        |app| async move {
            let mut s = setup(&app).await;
            let session_id = open_session(&app, &mut s).await;
            let (mut controller, ready) = connect_controller(s.address, &session_id, &s.technician).await;
            assert_eq!(ready["last_negotiation"], 0);
            send(&mut controller, offer(1)).await;
            send(&mut controller, offer(2)).await;
            assert_eq!(offer_after_grant(&mut s.agent).await["signal"]["negotiation"], 1);
            assert_eq!(offer_after_grant(&mut s.agent).await["signal"]["negotiation"], 2);
            let answer = json!({ "type": "signal", "session_id": session_id, "signal": { "kind": "answer", "negotiation": 2, "sdp": "v=0 answer" } });
            send(&mut s.agent, answer).await;
            assert_eq!(next(&mut controller).await["signal"]["kind"], "answer");

            // The page reloads: the socket drops without a bye.
            drop(controller);
            let (mut reloaded, ready) = connect_controller(s.address, &session_id, &s.technician).await;
            assert_eq!(ready["type"], "ready", "{ready}");
            assert_eq!(ready["last_negotiation"], 2, "the new page numbers its offers after the old page's");
            send(&mut reloaded, offer(3)).await;
            let relayed = offer_after_grant(&mut s.agent).await;
            assert_eq!(
                (relayed["signal"]["kind"].as_str(), relayed["signal"]["negotiation"].as_u64()),
                (Some("offer"), Some(3)),
                "the agent hears the new offer, not a bye: {relayed}"
            );
            assert_eq!(session_row(&app, &session_id).await, ("active".to_owned(), None));
            let actions = app.audit_actions().await;
            let reattached = ["session.start", "session.reattach", "session.grant"].map(str::to_owned);
            assert!(actions.ends_with(&reattached), "the new page's offer brought a new grant: {actions:?}");

            send(&mut reloaded, json!({ "type": "signal", "signal": { "kind": "bye", "reason": "done" } })).await;
            assert_eq!(ended_reason(&app, &session_id).await, "done");
        },
    )
    .await;
}

#[tokio::test]
async fn an_abandoned_session_ends_after_the_grace_period() {
    on_each_backend_with(
        |state: AppState| state.with_signalling(IceConfig::default(), timings(Duration::from_millis(200), LONG)),
        |app| async move {
            let mut s = setup(&app).await;
            let session_id = open_session(&app, &mut s).await;
            let (controller, ready) = connect_controller(s.address, &session_id, &s.technician).await;
            assert_eq!(ready["type"], "ready");
            drop(controller);
            let bye = next(&mut s.agent).await;
            assert_eq!(
                (bye["signal"]["kind"].as_str(), bye["session_id"].as_str()),
                (Some("bye"), Some(session_id.as_str()))
            );
            let reason = ended_reason(&app, &session_id).await;
            assert_eq!(reason, "the technician's controller disconnected and did not return within 0.2 s");
            assert_eq!(bye["signal"]["reason"], reason.as_str());
            let actions = app.audit_actions().await;
            assert_eq!(actions.last().map(String::as_str), Some("session.end"), "{actions:?}");

            // Too late to come back: the page learns why.
            let (_late, ended) = connect_controller(s.address, &session_id, &s.technician).await;
            assert_eq!((ended["type"].as_str(), ended["reason"].as_str()), (Some("ended"), Some(reason.as_str())));
        },
    )
    .await;
}

#[tokio::test]
async fn a_session_nobody_connects_to_times_out() {
    on_each_backend_with(
        |state: AppState| state.with_signalling(IceConfig::default(), timings(LONG, Duration::from_millis(200))),
        |app| async move {
            let mut s = setup(&app).await;
            let session_id = open_session(&app, &mut s).await;
            let bye = next(&mut s.agent).await;
            assert_eq!(bye["signal"]["kind"], "bye");
            assert_eq!(
                ended_reason(&app, &session_id).await,
                "the technician's controller did not connect within 0.2 s"
            );
        },
    )
    .await;
}

#[tokio::test]
async fn a_session_the_target_never_answers_times_out() {
    on_each_backend_with(
        |state: AppState| state.with_signalling(IceConfig::default(), timings(LONG, Duration::from_millis(1_500))),
        |app| async move {
            let mut s = setup(&app).await;
            let session_id = open_session(&app, &mut s).await;
            let (mut controller, ready) = connect_controller(s.address, &session_id, &s.technician).await;
            assert_eq!(ready["type"], "ready");
            send(&mut controller, offer(1)).await;
            assert_eq!(offer_after_grant(&mut s.agent).await["signal"]["kind"], "offer");
            let ended = next(&mut controller).await;
            assert_eq!(
                (ended["type"].as_str(), ended["reason"].as_str()),
                (Some("ended"), Some("the target did not answer within 1.5 s"))
            );
            assert_eq!(next(&mut s.agent).await["signal"]["kind"], "bye");
            assert_eq!(session_row(&app, &session_id).await.0, "ended");
        },
    )
    .await;
}

#[tokio::test]
async fn sessions_left_open_by_a_crash_end_when_the_server_starts() {
    on_each_backend(|app| async move {
        let mut s = setup(&app).await;
        let session_id = open_session(&app, &mut s).await;
        let before = app.audit_len().await;

        // A new server process on the same database: the old routes are gone.
        assert_eq!(sessions::end_interrupted(&app.store).await.unwrap(), 1);
        assert_eq!(sessions::end_interrupted(&app.store).await.unwrap(), 0, "once");
        assert_eq!(session_row(&app, &session_id).await, ("ended".to_owned(), Some("server restarted".to_owned())));
        assert_eq!(app.audit_len().await, before + 1);
        assert_eq!(app.audit_actions().await.last().map(String::as_str), Some("session.end"));

        let restarted = AppState::new(app.store.clone(), app.keys.clone(), relaxed_limits(), false).await.unwrap();
        let (address, _stop) = serve_router(app::api(restarted)).await;
        let (_controller, ended) = connect_controller(address, &session_id, &s.technician).await;
        assert_eq!((ended["type"].as_str(), ended["reason"].as_str()), (Some("ended"), Some("server restarted")));
    })
    .await;
}
