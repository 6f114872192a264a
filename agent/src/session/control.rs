//! The `control` data channel, agent side: the controller's quality choice
//! (decoded strictly) goes to the capture thread; what capture applied and
//! where the pointer is (and what it looks like) go back.

use super::cursor;
use super::media::{Applied, StreamControls};
use std::sync::Arc;
use tether_shared::control::{AgentToController, ControllerToAgent, decode_from_controller, encode};
use tokio::sync::{mpsc, watch};
use webrtc::data_channel::{DataChannel, DataChannelEvent};

/// Serves the control channel until it closes.
pub async fn serve(channel: Arc<dyn DataChannel>, controls: StreamControls, display: Option<String>) {
    let (cursor_messages, mut from_cursor) = mpsc::channel(16);
    if let Err(err) = cursor::watch(display, cursor_messages) {
        tracing::error!(error = format!("{err:#}"), "the controller will not see the remote pointer");
    }
    let mut applied = controls.applied();
    // What is in force already (if streaming started first) goes out now.
    applied.mark_changed();
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
            Some(message) = from_cursor.recv() => Some(message),
        };
        if let Some(message) = outgoing
            && let Err(err) = channel.send_text(&encode(&message)).await
        {
            tracing::debug!(error = %err, "the control channel is closing");
            break;
        }
    }
    // Dropping `from_cursor` stops the cursor thread within a poll.
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
        Err(reason) => {
            tracing::warn!(%reason, "dropping a control message");
            None
        }
    }
}
