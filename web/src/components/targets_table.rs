//! The technician's table of targets, updated in place as the list refreshes.

use crate::components::data_table::{Column, DataTable};
use crate::components::target_row::TargetRow;
use leptos::prelude::*;
use tether_shared::agent::TargetView;

/// What identifies a row's content: a row is rebuilt only when this changes,
/// so a refresh that changes nothing leaves the table (and focus) alone.
fn row_key(target: &TargetView) -> (String, bool, Option<i64>, String) {
    (target.id.clone(), target.online, target.last_seen_at, format!("{:?}", target.info))
}

/// The targets table's header.
const COLUMNS: &[Column] = &[
    Column::new("Status"),
    Column::new("Hostname"),
    Column::new("Operating system"),
    Column::new("User"),
    Column::new("Agent"),
    Column::new("Displays"),
    Column::new("Last seen"),
    Column::actions(),
];

/// One [`TargetRow`] per target, in the server's order (by hostname).
#[component]
pub fn TargetsTable(
    /// The targets.
    #[prop(into)]
    targets: Signal<Vec<TargetView>>,
    /// The current time, Unix milliseconds, for "last seen".
    #[prop(into)]
    now: Signal<i64>,
    /// The target a session is being opened with, if any.
    #[prop(into)]
    connecting: Signal<Option<String>>,
    /// Opens a session with a target, by id.
    on_connect: Callback<String>,
) -> impl IntoView {
    view! {
        <DataTable testid="targets-table" columns=COLUMNS>
            <For each=move || targets.get() key=row_key let:target>
                <TargetRow target=target now=now connecting=connecting on_connect=on_connect />
            </For>
        </DataTable>
    }
}
