//! The local-input lock's button for the controller's header: locks the
//! person's own keyboard and mouse (where the mode allows it; the person
//! may be asked first) or unlocks them, and says where the lock stands —
//! including that the person can always unlock it themselves.

use leptos::prelude::*;
use tether_shared::local_input::{ESCAPE_COMBO_WORDS, LockState};

/// The lock button and its state line.
#[component]
pub fn LockButton(
    /// Where the lock stands, as the agent said.
    #[prop(into)]
    state: Signal<LockState>,
    /// Whether the session's mode allows the lock and the session is live.
    #[prop(into)]
    usable: Signal<bool>,
    /// Asks to lock (`true`) or unlock.
    on_lock: Callback<bool>,
) -> impl IntoView {
    let locked = move || matches!(state.get(), LockState::Locked { .. } | LockState::Locking {});
    let key = move || match state.get() {
        LockState::Unlocked { .. } => "unlocked",
        LockState::Locking {} => "locking",
        LockState::Locked { .. } => "locked",
        LockState::Failed { .. } => "failed",
    };
    let words = move || match state.get() {
        LockState::Unlocked { why: None } => String::new(),
        LockState::Unlocked { why: Some(why) } => format!("Unlocked: {}.", why.sentence()),
        LockState::Locking {} => "Locking (the person may be asked)…".to_owned(),
        LockState::Locked { devices } => {
            format!(
                "Their keyboard and mouse are locked ({devices} devices); {ESCAPE_COMBO_WORDS} on their keyboard unlocks."
            )
        }
        LockState::Failed { reason } => format!("Not locked: {reason}."),
    };
    view! {
        <button
            type="button"
            class="button button-secondary"
            data-testid="lock-input"
            data-state=key
            title="Lock the person's own keyboard and mouse while you work (they can always unlock)"
            disabled=move || !usable.get()
            on:click=move |_| on_lock.run(!locked())
        >
            {move || if locked() { "Unlock their input" } else { "Lock their input" }}
        </button>
        <span class="small muted" data-testid="lock-state" role="status">{words}</span>
    }
}
