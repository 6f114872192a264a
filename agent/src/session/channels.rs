//! The controller's data channels: `input` carries input events, each
//! decoded strictly against the streamed display's size before anything
//! reaches the operating system; `control` carries quality changes one way
//! and the pointer the other ([`super::control`]). A channel whose access
//! the session's grant does not include (`input` without control,
//! `control` without view) is closed and reported; input arriving after
//! the grant withdrew control is dropped and reported once.

use super::control;
use super::grant::allows;
use super::media::{ScreenSizeCell, StreamControls};
use crate::inject::{InjectError, Injector, InputGate};
use crate::session::Reporter;
use std::sync::Arc;
use tether_shared::access::Access;
use tether_shared::grant::Grant;
use tether_shared::input::decode_input;
use tether_shared::signal::Refused;
use tether_shared::tool::Tool;
use tokio::task::JoinHandle;
use webrtc::data_channel::{DataChannel, DataChannelEvent};

/// Where a session's channels live and report.
pub struct ChannelContext {
    pub controls: StreamControls,
    pub display: Option<String>,
    pub gate: InputGate,
    pub reporter: Reporter,
}

/// A channel being served.
pub struct Served {
    /// The kind of access it needs.
    pub needs: Access,
    pub task: JoinHandle<()>,
}

/// Serves a data channel the controller opened, by its label, until it
/// closes — if `grant` includes the access it needs.
pub async fn serve(channel: Arc<dyn DataChannel>, grant: Option<&Grant>, context: ChannelContext) -> Option<Served> {
    let label = match channel.label().await {
        Ok(label) => label,
        Err(err) => {
            tracing::warn!(error = %err, "a data channel closed before it could be served");
            return None;
        }
    };
    let ChannelContext { controls, display, gate, reporter } = context;
    let Some(tool) = Tool::from_label(&label) else {
        tracing::warn!(label, "closing an unknown data channel");
        if let Err(err) = channel.close().await {
            tracing::debug!(error = %err, "closing the unknown data channel failed");
        }
        return None;
    };
    let needed = tool.needs();
    if !allows(grant, needed) {
        let mode = grant.map_or("no grant", |grant| grant.mode.name());
        reporter.refused(
            Refused::Channel,
            format!("the {label} channel needs {needed:?} access, which the session's grant ({mode}) does not include"),
        );
        if let Err(err) = channel.close().await {
            tracing::debug!(error = %err, "closing a refused data channel failed");
        }
        return None;
    }
    let task = match tool {
        Tool::Input => tokio::spawn(serve_input(channel, controls.screen().clone(), display, gate, reporter)),
        Tool::Control => tokio::spawn(control::serve(channel, controls, display)),
    };
    Some(Served { needs: needed, task })
}

async fn serve_input(
    channel: Arc<dyn DataChannel>,
    screen: ScreenSizeCell,
    display: Option<String>,
    gate: InputGate,
    reporter: Reporter,
) {
    let injector = match Injector::start(display, gate.clone()).await {
        Ok(injector) => Some(injector),
        Err(err) => {
            tracing::error!(error = format!("{err:#}"), "remote input is unavailable in this session");
            None
        }
    };
    // Reported once per withdrawal, not per event.
    let mut reported_refusal = false;
    while let Some(event) = channel.poll().await {
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
