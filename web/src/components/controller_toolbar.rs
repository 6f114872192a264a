//! The live session's buttons: fit or 1:1, Ctrl-Alt-Del, stats, and
//! "End session".

use crate::controller::ViewMode;
use leptos::prelude::*;

/// Toolbar for the controller page's header.
#[component]
pub fn ControllerToolbar(
    /// Fit to window or 1:1; the toolbar switches it.
    mode: RwSignal<ViewMode>,
    /// Whether the stats overlay shows; the toolbar switches it.
    show_stats: RwSignal<bool>,
    /// Whether the session is still live (not ended or failed).
    #[prop(into)]
    live: Signal<bool>,
    /// Whether input can be sent.
    #[prop(into)]
    input_ready: Signal<bool>,
    /// Sends Ctrl-Alt-Del.
    on_secure_attention: Callback<()>,
    /// Ends the session.
    on_end: Callback<()>,
) -> impl IntoView {
    let mode_button = move |target: ViewMode, label: &'static str, testid: &'static str, title: &'static str| {
        view! {
            <button
                type="button"
                class="segment"
                class:segment-active=move || mode.get() == target
                aria-pressed=move || (mode.get() == target).to_string()
                data-testid=testid
                title=title
                on:click=move |_| mode.set(target)
            >
                {label}
            </button>
        }
    };
    view! {
        <div class="segmented" role="group" aria-label="Screen size" data-testid="view-mode" data-mode=move || mode.get().key()>
            {mode_button(ViewMode::Fit, "Fit", "view-fit", "Scale the screen to fit the window")}
            {mode_button(ViewMode::OneToOne, "1:1", "view-actual", "One remote pixel per screen pixel")}
        </div>
        <button
            type="button"
            class="button button-secondary"
            data-testid="send-cad"
            title="Send Ctrl-Alt-Del to the remote computer"
            disabled=move || !input_ready.get() || !live.get()
            on:click=move |_| on_secure_attention.run(())
        >
            "Ctrl-Alt-Del"
        </button>
        <button
            type="button"
            class="button button-secondary"
            data-testid="stats"
            aria-pressed=move || show_stats.get().to_string()
            on:click=move |_| show_stats.update(|shown| *shown = !*shown)
        >
            {move || if show_stats.get() { "Hide stats" } else { "Stats" }}
        </button>
        <Show when=move || live.get()>
            <button
                type="button"
                class="button button-danger"
                data-testid="end-session"
                on:click=move |_| on_end.run(())
            >
                "End session"
            </button>
        </Show>
    }
}
