//! A connection code shown large, grouped for reading aloud, with a button
//! that copies it.

use crate::clipboard::copy_text;
use leptos::prelude::*;

/// The code (`123 456 789`) in large type and a "Copy" button.
#[component]
pub fn ConnectionCodeDisplay(
    /// The grouped code.
    code: String,
) -> impl IntoView {
    let copied = RwSignal::new(None::<bool>);
    let text = code.clone();
    let copy = move |_| copy_text(&text, move |ok| copied.set(Some(ok)));
    view! {
        <div class="connection-code-row">
            <output class="connection-code mono" data-testid="broker-code" aria-label="Connection code">
                {code}
            </output>
            <button type="button" class="button button-secondary" data-testid="broker-code-copy" on:click=copy>
                {move || if copied.get() == Some(true) { "Copied ✓" } else { "Copy" }}
            </button>
        </div>
        {move || {
            (copied.get() == Some(false))
                .then(|| view! { <p class="field-hint">"The browser did not allow copying: select the code and press Ctrl+C."</p> })
        }}
    }
}
