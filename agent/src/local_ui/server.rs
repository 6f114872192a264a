//! The loopback HTTP server: static files of the web app (its `/agent`
//! page), and `/local/{status,connect,accept,reject,cancel,reset}` behind
//! the guard. The page is where the user accepts or rejects a session when
//! its policy asks (`UiAsker` for a code's session, [`LinkPage`] for a
//! technician's request to this enrolled computer), and where they see who
//! is accessing the computer.

use super::guard::{self, Refusal};
use super::state::{Answered, Conflict, LinkSession, Machine};
use crate::broker::list::{self, Readiness};
use crate::broker::{self, ConnectOptions, Person};
use crate::config::AgentConfig;
use crate::consent::{Answer, Ask, Question};
use crate::link::{PersonRequest, PersonRequests};
use crate::notice::{Notice, Notify};
use anyhow::Context;
use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use tether_shared::api::ApiError;
use tether_shared::broker::{
    LocalAcceptRequest, LocalAgentStatus, LocalChatRequest, LocalConnectRequest, LocalModeRequest,
};
use tokio::sync::{mpsc, oneshot};
use tokio::task::AbortHandle;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

/// Largest `/local` request body.
const MAX_BODY_BYTES: usize = 4096;

/// How to run the loopback UI.
#[derive(Debug, Clone)]
pub struct UiOptions {
    /// Must be a loopback address; port 0 picks one.
    pub listen: SocketAddr,
    /// The web app's built files (Trunk's `dist`); `None` serves a notice.
    pub ui_dir: Option<PathBuf>,
    pub connect: ConnectOptions,
}

/// A running loopback UI.
#[derive(Debug)]
pub struct LocalUi {
    pub addr: SocketAddr,
    secret: String,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl LocalUi {
    /// Binds and starts serving; reads (and, if it has only a server URL,
    /// refreshes) the configuration first.
    pub async fn start(options: UiOptions) -> anyhow::Result<Self> {
        if !options.listen.ip().is_loopback() {
            anyhow::bail!("the agent UI listens on loopback only, not {}", options.listen);
        }
        let listener = tokio::net::TcpListener::bind(options.listen)
            .await
            .with_context(|| format!("cannot listen on {}", options.listen))?;
        let addr = listener.local_addr()?;
        let secret = new_secret();
        let ready = readiness(&options.connect).await;
        let shared = Arc::new(Shared {
            port: addr.port(),
            secret: secret.clone(),
            connect: options.connect,
            inner: Mutex::new(Inner {
                machine: Machine::new(ready),
                task: None,
                reply: None,
                link_reply: None,
                link_requests: None,
                code_requests: None,
            }),
        });
        let app = router(shared.clone(), options.ui_dir);
        let server = tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(Self { addr, secret, shared, server })
    }

    /// The page's side for the enrolled computer's link: it asks the
    /// person about requests, shows who is accessing the computer, and
    /// sends the person's End session and "Allow only …" for a link's
    /// session to `requests`.
    pub fn link_page(&self, requests: PersonSender) -> LinkPage {
        self.shared.lock().link_requests = Some(requests);
        LinkPage { shared: self.shared.clone() }
    }

    /// The address to open, secret in the fragment (never sent to a server).
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/agent#key={}", self.addr.port(), self.secret)
    }

    /// The per-launch secret.
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// Stops serving.
    pub fn stop(&self) {
        self.server.abort();
    }

    /// Serves until `shutdown` completes or the server fails.
    pub async fn run_until(self, shutdown: impl std::future::Future<Output = ()>) -> anyhow::Result<()> {
        let mut server = self.server;
        tokio::select! {
            result = &mut server => result.context("the UI server stopped")?.context("the UI server failed"),
            () = shutdown => {
                server.abort();
                Ok(())
            }
        }
    }
}

/// 32 random bytes, hex.
fn new_secret() -> String {
    rand::random::<[u8; 32]>().iter().map(|byte| format!("{byte:02x}")).collect()
}

struct Shared {
    port: u16,
    secret: String,
    connect: ConnectOptions,
    inner: Mutex<Inner>,
}

struct Inner {
    machine: Machine,
    /// The running attempt's task.
    task: Option<AbortHandle>,
    /// Where the user's answer goes while a code's question is on screen.
    reply: Option<oneshot::Sender<Answer>>,
    /// Where it goes while the link's question (or one about a running
    /// session's mode) is on screen.
    link_reply: Option<oneshot::Sender<Answer>>,
    /// Where the person's requests about a link's session go.
    link_requests: Option<PersonSender>,
    /// Where the person's requests about the code's running session go.
    code_requests: Option<PersonSender>,
}

/// The page's end of a [`PersonRequests`] channel.
pub type PersonSender = mpsc::UnboundedSender<(String, PersonRequest)>;

/// The page as the enrolled computer's link sees it: asks the person about
/// a technician's request (one at a time: a newer question replaces an
/// older one, which then runs to its deadline) and shows who is accessing
/// the computer, from the link's notices.
#[derive(Clone)]
pub struct LinkPage {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for LinkPage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkPage").finish_non_exhaustive()
    }
}

impl Ask for LinkPage {
    fn ask(&self, question: &Question) -> oneshot::Receiver<Answer> {
        self.shared.ask_beside(question)
    }

    fn withdraw(&self, session_id: &str) {
        self.shared.withdraw_beside(session_id);
    }
}

impl LinkPage {
    /// Follows the link's sessions on the page.
    pub fn notice(&self, notice: &Notice) {
        let mut inner = self.shared.lock();
        match notice {
            Notice::SessionStarted { session_id, technician, mode, .. } => inner.machine.link_started(LinkSession {
                session_id: session_id.clone(),
                technician: technician.clone(),
                mode: *mode,
            }),
            Notice::SessionEnded { session_id, reason } => inner.machine.link_ended(session_id, reason),
            Notice::ModeChanged { session_id, mode, .. } => inner.machine.mode_changed(session_id, *mode),
            Notice::Chat { session_id, line } => inner.machine.chat(session_id, line.clone()),
            Notice::InUse { session_id, words } => inner.machine.in_use(session_id, words),
            Notice::Connected | Notice::Reconnecting | Notice::SessionDeclined { .. } => {}
        }
    }
}

/// Asks through the page: the question becomes the page's state until the
/// user answers with `/local/accept` or `/local/reject`.
struct UiAsker {
    shared: Arc<Shared>,
    attempt: u64,
}

impl std::fmt::Debug for UiAsker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UiAsker").field("attempt", &self.attempt).finish_non_exhaustive()
    }
}

impl Ask for UiAsker {
    fn ask(&self, question: &Question) -> oneshot::Receiver<Answer> {
        // A change of the running session's mode is asked over the session.
        if question.change_from.is_some() {
            return self.shared.ask_beside(question);
        }
        let (reply, answer) = oneshot::channel();
        let mut inner = self.shared.lock();
        inner.machine.asked(self.attempt, question.clone(), std::time::Instant::now());
        // A stale attempt's sender is dropped here: nobody answers it.
        if inner.machine.state().attempt() == Some(self.attempt) {
            inner.reply = Some(reply);
        }
        answer
    }

    fn withdraw(&self, session_id: &str) {
        self.shared.withdraw_beside(session_id);
    }
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").field("port", &self.port).finish_non_exhaustive()
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves a consistent state machine.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Puts a question beside a code's attempt (the link's request, or a
    /// change of a running session's mode): shown first; a newer one
    /// replaces an older one, which then runs to its deadline.
    fn ask_beside(&self, question: &Question) -> oneshot::Receiver<Answer> {
        let (reply, answer) = oneshot::channel();
        let mut inner = self.lock();
        inner.machine.link_asked(question.clone(), std::time::Instant::now());
        inner.link_reply = Some(reply);
        answer
    }

    /// The question beside the attempt about `session_id` is no longer open.
    fn withdraw_beside(&self, session_id: &str) {
        let mut inner = self.lock();
        inner.machine.link_withdrawn(session_id);
        if !inner.machine.is_asking() {
            inner.link_reply = None;
        }
    }
}

/// `Ok(server)` when codes can be taken, else the message why not. An
/// agent with a server URL but no broker list contacts its server first.
async fn readiness(options: &ConnectOptions) -> Result<String, String> {
    let config = AgentConfig::load_optional(&options.config_path).map_err(|err| format!("{err:#}"))?;
    match list::readiness(config.as_ref()) {
        Readiness::NotConfigured => Err(list::NOT_CONFIGURED.to_owned()),
        Readiness::Ready { server, .. } => Ok(server),
        Readiness::NeedsContact { server } => {
            let config = config.ok_or_else(|| list::NOT_CONFIGURED.to_owned())?;
            match list::refresh(&list::http_client(), &options.config_path, config).await {
                Ok(_) => Ok(server),
                Err(err) => Err(format!("{} ({err})", list::NOT_CONFIGURED)),
            }
        }
    }
}

fn router(shared: Arc<Shared>, ui_dir: Option<PathBuf>) -> Router {
    let local = Router::new()
        .route("/local/status", get(status))
        .route("/local/connect", post(connect))
        .route("/local/accept", post(accept))
        .route("/local/reject", post(reject))
        .route("/local/cancel", post(cancel))
        .route("/local/mode", post(narrow))
        .route("/local/chat", post(chat))
        .route("/local/reset", post(reset))
        .route_layer(middleware::from_fn_with_state(shared.clone(), require_key))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
    let app = match ui_dir {
        Some(dir) => {
            let index = ServeFile::new(dir.join("index.html"));
            local.fallback_service(ServeDir::new(dir).fallback(index))
        }
        None => local.fallback(no_ui),
    };
    app.layer(middleware::from_fn_with_state(shared.clone(), require_loopback_host))
        .layer(SetResponseHeaderLayer::overriding(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::overriding(
            header::HeaderName::from_static("x-content-type-options"),
            HeaderValue::from_static("nosniff"),
        ))
        .with_state(shared)
}

async fn require_loopback_host(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    match guard::check_host_and_origin(request.headers(), shared.port) {
        Ok(()) => next.run(request).await,
        Err(refusal) => refused(refusal),
    }
}

async fn require_key(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    match guard::check_key(request.headers(), &shared.secret) {
        Ok(()) => next.run(request).await,
        Err(refusal) => refused(refusal),
    }
}

fn refused(refusal: Refusal) -> Response {
    error(StatusCode::FORBIDDEN, refusal.code(), refusal.to_string())
}

fn error(status: StatusCode, code: &str, message: String) -> Response {
    (status, Json(ApiError { error: code.to_owned(), message })).into_response()
}

fn conflict(conflict: Conflict) -> Response {
    let code = match conflict {
        Conflict::NotConfigured(_) => "not_configured",
        Conflict::Busy => "busy",
        Conflict::NothingToCancel => "nothing_to_cancel",
        Conflict::NothingToAnswer => "nothing_to_answer",
        Conflict::NotOffered(_) => "mode_not_offered",
        Conflict::NoSession => "no_session",
        Conflict::NotNarrower(_) => "mode_not_narrower",
    };
    error(StatusCode::CONFLICT, code, conflict.to_string())
}

async fn no_ui() -> Html<&'static str> {
    Html(
        "<!doctype html><title>Tether agent</title><p>The agent's web UI files are not installed \
         (start it with <code>--ui-dir</code>). You can enter a connection code with \
         <code>tether-agent connect CODE</code>.</p>",
    )
}

async fn status(State(shared): State<Arc<Shared>>) -> Json<LocalAgentStatus> {
    Json(shared.lock().machine.status())
}

async fn connect(
    State(shared): State<Arc<Shared>>,
    body: Result<Json<LocalConnectRequest>, JsonRejection>,
) -> Response {
    let request = match body {
        Ok(Json(request)) => request,
        Err(rejection) => return error(rejection.status(), "invalid_request", rejection.body_text()),
    };
    let mut inner = shared.lock();
    let attempt = match inner.machine.connect() {
        Ok(attempt) => attempt,
        Err(err) => return conflict(err),
    };
    let (requests, code_requests) = PersonRequests::channel();
    inner.code_requests = Some(requests);
    let task_shared = shared.clone();
    let task = tokio::spawn(async move {
        let progress_shared = task_shared.clone();
        let follower = task_shared.clone();
        let person = Person {
            ask: Arc::new(UiAsker { shared: task_shared.clone(), attempt }),
            requests: Some(code_requests),
            notify: Notify::new(move |notice| match notice {
                Notice::ModeChanged { session_id, mode, .. } => follower.lock().machine.mode_changed(session_id, *mode),
                Notice::Chat { session_id, line } => follower.lock().machine.chat(session_id, line.clone()),
                Notice::InUse { session_id, words } => follower.lock().machine.in_use(session_id, words),
                _ => {}
            }),
        };
        let result = broker::connect::run(&task_shared.connect, &request.code, person, move |progress| {
            progress_shared.lock().machine.progress(attempt, progress);
        })
        .await;
        match &result {
            Ok(reason) => tracing::info!(%reason, "the session ended"),
            Err(err) => tracing::warn!(error = %err, "taking the connection code failed"),
        }
        let ready = readiness(&task_shared.connect).await;
        task_shared.lock().machine.finished(attempt, result, ready);
    });
    inner.task = Some(task.abort_handle());
    (StatusCode::ACCEPTED, Json(inner.machine.status())).into_response()
}

/// Yes, as asked or (with a body naming one of the choices) in a narrower
/// mode.
async fn accept(
    State(shared): State<Arc<Shared>>,
    body: Result<Option<Json<LocalAcceptRequest>>, JsonRejection>,
) -> Response {
    let picked = match body {
        Ok(body) => body.and_then(|Json(request)| request.mode),
        Err(rejection) => return error(rejection.status(), "invalid_request", rejection.body_text()),
    };
    let offered = shared.lock().machine.offered_mode();
    match picked.or(offered) {
        Some(mode) => answer(&shared, Answer::Accept(mode)),
        None => conflict(Conflict::NothingToAnswer),
    }
}

async fn reject(State(shared): State<Arc<Shared>>) -> Response {
    answer(&shared, Answer::Reject)
}

/// Hands the user's answer to the attempt that asked.
fn answer(shared: &Shared, answer: Answer) -> Response {
    let mut inner = shared.lock();
    let reply = match inner.machine.answered(answer) {
        Ok(Answered::Attempt(_)) => inner.reply.take(),
        Ok(Answered::Link) => inner.link_reply.take(),
        Err(err) => return conflict(err),
    };
    match reply.map(|reply| reply.send(answer)) {
        Some(Ok(())) => {}
        // The attempt stopped waiting (timed out, or the session ended).
        Some(Err(_)) | None => tracing::info!("the answer came after the question was withdrawn"),
    }
    Json(inner.machine.status()).into_response()
}

async fn cancel(State(shared): State<Arc<Shared>>) -> Response {
    // Cancelling a question on screen is rejecting it: the server hears so.
    if shared.lock().machine.is_asking() {
        return answer(&shared, Answer::Reject);
    }
    // Ending a session of the link: the link ends it, and its notice
    // takes it off the page.
    {
        let inner = shared.lock();
        if let Some(session_id) = inner.machine.shown_link_session() {
            let end = (session_id.to_owned(), PersonRequest::End);
            let sent = inner.link_requests.as_ref().is_some_and(|requests| requests.send(end).is_ok());
            if !sent {
                tracing::warn!(%session_id, "cannot reach the link to end its session");
                return error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "link_unavailable",
                    "the agent's link is not running".into(),
                );
            }
            return (StatusCode::ACCEPTED, Json(inner.machine.status())).into_response();
        }
    }
    let ready = readiness(&shared.connect).await;
    let mut inner = shared.lock();
    if let Err(err) = inner.machine.cancel(ready) {
        return conflict(err);
    }
    // Aborting drops the session handle, which ends the session.
    if let Some(task) = inner.task.take() {
        task.abort();
    }
    Json(inner.machine.status()).into_response()
}

/// "Allow only …": the session on screen goes on in a narrower mode, at
/// once (the link or the code's session carries it out and its notice
/// updates the page).
async fn narrow(State(shared): State<Arc<Shared>>, body: Result<Json<LocalModeRequest>, JsonRejection>) -> Response {
    let mode = match body {
        Ok(Json(request)) => request.mode,
        Err(rejection) => return error(rejection.status(), "invalid_request", rejection.body_text()),
    };
    let inner = shared.lock();
    let Some((session_id, current, from_link)) = inner.machine.shown_session() else {
        return conflict(Conflict::NoSession);
    };
    if !mode.is_narrower_than(current) {
        return conflict(Conflict::NotNarrower(mode.name()));
    }
    person_request(&inner, session_id, from_link, PersonRequest::Narrow(mode))
}

/// A chat line from the person for the technician of the session on
/// screen; it shows once the server has recorded it and sent it back.
async fn chat(State(shared): State<Arc<Shared>>, body: Result<Json<LocalChatRequest>, JsonRejection>) -> Response {
    let text = match body.map(|Json(request)| tether_shared::chat::check_text(&request.text)) {
        Ok(Ok(text)) => text,
        Ok(Err(bad)) => return error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_chat", bad.to_string()),
        Err(rejection) => return error(rejection.status(), "invalid_request", rejection.body_text()),
    };
    let inner = shared.lock();
    let Some((session_id, _, from_link)) = inner.machine.shown_session() else {
        return conflict(Conflict::NoSession);
    };
    person_request(&inner, session_id, from_link, PersonRequest::Say(text))
}

/// Sends the person's `request` about the session on screen to the link
/// or the code's session; 202 with the status, or 503 if neither listens.
fn person_request(inner: &Inner, session_id: &str, from_link: bool, request: PersonRequest) -> Response {
    let requests = if from_link { &inner.link_requests } else { &inner.code_requests };
    let sent = requests.as_ref().is_some_and(|requests| requests.send((session_id.to_owned(), request)).is_ok());
    if !sent {
        tracing::warn!(%session_id, "cannot reach the session on screen");
        return error(StatusCode::SERVICE_UNAVAILABLE, "session_unavailable", "the session cannot be reached".into());
    }
    (StatusCode::ACCEPTED, Json(inner.machine.status())).into_response()
}

async fn reset(State(shared): State<Arc<Shared>>) -> Response {
    let ready = readiness(&shared.connect).await;
    let mut inner = shared.lock();
    match inner.machine.reset(ready) {
        Ok(()) => Json(inner.machine.status()).into_response(),
        Err(err) => conflict(err),
    }
}
