//! Drives the [`Machine`] in the browser: carries out its commands with the
//! signalling socket and the peer connection, feeds it their events and
//! its timer, polls `getStats()` once a second, and publishes what the page
//! shows through signals, including what the agent reports on the control
//! channel (applied quality, the remote cursor).
//!
//! Event handlers hold only a `Weak` reference, so dropping the
//! [`Controller`] (when the page unmounts) drops the socket and the peer
//! connection, which close themselves.

use super::file_tools::{FileTools, FilesView, Outgoing};
use super::mode_request::ModeRequest;
use super::tools::{self, ToolStatus};
use crate::controller::control::{AppliedView, CursorView, MonitorsView, RemoteControl, Update};
use crate::controller::guide;
use crate::controller::machine::{Command, Input, Machine, PeerState, Status};
use crate::controller::peer::{Applying, PeerEvent, PeerLink, apply, describe, make_offer, stats_objects};
use crate::controller::socket::{SignalSocket, SocketEvent, signal_url};
use crate::controller::stats::{Sample, StatsView};
use crate::session::Session;
use leptos::html::Video;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::{Rc, Weak};
use std::time::Duration;
use tether_shared::chat::ChatLine;
use tether_shared::control::{ControllerToAgent, QualityPreset, encode};
use tether_shared::guidance::{self, Shape};
use tether_shared::input::{InputEvent, encode_input};
use tether_shared::local_input::{LocalUse, LockState};
use tether_shared::media_path::AgentEnd;
use tether_shared::mode::SessionMode;
use tether_shared::monitor::View;
use tether_shared::privacy::PrivacyState;
use tether_shared::signal::{ControllerToServer, ServerToController};
use tether_shared::system_info::{self, SystemReport};
use tether_shared::tool::Tool;
use tether_shared::{clipboard, tool_message};

/// How often the stats are read.
const STATS_EVERY: Duration = Duration::from_secs(1);

/// What the page shows, updated by the controller.
#[derive(Debug, Clone, Copy)]
pub struct ControllerView {
    /// The connection state line.
    pub status: RwSignal<Status>,
    /// The latest stats, once the first `getStats()` answered.
    pub stats: RwSignal<Option<StatsView>>,
    /// Something worth telling that does not change the status.
    pub notice: RwSignal<Option<String>>,
    /// Whether the input channel is open.
    pub input_ready: RwSignal<bool>,
    /// The stream settings the agent says are in force.
    pub applied: RwSignal<Option<AppliedView>>,
    /// The drawing tool's last request.
    pub guide: RwSignal<ToolStatus>,
    /// Whether the person is using their own mouse or keyboard (the
    /// technician's input waits).
    pub local_use: RwSignal<bool>,
    /// Where the local-input lock stands.
    pub lock: RwSignal<LockState>,
    /// Where the privacy screen stands.
    pub privacy: RwSignal<PrivacyState>,
    /// How the agent's end of the media path is reached, as it last said.
    pub agent_path: RwSignal<Option<AgentEnd>>,
    /// The computer's monitors and which part is shown (once it said).
    pub monitors: RwSignal<Option<MonitorsView>>,
    /// The preset the technician picked last (pending until applied).
    pub requested: RwSignal<Option<QualityPreset>>,
    /// The remote pointer, once the agent reported it.
    pub cursor: RwSignal<Option<CursorView>>,
    /// `host:port` of the broker (TURN relay) the session goes through, as
    /// the server's `ready` names it.
    pub broker: RwSignal<Option<String>>,
    /// The mode the session runs in, once known.
    pub session_mode: RwSignal<Option<SessionMode>>,
    /// The technician's latest request to change the mode.
    pub mode_request: RwSignal<ModeRequest>,
    /// The session's chat, oldest first.
    pub chat: RwSignal<Vec<ChatLine>>,
    /// The clipboard tool's latest request.
    pub clipboard: RwSignal<ToolStatus>,
    /// The computer's clipboard text, as last received.
    pub remote_clipboard: RwSignal<Option<String>>,
    /// The system tool's latest request.
    pub system: RwSignal<ToolStatus>,
    /// The computer's system information, as last received.
    pub report: RwSignal<Option<SystemReport>>,
    /// The files tool.
    pub files: FilesView,
}

impl ControllerView {
    /// Fresh signals, owned by the calling component.
    pub fn new() -> Self {
        Self {
            status: RwSignal::new(Status::Connecting),
            stats: RwSignal::new(None),
            notice: RwSignal::new(None),
            input_ready: RwSignal::new(false),
            applied: RwSignal::new(None),
            monitors: RwSignal::new(None),
            guide: RwSignal::new(ToolStatus::Idle),
            local_use: RwSignal::new(false),
            lock: RwSignal::new(LockState::Unlocked { why: None }),
            privacy: RwSignal::new(PrivacyState::Off { why: None }),
            agent_path: RwSignal::new(None),
            requested: RwSignal::new(None),
            cursor: RwSignal::new(None),
            broker: RwSignal::new(None),
            session_mode: RwSignal::new(None),
            mode_request: RwSignal::new(ModeRequest::Idle),
            chat: RwSignal::new(Vec::new()),
            clipboard: RwSignal::new(ToolStatus::Idle),
            remote_clipboard: RwSignal::new(None),
            system: RwSignal::new(ToolStatus::Idle),
            report: RwSignal::new(None),
            files: FilesView::new(),
        }
    }
}

impl Default for ControllerView {
    fn default() -> Self {
        Self::new()
    }
}

/// The live controller of one session; cheap to clone.
#[derive(Clone)]
pub struct Controller {
    runtime: Rc<Runtime>,
}

impl std::fmt::Debug for Controller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Controller").field("session_id", &self.runtime.session_id).finish_non_exhaustive()
    }
}

/// One step for the machine.
enum Step {
    Input(Input),
    Timeout,
}

struct Runtime {
    session_id: String,
    session: Session,
    video: NodeRef<Video>,
    view: ControllerView,
    machine: RefCell<Machine>,
    /// Steps waiting while an earlier one is being carried out, so that
    /// commands run in the order the machine gave them.
    steps: RefCell<VecDeque<Step>>,
    busy: Cell<bool>,
    socket: RefCell<Option<SignalSocket>>,
    /// Bumped whenever a socket is opened or closed, so that the work of an
    /// older one (a token fetch in flight) stops.
    socket_generation: Cell<u32>,
    peer: RefCell<Option<(u32, PeerLink)>>,
    timer: Cell<Option<TimeoutHandle>>,
    stats_interval: Cell<Option<IntervalHandle>>,
    previous_sample: RefCell<Option<Sample>>,
    /// The control channel's state (cursor shapes) for the current peer.
    remote: RefCell<RemoteControl>,
    /// The files tool; set once the runtime exists (it sends through it).
    files: RefCell<Option<Rc<FileTools>>>,
    stopped: Cell<bool>,
}

fn now() -> f64 {
    web_sys::window().and_then(|window| window.performance()).map_or_else(js_sys::Date::now, |p| p.now())
}

impl Controller {
    /// Starts connecting to session `session_id`; the remote picture goes
    /// into `video`, the rest into `view`.
    pub fn start(session_id: String, session: Session, video: NodeRef<Video>, view: ControllerView) -> Self {
        let runtime = Rc::new(Runtime {
            session_id,
            session,
            video,
            view,
            machine: RefCell::new(Machine::new()),
            steps: RefCell::new(VecDeque::new()),
            busy: Cell::new(false),
            socket: RefCell::new(None),
            socket_generation: Cell::new(0),
            peer: RefCell::new(None),
            timer: Cell::new(None),
            stats_interval: Cell::new(None),
            previous_sample: RefCell::new(None),
            remote: RefCell::new(RemoteControl::default()),
            files: RefCell::new(None),
            stopped: Cell::new(false),
        });
        let weak = Rc::downgrade(&runtime);
        let send = move |outgoing: Outgoing| {
            let Some(runtime) = weak.upgrade() else { return };
            let mut peer = runtime.peer.borrow_mut();
            let Some((_, link)) = peer.as_mut() else { return };
            match outgoing {
                Outgoing::Text(text) => link.send_tool(Tool::Files, text),
                Outgoing::Binary(data) => {
                    if !link.send_tool_binary(Tool::Files, &data) {
                        web_sys::console::warn_1(&"a file chunk found the files channel closed".into());
                    }
                }
            }
        };
        runtime.files.replace(Some(FileTools::new(runtime.view.files, Rc::new(send))));
        let weak = Rc::downgrade(&runtime);
        let poll = move || {
            if let Some(runtime) = weak.upgrade() {
                runtime.poll_stats();
                // The agent lets a lock lapse without these.
                let heartbeat = encode(&ControllerToAgent::Heartbeat {});
                if let Some((_, link)) = runtime.peer.borrow().as_ref() {
                    link.send_control(&heartbeat);
                }
            }
        };
        if let Ok(interval) = set_interval_with_handle(poll, STATS_EVERY) {
            runtime.stats_interval.set(Some(interval));
        }
        runtime.machine.borrow_mut().start();
        runtime.run(None);
        Self { runtime }
    }

    /// Sends one input event to the agent; false if the input channel is not open.
    pub fn send_input(&self, event: &InputEvent) -> bool {
        self.runtime.peer.borrow().as_ref().is_some_and(|(_, link)| link.send_input(&encode_input(event)))
    }

    /// Asks the agent to stream with `preset`; false if the control
    /// channel is not open.
    pub fn set_quality(&self, preset: QualityPreset) -> bool {
        let message = encode(&ControllerToAgent::SetQuality { preset });
        let sent = self.runtime.peer.borrow().as_ref().is_some_and(|(_, link)| link.send_control(&message));
        if sent {
            self.runtime.view.requested.set(Some(preset));
        }
        sent
    }

    /// Asks the agent to lock (or unlock) the person's own keyboard and
    /// mouse; false if the control channel is not open.
    pub fn lock_input(&self, on: bool) -> bool {
        let message = encode(&ControllerToAgent::Lock { on });
        self.runtime.peer.borrow().as_ref().is_some_and(|(_, link)| link.send_control(&message))
    }

    /// Asks the agent to put the privacy screen up (which locks the
    /// person's keyboard and mouse too) or take it away; false if the
    /// control channel is not open.
    pub fn privacy_screen(&self, on: bool) -> bool {
        let message = encode(&ControllerToAgent::Privacy { on });
        self.runtime.peer.borrow().as_ref().is_some_and(|(_, link)| link.send_control(&message))
    }

    /// Asks the agent to show `view` (a monitor, or all); false if the
    /// control channel is not open.
    pub fn show(&self, view: View) -> bool {
        let message = encode(&ControllerToAgent::Show { view });
        self.runtime.peer.borrow().as_ref().is_some_and(|(_, link)| link.send_control(&message))
    }

    /// Ends the session: `bye` to the agent, then everything closes.
    pub fn end(&self) {
        self.runtime.run(Some(Step::Input(Input::End)));
    }

    /// Asks for the session to run in `mode` from now on.
    pub fn request_mode(&self, mode: SessionMode) {
        self.runtime.run(Some(Step::Input(Input::RequestMode(mode))));
    }

    /// Sends a chat line (already checked) to the session.
    pub fn say(&self, text: String) {
        self.runtime.run(Some(Step::Input(Input::Say(text))));
    }

    /// Puts `text` on the computer's clipboard.
    pub fn send_clipboard(&self, text: String) {
        self.use_tool(Tool::Clipboard, self.runtime.view.clipboard, &clipboard::ControllerToAgent::Set { text });
    }

    /// Asks for the text on the computer's clipboard.
    pub fn fetch_clipboard(&self) {
        self.use_tool(Tool::Clipboard, self.runtime.view.clipboard, &clipboard::ControllerToAgent::Get {});
    }

    /// Draws `shape` on the person's screen; it fades unless `keep`.
    pub fn draw(&self, shape: Shape, keep: bool) {
        self.use_tool(Tool::Guide, self.runtime.view.guide, &guidance::ControllerToAgent::Draw { shape, keep });
    }

    /// Takes the drawing off the person's screen.
    pub fn clear_drawing(&self) {
        self.use_tool(Tool::Guide, self.runtime.view.guide, &guidance::ControllerToAgent::Clear {});
    }

    /// Asks for the computer's system information.
    pub fn refresh_system(&self) {
        self.use_tool(Tool::System, self.runtime.view.system, &system_info::ControllerToAgent::Refresh {});
    }

    fn use_tool(&self, tool: Tool, status: RwSignal<ToolStatus>, message: &impl serde::Serialize) {
        let mut peer = self.runtime.peer.borrow_mut();
        let Some((_, link)) = peer.as_mut() else {
            status.set(ToolStatus::Failed("Not connected to the computer.".into()));
            return;
        };
        status.set(ToolStatus::Waiting);
        link.send_tool(tool, tool_message::encode(message));
    }

    /// The files tool, to browse, send, take, cancel and resume.
    pub fn files(&self) -> Option<Rc<FileTools>> {
        self.runtime.files.borrow().clone()
    }

    /// Starts over after a failure.
    pub fn retry(&self) {
        self.runtime.run(Some(Step::Input(Input::Retry)));
    }

    /// Leaves the page: ends the session if it is still live and stops
    /// every timer. Nothing is reported afterwards.
    pub fn stop(&self) {
        self.end();
        let runtime = &self.runtime;
        runtime.stopped.set(true);
        if let Some(timer) = runtime.timer.take() {
            timer.clear();
        }
        if let Some(interval) = runtime.stats_interval.take() {
            interval.clear();
        }
        runtime.peer.replace(None);
        runtime.socket.replace(None);
    }
}

impl Runtime {
    /// Feeds `step` (if any) and carries out the commands that follow.
    /// Re-entrant calls queue their step for the loop already running.
    fn run(self: &Rc<Self>, step: Option<Step>) {
        if self.stopped.get() {
            return;
        }
        if let Some(step) = step {
            self.steps.borrow_mut().push_back(step);
        }
        if self.busy.replace(true) {
            return;
        }
        loop {
            loop {
                let command = self.machine.borrow_mut().poll_command();
                let Some(command) = command else { break };
                self.execute(command);
            }
            let step = self.steps.borrow_mut().pop_front();
            match step {
                Some(Step::Input(input)) => self.machine.borrow_mut().handle(input, now()),
                Some(Step::Timeout) => self.machine.borrow_mut().handle_timeout(now()),
                None => break,
            }
        }
        self.busy.set(false);
        self.publish();
    }

    fn feed(self: &Rc<Self>, input: Input) {
        self.run(Some(Step::Input(input)));
    }

    /// Shows the machine's status and sets its timer.
    fn publish(self: &Rc<Self>) {
        let machine = self.machine.borrow();
        let status = machine.status().clone();
        if self.view.status.with_untracked(|shown| shown != &status) {
            self.view.status.set(status);
        }
        if self.view.session_mode.get_untracked() != machine.mode() {
            self.view.session_mode.set(machine.mode());
            // A mode with control again: the agent closed the input
            // channel while it had none, so open a new one.
            if machine.mode().is_some_and(|mode| mode.access().contains(tether_shared::access::Access::Control))
                && let Some((_, link)) = self.peer.borrow_mut().as_mut()
            {
                link.reopen_input();
            }
        }
        if self
            .view
            .chat
            .with_untracked(|shown| shown.len() != machine.chat().len() || shown.last() != machine.chat().back())
        {
            self.view.chat.set(machine.chat().iter().cloned().collect());
        }
        if self.view.mode_request.with_untracked(|shown| shown != machine.mode_request()) {
            self.view.mode_request.set(machine.mode_request().clone());
        }
        if let Some(timer) = self.timer.take() {
            timer.clear();
        }
        if let Some(at) = machine.poll_timeout() {
            let weak = Rc::downgrade(self);
            let wake = move || {
                if let Some(runtime) = weak.upgrade() {
                    runtime.timer.set(None);
                    runtime.run(Some(Step::Timeout));
                }
            };
            // Whole milliseconds, at least zero.
            let delay = Duration::from_millis((at - now()).max(0.0).ceil() as u64);
            self.timer.set(set_timeout_with_handle(wake, delay).ok());
        }
    }

    fn execute(self: &Rc<Self>, command: Command) {
        match command {
            Command::OpenSocket => self.open_socket(),
            Command::Send(message) => {
                if let Some(socket) = self.socket.borrow().as_ref() {
                    socket.send(&message);
                }
            }
            Command::StartPeer { peer, ice_servers } => {
                self.close_peer();
                let weak = Rc::downgrade(self);
                let on_event: Rc<dyn Fn(PeerEvent)> = Rc::new(move |event| {
                    if let Some(runtime) = weak.upgrade() {
                        runtime.on_peer_event(peer, event);
                    }
                });
                match PeerLink::new(&ice_servers, on_event) {
                    Ok(link) => {
                        let connection = link.connection();
                        self.peer.replace(Some((peer, link)));
                        self.offer(peer, connection, false);
                    }
                    Err(err) => self.feed(Input::PeerError { peer, error: describe(&err) }),
                }
            }
            Command::RestartIce { peer } => {
                if let Some(connection) = self.connection_of(peer) {
                    self.offer(peer, connection, true);
                }
            }
            Command::ToPeer { peer, signal } => {
                let Some(connection) = self.connection_of(peer) else { return };
                let weak = Rc::downgrade(self);
                match apply(&connection, &signal) {
                    Some(Applying::Answer(applied)) => spawn_local(async move {
                        if let Err(err) = applied.await
                            && let Some(runtime) = weak.upgrade()
                        {
                            runtime.feed(Input::PeerError { peer, error: describe(&err) });
                        }
                    }),
                    Some(Applying::Candidate(applied)) => spawn_local(async move {
                        if let Err(err) = applied.await {
                            let text = format!("ignoring a remote ICE candidate: {}", describe(&err));
                            web_sys::console::warn_1(&text.into());
                        }
                    }),
                    None => {}
                }
            }
            Command::ClosePeer => self.close_peer(),
            Command::CloseSocket => {
                self.socket_generation.set(self.socket_generation.get().wrapping_add(1));
                self.socket.replace(None);
            }
            Command::Notice(text) => self.view.notice.set(Some(text)),
        }
    }

    /// Makes peer `peer`'s offer and reports it to the machine.
    fn offer(self: &Rc<Self>, peer: u32, connection: web_sys::RtcPeerConnection, ice_restart: bool) {
        let weak = Rc::downgrade(self);
        spawn_local(async move {
            let offer = make_offer(&connection, ice_restart).await;
            let Some(runtime) = weak.upgrade() else { return };
            runtime.feed(match offer {
                Ok(sdp) => Input::OfferCreated { peer, sdp },
                Err(err) => Input::PeerError { peer, error: describe(&err) },
            });
        });
    }

    fn connection_of(&self, peer: u32) -> Option<web_sys::RtcPeerConnection> {
        self.peer.borrow().as_ref().filter(|(id, _)| *id == peer).map(|(_, link)| link.connection())
    }

    fn close_peer(&self) {
        let had_peer = self.peer.replace(None).is_some();
        self.previous_sample.replace(None);
        self.view.input_ready.set(false);
        // A new connection has a new control channel: the agent starts
        // its shape cache over, and so do we.
        self.remote.replace(RemoteControl::default());
        self.view.cursor.set(None);
        // Its files channel went with it (the browser does not always say
        // so on a connection that dropped): what was moving is interrupted,
        // and resumes on the next connection.
        if had_peer && let Some(files) = self.files.borrow().clone() {
            files.on_closed();
        }
    }

    /// Gets a token the server accepts (refreshing it if needed), then
    /// opens the socket and authenticates with it.
    fn open_socket(self: &Rc<Self>) {
        let generation = self.socket_generation.get().wrapping_add(1);
        self.socket_generation.set(generation);
        self.socket.replace(None);
        let weak = Rc::downgrade(self);
        let session = self.session;
        spawn_local(async move {
            let auth = session.call(|api| async move { api.me().await.map(|_| api.signal_auth()) }).await;
            let Some(runtime) = weak.upgrade() else { return };
            if runtime.socket_generation.get() != generation {
                return;
            }
            match auth {
                Ok(auth) => runtime.connect(generation, auth),
                Err(failure) => {
                    runtime.view.notice.set(Some(failure.message()));
                    runtime.feed(Input::SocketClosed);
                }
            }
        });
    }

    fn connect(self: &Rc<Self>, generation: u32, auth: ControllerToServer) {
        let location = web_sys::window().map(|window| window.location());
        let protocol = location.as_ref().and_then(|l| l.protocol().ok()).unwrap_or_default();
        let host = location.as_ref().and_then(|l| l.host().ok()).unwrap_or_default();
        let url = signal_url(&protocol, &host, &self.session_id);
        let weak: Weak<Runtime> = Rc::downgrade(self);
        let opened = SignalSocket::open(&url, move |event| {
            let Some(runtime) = weak.upgrade() else { return };
            if runtime.socket_generation.get() != generation {
                return;
            }
            match event {
                SocketEvent::Open => {
                    if let Some(socket) = runtime.socket.borrow().as_ref() {
                        socket.send(&auth);
                    }
                }
                SocketEvent::Message(message) => {
                    if let ServerToController::Ready { broker, .. } = &message {
                        runtime.view.broker.set(broker.clone());
                    }
                    runtime.feed(Input::Server(message));
                }
                SocketEvent::Closed => runtime.feed(Input::SocketClosed),
            }
        });
        match opened {
            Ok(socket) => {
                self.socket.replace(Some(socket));
            }
            Err(err) => {
                self.view.notice.set(Some(format!("Cannot open the signalling connection: {err}")));
                self.feed(Input::SocketClosed);
            }
        }
    }

    fn on_peer_event(self: &Rc<Self>, peer: u32, event: PeerEvent) {
        match event {
            PeerEvent::Candidate(signal) => self.feed(Input::LocalCandidate { peer, signal }),
            PeerEvent::State(state) => {
                // The connection dropped: what was moving stops here, and
                // goes on from what arrived once it is back (whether an ICE
                // restart revives this connection or a fresh one replaces it).
                if matches!(state, PeerState::Disconnected | PeerState::Failed)
                    && self.connection_of(peer).is_some()
                    && let Some(files) = self.files.borrow().clone()
                {
                    files.on_closed();
                }
                self.feed(Input::PeerState { peer, state });
                // Back on a connection: interrupted transfers go on.
                if state == PeerState::Connected
                    && self.connection_of(peer).is_some()
                    && let Some(files) = self.files.borrow().clone()
                {
                    files.resume_interrupted();
                }
            }
            PeerEvent::Track(track) => {
                if self.connection_of(peer).is_none() {
                    return;
                }
                let Ok(stream) = web_sys::MediaStream::new() else { return };
                stream.add_track(&track);
                if let Some(video) = self.video.get_untracked() {
                    video.set_src_object(Some(&stream));
                }
            }
            PeerEvent::InputChannel(open) => {
                if self.connection_of(peer).is_some() {
                    self.view.input_ready.set(open);
                }
            }
            PeerEvent::ToolMessage(tool, text) => {
                if self.connection_of(peer).is_none() {
                    return;
                }
                let view = &self.view;
                match tool {
                    Tool::Clipboard => {
                        let (status, text) = tools::clipboard_answer(text.as_bytes());
                        if text.is_some() {
                            view.remote_clipboard.set(text);
                        }
                        view.clipboard.set(status);
                    }
                    Tool::System => {
                        let (status, report) = tools::system_answer(text.as_bytes());
                        if report.is_some() {
                            view.report.set(report);
                        }
                        view.system.set(status);
                    }
                    Tool::Files => {
                        if let Some(files) = self.files.borrow().clone() {
                            files.on_text(text.as_bytes());
                        }
                    }
                    Tool::Guide => view.guide.set(guide::answer(text.as_bytes())),
                    Tool::Input | Tool::Control => {}
                }
            }
            PeerEvent::ToolBinary(Tool::Files, data) => {
                if self.connection_of(peer).is_some()
                    && let Some(files) = self.files.borrow().clone()
                {
                    files.on_binary(data);
                }
            }
            PeerEvent::ToolBinary(..) => {}
            PeerEvent::ToolClosed(Tool::Files) => {
                if let Some(files) = self.files.borrow().clone() {
                    files.on_closed();
                }
            }
            PeerEvent::ToolClosed(tool) => {
                let status = match tool {
                    Tool::Clipboard => self.view.clipboard,
                    Tool::System => self.view.system,
                    Tool::Guide => self.view.guide,
                    Tool::Input | Tool::Control | Tool::Files => return,
                };
                let waiting = status.get_untracked() == ToolStatus::Waiting;
                if let Some(failed) = tools::closed(tool, waiting) {
                    status.set(failed);
                }
            }
            PeerEvent::Control(text) => {
                if self.connection_of(peer).is_none() {
                    return;
                }
                let update = self.remote.borrow_mut().handle(&text);
                match update {
                    Ok(Update::Applied(applied)) => self.view.applied.set(Some(applied)),
                    Ok(Update::Cursor(cursor)) => self.view.cursor.set(Some(cursor)),
                    Ok(Update::Monitors(monitors)) => self.view.monitors.set(Some(monitors)),
                    Ok(Update::LocalUse(state)) => self.view.local_use.set(state == LocalUse::InUse),
                    Ok(Update::Lock(state)) => self.view.lock.set(state),
                    Ok(Update::Privacy(state)) => self.view.privacy.set(state),
                    Ok(Update::Path(end)) => self.view.agent_path.set(Some(end)),
                    Ok(Update::Nothing) => {}
                    Err(reason) => {
                        web_sys::console::warn_1(&format!("dropping a control message: {reason}").into());
                    }
                }
            }
        }
    }

    fn poll_stats(self: &Rc<Self>) {
        let Some((peer, connection)) = self.peer.borrow().as_ref().map(|(peer, link)| (*peer, link.connection()))
        else {
            return;
        };
        let weak = Rc::downgrade(self);
        spawn_local(async move {
            let objects = stats_objects(&connection).await;
            let Some(runtime) = weak.upgrade() else { return };
            let Ok(objects) = objects else { return };
            if runtime.connection_of(peer).is_none() {
                return;
            }
            let sample = Sample::parse(objects.iter().map(String::as_str));
            let view = StatsView::between(runtime.previous_sample.borrow().as_ref(), &sample);
            runtime.previous_sample.replace(Some(sample));
            runtime.view.stats.set(Some(view));
        });
    }
}
