//! The technician's "Mode" picker in a live session: every mode in the
//! seed's precedence, the one in force marked, and **Change** to ask for
//! the picked one (the policy may give a narrower one; the person at the
//! computer may be asked). The request's progress shows beside it.

use crate::controller::mode_request::ModeRequest;
use leptos::prelude::*;
use tether_shared::mode::{PRECEDENCE, SessionMode};

/// The picker and the request's line.
#[component]
pub fn ModePicker(
    /// The mode the session runs in, once known.
    #[prop(into)]
    current: Signal<Option<SessionMode>>,
    /// The latest request, as it stands.
    #[prop(into)]
    request: Signal<ModeRequest>,
    /// Whether the session is still live.
    #[prop(into)]
    live: Signal<bool>,
    /// Asks for a mode.
    on_request: Callback<SessionMode>,
) -> impl IntoView {
    let picked = RwSignal::new(None::<SessionMode>);
    let choice = move || picked.get().or(current.get());
    let unchanged = move || choice().is_none() || choice() == current.get();
    view! {
        <div class="mode-picker" data-testid="mode-picker">
            <label class="small muted" for="mode-select">"Mode"</label>
            <select
                id="mode-select"
                data-testid="mode-select"
                disabled=move || !live.get() || request.with(ModeRequest::is_pending)
                on:change=move |event| picked.set(SessionMode::from_key(&event_target_value(&event)))
            >
                {PRECEDENCE
                    .into_iter()
                    .map(|mode| {
                        view! {
                            <option value=mode.key() selected=move || choice() == Some(mode) title=mode.description()>
                                {mode.name()}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
            <button
                type="button"
                class="button button-secondary"
                data-testid="request-mode"
                title="Ask for the chosen mode; the person at the computer may be asked"
                disabled=move || !live.get() || unchanged() || request.with(ModeRequest::is_pending)
                on:click=move |_| {
                    if let Some(mode) = choice() {
                        on_request.run(mode);
                    }
                }
            >
                "Change"
            </button>
            {move || {
                request
                    .with(ModeRequest::line)
                    .map(|line| {
                        view! {
                            <span class="small muted" data-testid="mode-request" data-state=move || request.with(ModeRequest::key) role="status">
                                {line}
                            </span>
                        }
                    })
            }}
        </div>
    }
}
