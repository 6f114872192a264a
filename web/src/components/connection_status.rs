//! The live session's state line: "Connecting…", "Connected", "Ended: …";
//! while connecting, where to (the broker the server named, or the address
//! ICE is trying); once connected, the path the media really takes
//! (`tether_shared::media_path`: direct or relayed, through what, each end
//! over which transport).

use crate::controller::machine::Status;
use crate::controller::stats::StatsView;
use leptos::prelude::*;
use tether_shared::media_path::{AgentEnd, PagePath, Transport, describe};
use tether_shared::mode::SessionMode;

/// What the connection line says about the path.
struct Route {
    words: String,
    /// The remote candidate's type.
    kind: String,
    relayed: bool,
    /// The candidate pair, for the tooltip.
    detail: String,
}

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
    /// How the agent's end of the path is reached, as it said.
    #[prop(into)]
    agent_path: Signal<Option<AgentEnd>>,
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
        let path = stats.with(|stats| stats.as_ref()?.path.clone());
        let connected = status.with(|status| matches!(status, Status::Connected));
        let broker = broker.get();
        match (connected, path) {
            (true, Some(path)) => {
                let page = PagePath {
                    page_relayed_over: (path.local.candidate_type == "relay")
                        .then(|| path.local.relay_protocol.as_deref().and_then(Transport::from_stats))
                        .flatten(),
                    remote_type: path.remote.candidate_type.clone(),
                    remote_endpoint: path.remote.endpoint().unwrap_or_default(),
                };
                let relayed = page.page_relayed_over.is_some() || page.remote_type == "relay";
                let words = describe(&page, agent_path.get(), broker.as_deref());
                Some(Route { words, kind: path.remote.candidate_type.clone(), relayed, detail: path.describe() })
            }
            (_, path) => {
                let endpoint = broker.or_else(|| path.as_ref().and_then(|path| path.remote.endpoint()))?;
                let detail = path.as_ref().map_or_else(|| "not chosen yet".to_owned(), |path| path.describe());
                let kind = path.map(|path| path.remote.candidate_type).unwrap_or_default();
                Some(Route { words: format!("Connecting to: {endpoint}"), kind, relayed: false, detail })
            }
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
                    .map(|route| {
                        view! {
                            <span
                                class="connection-route"
                                data-testid="connection-route"
                                data-candidate-type=route.kind
                                data-relayed=route.relayed.to_string()
                                title=format!("Candidate pair: {}", route.detail)
                            >
                                {route.words}
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
