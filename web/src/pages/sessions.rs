//! The technician's assistance sessions, current and past.

use crate::components::empty_state::EmptyState;
use crate::components::page_header::PageHeader;
use leptos::prelude::*;

/// Sessions; none exist yet, so this is the empty state.
#[component]
pub fn SessionsPage() -> impl IntoView {
    view! {
        <PageHeader title="Sessions" subtitle="Your assistance sessions, live and past." />
        <section class="card">
            <EmptyState title="No sessions yet" testid="sessions-empty">
                <p>"Sessions you open to a target are listed here with their duration and outcome."</p>
            </EmptyState>
        </section>
    }
}
