//! The controller's data channels: `input` carries input events, each
//! decoded strictly against the streamed display's size before anything
//! reaches the operating system; `control` carries quality changes one way
//! and the pointer the other ([`super::control`]).

use super::control;
use super::media::{ScreenSizeCell, StreamControls};
use crate::inject::{InjectError, Injector, InputGate};
use std::sync::Arc;
use tether_shared::input::decode_input;
use tokio::task::JoinHandle;
use webrtc::data_channel::{DataChannel, DataChannelEvent};

/// Label of the input channel.
pub const INPUT: &str = "input";
/// Label of the control channel.
pub const CONTROL: &str = "control";

/// Serves a data channel the controller opened, by its label, until it closes.
pub async fn serve(
    channel: Arc<dyn DataChannel>,
    controls: StreamControls,
    display: Option<String>,
    gate: InputGate,
) -> Option<JoinHandle<()>> {
    let label = match channel.label().await {
        Ok(label) => label,
        Err(err) => {
            tracing::warn!(error = %err, "a data channel closed before it could be served");
            return None;
        }
    };
    match label.as_str() {
        INPUT => Some(tokio::spawn(serve_input(channel, controls.screen().clone(), display, gate))),
        CONTROL => Some(tokio::spawn(control::serve(channel, controls, display))),
        other => {
            tracing::warn!(label = other, "closing an unknown data channel");
            if let Err(err) = channel.close().await {
                tracing::debug!(error = %err, "closing the unknown data channel failed");
            }
            None
        }
    }
}

async fn serve_input(channel: Arc<dyn DataChannel>, screen: ScreenSizeCell, display: Option<String>, gate: InputGate) {
    let injector = match Injector::start(display, gate).await {
        Ok(injector) => Some(injector),
        Err(err) => {
            tracing::error!(error = format!("{err:#}"), "remote input is unavailable in this session");
            None
        }
    };
    while let Some(event) = channel.poll().await {
        match event {
            DataChannelEvent::OnMessage(message) => {
                let Some(size) = screen.get() else {
                    tracing::warn!("dropping an input message: the display size is not known yet");
                    continue;
                };
                match decode_input(&message.data, size) {
                    Ok(input) => match injector.as_ref().map(|injector| injector.inject(input)) {
                        None | Some(Ok(())) => {}
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
