//! The page for addresses that match no route.

use crate::components::empty_state::EmptyState;
use leptos::prelude::*;
use leptos_router::components::A;

/// "Page not found" with a way home.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    crate::set_document_title("Page not found");
    view! {
        <EmptyState title="Page not found" testid="not-found">
            <p>"There is nothing at this address."</p>
            <A href="/" attr:class="button button-secondary">"Go to start"</A>
        </EmptyState>
    }
}
