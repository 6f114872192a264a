//! Broker sessions end to end: the technician's connection codes (create,
//! Request New, Extend, Cancel, ownership), expiry by the server's clock,
//! redemption outcomes, the target's session socket, the audit trail, and
//! a brute-force run of 100,000 wrong guesses.

#![allow(clippy::unwrap_used)]

mod common;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode, header};
use common::broker::{
    Accounts, accounts, act, connect_target, create, far_from, redeem, redeem_request, redeemed, set_policy,
};
use common::ws::{DEADLINE, connect_controller, ended_reason, eventually, next, offer_after_grant, send, session_row};
use common::{TestApp, agent_info, json_request, on_each_backend, on_each_backend_with};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::Duration;
use tether_server::broker_sessions::sweeper;
use tether_server::state::AppState;
use tether_shared::signal::PROTOCOL_VERSION;
use tower::ServiceExt;

#[tokio::test]
async fn codes_are_created_renewed_extended_and_cancelled_by_their_owner_only() {
    on_each_backend(|app| async move {
        let Accounts { tech, other, auditor, .. } = accounts(&app).await;
        let created = create(&app, &tech).await;
        assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
        let id = created.body["id"].as_str().unwrap().to_owned();
        let code = created.body["code"].as_str().unwrap().to_owned();
        assert_eq!(code.len(), 11, "shown as 123 456 789");
        assert!(created.body["url"].is_null(), "no Host header in oneshot requests, so no link");
        assert_eq!(created.body["state"]["status"], "waiting");
        assert_eq!(created.body["lifetime_secs"], 900);
        let expires = created.body["state"]["expires_at"].as_i64().unwrap();
        assert!(expires - created.body["server_now"].as_i64().unwrap() == 900_000);

        let path = format!("/api/broker-sessions/{id}");
        assert_eq!(app.call(Method::GET, &path, Some(&other), None).await.status, StatusCode::NOT_FOUND);
        assert_eq!(app.call(Method::GET, &path, Some(&auditor), None).await.status, StatusCode::FORBIDDEN);
        assert_eq!(create(&app, &auditor).await.status, StatusCode::FORBIDDEN);
        for action in ["renew", "extend", "cancel"] {
            assert_eq!(act(&app, &other, &id, action).await.status, StatusCode::NOT_FOUND, "{action}");
            assert_eq!(act(&app, &auditor, &id, action).await.status, StatusCode::FORBIDDEN, "{action}");
        }
        let read = app.call(Method::GET, &path, Some(&tech), None).await;
        assert_eq!(read.status, StatusCode::OK);
        assert!(read.body["code"].is_null(), "the digits are shown only when made");

        let extended = act(&app, &tech, &id, "extend").await;
        assert_eq!(extended.status, StatusCode::OK, "{:?}", extended.body);
        assert!(extended.body["state"]["expires_at"].as_i64().unwrap() >= expires);

        let renewed = act(&app, &tech, &id, "renew").await;
        assert_eq!(renewed.status, StatusCode::OK, "{:?}", renewed.body);
        assert_eq!(renewed.body["id"], id.as_str(), "the window stays");
        let new_code = renewed.body["code"].as_str().unwrap().to_owned();
        assert_ne!(new_code, code);
        let old = redeem(&app, &code).await;
        assert_eq!((old.status, old.error()), (StatusCode::NOT_FOUND, "wrong_code"), "the old code died at once");

        let mut with_host = json_request(Method::POST, &format!("/api/broker-sessions/{id}/renew"), Some(&tech), None);
        with_host.headers_mut().insert(header::HOST, "tether.example:8443".parse().unwrap());
        let linked = app.send(with_host).await;
        let new_code = linked.body["code"].as_str().unwrap().to_owned();
        let link = format!("http://tether.example:8443/connect/{}", new_code.replace(' ', "-"));
        assert_eq!(linked.body["url"], link.as_str(), "the link names the server as the technician reached it");

        let cancelled = act(&app, &tech, &id, "cancel").await;
        assert_eq!(cancelled.body["state"]["status"], "cancelled");
        let late = redeem(&app, &new_code).await;
        assert_eq!((late.status, late.error()), (StatusCode::NOT_FOUND, "wrong_code"));
        assert_eq!(act(&app, &tech, &id, "extend").await.status, StatusCode::CONFLICT);

        let actions = app.audit_actions().await;
        for action in [
            "broker_session.issue",
            "broker_session.extend",
            "broker_session.renew",
            "broker_session.cancel",
            "broker_session.redeem_failed",
        ] {
            assert!(actions.iter().any(|a| a == action), "{action} in {actions:?}");
        }
    })
    .await;
}

fn swept(state: AppState) -> AppState {
    sweeper::spawn(state.clone());
    state
}

#[tokio::test]
async fn codes_expire_by_the_server_clock_and_the_expiry_is_audited() {
    on_each_backend_with(swept, |app| async move {
        let Accounts { tech, admin, .. } = accounts(&app).await;
        set_policy(&app, &admin, json!({ "code_lifetime_secs": 10 })).await;
        let created = create(&app, &tech).await;
        let id = created.body["id"].as_str().unwrap().to_owned();
        let code = created.body["code"].as_str().unwrap().to_owned();
        assert_eq!(created.body["lifetime_secs"], 10, "the policy in force sets the lifetime");
        let expires = created.body["state"]["expires_at"].as_i64().unwrap();
        assert_eq!(expires - created.body["server_now"].as_i64().unwrap(), 10_000);
        // Ten seconds pass for the server: its stored deadline is now.
        sqlx::query("UPDATE broker_sessions SET deadline = deadline - 10000 WHERE id = $1")
            .bind(&id)
            .execute(app.store.pool())
            .await
            .unwrap();
        eventually("the sweeper audits the expiry", || async {
            app.audit_actions().await.iter().any(|a| a == "broker_session.expired").then_some(())
        })
        .await;
        let read = app.call(Method::GET, &format!("/api/broker-sessions/{id}"), Some(&tech), None).await;
        assert_eq!(read.body["state"]["status"], "expired");
        let late = redeem(&app, &code).await;
        assert_eq!((late.status, late.error()), (StatusCode::GONE, "code_expired"), "{:?}", late.body);
        let renewed = act(&app, &tech, &id, "renew").await;
        assert_eq!(renewed.body["state"]["status"], "waiting", "an expired code can be renewed");
        assert_eq!(redeem(&app, &code).await.error(), "wrong_code", "but the old digits stay dead");
    })
    .await;
}

#[tokio::test]
async fn redemption_outcomes() {
    on_each_backend(|app| async move {
        let Accounts { tech, .. } = accounts(&app).await;
        let created = create(&app, &tech).await;
        let id = created.body["id"].as_str().unwrap().to_owned();
        let code = created.body["code"].as_str().unwrap().to_owned();

        for (typed, status, error) in [
            ("12345", StatusCode::BAD_REQUEST, "malformed_code"),
            ("123-456-78O", StatusCode::BAD_REQUEST, "malformed_code"),
            (&"1".repeat(100) as &str, StatusCode::BAD_REQUEST, "malformed_code"),
            (&far_from(&code), StatusCode::NOT_FOUND, "wrong_code"),
        ] {
            let reply = redeem(&app, typed).await;
            assert_eq!((reply.status, reply.error()), (status, error), "{typed}: {:?}", reply.body);
        }
        let huge = json!({ "code": "1".repeat(70_000), "target": agent_info("guest-pc") });
        let reply = app.send(json_request(Method::POST, "/api/broker/redeem", None, Some(huge))).await;
        assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
        let unknown = json!({ "code": code, "target": agent_info("guest-pc"), "extra": 1 });
        let reply = app.send(json_request(Method::POST, "/api/broker/redeem", None, Some(unknown))).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "unknown fields change nothing");

        let good = redeem(&app, &code.replace(' ', "-")).await;
        assert_eq!(good.status, StatusCode::OK, "{:?}", good.body);
        assert_eq!(good.body["technician"], "tech");
        assert!(good.body["session_token"].as_str().unwrap().starts_with("tbs_"));
        let session_id = good.body["session_id"].as_str().unwrap().to_owned();
        let used = redeem(&app, &code).await;
        assert_eq!((used.status, used.error()), (StatusCode::CONFLICT, "code_used"));

        let read = app.call(Method::GET, &format!("/api/broker-sessions/{id}"), Some(&tech), None).await;
        assert_eq!(read.body["state"]["status"], "target_connected");
        assert_eq!(read.body["session_id"], session_id.as_str());
        assert_eq!(read.body["target"]["hostname"], "guest-pc");
        assert_eq!(session_row(&app, &session_id).await.0, "requested");

        let cancelled = act(&app, &tech, &id, "cancel").await;
        assert_eq!(cancelled.body["state"]["status"], "cancelled", "{:?}", cancelled.body);
        assert_eq!(
            ended_reason(&app, &session_id).await,
            "the technician cancelled the connection",
            "cancelling a redeemed code ends its session"
        );

        let (sources,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'broker_session.redeem_failed' AND source = '127.0.0.1'",
        )
        .fetch_one(app.store.pool())
        .await
        .unwrap();
        assert_eq!(sources, 5, "malformed ×3, wrong, used — each with its source");
        assert!(app.audit_actions().await.iter().any(|a| a == "broker_session.redeemed"));
    })
    .await;
}

#[tokio::test]
async fn near_misses_void_a_code() {
    on_each_backend(|app| async move {
        let Accounts { tech, .. } = accounts(&app).await;
        let created = create(&app, &tech).await;
        let id = created.body["id"].as_str().unwrap().to_owned();
        let digits: String = created.body["code"].as_str().unwrap().chars().filter(char::is_ascii_digit).collect();
        for n in 0..5_u32 {
            let mut miss: Vec<char> = digits.chars().collect();
            let position = usize::try_from(n).unwrap();
            miss[position] = if miss[position] == '0' { '1' } else { '0' };
            let reply = redeem(&app, &miss.into_iter().collect::<String>()).await;
            assert_eq!(reply.error(), "wrong_code");
        }
        let read = app.call(Method::GET, &format!("/api/broker-sessions/{id}"), Some(&tech), None).await;
        assert_eq!(read.body["state"]["status"], "voided", "{:?}", read.body);
        assert_eq!(redeem(&app, &digits).await.error(), "wrong_code", "a voided code is dead");
        assert!(app.audit_actions().await.iter().any(|a| a == "broker_session.voided"));
    })
    .await;
}

#[tokio::test]
async fn the_session_socket_reaches_only_its_own_session() {
    on_each_backend(|app| async move {
        let Accounts { tech, other, .. } = accounts(&app).await;
        let (id, session_id, token) = redeemed(&app, &tech).await;
        let (_, other_session, _) = redeemed(&app, &other).await;
        let (address, _stop) = common::serve(&app).await;

        assert_eq!(connect_target(address, "tbs_nonsense").await.err(), Some(401));
        let mut target = connect_target(address, &token).await.unwrap();
        send(&mut target, json!({ "type": "hello", "info": agent_info("guest-pc"), "protocol": PROTOCOL_VERSION }))
            .await;
        assert_eq!(next(&mut target).await["type"], "welcome", "the redemption said the rest: no session request");

        let (_, refused) = connect_controller(address, &session_id, &other).await;
        assert_eq!(refused["type"], "ended", "another technician cannot join: {refused}");
        let (mut controller, ready) = connect_controller(address, &session_id, &tech).await;
        assert_eq!(ready["type"], "ready", "{ready}");
        let offer = json!({ "kind": "offer", "negotiation": 1, "sdp": "v=0 offer" });
        send(&mut controller, json!({ "type": "signal", "signal": offer })).await;
        let relayed = offer_after_grant(&mut target).await;
        assert_eq!(relayed, json!({ "type": "signal", "session_id": session_id, "signal": offer }));

        let answer = json!({ "kind": "answer", "negotiation": 1, "sdp": "v=0 answer" });
        send(&mut target, json!({ "type": "signal", "session_id": other_session, "signal": answer })).await;
        send(&mut target, json!({ "type": "signal", "session_id": session_id, "signal": answer })).await;
        assert_eq!(next(&mut controller).await, json!({ "type": "signal", "signal": answer }));
        assert_eq!(next(&mut controller).await, json!({ "type": "mode_chosen", "mode": "active" }));
        assert_eq!(session_row(&app, &other_session).await.0, "requested", "the other session was not reached");
        eventually("the code's session started", || async {
            let read = app.call(Method::GET, &format!("/api/broker-sessions/{id}"), Some(&tech), None).await;
            (read.body["state"]["status"] == "active").then_some(())
        })
        .await;
        assert!(app.audit_actions().await.iter().any(|a| a == "broker_session.started"));

        drop(target);
        assert_eq!(ended_reason(&app, &session_id).await, "the target disconnected");
        let ended = tokio::time::timeout(DEADLINE, next(&mut controller)).await.unwrap();
        assert_eq!(ended["type"], "ended");
        assert_eq!(connect_target(address, &token).await.err(), Some(401), "the token dies with its session");
    })
    .await;
}

/// Issue point 7: 100,000 wrong guesses from one address find nothing, are
/// refused with 429 and Retry-After, flood neither the database nor the
/// audit log, and the live code still works from another address. SQLite
/// only: the throttled requests never reach the database, so PostgreSQL
/// would test nothing more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_thousand_wrong_guesses_find_nothing() {
    let backend = common::backends().await.remove(0);
    let app = TestApp::start(&backend, common::relaxed_limits()).await;
    let Accounts { tech, .. } = accounts(&app).await;
    let created = create(&app, &tech).await;
    let code: String = created.body["code"].as_str().unwrap().chars().filter(char::is_ascii_digit).collect();
    let audit_before = app.audit_len().await;
    let attacker = SocketAddr::from(([203, 0, 113, 9], 40000));
    let started = std::time::Instant::now();
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for worker in 0..4_u32 {
        let app = app.clone();
        let code = code.clone();
        let target = agent_info("guest-pc").to_string();
        tasks.push(tokio::spawn(async move {
            let mut counts = std::collections::HashMap::<u16, u32>::new();
            let mut retry_after_seen = true;
            for n in 0..25_000_u32 {
                let guess = format!("{:09}", (u64::from(worker) * 25_000 + u64::from(n)) * 7_919 % 1_000_000_000);
                if guess == code {
                    continue;
                }
                let body = format!(r#"{{"code":"{guess}","target":{target}}}"#);
                let mut request = Request::post("/api/broker/redeem")
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(body))
                    .unwrap();
                request.extensions_mut().insert(ConnectInfo(attacker));
                let reply = app.router.clone().oneshot(request).await.unwrap();
                assert_ne!(reply.status(), StatusCode::OK, "a guess found the code");
                if reply.status() == StatusCode::TOO_MANY_REQUESTS {
                    retry_after_seen &= reply.headers().get(header::RETRY_AFTER).is_some();
                }
                *counts.entry(reply.status().as_u16()).or_default() += 1;
            }
            (counts, retry_after_seen)
        }));
    }
    let mut total = std::collections::HashMap::<u16, u32>::new();
    for task in tasks {
        let (counts, retry_after_seen) = task.await.unwrap();
        assert!(retry_after_seen, "every 429 says when to retry");
        for (status, n) in counts {
            *total.entry(status).or_default() += n;
        }
    }
    eprintln!("100,000 guesses in {:?}: {total:?}", started.elapsed());
    assert!(total.values().sum::<u32>() >= 99_990);
    assert!(total.get(&429).copied().unwrap_or(0) >= 99_900, "{total:?}");
    assert!(total.get(&404).copied().unwrap_or(0) <= 20, "only the burst is looked up: {total:?}");
    let audited = app.audit_len().await - audit_before;
    assert!(audited <= 30, "the flood is audited in aggregate, not per request: {audited} entries");
    let actions = app.audit_actions().await;
    assert!(actions.iter().any(|a| a == "broker_session.redeem_throttled"));

    let owner_side = app.send_from(SocketAddr::from(([198, 51, 100, 20], 40000)), redeem_request(&code)).await;
    assert_eq!(owner_side.status, StatusCode::OK, "the live code still works: {:?}", owner_side.body);
}

fn two_brokers(state: AppState) -> AppState {
    use tether_server::broker::{BrokerSettings, BrokerSpec, TurnSecret};
    let spec =
        |id: &str, host: &str| BrokerSpec { id: id.into(), urls: vec![format!("turn:{host}:3478?transport=udp")] };
    let settings = BrokerSettings {
        secret: TurnSecret::generate().unwrap(),
        lifetime: Duration::from_secs(300),
        built_in: vec![spec("relay-a", "relay-a.example.org"), spec("relay-b", "relay-b.example.org")],
    };
    state.with_brokers(settings).unwrap()
}

#[tokio::test]
async fn both_ends_use_the_broker_the_target_chose() {
    on_each_backend_with(two_brokers, |app| async move {
        let Accounts { tech, .. } = accounts(&app).await;
        let created = create(&app, &tech).await;
        let id = created.body["id"].as_str().unwrap().to_owned();
        let code = created.body["code"].as_str().unwrap();
        let unknown = json!({ "code": code, "target": agent_info("guest-pc"), "broker": "nope" });
        let reply = app.send(json_request(Method::POST, "/api/broker/redeem", None, Some(unknown))).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", reply.body);
        let chosen = json!({ "code": code, "target": agent_info("guest-pc"), "broker": "relay-b" });
        let good = app.send(json_request(Method::POST, "/api/broker/redeem", None, Some(chosen))).await;
        assert_eq!(good.status, StatusCode::OK, "an unknown broker did not use the code up: {:?}", good.body);
        assert_eq!(good.body["broker"], "relay-b.example.org:3478");
        let turn = |servers: &Value| servers.to_string().contains("turn:relay-b.example.org");
        assert!(turn(&good.body["ice_servers"]), "{}", good.body["ice_servers"]);
        let session_id = good.body["session_id"].as_str().unwrap().to_owned();
        let read = app.call(Method::GET, &format!("/api/broker-sessions/{id}"), Some(&tech), None).await;
        assert_eq!(read.body["broker"], "relay-b.example.org:3478");

        let (address, _stop) = common::serve(&app).await;
        let mut target = connect_target(address, good.body["session_token"].as_str().unwrap()).await.unwrap();
        send(&mut target, json!({ "type": "hello", "info": agent_info("guest-pc"), "protocol": PROTOCOL_VERSION }))
            .await;
        assert_eq!(next(&mut target).await["type"], "welcome", "the redemption gave the target its ICE servers");
        let (_controller, ready) = connect_controller(address, &session_id, &tech).await;
        assert_eq!(ready["broker"], "relay-b.example.org:3478", "{ready}");
        assert!(turn(&ready["ice_servers"]), "{ready}");
        let actions = app.audit_actions().await;
        assert!(actions.iter().any(|a| a == "broker_session.broker"), "{actions:?}");
    })
    .await;
}
