//! The title bar at the top of every page, with room for actions.

use leptos::prelude::*;

/// A page title, a one-line description and optional action buttons.
#[component]
pub fn PageHeader(
    /// The page title; also sets the document title.
    title: &'static str,
    /// One line under the title.
    #[prop(optional)]
    subtitle: Option<&'static str>,
    /// Buttons shown on the right.
    #[prop(optional)]
    children: Option<Children>,
) -> impl IntoView {
    crate::set_document_title(title);
    view! {
        <header class="page-header">
            <div>
                <h1 data-testid="page-title">{title}</h1>
                {subtitle.map(|text| view! { <p class="page-subtitle">{text}</p> })}
            </div>
            <div class="page-actions">{children.map(|children| children())}</div>
        </header>
    }
}
