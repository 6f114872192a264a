//! The clipboard tool beside the remote screen: sends text to the
//! computer's clipboard and takes the text it holds. Where the browser lets
//! the page use its own clipboard, **Send my clipboard** reads it and
//! **Get theirs** writes to it; the text box is the explicit panel either
//! way (type or paste into it, copy from it).

use crate::clipboard::{copy_text, read_text};
use crate::controller::tools::ToolStatus;
use leptos::prelude::*;
use leptos::task::spawn_local;
use tether_shared::clipboard::check_text;

/// The clipboard panel.
#[component]
pub fn ClipboardPanel(
    /// The latest request's status.
    status: RwSignal<ToolStatus>,
    /// The computer's clipboard text, as last received.
    received: RwSignal<Option<String>>,
    /// Whether the session is live.
    #[prop(into)]
    live: Signal<bool>,
    /// Sends checked text to the computer.
    on_send: Callback<String>,
    /// Asks for the computer's clipboard.
    on_fetch: Callback<()>,
) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let note = RwSignal::new(None::<String>);
    let send = move |text: String| match check_text(&text) {
        Some(problem) => status.set(ToolStatus::Failed(problem)),
        None => on_send.run(text),
    };
    let send_typed = move |_| send(text.get_untracked());
    let send_mine = move |_| {
        spawn_local(async move {
            match read_text().await {
                Some(mine) => {
                    text.set(mine.clone());
                    note.set(None);
                    send(mine);
                }
                None => note.set(Some(
                    "This browser does not let the page read your clipboard: paste into the box and press Send text."
                        .into(),
                )),
            }
        });
    };
    // What arrives goes into the box, and onto this browser's clipboard where it may.
    Effect::new(move |_| {
        if let Some(theirs) = received.get() {
            text.set(theirs.clone());
            copy_text(&theirs, move |copied| {
                note.set((!copied).then(|| {
                    "Copy it from the box: this browser does not let the page write to your clipboard.".into()
                }));
            });
        }
    });
    let busy = move || status.with(|status| *status == ToolStatus::Waiting) || !live.get();
    view! {
        <section class="tool-panel" data-testid="clipboard-panel" data-status=move || status.with(ToolStatus::key)>
            <h3 class="tool-title">"Clipboard"</h3>
            <textarea class="tool-text" rows="3" data-testid="clipboard-text" aria-label="Clipboard text"
                prop:value=move || text.get() on:input=move |event| text.set(event_target_value(&event))></textarea>
            <div class="tool-actions">
                <button type="button" class="button button-secondary" data-testid="clipboard-send-mine" disabled=busy on:click=send_mine>
                    "Send my clipboard"
                </button>
                <button type="button" class="button button-secondary" data-testid="clipboard-send" disabled=busy on:click=send_typed>
                    "Send text"
                </button>
                <button type="button" class="button button-secondary" data-testid="clipboard-get" disabled=busy
                    on:click=move |_| on_fetch.run(())>
                    "Get theirs"
                </button>
            </div>
            <p class="small muted" data-testid="clipboard-status" aria-live="polite">
                {move || match status.get() {
                    ToolStatus::Waiting => "Waiting for the computer (the person may be asked)…".to_owned(),
                    other => other.text().unwrap_or_default().to_owned(),
                }}
            </p>
            {move || note.get().map(|note| view! { <p class="small muted" data-testid="clipboard-note">{note}</p> })}
        </section>
    }
}
