//! The `guide` channel, agent side: the technician's shapes, checked
//! against the part of the screen shown and placed on the screen, are
//! audited and drawn by the overlay (`platform::x11_overlay`); the pure
//! [`Drawing`] decides what shows and when a shape fades. The drawing goes
//! with the channel (the session's end or a narrower mode closes it).

use super::channels::next_message;
use super::media::ShownArea;
use crate::platform::x11_overlay::Overlay;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tether_shared::guidance::{AgentToController, ControllerToAgent, Drawing, decode_from_controller};
use tether_shared::signal::ToolEvent;
use tether_shared::tool_message::encode;
use webrtc::data_channel::DataChannel;

/// Serves the guide channel until it closes; `record` audits each use
/// before it shows.
pub async fn serve(
    channel: Arc<dyn DataChannel>,
    area: ShownArea,
    display: Option<String>,
    record: impl Fn(ToolEvent),
) {
    let overlay = match tokio::task::spawn_blocking(move || Overlay::open(display.as_deref())).await {
        Ok(Ok(overlay)) => Some(overlay),
        Ok(Err(err)) => {
            tracing::error!(error = format!("{err:#}"), "drawing on the screen is unavailable in this session");
            None
        }
        Err(err) => {
            tracing::error!(error = %err, "drawing on the screen is unavailable in this session");
            None
        }
    };
    let started = Instant::now();
    let now_ms = || u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let mut drawing = Drawing::default();
    loop {
        let fade = drawing.next_fade().map(|at| Duration::from_millis(at.saturating_sub(now_ms())));
        let message = tokio::select! {
            message = next_message(&channel) => message,
            () = tokio::time::sleep(fade.unwrap_or(Duration::MAX)), if fade.is_some() => {
                if drawing.expire(now_ms()) && let Some(overlay) = &overlay {
                    overlay.show(drawing.shapes().cloned().collect());
                }
                continue;
            }
        };
        let Some(message) = message else { break };
        let answer = match (decode_from_controller(&message.data), &overlay) {
            (Err(reason), _) => {
                tracing::warn!(%reason, "dropping a guide message");
                AgentToController::Failed { reason: reason.to_string() }
            }
            (Ok(_), None) => AgentToController::Failed { reason: "this computer cannot show drawings".into() },
            (Ok(ControllerToAgent::Draw { shape, keep }), Some(overlay)) => match area.get() {
                None => AgentToController::Failed { reason: "the screen is not shown yet".into() },
                Some(shown) => match shape.check(shown.width, shown.height) {
                    Err(reason) => AgentToController::Failed { reason: reason.to_string() },
                    Ok(()) => {
                        let placed = shape.placed(shown);
                        record(ToolEvent::Drew { shape: placed.clone() });
                        drawing.add(placed, keep, now_ms());
                        overlay.show(drawing.shapes().cloned().collect());
                        showing(&drawing)
                    }
                },
            },
            (Ok(ControllerToAgent::Clear {}), Some(overlay)) => {
                record(ToolEvent::DrawingCleared);
                drawing.clear();
                overlay.show(Vec::new());
                showing(&drawing)
            }
        };
        if let Err(err) = channel.send_text(&encode(&answer)).await {
            tracing::debug!(error = %err, "the guide channel is closing");
            break;
        }
    }
    // Dropping the overlay takes the drawing off the screen.
    if let Some(overlay) = overlay {
        tokio::task::spawn_blocking(move || drop(overlay)).await.ok();
    }
}

fn showing(drawing: &Drawing) -> AgentToController {
    AgentToController::Showing { shown: u32::try_from(drawing.len()).unwrap_or(u32::MAX) }
}
