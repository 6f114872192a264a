//! The live session's state line: "Connecting…", "Connected", "Ended: …",
//! and where the session connects to: the broker (TURN relay) the server
//! named, or else the address ICE chose once it has.

use crate::controller::machine::Status;
use crate::controller::stats::StatsView;
use leptos::prelude::*;

/// The state, the remote candidate in use and whether input is flowing.
#[component]
pub fn ConnectionStatus(
    /// Where the session stands.
    #[prop(into)]
    status: Signal<Status>,
    /// The latest stats (for the selected candidate pair).
    #[prop(into)]
    stats: Signal<Option<StatsView>>,
    /// Whether the input channel is open.
    #[prop(into)]
    input_ready: Signal<bool>,
    /// `host:port` of the session's broker, when it goes through one.
    #[prop(into)]
    broker: Signal<Option<String>>,
) -> impl IntoView {
    let route = move || {
        if status.with(Status::is_final) {
            return None;
        }
        let path = stats.with(|stats| {
            let path = stats.as_ref()?.path.as_ref()?;
            Some((path.remote.endpoint()?, path.describe(), path.remote.candidate_type.clone()))
        });
        match (broker.get(), path) {
            (Some(broker), Some((_, path, kind))) => Some((broker, path, kind)),
            (Some(broker), None) => Some((broker, "not chosen yet".to_owned(), String::new())),
            (None, path) => path,
        }
    };
    view! {
        <div class="connection-bar">
            <span
                class="connection-state"
                data-testid="connection-state"
                data-state=move || status.with(Status::key)
                role="status"
            >
                <span class="status-dot" aria-hidden="true"></span>
                {move || status.with(Status::label)}
            </span>
            {move || {
                route()
                    .map(|(endpoint, path, kind)| {
                        view! {
                            <span
                                class="connection-route"
                                data-testid="connection-route"
                                data-candidate-type=kind
                                title=format!("Candidate pair: {path}")
                            >
                                "Connecting to: "
                                <span class="mono">{endpoint}</span>
                            </span>
                        }
                    })
            }}
            <span class="connection-input muted small" data-testid="input-state" data-ready=move || input_ready.get().to_string()>
                {move || {
                    if input_ready.get() {
                        "Click the screen to control it; keys go to the remote computer while it has focus."
                    } else {
                        "Input not connected"
                    }
                }}
            </span>
        </div>
    }
}
