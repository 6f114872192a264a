//! The placeholder shown where a list has nothing in it yet.

use leptos::prelude::*;

/// A centred title and explanation in place of an empty list.
#[component]
pub fn EmptyState(
    /// What is missing, e.g. "No targets enrolled yet".
    title: &'static str,
    /// The stable test id.
    #[prop(into)]
    testid: String,
    /// A short explanation or next step.
    children: Children,
) -> impl IntoView {
    view! {
        <div class="empty-state" data-testid=testid>
            <div class="empty-state-icon" aria-hidden="true"></div>
            <h2>{title}</h2>
            <div class="empty-state-body">{children()}</div>
        </div>
    }
}
