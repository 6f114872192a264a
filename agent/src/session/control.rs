//! The `control` data channel, agent side: the controller's quality and
//! monitor choices (decoded strictly) go to the capture thread; what
//! capture applied, the monitors and what is shown, and where the pointer
//! is on the shown part (and what it looks like) go back.

use super::cursor;
use super::local_use::LocalUseCell;
use super::media::{Applied, Showing, StreamControls};
use std::sync::Arc;
use tether_shared::control::{AgentToController, ControllerToAgent, decode_from_controller, encode};
use tokio::sync::{mpsc, watch};
use webrtc::data_channel::{DataChannel, DataChannelEvent};

/// Serves the control channel until it closes.
pub async fn serve(
    channel: Arc<dyn DataChannel>,
    controls: StreamControls,
    display: Option<String>,
    local_use: LocalUseCell,
) {
    let (cursor_messages, mut from_cursor) = mpsc::channel(16);
    if let Err(err) = cursor::watch(display, cursor_messages) {
        tracing::error!(error = format!("{err:#}"), "the controller will not see the remote pointer");
    }
    let mut applied = controls.applied();
    let mut showing = controls.showing();
    let mut local = local_use.watch();
    // What is in force already (if streaming started first) goes out now.
    applied.mark_changed();
    showing.mark_changed();
    // The pointer as last seen on the whole screen, placed again on the
    // shown part when that changes.
    let mut pointer: Option<AgentToController> = None;
    loop {
        let outgoing = tokio::select! {
            event = channel.poll() => match event {
                Some(DataChannelEvent::OnMessage(message)) => on_message(&message.data, &controls, &applied),
                Some(DataChannelEvent::OnClose) | None => break,
                Some(_) => None,
            },
            changed = applied.changed() => match changed {
                Ok(()) => applied_message(&mut applied),
                Err(_) => break,
            },
            changed = showing.changed() => match changed {
                Ok(()) => {
                    let current = showing.borrow_and_update().clone();
                    let mut messages: Vec<AgentToController> = current
                        .map(|Showing { monitors, view }| AgentToController::Monitors { monitors, showing: view })
                        .into_iter()
                        .collect();
                    messages.extend(pointer.clone().map(|cursor| on_shown_area(cursor, &controls)));
                    if send_all(channel.as_ref(), &messages).await.is_err() {
                        break;
                    }
                    None
                }
                Err(_) => break,
            },
            changed = local.changed() => match changed {
                Ok(()) => Some(AgentToController::LocalUse { state: *local.borrow_and_update() }),
                Err(_) => break,
            },
            Some(message) = from_cursor.recv() => {
                if matches!(message, AgentToController::Cursor { .. }) {
                    pointer = Some(message.clone());
                }
                Some(on_shown_area(message, &controls))
            }
        };
        if let Some(message) = outgoing
            && send_all(channel.as_ref(), std::slice::from_ref(&message)).await.is_err()
        {
            break;
        }
    }
    // Dropping `from_cursor` stops the cursor thread within a poll.
}

/// Sends `messages` in order; `Err` once the channel is closing.
async fn send_all(channel: &dyn DataChannel, messages: &[AgentToController]) -> Result<(), ()> {
    for message in messages {
        if let Err(err) = channel.send_text(&encode(message)).await {
            tracing::debug!(error = %err, "the control channel is closing");
            return Err(());
        }
    }
    Ok(())
}

/// A pointer position (in screen pixels) placed on the shown part of the
/// screen: relative to its corner, hidden when it is elsewhere. Other
/// messages go as they are.
fn on_shown_area(message: AgentToController, controls: &StreamControls) -> AgentToController {
    let AgentToController::Cursor { x, y, visible, shape } = message else { return message };
    let Some(area) = controls.area().get() else { return AgentToController::Cursor { x, y, visible, shape } };
    match area.from_screen(x, y) {
        Some((x, y)) => AgentToController::Cursor { x, y, visible, shape },
        None => AgentToController::Cursor { x: 0, y: 0, visible: false, shape },
    }
}

fn applied_message(applied: &mut watch::Receiver<Option<Applied>>) -> Option<AgentToController> {
    let current = *applied.borrow_and_update();
    current.map(|Applied { preset, screen }| AgentToController::applied(preset, screen))
}

/// Acts on one message; what to answer, if anything.
fn on_message(
    bytes: &[u8],
    controls: &StreamControls,
    applied: &watch::Receiver<Option<Applied>>,
) -> Option<AgentToController> {
    match decode_from_controller(bytes) {
        Ok(ControllerToAgent::SetQuality { preset }) => {
            tracing::info!(?preset, "the controller asks for another quality");
            if controls.request(preset) {
                // Capture answers through `applied` once the change is in force.
                return None;
            }
            // Nothing to change: say again what is in force.
            let current = *applied.borrow();
            current.map(|Applied { preset, screen }| AgentToController::applied(preset, screen))
        }
        Ok(ControllerToAgent::Show { view }) => {
            tracing::info!(?view, "the controller asks to see another part of the screen");
            // Capture answers through `showing` once the change is in force.
            controls.show(view);
            None
        }
        Err(reason) => {
            tracing::warn!(%reason, "dropping a control message");
            None
        }
    }
}
