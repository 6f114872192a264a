//! Where a page shows a list it fetched: a loading line, the load error, an
//! empty state or the list itself.

use crate::api::ApiFailure;
use crate::components::empty_state::EmptyState;
use leptos::prelude::*;

/// `{testid}-loading` until `fetched` comes, `{testid}-load-error` if it
/// failed, the empty state `{testid}-empty` for no items, else `list` of
/// the items.
#[component]
pub fn ListState<T, V, F>(
    /// The fetch's result; `None` while it is out.
    fetched: Option<Result<Vec<T>, ApiFailure>>,
    /// The test ids' prefix.
    testid: &'static str,
    /// The loading line, e.g. "Loading users…".
    loading: &'static str,
    /// The empty state's title.
    empty_title: &'static str,
    /// The empty state's explanation or next step.
    empty_text: &'static str,
    /// The view of the items, when there are some.
    list: F,
) -> impl IntoView
where
    T: 'static,
    V: IntoView + 'static,
    F: FnOnce(Vec<T>) -> V + 'static,
{
    match fetched {
        None => view! { <div class="loading" data-testid=format!("{testid}-loading")>{loading}</div> }.into_any(),
        Some(Err(failure)) => view! {
            <div class="alert alert-error" role="alert" data-testid=format!("{testid}-load-error")>
                {failure.message()}
            </div>
        }
        .into_any(),
        Some(Ok(items)) if items.is_empty() => view! {
            <EmptyState title=empty_title testid=format!("{testid}-empty")>
                <p>{empty_text}</p>
            </EmptyState>
        }
        .into_any(),
        Some(Ok(items)) => list(items).into_any(),
    }
}
