//! The privacy screen's button for the controller's header: hides what
//! the people in the room see (locking the person's keyboard and mouse
//! with it; the person may be asked first) or shows it again, and says
//! where the screen stands — including what the person can do about it.

use leptos::prelude::*;
use tether_shared::local_input::ESCAPE_COMBO_WORDS;
use tether_shared::privacy::{PrivacyState, removed_sentence};

/// The privacy screen button and its state line.
#[component]
pub fn PrivacyButton(
    /// Where the privacy screen stands, as the agent said.
    #[prop(into)]
    state: Signal<PrivacyState>,
    /// Whether the session's mode allows it and the session is live.
    #[prop(into)]
    usable: Signal<bool>,
    /// Asks to put it up (`true`) or take it away.
    on_privacy: Callback<bool>,
) -> impl IntoView {
    let up = move || matches!(state.get(), PrivacyState::On { .. } | PrivacyState::Covering {});
    let key = move || match state.get() {
        PrivacyState::Off { .. } => "off",
        PrivacyState::Covering {} => "covering",
        PrivacyState::On { .. } => "on",
        PrivacyState::Failed { .. } => "failed",
    };
    let words = move || match state.get() {
        PrivacyState::Off { why: None } => String::new(),
        PrivacyState::Off { why: Some(why) } => format!("Their screen shows again: {}.", removed_sentence(why)),
        PrivacyState::Covering {} => "Hiding their screen (the person may be asked)…".to_owned(),
        PrivacyState::On { monitors } => format!(
            "Their screen is hidden from the room ({monitors} {}); you still see it. {ESCAPE_COMBO_WORDS} on their \
             keyboard takes the screen away.",
            if monitors == 1 { "monitor" } else { "monitors" }
        ),
        PrivacyState::Failed { reason } => format!("Their screen is not hidden: {reason}."),
    };
    view! {
        <button
            type="button"
            class="button button-secondary"
            data-testid="privacy-screen"
            data-state=key
            title="Hide the person's screen from the room while you work (this locks their keyboard and mouse; they can always undo it)"
            disabled=move || !usable.get()
            on:click=move |_| on_privacy.run(!up())
        >
            {move || if up() { "Show their screen" } else { "Hide their screen" }}
        </button>
        <span class="small muted" data-testid="privacy-state" role="status">{words}</span>
    }
}
