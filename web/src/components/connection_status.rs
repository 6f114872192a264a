//! The live session's state line: "Connecting…", "Connected", "Ended: …",
//! and where the session connects to: the broker (TURN relay) the server
//! named, or else the address ICE chose once it has.

use crate::controller::machine::Status;
use crate::controller::stats::StatsView;
use leptos::prelude::*;
use tether_shared::mode::SessionMode;

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
    /// The mode the person at the computer accepted, once known.
    #[prop(into)]
    session_mode: Signal<Option<SessionMode>>,
    /// Whether the person is using their own mouse or keyboard.
    #[prop(into)]
    local_use: Signal<bool>,
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
            {move || session_mode.get().map(|mode| view! {
                <span class="connection-mode" data-testid="session-mode" data-mode=mode.key() title=mode.description()>
                    {mode.name()} " mode"
                </span>
            })}
            <span
                class="connection-input muted small"
                data-testid="input-state"
                data-ready=move || input_ready.get().to_string()
                data-local-use=move || local_use.get().to_string()
            >
                {move || input_text(input_ready.get(), session_mode.get(), local_use.get())}
            </span>
        </div>
    }
}

/// The line about input: whether clicks and keys reach the computer, and
/// why not when the person's choice of mode rules them out.
fn input_text(input_ready: bool, mode: Option<SessionMode>, local_use: bool) -> String {
    match mode {
        Some(mode) if !mode.access().contains(tether_shared::access::Access::Control) => {
            format!("View only: the session is in {} mode, which gives no control.", mode.name())
        }
        _ if input_ready && local_use => {
            "The user is using the computer: your input waits until they stop for a second.".into()
        }
        _ if input_ready => "Click the screen to control it; keys go to the remote computer while it has focus.".into(),
        _ => "Input not connected".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_input_line_says_why_there_is_no_control() {
        assert!(input_text(true, Some(SessionMode::Active), false).starts_with("Click the screen"));
        assert_eq!(
            input_text(false, Some(SessionMode::Monitor), false),
            "View only: the session is in Monitor mode, which gives no control."
        );
        assert!(
            input_text(true, Some(SessionMode::Monitor), true).starts_with("View only"),
            "an open channel gives no control"
        );
        assert_eq!(input_text(false, None, false), "Input not connected");
        assert_eq!(input_text(false, Some(SessionMode::Active), false), "Input not connected");
        assert!(input_text(true, Some(SessionMode::Active), true).starts_with("The user is using the computer"));
    }
}
