//! Connection codes on the agent against a real `tether-server` (in
//! process, SQLite, on loopback) with its embedded TURN relay as the
//! broker (and a silent one it must skip): the loopback UI's guard, a code
//! entered in the UI becoming a live session through the probed broker
//! that the technician then reaches too, the CLI's `configure`, `connect`
//! and `ui`, a code's session connecting to a relay-only controller (so
//! through the broker), and clear failures for wrong, used and malformed
//! codes and for an agent that is not configured.

#![allow(clippy::unwrap_used)]

mod common;

use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tether_agent::broker::{self, ConnectError, ConnectOptions};
use tether_agent::config::AgentConfig;
use tether_agent::consent::PreApproved;
use tether_agent::local_ui::{LocalUi, UiOptions};
use tether_agent::session::SessionConfig;
use tether_server::auth::rate_limit::LoginLimits;
use tether_server::auth::tokens::TokenKeys;
use tether_server::broker::{BrokerSettings, BrokerSpec, EmbeddedConfig, EmbeddedRelay, TurnSecret};
use tether_server::state::AppState;
use tether_server::store::Store;
use tether_server::{app, bootstrap, db};
use tether_shared::broker::LocalAgentStatus;
use tether_shared::mode::SessionMode;
use tether_shared::signal::{ControllerToServer, PROTOCOL_VERSION, ServerToController, Signal};
use tokio_tungstenite::tungstenite::Message;
use webrtc::peer_connection::{
    PeerConnectionEventHandler, RTCConfigurationBuilder, RTCIceCandidateInit, RTCIceServer, RTCIceTransportPolicy,
    RTCPeerConnectionIceEvent, RTCPeerConnectionState, RTCSessionDescription,
};

const DEADLINE: Duration = Duration::from_secs(20);
const KEY: &str = "x-tether-local-key";

/// A fresh directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("tether-agent-{name}-{}-{}", std::process::id(), rand::random::<u32>()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A running server, its relay, and a technician's token.
struct Server {
    url: String,
    admin: String,
    technician: String,
    relay: Option<EmbeddedRelay>,
    _silent_broker: Option<std::net::UdpSocket>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn server(dir: &Path, with_relay: bool) -> Server {
    let store = Store::new(db::connect(&format!("sqlite://{}/tether.db", dir.display())).await.unwrap());
    let admin = bootstrap::first_admin(&store).await.unwrap().unwrap();
    let limits = LoginLimits { account_burst: 1000, source_burst: 1000, ..LoginLimits::default() };
    let mut state = AppState::new(store, TokenKeys::ephemeral().unwrap(), limits, false).await.unwrap();
    let mut relay = None;
    let mut silent_broker = None;
    if with_relay {
        let secret = TurnSecret::generate().unwrap();
        let embedded = EmbeddedRelay::start(EmbeddedConfig::loopback(secret.clone())).await.unwrap();
        // Listed first, never answers: the agent must skip it.
        let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let dead = BrokerSpec {
            id: "silent".into(),
            urls: vec![format!("turn:{}?transport=udp", silent.local_addr().unwrap())],
        };
        let spec = BrokerSpec { id: "embedded".into(), urls: embedded.urls() };
        let settings = BrokerSettings { secret, lifetime: Duration::from_secs(600), built_in: vec![dead, spec] };
        silent_broker = Some(silent);
        state = state.with_brokers(settings).unwrap();
        relay = Some(embedded);
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app::serve(listener, app::api(state), async {
        let _ = stopped.await;
    }));
    let admin_token = log_in(&url, "admin", &admin.one_time_password, "admin chosen password").await;
    let tess = json!({ "username": "tess", "display_name": "Tess", "role": "technician", "password": "tess initial password" });
    let (status, _) = call(reqwest::Method::POST, &format!("{url}/api/users"), Some(&admin_token), Some(tess)).await;
    assert_eq!(status, StatusCode::CREATED);
    let technician = log_in(&url, "tess", "tess initial password", "tess chosen password").await;
    Server { url, admin: admin_token, technician, relay, _silent_broker: silent_broker, _stop: stop }
}

/// `method url` with an optional bearer token and JSON body: the status
/// and the JSON answer (`Null` when there is none).
async fn call(method: reqwest::Method, url: &str, token: Option<&str>, body: Option<Value>) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new().request(method, url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() })
}

/// Logs in and changes the one-time password; returns the access token.
async fn log_in(url: &str, username: &str, password: &str, new_password: &str) -> String {
    let credentials = json!({ "username": username, "password": password });
    let (_, reply) = call(reqwest::Method::POST, &format!("{url}/api/auth/login"), None, Some(credentials)).await;
    let token = reply["access_token"].as_str().unwrap_or_else(|| panic!("login: {reply}")).to_owned();
    let change = json!({ "current_password": password, "new_password": new_password });
    let (status, _) = call(reqwest::Method::POST, &format!("{url}/api/me/password"), Some(&token), Some(change)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    token
}

impl Server {
    /// A new connection code: (broker session id, code as shown).
    async fn code(&self) -> (String, String) {
        let url = format!("{}/api/broker-sessions", self.url);
        let (_, reply) = call(reqwest::Method::POST, &url, Some(&self.technician), Some(json!({}))).await;
        (
            reply["id"].as_str().unwrap().to_owned(),
            reply["code"].as_str().unwrap_or_else(|| panic!("{reply}")).to_owned(),
        )
    }

    async fn view(&self, id: &str) -> Value {
        let url = format!("{}/api/broker-sessions/{id}", self.url);
        call(reqwest::Method::GET, &url, Some(&self.technician), None).await.1
    }

    /// Saves the session policy (fields left out take their defaults).
    async fn set_policy(&self, policy: Value) {
        let url = format!("{}/api/policies/session", self.url);
        let (status, body) = call(reqwest::Method::PUT, &url, Some(&self.admin), Some(policy)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    /// Waits until the code of broker session `id` has `status`.
    async fn wait_for_code(&self, id: &str, status: &str) {
        let give_up = tokio::time::Instant::now() + DEADLINE;
        loop {
            let view = self.view(id).await;
            if view["state"]["status"] == status {
                return;
            }
            assert!(tokio::time::Instant::now() < give_up, "the code to become {status}: {view}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A controller that needs none of its peer's events.
struct Quiet;

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Quiet {}

/// Joins session `session_id` as its technician, sends a real offer, and
/// returns the `ready` message and the agent's answer SDP.
async fn offer_as_controller(server: &Server, session_id: &str) -> (ServerToController, String) {
    let address = server.url.trim_start_matches("http://");
    let url = format!("ws://{address}/api/sessions/{session_id}/signal");
    let (mut socket, _) = tokio_tungstenite::connect_async(url.as_str()).await.unwrap();
    let send = |message: ControllerToServer| Message::text(serde_json::to_string(&message).unwrap());
    socket
        .send(send(ControllerToServer::Auth { token: server.technician.clone(), protocol: PROTOCOL_VERSION }))
        .await
        .unwrap();
    let message = tokio::time::timeout(DEADLINE, socket.next()).await.expect("a message in time");
    let ready: ServerToController = serde_json::from_str(message.unwrap().unwrap().to_text().unwrap()).unwrap();
    assert!(matches!(ready, ServerToController::Ready { .. }), "{ready:?}");

    let controller = common::controller::recv_only_controller(Arc::new(Quiet), 102, None).await;
    controller.create_data_channel("input", None).await.unwrap();
    let offer = controller.create_offer(None).await.unwrap();
    let sdp = offer.sdp.clone();
    controller.set_local_description(offer).await.unwrap();
    socket.send(send(ControllerToServer::Signal { signal: Signal::Offer { negotiation: 1, sdp } })).await.unwrap();
    let give_up = tokio::time::Instant::now() + DEADLINE;
    loop {
        let message = tokio::time::timeout_at(give_up, socket.next()).await.expect("an answer in time");
        let message: ServerToController = serde_json::from_str(message.unwrap().unwrap().to_text().unwrap()).unwrap();
        match message {
            ServerToController::Signal { signal: Signal::Answer { sdp, .. } } => {
                controller.close().await.unwrap();
                return (ready, sdp);
            }
            ServerToController::Signal { .. } => {}
            // Attached before the server read the user's yes: it says so first.
            ServerToController::AwaitingUser { .. } | ServerToController::ModeChosen { .. } => {}
            other => panic!("expected the answer, got {other:?}"),
        }
    }
}

fn options(config_path: PathBuf) -> ConnectOptions {
    ConnectOptions {
        config_path,
        session: SessionConfig { udp_addrs: vec!["127.0.0.1:0".into()], ..SessionConfig::default() },
        probe_deadline: Duration::from_millis(1500),
    }
}

/// The loopback UI and a client for it.
struct Ui {
    ui: LocalUi,
    client: reqwest::Client,
}

impl Ui {
    async fn start(config_path: PathBuf, ui_dir: Option<PathBuf>) -> Self {
        let listen: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let ui = LocalUi::start(UiOptions { listen, ui_dir, connect: options(config_path) }).await.unwrap();
        Self { ui, client: reqwest::Client::new() }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.ui.addr.port())
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let response = self.client.post(self.url(path)).header(KEY, self.ui.secret()).json(&body).send().await.unwrap();
        (response.status(), response.json().await.unwrap_or(Value::Null))
    }

    async fn status(&self) -> LocalAgentStatus {
        let response = self.client.get(self.url("/local/status")).header(KEY, self.ui.secret()).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    /// Polls the status until `done` holds, within the deadline.
    async fn wait_for(&self, done: impl Fn(&LocalAgentStatus) -> bool) -> LocalAgentStatus {
        let give_up = tokio::time::Instant::now() + DEADLINE;
        loop {
            let status = self.status().await;
            if done(&status) {
                return status;
            }
            assert!(tokio::time::Instant::now() < give_up, "still {status:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[tokio::test]
async fn the_loopback_ui_refuses_wrong_keys_foreign_origins_and_foreign_hosts() {
    let dir = scratch("ui-guard");
    let dist = dir.join("dist");
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(dist.join("index.html"), "<!doctype html><title>tether app</title>").unwrap();
    let ui = Ui::start(dir.join("agent.json"), Some(dist)).await;
    assert!(ui.ui.url().starts_with(&format!("http://127.0.0.1:{}/agent#key=", ui.ui.addr.port())));
    assert!(ui.ui.url().ends_with(ui.ui.secret()));

    // Not configured: said so, and a code is refused.
    assert!(
        matches!(ui.status().await, LocalAgentStatus::NotConfigured { ref message } if message.contains("cannot be entered yet"))
    );
    let (status, body) = ui.post("/local/connect", json!({ "code": "123 456 789" })).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::CONFLICT, Some("not_configured")));

    let status_url = ui.url("/local/status");
    let refused = |response: reqwest::Response, code: &'static str| async move {
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], code, "{body}");
    };
    refused(ui.client.get(&status_url).send().await.unwrap(), "bad_key").await;
    refused(ui.client.get(&status_url).header(KEY, "0".repeat(64)).send().await.unwrap(), "bad_key").await;
    let foreign_origin = ui.client.get(&status_url).header(KEY, ui.ui.secret()).header("origin", "http://evil.example");
    refused(foreign_origin.send().await.unwrap(), "foreign_origin").await;
    let rebound = ui.client.get(&status_url).header(KEY, ui.ui.secret()).header("host", "evil.example");
    refused(rebound.send().await.unwrap(), "foreign_host").await;
    refused(ui.client.get(ui.url("/agent")).header("host", "evil.example").send().await.unwrap(), "foreign_host").await;
    let own_origin = format!("http://127.0.0.1:{}", ui.ui.addr.port());
    let same =
        ui.client.get(&status_url).header(KEY, ui.ui.secret()).header("origin", own_origin).send().await.unwrap();
    assert_eq!(same.status(), StatusCode::OK);

    // Strict bodies.
    let (status, _) = ui.post("/local/connect", json!({ "code": "1", "extra": true })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = ui.post("/local/connect", json!({ "code": "1".repeat(10_000) })).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let (status, body) = ui.post("/local/cancel", json!({})).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::CONFLICT, Some("nothing_to_cancel")));

    // The page itself, for the app's /agent route.
    let page = ui.client.get(ui.url("/agent")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    assert!(page.text().await.unwrap().contains("tether app"));
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn a_code_entered_in_the_ui_starts_the_session_through_the_probed_broker() {
    let dir = scratch("ui-session");
    let server = server(&dir, true).await;
    let relay_addr = server.relay.as_ref().unwrap().local_addr().to_string();
    let config_path = dir.join("agent.json");
    // Only the server URL: the UI contacts the server for the broker list.
    AgentConfig::for_server(&server.url).unwrap().save(&config_path).unwrap();
    let ui = Ui::start(config_path.clone(), None).await;
    assert_eq!(ui.status().await, LocalAgentStatus::Idle { server: server.url.clone(), last_session: None });
    let cached = AgentConfig::load(&config_path).unwrap().brokers.unwrap();
    assert_eq!(cached.iter().map(|b| b.id.as_str()).collect::<Vec<_>>(), ["silent", "embedded"]);

    // The default policy asks the user: a rejection starts nothing.
    let (rejected_id, rejected_code) = server.code().await;
    let (status, _) = ui.post("/local/connect", json!({ "code": rejected_code })).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let asking = ui.wait_for(|status| !matches!(status, LocalAgentStatus::Connecting { .. })).await;
    let LocalAgentStatus::AwaitingAcceptance { technician, seconds_left, .. } = asking else { panic!("{asking:?}") };
    assert_eq!(technician, "Tess");
    assert!((1..=120).contains(&seconds_left), "{seconds_left}");
    server.wait_for_code(&rejected_id, "awaiting_acceptance").await;
    let (status, body) = ui.post("/local/connect", json!({ "code": rejected_code })).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::CONFLICT, Some("busy")));
    let (status, _) = ui.post("/local/reject", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let ended = ui.wait_for(|status| matches!(status, LocalAgentStatus::Idle { .. })).await;
    assert_eq!(
        ended,
        LocalAgentStatus::Idle { server: server.url.clone(), last_session: Some("You rejected the session.".into()) }
    );
    server.wait_for_code(&rejected_id, "rejected").await;
    let (status, body) = ui.post("/local/accept", json!({})).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::CONFLICT, Some("nothing_to_answer")));

    let (id, code) = server.code().await;
    let (status, _) = ui.post("/local/connect", json!({ "code": code })).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let asked = ui.wait_for(|status| matches!(status, LocalAgentStatus::AwaitingAcceptance { .. })).await;
    let LocalAgentStatus::AwaitingAcceptance { mode, choices, .. } = asked else { unreachable!() };
    assert_eq!(mode, SessionMode::Active);
    assert!(choices.contains(SessionMode::Monitor), "{choices:?}");
    // A mode that is no mode is refused and the question stays.
    let (status, body) = ui.post("/local/accept", json!({ "mode": "root" })).await;
    assert_eq!((status.is_client_error(), body["error"].as_str()), (true, Some("invalid_request")), "{body}");
    // The person allows only Monitor.
    let (status, _) = ui.post("/local/accept", json!({ "mode": "monitor" })).await;
    assert_eq!(status, StatusCode::OK);
    let live = ui.wait_for(|status| matches!(status, LocalAgentStatus::InSession { .. })).await;
    let LocalAgentStatus::InSession { technician, mode, session_id, from_link, .. } = live else { panic!("{live:?}") };
    assert_eq!((technician.as_str(), mode, from_link), ("Tess", Some(SessionMode::Monitor), false));
    let view = server.view(&id).await;
    assert_eq!(view["broker"], relay_addr.as_str(), "{view}");
    assert!(view["target"]["hostname"].is_string(), "{view}");

    // The technician joins: the same broker, and the agent answers through
    // the broker session socket.
    let (ready, answer) = offer_as_controller(&server, &session_id).await;
    let ServerToController::Ready { broker, ice_servers, .. } = ready else { unreachable!() };
    assert_eq!(broker.as_deref(), Some(relay_addr.as_str()));
    assert!(
        ice_servers.iter().any(|server| server.urls.iter().any(|url| url.contains(&relay_addr))),
        "{ice_servers:?}"
    );
    assert!(answer.starts_with("v=0"), "{answer}");

    // A second code while in session is refused; Cancel ends the session.
    let (status, body) = ui.post("/local/connect", json!({ "code": code })).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::CONFLICT, Some("busy")));
    let (status, _) = ui.post("/local/cancel", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ui.status().await, LocalAgentStatus::Idle { server: server.url.clone(), last_session: None });

    // The used code now fails with a reason, and Try Again resets.
    let (status, _) = ui.post("/local/connect", json!({ "code": code })).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let failed = ui.wait_for(|status| matches!(status, LocalAgentStatus::Failed { .. })).await;
    assert!(
        matches!(failed, LocalAgentStatus::Failed { ref error, ref message } if error == "code_used" && message.contains("new one")),
        "{failed:?}"
    );
    let (status, _) = ui.post("/local/reset", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ui.status().await, LocalAgentStatus::Idle { server: server.url.clone(), last_session: None });
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn the_persons_own_rule_asks_even_when_the_policy_does_not() {
    let dir = scratch("always-ask");
    let server = server(&dir, false).await;
    server.set_policy(json!({ "user_acceptance": false })).await;
    let config_path = dir.join("agent.json");
    AgentConfig::for_server(&server.url).unwrap().save(&config_path).unwrap();
    let ui = Ui::start(config_path.clone(), None).await;

    // The policy asks nobody: the session starts at once.
    let (_, code) = server.code().await;
    let (status, _) = ui.post("/local/connect", json!({ "code": code })).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let started = ui.wait_for(|status| !matches!(status, LocalAgentStatus::Connecting { .. })).await;
    assert!(matches!(started, LocalAgentStatus::InSession { .. }), "{started:?}");
    let (status, _) = ui.post("/local/cancel", json!({})).await;
    assert_eq!(status, StatusCode::OK);

    // The person's own rule: asked anyway, and a no starts nothing.
    let mut config = AgentConfig::load(&config_path).unwrap();
    config.always_ask = true;
    config.save(&config_path).unwrap();
    let (id, code) = server.code().await;
    let (status, _) = ui.post("/local/connect", json!({ "code": code })).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let asked = ui.wait_for(|status| !matches!(status, LocalAgentStatus::Connecting { .. })).await;
    assert!(matches!(asked, LocalAgentStatus::AwaitingAcceptance { .. }), "{asked:?}");
    server.wait_for_code(&id, "awaiting_acceptance").await;
    let (status, _) = ui.post("/local/reject", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    server.wait_for_code(&id, "rejected").await;
    assert!(AgentConfig::load(&config_path).unwrap().always_ask, "the broker refresh keeps the rule");
    std::fs::remove_dir_all(dir).unwrap();
}

/// A frozen server (as if SIGSTOPped: connections open, nothing answers)
/// must not leave the computer in a session nobody audits: the agent ends
/// it itself within the policy's limit and says why on its page; once the
/// server runs again the end is audited with the agent's own time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_that_loses_its_server_ends_the_session_itself() {
    let dir = scratch("server-loss");
    let server = server(&dir, false).await;
    server.set_policy(json!({ "user_acceptance": false, "server_loss_timeout_secs": 10 })).await;
    let upstream: SocketAddr = server.url.trim_start_matches("http://").parse().unwrap();
    let freezer = common::freeze::Freezer::start(upstream).await;
    let config_path = dir.join("agent.json");
    AgentConfig::for_server(&format!("http://{}", freezer.address)).unwrap().save(&config_path).unwrap();
    let ui = Ui::start(config_path, None).await;
    let (id, code) = server.code().await;
    let (status, _) = ui.post("/local/connect", json!({ "code": code })).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let started = ui.wait_for(|status| !matches!(status, LocalAgentStatus::Connecting { .. })).await;
    let LocalAgentStatus::InSession { session_id, .. } = started else { panic!("{started:?}") };

    freezer.freeze();
    let frozen_at = tokio::time::Instant::now();
    let ended = ui.wait_for(|status| matches!(status, LocalAgentStatus::Idle { .. })).await;
    let waited = frozen_at.elapsed();
    let LocalAgentStatus::Idle { last_session: Some(why), .. } = ended else { panic!("{ended:?}") };
    assert!(why.contains("heard nothing from the server"), "{why}");
    // Silence counts from the last heartbeat heard, up to one interval before the freeze.
    let limit = Duration::from_secs(10);
    let beat = Duration::from_secs(tether_shared::signal::HEARTBEAT_INTERVAL_SECS);
    assert!(waited >= limit - beat && waited < limit + Duration::from_secs(3), "ended after {waited:?}");

    freezer.thaw();
    server.wait_for_code(&id, "ended").await;
    let url = format!("{}/api/sessions", server.url);
    let (_, sessions) = call(reqwest::Method::GET, &url, Some(&server.technician), None).await;
    let row = sessions.as_array().unwrap().iter().find(|row| row["id"] == session_id.as_str()).unwrap().clone();
    assert!(row["end_reason"].as_str().unwrap().contains("heard nothing from the server"), "{row}");
    let ended_at = row["ended_at"].as_i64().unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let since_frozen = i64::try_from(frozen_at.elapsed().as_millis()).unwrap();
    assert!(ended_at < now - since_frozen + 13_000, "the end is recorded at the agent's time, not the thaw's: {row}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn bad_codes_and_missing_configuration_fail_clearly() {
    let dir = scratch("bad-codes");
    let config_path = dir.join("agent.json");
    let options = options(config_path.clone());
    let run = |text: &'static str| {
        let options = options.clone();
        async move { broker::connect::run(&options, text, pre_approved(), |_| {}).await }
    };
    assert!(matches!(run("123 456 789").await, Err(ConnectError::NotConfigured(_))));

    // A server nobody answers at.
    let unused = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let nowhere = format!("http://{}", unused.local_addr().unwrap());
    drop(unused);
    AgentConfig::for_server(&nowhere).unwrap().save(&config_path).unwrap();
    assert!(matches!(run("123 456 789").await, Err(ConnectError::ServerUnreachable { .. })));

    let server = server(&dir, false).await;
    AgentConfig::for_server(&server.url).unwrap().save(&config_path).unwrap();
    assert!(matches!(run("12345678").await, Err(ConnectError::InvalidCode(_))));
    assert!(matches!(
        run("https://elsewhere.example/connect/123-456-789").await,
        Err(ConnectError::OtherServer { .. })
    ));
    let (_, code) = server.code().await;
    let wrong: String = code.chars().filter(char::is_ascii_digit).map(|c| if c == '5' { '6' } else { '5' }).collect();
    let wrong: &'static str = Box::leak(wrong.into_boxed_str());
    assert_eq!(run(wrong).await, Err(ConnectError::WrongCode));

    // The CLI says why and exits non-zero.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_tether-agent"))
        .args(["--config", config_path.to_str().unwrap(), "connect", "12-34"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not a connection code"), "{stderr}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// A child process stopped (by its handle, i.e. its PID) when dropped, so a
/// failing test leaves nothing running.
struct Stopped(std::process::Child);

impl Drop for Stopped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A child process's stdout lines, read on a thread.
fn lines_of(child: &mut std::process::Child) -> std::sync::mpsc::Receiver<String> {
    use std::io::BufRead;
    let stdout = child.stdout.take().unwrap();
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    receiver
}

/// The first line that `wanted` accepts, within the deadline.
fn line_where(lines: &std::sync::mpsc::Receiver<String>, wanted: impl Fn(&str) -> bool) -> String {
    let give_up = std::time::Instant::now() + DEADLINE;
    loop {
        let left = give_up.saturating_duration_since(std::time::Instant::now());
        let line = lines.recv_timeout(left).expect("the expected line in time");
        if wanted(&line) {
            return line;
        }
    }
}

// The test waits on child processes synchronously; the server runs on the
// other workers.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_cli_takes_a_code_and_the_ui_command_prints_its_address() {
    let dir = scratch("cli");
    let server = server(&dir, true).await;
    let relay_addr = server.relay.as_ref().unwrap().local_addr().to_string();
    let config_path = dir.join("agent.json");
    let configure = std::process::Command::new(env!("CARGO_BIN_EXE_tether-agent"))
        .args(["--config", config_path.to_str().unwrap(), "configure", "--server", &server.url])
        .output()
        .unwrap();
    assert!(configure.status.success(), "{configure:?}");
    assert!(String::from_utf8_lossy(&configure.stdout).contains("2 broker(s)"), "{configure:?}");

    // Asked on the terminal, the user says no: nothing starts.
    let (refused_id, refused_code) = server.code().await;
    let mut refusing = Stopped(
        std::process::Command::new(env!("CARGO_BIN_EXE_tether-agent"))
            .args(["--config", config_path.to_str().unwrap(), "connect", &refused_code, "--webrtc-bind", "127.0.0.1:0"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let lines = lines_of(&mut refusing.0);
    let prompt = line_where(&lines, |line| line.contains("asks for a remote session"));
    assert_eq!(prompt, "Tess asks for a remote session on this computer in Active mode.");
    let choice = line_where(&lines, |line| line.contains("accept only Monitor mode"));
    assert!(choice.trim_start().starts_with(char::is_numeric), "a numbered choice: {choice}");
    line_where(&lines, |line| line.contains("Accept? [y/N]"));
    server.wait_for_code(&refused_id, "awaiting_acceptance").await;
    {
        use std::io::Write;
        let mut stdin = refusing.0.stdin.take().unwrap();
        stdin.write_all(b"n\n").unwrap();
    }
    line_where(&lines, |line| line == "Session ended: You rejected the session.");
    server.wait_for_code(&refused_id, "rejected").await;
    drop(refusing);

    // `--accept` is consent given with the command.
    let (id, code) = server.code().await;
    let mut connect = Stopped(
        std::process::Command::new(env!("CARGO_BIN_EXE_tether-agent"))
            .args([
                "--config",
                config_path.to_str().unwrap(),
                "connect",
                &code,
                "--accept",
                "--webrtc-bind",
                "127.0.0.1:0",
            ])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let lines = lines_of(&mut connect.0);
    line_where(&lines, |line| line == "Checking the connection code…");
    let connected = line_where(&lines, |line| line.starts_with("Connected: "));
    assert!(
        connected.starts_with("Connected: Tess is now in a session with this computer, in Active mode."),
        "{connected}"
    );
    let view = server.view(&id).await;
    assert!(view["target"]["hostname"].is_string());
    assert_eq!(view["broker"], relay_addr.as_str(), "the relay the agent chose (named in its log, not to the person)");
    drop(connect);

    let mut ui = Stopped(
        std::process::Command::new(env!("CARGO_BIN_EXE_tether-agent"))
            .args(["--config", config_path.to_str().unwrap(), "ui", "--no-open"])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let lines = lines_of(&mut ui.0);
    let printed = line_where(&lines, |line| line.contains("/agent#key="));
    let url = printed.split_whitespace().find(|word| word.starts_with("http://127.0.0.1:")).unwrap();
    let (base, key) = url.split_once("/agent#key=").unwrap();
    let status: LocalAgentStatus = reqwest::Client::new()
        .get(format!("{base}/local/status"))
        .header(KEY, key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status, LocalAgentStatus::Idle { server: server.url.clone(), last_session: None });
    drop(ui);
    std::fs::remove_dir_all(dir).unwrap();
}

/// A controller peer's candidates and connection states.
struct Watcher {
    candidates: tokio::sync::mpsc::UnboundedSender<RTCIceCandidateInit>,
    states: tokio::sync::mpsc::UnboundedSender<RTCPeerConnectionState>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Watcher {
    async fn on_ice_candidate(&self, event: RTCPeerConnectionIceEvent) {
        let _ = self.candidates.send(event.candidate.to_json().unwrap());
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        let _ = self.states.send(state);
    }
}

#[tokio::test]
async fn a_code_session_connects_through_the_broker_relay() {
    let dir = scratch("relay");
    let server = server(&dir, true).await;
    let config_path = dir.join("agent.json");
    AgentConfig::for_server(&server.url).unwrap().save(&config_path).unwrap();
    let xvfb = common::Xvfb::start(320, 240);
    let mut options = options(config_path);
    options.session.display = Some(xvfb.display.clone());
    let (_, code) = server.code().await;
    let (live_sender, mut live) = tokio::sync::mpsc::unbounded_channel();
    let agent = tokio::spawn(async move {
        broker::connect::run(&options, &code, pre_approved(), move |progress| {
            if let broker::Progress::InSession { session_id, .. } = progress {
                let _ = live_sender.send(session_id);
            }
        })
        .await
    });
    let session_id = tokio::time::timeout(DEADLINE, live.recv()).await.expect("live in time").unwrap();

    // The controller may only use the relay: a connection proves the broker relays.
    let address = server.url.trim_start_matches("http://");
    let url = format!("ws://{address}/api/sessions/{session_id}/signal");
    let (socket, _) = tokio_tungstenite::connect_async(url.as_str()).await.unwrap();
    let (mut to_server, mut from_server) = socket.split();
    let text = |message: ControllerToServer| Message::text(serde_json::to_string(&message).unwrap());
    to_server
        .send(text(ControllerToServer::Auth { token: server.technician.clone(), protocol: PROTOCOL_VERSION }))
        .await
        .unwrap();
    let message = tokio::time::timeout(DEADLINE, from_server.next()).await.expect("ready in time");
    let ready: ServerToController = serde_json::from_str(message.unwrap().unwrap().to_text().unwrap()).unwrap();
    let ServerToController::Ready { ice_servers, .. } = ready else { panic!("{ready:?}") };
    let ice_servers = ice_servers
        .into_iter()
        .map(|server| RTCIceServer {
            urls: server.urls,
            username: server.username.unwrap_or_default(),
            credential: server.credential.unwrap_or_default(),
        })
        .collect();
    let configuration = RTCConfigurationBuilder::new()
        .with_ice_servers(ice_servers)
        .with_ice_transport_policy(RTCIceTransportPolicy::Relay)
        .build();
    let (candidates, mut local_candidates) = tokio::sync::mpsc::unbounded_channel();
    let (states, mut state_changes) = tokio::sync::mpsc::unbounded_channel();
    let controller =
        common::controller::recv_only_controller(Arc::new(Watcher { candidates, states }), 102, Some(configuration))
            .await;
    controller.create_data_channel("input", None).await.unwrap();
    let offer = controller.create_offer(None).await.unwrap();
    let sdp = offer.sdp.clone();
    controller.set_local_description(offer).await.unwrap();
    to_server.send(text(ControllerToServer::Signal { signal: Signal::Offer { negotiation: 1, sdp } })).await.unwrap();

    let mut relayed_candidates = 0;
    let give_up = tokio::time::Instant::now() + DEADLINE;
    loop {
        tokio::select! {
            Some(init) = local_candidates.recv() => {
                assert!(init.candidate.contains("typ relay"), "relay-only gathered {}", init.candidate);
                relayed_candidates += 1;
                let signal = Signal::Candidate {
                    candidate: init.candidate,
                    sdp_mid: init.sdp_mid,
                    sdp_mline_index: init.sdp_mline_index,
                    negotiation: Some(1),
                };
                to_server.send(text(ControllerToServer::Signal { signal })).await.unwrap();
            }
            message = from_server.next() => {
                let message: ServerToController =
                    serde_json::from_str(message.unwrap().unwrap().to_text().unwrap()).unwrap();
                match message {
                    ServerToController::Signal { signal: Signal::Answer { sdp, .. } } => {
                        controller.set_remote_description(RTCSessionDescription::answer(sdp).unwrap()).await.unwrap();
                    }
                    ServerToController::Signal { signal: Signal::Candidate { candidate, sdp_mid, sdp_mline_index, .. } } => {
                        if !candidate.is_empty() {
                            let init = RTCIceCandidateInit { candidate, sdp_mid, sdp_mline_index, ..Default::default() };
                            let _ = controller.add_ice_candidate(init).await;
                        }
                    }
                    // The agent asked its user (accepted in advance here).
                    ServerToController::AwaitingUser { .. } | ServerToController::ModeChosen { .. } => {}
                    other => panic!("unexpected {other:?}"),
                }
            }
            Some(state) = state_changes.recv() => {
                assert_ne!(state, RTCPeerConnectionState::Failed);
                if state == RTCPeerConnectionState::Connected {
                    break;
                }
            }
            () = tokio::time::sleep_until(give_up) => panic!("no connection through the relay in time"),
        }
    }
    assert!(relayed_candidates > 0);
    controller.close().await.unwrap();
    agent.abort();
    drop(xvfb);
    std::fs::remove_dir_all(dir).unwrap();
}

/// Runs `tether-agent --config PATH args…` to completion.
fn agent_command(config_path: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_tether-agent"))
        .args([&["--config", config_path.to_str().unwrap()], args].concat())
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configure_pins_the_servers_grant_key_and_replaces_it_only_when_told() {
    let dir = scratch("pin");
    let server = server(&dir, false).await;
    let (status, published) = call(reqwest::Method::GET, &format!("{}/api/grant-key", server.url), None, None).await;
    assert_eq!(status, StatusCode::OK);
    let fingerprint = published["fingerprint"].as_str().unwrap().to_owned();
    let config_path = dir.join("agent.json");
    let pinned = || AgentConfig::load(&config_path).unwrap().grant_key.map(|key| key.fingerprint);

    let first = agent_command(&config_path, &["configure", "--server", &server.url]);
    assert!(first.status.success(), "{first:?}");
    let said = String::from_utf8_lossy(&first.stdout);
    assert!(said.contains(&format!("pinned the server's grant key, fingerprint {fingerprint}")), "{said}");
    assert_eq!(pinned(), Some(fingerprint.clone()));
    let again = agent_command(&config_path, &["configure", "--server", &server.url]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("is the one pinned"), "{again:?}");

    // The agent trusted another key before: the server's is refused.
    let mut config = AgentConfig::load(&config_path).unwrap();
    let other =
        tether_shared::grant::PublicGrantKey::of(&ed25519_dalek::SigningKey::from_bytes(&[5; 32]).verifying_key());
    config.grant_key = Some(other.clone());
    config.save(&config_path).unwrap();
    let refused = agent_command(&config_path, &["configure", "--server", &server.url]);
    assert!(!refused.status.success(), "{refused:?}");
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("the server's grant key has changed") && said.contains("--accept-new-key"), "{said}");
    assert_eq!(pinned(), Some(other.fingerprint.clone()), "nothing replaced");
    let wrong =
        agent_command(&config_path, &["configure", "--server", &server.url, "--accept-new-key", &other.fingerprint]);
    assert!(!wrong.status.success(), "{wrong:?}");
    assert_eq!(pinned(), Some(other.fingerprint.clone()));

    // Told explicitly, with the fingerprint checked out of band.
    let accepted =
        agent_command(&config_path, &["configure", "--server", &server.url, "--accept-new-key", &fingerprint]);
    assert!(accepted.status.success(), "{accepted:?}");
    assert!(String::from_utf8_lossy(&accepted.stdout).contains("replaced the pinned server key"), "{accepted:?}");
    assert_eq!(pinned(), Some(fingerprint));
}

/// The person, having accepted in advance (`connect --accept`).
fn pre_approved() -> broker::Person {
    let ask = std::sync::Arc::new(PreApproved);
    broker::Person { ask, requests: None, notify: tether_agent::notice::Notify::ignore() }
}
