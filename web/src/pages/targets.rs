//! The technician's list of enrolled computers (targets).

use crate::components::empty_state::EmptyState;
use crate::components::page_header::PageHeader;
use leptos::prelude::*;

/// Enrolled targets; none can be enrolled yet, so this is the empty state.
#[component]
pub fn TargetsPage() -> impl IntoView {
    view! {
        <PageHeader title="Targets" subtitle="Computers with the Tether agent that you may assist." />
        <section class="card">
            <EmptyState title="No targets enrolled yet" testid="targets-empty">
                <p>
                    "When an administrator enrolls a computer with the Tether agent, it appears here and you can request a session."
                </p>
            </EmptyState>
        </section>
    }
}
