//! The `clipboard` data channel, agent side: the technician's text goes on
//! the display's clipboard, or what the clipboard holds goes back, each
//! only on request (`tether_shared::clipboard`). The clipboard lives on a
//! thread of its own (`arboard`, which serves X11 selection requests while
//! it owns the clipboard, and hands the text to a clipboard manager when it
//! closes, where the desktop runs one).

use super::channels::next_message;
use std::sync::Arc;
use std::sync::mpsc as std_mpsc;
use tether_shared::clipboard::{AgentToController, ControllerToAgent, check_text, decode_from_controller};
use tether_shared::tool_message::encode;
use tokio::sync::oneshot;
use webrtc::data_channel::DataChannel;

/// What was done with the clipboard, for the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClipboardUse {
    /// The technician's text (this many characters) is on the clipboard.
    Set { chars: usize },
    /// The clipboard's text (this many characters) went to the technician.
    Taken { chars: usize },
}

type Job = (ControllerToAgent, oneshot::Sender<AgentToController>);

/// Serves the clipboard channel until it closes; `on_use` hears of each
/// change before it is made and of each read before its text goes out.
pub async fn serve(channel: Arc<dyn DataChannel>, display: Option<String>, on_use: impl Fn(ClipboardUse)) {
    let (jobs, queue) = std_mpsc::channel::<Job>();
    let thread =
        std::thread::Builder::new().name("tether-clipboard".into()).spawn(move || clipboard_thread(display, queue));
    if let Err(err) = thread {
        tracing::error!(error = %err, "cannot start the clipboard thread");
        return;
    }
    while let Some(message) = next_message(&channel).await {
        let answer = match decode_from_controller(&message.data) {
            Ok(request) => {
                if let ControllerToAgent::Set { text } = &request {
                    on_use(ClipboardUse::Set { chars: text.chars().count() });
                }
                let (reply, answer) = oneshot::channel();
                if jobs.send((request, reply)).is_err() {
                    break;
                }
                answer.await.unwrap_or(AgentToController::Failed { reason: "the clipboard stopped".into() })
            }
            Err(reason) => AgentToController::Failed { reason: reason.to_string() },
        };
        match &answer {
            AgentToController::Stored { .. } => {}
            AgentToController::Text { text } => on_use(ClipboardUse::Taken { chars: text.chars().count() }),
            AgentToController::Failed { reason } => tracing::warn!(%reason, "a clipboard request failed"),
        }
        if let Err(err) = channel.send_text(&encode(&answer)).await {
            tracing::debug!(error = %err, "the clipboard channel is closing");
            break;
        }
    }
    // Dropping `jobs` ends the thread, which lets the clipboard go.
}

fn clipboard_thread(display: Option<String>, queue: std_mpsc::Receiver<Job>) {
    let mut clipboard = same_display(display.as_deref()).and_then(|()| {
        arboard::Clipboard::new().map_err(|err| format!("this computer's clipboard is unavailable: {err}"))
    });
    while let Ok((request, reply)) = queue.recv() {
        let answer = match clipboard.as_mut() {
            Err(reason) => AgentToController::Failed { reason: reason.clone() },
            Ok(clipboard) => handle(clipboard, request),
        };
        // The channel may have closed meanwhile: nobody to answer.
        let _ = reply.send(answer);
    }
}

/// arboard reaches the display named by `DISPLAY` only: a session that
/// streams another one must not touch that display's clipboard.
fn same_display(session_display: Option<&str>) -> Result<(), String> {
    let environment = std::env::var("DISPLAY").ok();
    match session_display {
        Some(session) if environment.as_deref() != Some(session) => Err(format!(
            "the clipboard is reachable only on the display in DISPLAY ({}), and this session shows {session}",
            environment.as_deref().unwrap_or("none")
        )),
        _ => Ok(()),
    }
}

fn handle(clipboard: &mut arboard::Clipboard, request: ControllerToAgent) -> AgentToController {
    match request {
        ControllerToAgent::Set { text } => match clipboard.set_text(text.as_str()) {
            Ok(()) => AgentToController::Stored { chars: text.chars().count() },
            Err(err) => AgentToController::Failed { reason: format!("cannot set the clipboard: {err}") },
        },
        ControllerToAgent::Get {} => match clipboard.get_text() {
            Ok(text) => match check_text(&text) {
                None => AgentToController::Text { text },
                Some(reason) => AgentToController::Failed { reason },
            },
            Err(arboard::Error::ContentNotAvailable) => AgentToController::Text { text: String::new() },
            Err(err) => AgentToController::Failed { reason: format!("cannot read the clipboard: {err}") },
        },
    }
}
