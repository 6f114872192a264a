//! The controller's data channels: `input` carries input events, each
//! decoded strictly against the streamed display's size before anything
//! reaches the operating system; `control` carries quality changes one way
//! and the pointer the other ([`super::control`]). A channel whose access
//! the session's grant does not include (`input` without control,
//! `control` without view) is closed and reported; input arriving after
//! the grant withdrew control is dropped and reported once. `clipboard` and
//! `system` are served by their own modules, once the person allowed them
//! where the policy says so ([`super::assent`]).

use super::activity::ActivityCell;
use super::assent::ToolAssent;
use super::clipboard::{self, ClipboardUse};
use super::control::ControlContext;
use super::files::{self, FilesConfig, FilesContext, Uploads};
use super::local_use::LocalUseCell;
use super::media::{ShownArea, StreamControls};
use super::path_probe::PathProbe;
use super::{control, guide, system_info};
use crate::inject::{InjectError, Injector, InputGate};
use crate::session::Reporter;
use std::sync::Arc;
use tether_shared::access::Access;
use tether_shared::activity::Happening;
use tether_shared::grant::Grant;
use tether_shared::input::{InputEvent, decode_input};
use tether_shared::signal::{Refused, ToolEvent};
use tether_shared::tool::Tool;
use tokio::task::JoinHandle;
use webrtc::data_channel::{DataChannel, DataChannelEvent, RTCDataChannelMessage};

/// Where a session's channels live and report.
pub struct ChannelContext {
    pub controls: StreamControls,
    pub display: Option<String>,
    pub gate: InputGate,
    pub reporter: Reporter,
    pub assent: ToolAssent,
    /// The folders the files tool uses.
    pub files: FilesConfig,
    /// The session's unfinished incoming files.
    pub uploads: Uploads,
    /// What is in use right now.
    pub activity: ActivityCell,
    /// Whether the person is using their own mouse or keyboard.
    pub local_use: LocalUseCell,
    /// The agent's end of the media path.
    pub path: PathProbe,
}

/// A channel being served.
pub struct Served {
    /// The kind of access it needs.
    pub needs: Access,
    pub task: JoinHandle<()>,
}

/// Serves a data channel the controller opened, by its label, until it
/// closes — if `grant` includes the access it needs and, where the policy
/// wants it, once the person allowed it (asked in the channel's own task,
/// so the session goes on meanwhile).
pub async fn serve(channel: Arc<dyn DataChannel>, grant: Option<&Grant>, context: ChannelContext) -> Option<Served> {
    let label = match channel.label().await {
        Ok(label) => label,
        Err(err) => {
            tracing::warn!(error = %err, "a data channel closed before it could be served");
            return None;
        }
    };
    let Some(tool) = Tool::from_label(&label) else {
        tracing::warn!(label, "closing an unknown data channel");
        close(&channel).await;
        return None;
    };
    let grant = grant.cloned();
    let task = tokio::spawn(async move {
        if let Err(reason) = context.assent.admit(tool, grant.as_ref(), &context.reporter).await {
            context.reporter.refused(Refused::Channel, reason);
            close(&channel).await;
            return;
        }
        run_tool(tool, channel, grant, context).await;
    });
    Some(Served { needs: tool.needs(), task })
}

/// The next message on `channel`; `None` once it closed.
pub(super) async fn next_message(channel: &Arc<dyn DataChannel>) -> Option<RTCDataChannelMessage> {
    loop {
        match channel.poll().await? {
            DataChannelEvent::OnMessage(message) => return Some(message),
            DataChannelEvent::OnClose => return None,
            _ => {}
        }
    }
}

async fn close(channel: &Arc<dyn DataChannel>) {
    if let Err(err) = channel.close().await {
        tracing::debug!(error = %err, "closing a data channel failed");
    }
}

/// Whether `input` only lets go of something.
fn releases(input: &InputEvent) -> bool {
    matches!(
        input,
        InputEvent::MouseButton { down: false, .. } | InputEvent::Key { down: false, .. } | InputEvent::ReleaseAll
    )
}

async fn run_tool(tool: Tool, channel: Arc<dyn DataChannel>, grant: Option<Grant>, context: ChannelContext) {
    let ChannelContext { controls, display, gate, reporter, assent, files, uploads, activity, local_use, path } =
        context;
    match tool {
        Tool::Input => {
            let context = InputContext { area: controls.area().clone(), gate, reporter, activity, local_use };
            serve_input(channel, display, context).await;
        }
        Tool::Control => {
            let context = ControlContext { controls, display, local_use, grant, assent, reporter, path };
            control::serve(channel, context).await;
        }
        Tool::Clipboard => {
            let on_use = |used| {
                let event = match used {
                    ClipboardUse::Set { chars } => ToolEvent::ClipboardSet { chars: chars as u64 },
                    ClipboardUse::Taken { chars } => ToolEvent::ClipboardTaken { chars: chars as u64 },
                };
                reporter.tool(event);
            };
            clipboard::serve(channel, display, on_use).await;
        }
        Tool::System => system_info::serve(channel, || reporter.tool(ToolEvent::SystemInfoRead)).await,
        Tool::Files => {
            // Admitted only under a grant.
            let Some(grant) = grant else { return };
            let context = FilesContext { config: files, uploads, assent, grant, reporter, activity };
            files::serve(channel, context).await;
        }
        Tool::Guide => guide::serve(channel, controls.area().clone(), display, |event| reporter.tool(event)).await,
    }
}

/// What the input channel works with.
struct InputContext {
    area: ShownArea,
    gate: InputGate,
    reporter: Reporter,
    activity: ActivityCell,
    local_use: LocalUseCell,
}

async fn serve_input(channel: Arc<dyn DataChannel>, display: Option<String>, context: InputContext) {
    let InputContext { area, gate, reporter, activity, local_use } = context;
    let injector = match Injector::start(display, gate.clone()).await {
        Ok(injector) => Some(injector),
        Err(err) => {
            tracing::error!(error = format!("{err:#}"), "remote input is unavailable in this session");
            None
        }
    };
    // Reported once per withdrawal, not per event.
    let mut reported_refusal = false;
    // Whether what the controller held was let go since control went.
    let mut released = false;
    loop {
        let withdrawn = async {
            if released {
                std::future::pending::<()>().await;
            }
            gate.control_withdrawn().await;
        };
        let event = tokio::select! {
            event = channel.poll() => event,
            () = withdrawn => {
                // Refused by the gate, this lets go of every key and button held.
                if let Some(injector) = injector.as_ref()
                    && let Err(err) = injector.inject(InputEvent::ReleaseAll)
                {
                    tracing::warn!(error = %err, "cannot release the controller's input");
                }
                released = true;
                continue;
            }
        };
        let Some(event) = event else { break };
        match event {
            DataChannelEvent::OnMessage(message) => {
                if !gate.control_permitted() {
                    if !reported_refusal {
                        let reason = "input arrived while the session's grant does not include control".into();
                        reporter.refused(Refused::Input, reason);
                        reported_refusal = true;
                    }
                    continue;
                }
                reported_refusal = false;
                released = false;
                let Some(area) = area.get() else {
                    tracing::warn!("dropping an input message: the display size is not known yet");
                    continue;
                };
                match decode_input(&message.data, area.size()) {
                    // The person is using their own mouse or keyboard: the
                    // technician's presses and moves wait (releases go
                    // through, so nothing stays held).
                    Ok(input) if local_use.holds() && !releases(&input) => {}
                    Ok(input) => match injector.as_ref().map(|injector| injector.inject(area.place(input))) {
                        Some(Ok(())) => activity.note(Happening::Input),
                        None => {}
                        Some(Err(err @ InjectError::Full)) => tracing::warn!(error = %err, "dropping input"),
                        Some(Err(err @ InjectError::Stopped)) => tracing::error!(error = %err, "cannot inject input"),
                    },
                    Err(reason) => tracing::warn!(%reason, "dropping an input message"),
                }
            }
            DataChannelEvent::OnClose => break,
            _ => {}
        }
    }
    // Whatever the controller still held is released.
    if let Some(injector) = injector {
        injector.stop().await;
    }
}
