//! A connection code shown large, grouped for reading aloud, with a button
//! that copies it: in the technician's window and on the page its link opens.

use crate::clipboard::copy_text;
use leptos::prelude::*;

/// The code (`123 456 789`) in large type and a "Copy" button.
#[component]
pub fn ConnectionCodeDisplay(
    /// The grouped code.
    code: String,
    /// The stable test id of the code; the button gets `-copy` appended.
    testid: &'static str,
) -> impl IntoView {
    let copy_testid = format!("{testid}-copy");
    let copied = RwSignal::new(None::<bool>);
    let text = code.clone();
    let copy = move |_| copy_text(&text, move |ok| copied.set(Some(ok)));
    view! {
        <div class="connection-code-row">
            <output class="connection-code mono" data-testid=testid aria-label="Connection code">
                {code}
            </output>
            <button type="button" class="button button-secondary" data-testid=copy_testid on:click=copy>
                {move || if copied.get() == Some(true) { "Copied ✓" } else { "Copy" }}
            </button>
        </div>
        {move || {
            (copied.get() == Some(false))
                .then(|| view! { <p class="field-hint">"The browser did not allow copying: select the code and press Ctrl+C."</p> })
        }}
    }
}
