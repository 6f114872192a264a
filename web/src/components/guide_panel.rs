//! The guidance tool beside the remote screen: pick a pen, an arrow or a
//! box and drag over the picture to draw it on the person's screen (it
//! fades after a few seconds unless kept), or clear what is drawn. Drawing
//! never moves their mouse or types.

use crate::controller::guide::DrawTool;
use crate::controller::tools::ToolStatus;
use leptos::prelude::*;

/// The drawing panel.
#[component]
pub fn GuidePanel(
    /// The tool picked (none: the picture takes input as usual).
    draw_tool: RwSignal<Option<DrawTool>>,
    /// Whether new drawings stay until cleared.
    keep: RwSignal<bool>,
    /// The latest request's status.
    status: RwSignal<ToolStatus>,
    /// Whether the session is live.
    #[prop(into)]
    live: Signal<bool>,
    /// Takes the drawing away.
    on_clear: Callback<()>,
) -> impl IntoView {
    let tool_button = move |tool: DrawTool| {
        let picked = move || draw_tool.get() == Some(tool);
        view! {
            <button
                type="button"
                class="segment"
                class:segment-active=picked
                aria-pressed=move || picked().to_string()
                data-testid=format!("guide-{}", tool.key())
                disabled=move || !live.get()
                on:click=move |_| draw_tool.update(|current| *current = if *current == Some(tool) { None } else { Some(tool) })
            >
                {tool.label()}
            </button>
        }
    };
    view! {
        <section class="tool-panel" data-testid="guide-panel" data-status=move || status.with(ToolStatus::key)>
            <h3 class="tool-title">"Draw on their screen"</h3>
            <div class="segmented" role="group" aria-label="Drawing tool" data-testid="guide-tools">
                {DrawTool::ALL.into_iter().map(tool_button).collect_view()}
            </div>
            <div class="tool-actions">
                <label class="small">
                    <input type="checkbox" data-testid="guide-keep" prop:checked=move || keep.get()
                        on:change=move |event| keep.set(event_target_checked(&event)) />
                    " Keep until cleared"
                </label>
                <button type="button" class="button button-secondary" data-testid="guide-clear" disabled=move || !live.get()
                    on:click=move |_| on_clear.run(())>
                    "Clear"
                </button>
            </div>
            <p class="small muted" data-testid="guide-status" aria-live="polite">
                {move || match status.get() {
                    ToolStatus::Idle if draw_tool.get().is_some() => "Drag over the picture to draw.".to_owned(),
                    ToolStatus::Idle => "Pick a tool, then drag over the picture.".to_owned(),
                    ToolStatus::Waiting => "Drawing…".to_owned(),
                    other => other.text().unwrap_or_default().to_owned(),
                }}
            </p>
        </section>
    }
}
