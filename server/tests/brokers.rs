//! Brokers: the unauthenticated config lists the built-in brokers (an
//! embedded relay, a `--broker`) and admin-added ones; only admins add and
//! remove, with validation, conflicts and audit entries; built-ins cannot be
//! removed; added brokers outlive a restart. Both ends of an ordinary session
//! receive TURN REST credentials for the embedded relay that the relay
//! really accepts, expiring within the configured lifetime.

#![allow(clippy::unwrap_used)]

mod common;

use axum::http::{Method, StatusCode};
use common::ws::{connect_controller, setup};
use common::{TestApp, embedded_relay, on_each_backend_with, relaxed_limits};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tether_server::auth::tokens::TokenKeys;
use tether_server::broker::{BrokerSettings, BrokerSpec, TurnSecret};
use tether_server::config::embedded_urls;
use tether_server::state::AppState;
use tokio::net::UdpSocket;
use turn::client::{Client, ClientConfig};

const SECRET: &str = "brokers-test-secret-0123";
const LIFETIME: Duration = Duration::from_secs(120);

fn secret() -> TurnSecret {
    TurnSecret::new(SECRET).unwrap()
}

fn now_unix() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// Built-ins: the embedded relay at `relay` and one configured coturn.
fn settings(relay: SocketAddr) -> BrokerSettings {
    BrokerSettings {
        secret: secret(),
        lifetime: LIFETIME,
        built_in: vec![
            BrokerSpec { id: "embedded".into(), urls: embedded_urls(relay, None, relay.ip()) },
            BrokerSpec { id: "coturn-a".into(), urls: vec!["turn:relay-a.example.org:3478".into()] },
        ],
    }
}

fn ids(body: &Value) -> Vec<String> {
    body.as_array().unwrap().iter().map(|broker| broker["id"].as_str().unwrap().to_owned()).collect()
}

async fn config_ids(app: &TestApp) -> Vec<String> {
    let reply = app.call(Method::GET, "/api/broker/config", None, None).await;
    assert_eq!(reply.status, StatusCode::OK);
    ids(&reply.body["brokers"])
}

#[tokio::test]
async fn admins_add_and_remove_brokers_and_the_config_lists_them() {
    let relay = embedded_relay(&secret()).await;
    let address = relay.local_addr();
    on_each_backend_with(
        |state: AppState| state.with_brokers(settings(address)).unwrap(),
        |app| async move {
            let reply = app.call(Method::GET, "/api/broker/config", None, None).await;
            let embedded = &reply.body["brokers"][0];
            assert_eq!(embedded["address"], address.to_string());
            // What clients are given: UDP, and TCP on the same port.
            assert_eq!(
                embedded["urls"],
                json!([format!("turn:{address}?transport=udp"), format!("turn:{address}?transport=tcp")])
            );
            assert_eq!((embedded["built_in"].as_bool(), embedded["active_sessions"].as_u64()), (Some(true), Some(0)));
            assert_eq!(config_ids(&app).await, ["embedded", "coturn-a"]);
            assert!(!reply.body.to_string().contains(SECRET), "no secret in the config");

            let admin = app.admin_token().await;
            let technician = app.user_token(&admin, "tech", "technician").await;
            let good =
                json!({ "id": "coturn-b", "urls": ["turn:relay-b.example.org", "turns:relay-b.example.org:5349"] });
            for token in [None, Some(technician.as_str())] {
                let expected = if token.is_some() { StatusCode::FORBIDDEN } else { StatusCode::UNAUTHORIZED };
                assert_eq!(app.call(Method::GET, "/api/brokers", token, None).await.status, expected);
                assert_eq!(app.call(Method::POST, "/api/brokers", token, Some(good.clone())).await.status, expected);
                assert_eq!(app.call(Method::DELETE, "/api/brokers/coturn-a", token, None).await.status, expected);
            }

            let before = app.audit_len().await;
            let long_id = "a".repeat(65);
            let nine: Vec<String> = (0..9).map(|i| format!("turn:r{i}.example.org")).collect();
            for bad in [
                json!({ "id": "", "urls": ["turn:x.example.org"] }),
                json!({ "id": "Upper", "urls": ["turn:x.example.org"] }),
                json!({ "id": "a_b", "urls": ["turn:x.example.org"] }),
                json!({ "id": long_id, "urls": ["turn:x.example.org"] }),
                json!({ "id": "ok", "urls": [] }),
                json!({ "id": "ok", "urls": nine }),
                json!({ "id": "ok", "urls": ["stun:x.example.org"] }),
                json!({ "id": "ok", "urls": ["http://x.example.org"] }),
                json!({ "id": "ok", "urls": ["turn:x.example.org?transport=sctp"] }),
            ] {
                let reply = app.call(Method::POST, "/api/brokers", Some(&admin), Some(bad.clone())).await;
                assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {:?}", reply.body);
            }
            for taken in ["embedded", "coturn-a"] {
                let body = json!({ "id": taken, "urls": ["turn:x.example.org"] });
                let reply = app.call(Method::POST, "/api/brokers", Some(&admin), Some(body)).await;
                assert_eq!((reply.status, reply.error()), (StatusCode::CONFLICT, "broker_exists"));
            }
            let reply = app.call(Method::DELETE, "/api/brokers/embedded", Some(&admin), None).await;
            assert_eq!((reply.status, reply.error()), (StatusCode::CONFLICT, "broker_built_in"));
            let reply = app.call(Method::DELETE, "/api/brokers/nope", Some(&admin), None).await;
            assert_eq!(reply.status, StatusCode::NOT_FOUND);
            assert_eq!(app.audit_len().await, before, "refused changes leave no trace");
            assert_eq!(config_ids(&app).await, ["embedded", "coturn-a"]);

            let reply = app.call(Method::POST, "/api/brokers", Some(&admin), Some(good.clone())).await;
            assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
            assert_eq!(
                reply.body,
                json!({
                    "id": "coturn-b",
                    "urls": [
                        "turn:relay-b.example.org",
                        "turn:relay-b.example.org?transport=tcp",
                        "turns:relay-b.example.org:5349"
                    ],
                    "address": "relay-b.example.org:3478",
                    "active_sessions": 0,
                    "built_in": false,
                })
            );
            let reply = app.call(Method::POST, "/api/brokers", Some(&admin), Some(good.clone())).await;
            assert_eq!((reply.status, reply.error()), (StatusCode::CONFLICT, "broker_exists"));
            assert_eq!(config_ids(&app).await, ["embedded", "coturn-a", "coturn-b"]);
            let listed = app.call(Method::GET, "/api/brokers", Some(&admin), None).await;
            assert_eq!(ids(&listed.body), ["embedded", "coturn-a", "coturn-b"]);

            // A restarted server (same database) still has it.
            let restarted = AppState::new(app.store.clone(), TokenKeys::ephemeral().unwrap(), relaxed_limits(), false)
                .await
                .unwrap();
            assert_eq!(restarted.brokers.list().iter().map(|b| b.id.as_str()).collect::<Vec<_>>(), ["coturn-b"]);

            let reply = app.call(Method::DELETE, "/api/brokers/coturn-b", Some(&admin), None).await;
            assert_eq!(reply.status, StatusCode::NO_CONTENT);
            assert_eq!(config_ids(&app).await, ["embedded", "coturn-a"]);
            let actions = app.audit_actions().await;
            let tail: Vec<&str> = actions.iter().rev().take(2).rev().map(String::as_str).collect();
            assert_eq!(tail, ["broker.create", "broker.delete"]);
        },
    )
    .await;
    relay.stop().await.unwrap();
}

/// Allocates on the TURN server at `server`; the error text if refused.
async fn allocate(server: &str, username: &str, password: &str) -> Result<(), String> {
    let client = Client::new(ClientConfig {
        stun_serv_addr: server.to_owned(),
        turn_serv_addr: server.to_owned(),
        username: username.into(),
        password: password.into(),
        realm: String::new(),
        software: String::new(),
        rto_in_ms: 0,
        conn: Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap()),
        vnet: None,
    })
    .await
    .unwrap();
    client.listen().await.unwrap();
    let outcome = match tokio::time::timeout(Duration::from_secs(5), client.allocate()).await {
        Ok(Ok(relayed)) => {
            webrtc_util::Conn::close(&relayed).await.unwrap();
            Ok(())
        }
        Ok(Err(err)) => Err(err.to_string()),
        Err(_) => Err("no answer to the allocation".into()),
    };
    client.close().await.unwrap();
    outcome
}

/// The TURN entry (the one with a username) among `servers`.
fn turn_entry(servers: &Value) -> (String, String, String) {
    let entry = servers.as_array().unwrap().iter().find(|server| server.get("username").is_some()).unwrap();
    (
        entry["urls"][0].as_str().unwrap().to_owned(),
        entry["username"].as_str().unwrap().to_owned(),
        entry["credential"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn both_ends_of_a_session_get_working_credentials_for_the_embedded_relay() {
    let relay = embedded_relay(&secret()).await;
    let address = relay.local_addr();
    on_each_backend_with(
        // Only the embedded relay, so the least-loaded choice is it.
        |state: AppState| {
            let mut settings = settings(address);
            settings.built_in.truncate(1);
            state.with_brokers(settings).unwrap()
        },
        |app| async move {
            let mut s = setup(&app).await;
            let issued_from = now_unix();
            let reply = app
                .call(Method::POST, "/api/sessions", Some(&s.technician), Some(json!({ "target_id": s.agent_id })))
                .await;
            assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
            let session_id = reply.body["id"].as_str().unwrap().to_owned();
            let request = common::ws::next(&mut s.agent).await;
            let (mut controller, ready) = connect_controller(s.address, &session_id, &s.technician).await;
            for servers in [&request["ice_servers"], &ready["ice_servers"]] {
                let (url, username, password) = turn_entry(servers);
                assert_eq!(url, format!("turn:{address}?transport=udp"));
                let (expiry, name) = username.split_once(':').unwrap();
                assert_eq!(name, session_id);
                let expiry: u64 = expiry.parse().unwrap();
                assert!(expiry > issued_from && expiry <= now_unix() + LIFETIME.as_secs(), "expiry {expiry}");
                assert_eq!(secret().check(&username, now_unix()), Ok(password.clone()));
                allocate(&address.to_string(), &username, &password).await.unwrap();
                assert!(allocate(&address.to_string(), &username, "wrong").await.is_err());
            }
            let config = app.call(Method::GET, "/api/broker/config", None, None).await;
            assert_eq!(config.body["brokers"][0]["active_sessions"], 1);

            // The session ends: the broker's count drops back.
            let bye = json!({ "type": "signal", "signal": { "kind": "bye", "reason": "done" } });
            common::ws::send(&mut controller, bye).await;
            common::ws::eventually("the broker's count to drop", || async {
                let config = app.call(Method::GET, "/api/broker/config", None, None).await;
                (config.body["brokers"][0]["active_sessions"] == 0).then_some(())
            })
            .await;
        },
    )
    .await;
    relay.stop().await.unwrap();
}
