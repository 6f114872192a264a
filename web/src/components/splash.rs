//! The full-page placeholder while the session is being restored.

use leptos::prelude::*;

/// A centred spinner with the product name.
#[component]
pub fn Splash() -> impl IntoView {
    view! {
        <div class="splash" data-testid="splash">
            <div class="brand brand-large">
                <span class="brand-mark" aria-hidden="true"></span>
                "Tether"
            </div>
            <div class="spinner" role="progressbar" aria-label="Loading"></div>
        </div>
    }
}
