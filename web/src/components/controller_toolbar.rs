//! The live session's buttons: fit or 1:1, the quality-versus-speed preset
//! (lit for what the agent applied, pulsing while a change is on its way),
//! Ctrl-Alt-Del, stats, and "End session".

use crate::controller::ViewMode;
use crate::controller::control::{AppliedView, summary};
use leptos::prelude::*;
use tether_shared::control::QualityPreset;

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
    /// The stream settings the agent applied.
    #[prop(into)]
    applied: Signal<Option<AppliedView>>,
    /// The preset last picked here.
    #[prop(into)]
    requested: Signal<Option<QualityPreset>>,
    /// Picks a preset.
    on_quality: Callback<QualityPreset>,
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
    let applied_preset = move || applied.get().map(|applied| applied.preset);
    let quality_button = move |preset: QualityPreset| {
        let pending = move || requested.get() == Some(preset) && applied_preset() != Some(preset);
        view! {
            <button
                type="button"
                class="segment"
                class:segment-active=move || applied_preset() == Some(preset)
                class:segment-pending=pending
                aria-pressed=move || (applied_preset() == Some(preset)).to_string()
                data-testid=format!("quality-{}", preset.key())
                title=format!("{}: {}", preset.label(), summary(preset.settings()))
                disabled=move || !live.get() || applied.get().is_none()
                on:click=move |_| on_quality.run(preset)
            >
                {preset.label()}
            </button>
        }
    };
    view! {
        <div
            class="segmented"
            role="group"
            aria-label="Quality versus speed"
            data-testid="quality"
            data-applied=move || applied_preset().map_or("", QualityPreset::key)
        >
            {QualityPreset::ALL.into_iter().map(quality_button).collect_view()}
        </div>
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
