//! Test harness: the real app on a real database (a fresh SQLite file, and a
//! fresh PostgreSQL database when `TETHER_TEST_POSTGRES_URL` is set), driven
//! in-process with `oneshot` requests.

#![allow(dead_code, clippy::unwrap_used)]

pub mod broker;
pub mod groups;
pub mod live;
pub mod ws;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::future::Future;
use std::net::SocketAddr;
use tether_server::auth::rate_limit::LoginLimits;
use tether_server::auth::tokens::TokenKeys;
use tether_server::state::AppState;
use tether_server::store::Store;
use tether_server::{app, bootstrap, db};
use tower::ServiceExt;

/// The password the first admin is given by [`TestApp::admin_token`].
pub const ADMIN_PASSWORD: &str = "admin password for tests";

/// One database to run against.
#[derive(Debug, Clone)]
pub struct Backend {
    pub name: &'static str,
    pub url: String,
}

/// Fresh, empty databases: SQLite always, PostgreSQL when configured.
pub async fn backends() -> Vec<Backend> {
    let dir = std::env::temp_dir().join(format!("tether-test-{}", uuid::Uuid::new_v4()));
    let mut all = vec![Backend { name: "sqlite", url: format!("sqlite://{}/tether.db", dir.display()) }];
    match std::env::var("TETHER_TEST_POSTGRES_URL") {
        Ok(admin_url) => all.push(Backend { name: "postgres", url: fresh_postgres_database(&admin_url).await }),
        Err(_) if std::env::var_os("TETHER_TEST_REQUIRE_POSTGRES").is_some() => {
            panic!("TETHER_TEST_REQUIRE_POSTGRES is set but TETHER_TEST_POSTGRES_URL is not")
        }
        Err(_) => {}
    }
    all
}

async fn fresh_postgres_database(admin_url: &str) -> String {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let name = format!("tether_test_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::AnyConnection::connect(admin_url).await.expect("connect to test PostgreSQL");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut conn).await.expect("create db");
    let (base, _) = admin_url.rsplit_once('/').expect("database URL has a path");
    format!("{base}/{name}")
}

/// Runs `test` once per backend, naming the backend on failure.
pub async fn on_each_backend<F, Fut>(test: F)
where
    F: Fn(TestApp) -> Fut,
    Fut: Future<Output = ()>,
{
    for backend in backends().await {
        eprintln!("--- on {}", backend.name);
        test(TestApp::start(&backend, relaxed_limits()).await).await;
    }
}

/// Limits loose enough that ordinary tests never trip them.
pub fn relaxed_limits() -> LoginLimits {
    LoginLimits { account_burst: 1000, source_burst: 1000, ..LoginLimits::default() }
}

/// A running app and what a test needs to poke at it.
pub struct TestApp {
    pub backend: Backend,
    pub store: Store,
    pub keys: TokenKeys,
    pub router: Router,
    /// The state behind `router` (hub, relay, live sessions).
    pub state: AppState,
    pub first_admin_password: String,
}

/// A response, decoded.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// The stable error code of an error body.
    pub fn error(&self) -> &str {
        self.body["error"].as_str().unwrap_or("")
    }

    /// The refresh cookie's value, if one was set.
    pub fn refresh_cookie(&self) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.strip_prefix("tether_refresh="))
            .map(|v| v.split(';').next().unwrap_or("").to_owned())
    }
}

impl TestApp {
    pub async fn start(backend: &Backend, limits: LoginLimits) -> Self {
        Self::start_configured(backend, limits, &|state| state).await
    }

    /// Starts with the state adjusted by `configure`.
    pub async fn start_configured(
        backend: &Backend,
        limits: LoginLimits,
        configure: &dyn Fn(AppState) -> AppState,
    ) -> Self {
        let store = Store::new(db::connect(&backend.url).await.expect("connect"));
        let keys = TokenKeys::ephemeral().expect("keys");
        let admin = bootstrap::first_admin(&store).await.expect("bootstrap").expect("first admin created");
        let state = configure(AppState::new(store.clone(), keys.clone(), limits, false).await.expect("state"));
        Self {
            backend: backend.clone(),
            store,
            keys,
            router: app::api(state.clone()),
            state,
            first_admin_password: admin.one_time_password,
        }
    }

    /// Sends a request from `source` and decodes the answer.
    pub async fn send_from(&self, source: SocketAddr, request: Request<Body>) -> Reply {
        let mut request = request;
        request.extensions_mut().insert(ConnectInfo(source));
        let response = self.router.clone().oneshot(request).await.expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        Reply { status, headers, body }
    }

    pub async fn send(&self, request: Request<Body>) -> Reply {
        self.send_from(SocketAddr::from(([127, 0, 0, 1], 50000)), request).await
    }

    /// A JSON request with an optional bearer token.
    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Reply {
        self.send(json_request(method, path, token, body)).await
    }

    pub async fn login(&self, username: &str, password: &str) -> Reply {
        self.call(Method::POST, "/api/auth/login", None, Some(json!({ "username": username, "password": password })))
            .await
    }

    /// Logs in and returns the access token; panics unless it works.
    pub async fn token(&self, username: &str, password: &str) -> String {
        let reply = self.login(username, password).await;
        assert_eq!(reply.status, StatusCode::OK, "login {username}: {:?}", reply.body);
        reply.body["access_token"].as_str().expect("token").to_owned()
    }

    /// The first admin, past the forced password change.
    pub async fn admin_token(&self) -> String {
        let token = self.token("admin", &self.first_admin_password).await;
        let reply = self
            .call(
                Method::POST,
                "/api/me/password",
                Some(&token),
                Some(json!({ "current_password": self.first_admin_password, "new_password": ADMIN_PASSWORD })),
            )
            .await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT, "{:?}", reply.body);
        token
    }

    /// Creates an account as `admin_token` and returns its id.
    pub async fn create_user(&self, admin_token: &str, username: &str, role: &str, password: &str) -> String {
        let reply = self
            .call(
                Method::POST,
                "/api/users",
                Some(admin_token),
                Some(json!({ "username": username, "display_name": username, "role": role, "password": password })),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
        reply.body["id"].as_str().expect("id").to_owned()
    }

    /// A usable account of `role`: created, logged in, password changed.
    pub async fn user_token(&self, admin_token: &str, username: &str, role: &str) -> String {
        let initial = format!("{username} initial password");
        self.create_user(admin_token, username, role, &initial).await;
        let token = self.token(username, &initial).await;
        let reply = self
            .call(
                Method::POST,
                "/api/me/password",
                Some(&token),
                Some(json!({ "current_password": initial, "new_password": format!("{username} chosen password") })),
            )
            .await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT, "{:?}", reply.body);
        token
    }

    /// Number of audit entries.
    pub async fn audit_len(&self) -> i64 {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_log").fetch_one(self.store.pool()).await.unwrap();
        n
    }

    /// Number of accounts.
    pub async fn user_count(&self) -> i64 {
        tether_server::users::count(self.store.pool()).await.unwrap()
    }

    /// Actions in the audit log, oldest first.
    pub async fn audit_actions(&self) -> Vec<String> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT action FROM audit_log ORDER BY seq").fetch_all(self.store.pool()).await.unwrap();
        rows.into_iter().map(|(a,)| a).collect()
    }

    /// The details of the audit entries with `action`, oldest first.
    pub async fn audit_details(&self, action: &str) -> Vec<Value> {
        let rows: Vec<(String,)> = sqlx::query_as("SELECT details FROM audit_log WHERE action = $1 ORDER BY seq")
            .bind(action)
            .fetch_all(self.store.pool())
            .await
            .unwrap();
        rows.into_iter().map(|(details,)| serde_json::from_str(&details).unwrap()).collect()
    }
}

pub fn json_request(method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(path);
    if let Some(token) = token {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    match body {
        Some(body) => builder.header(header::CONTENT_TYPE, "application/json").body(Body::from(body.to_string())),
        None => builder.body(Body::empty()),
    }
    .expect("request")
}

/// What an agent reports, for enrollment and hello.
pub fn agent_info(hostname: &str) -> Value {
    json!({
        "hostname": hostname,
        "os": "Debian GNU/Linux 12",
        "os_user": "alice",
        "agent_version": "0.1.0",
        "displays": [{ "name": ":0", "width": 1280, "height": 720, "primary": true }]
    })
}

/// A fresh enrollment token issued by `admin`.
pub async fn enrollment_token(app: &TestApp, admin: &str, max_uses: u32) -> String {
    let reply = app
        .call(
            Method::POST,
            "/api/enrollment-tokens",
            Some(admin),
            Some(json!({ "label": "Lab PCs", "ttl_minutes": 60, "max_uses": max_uses })),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    reply.body["token"].as_str().unwrap().to_owned()
}

pub async fn enroll(app: &TestApp, token: &str, hostname: &str) -> Reply {
    app.call(Method::POST, "/api/agent/enroll", None, Some(json!({ "token": token, "info": agent_info(hostname) })))
        .await
}

/// The app on a real loopback socket; stops when the returned sender is
/// dropped or sent to.
pub async fn serve(app: &TestApp) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app::serve(listener, app.router.clone(), async {
        let _ = stopped.await;
    }));
    (address, stop)
}

/// Same as [`on_each_backend`], with the app's state adjusted by `configure`
/// (ICE servers, session timers).
pub async fn on_each_backend_with<C, F, Fut>(configure: C, test: F)
where
    C: Fn(AppState) -> AppState,
    F: Fn(TestApp) -> Fut,
    Fut: Future<Output = ()>,
{
    for backend in backends().await {
        eprintln!("--- on {}", backend.name);
        test(TestApp::start_configured(&backend, relaxed_limits(), &configure).await).await;
    }
}

/// A router on a real loopback socket (e.g. a second server on the same
/// database); stops when the returned sender is dropped.
pub async fn serve_router(router: Router) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app::serve(listener, router, async {
        let _ = stopped.await;
    }));
    (address, stop)
}

/// An embedded TURN relay on an ephemeral loopback port.
pub async fn embedded_relay(secret: &tether_server::broker::TurnSecret) -> tether_server::broker::EmbeddedRelay {
    let config = tether_server::broker::EmbeddedConfig::loopback(secret.clone());
    tether_server::broker::EmbeddedRelay::start(config).await.unwrap()
}
