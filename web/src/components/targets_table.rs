//! The technician's table of targets, updated in place as the list refreshes.

use crate::components::target_row::TargetRow;
use leptos::prelude::*;
use tether_shared::agent::TargetView;

/// What identifies a row's content: a row is rebuilt only when this changes,
/// so a refresh that changes nothing leaves the table (and focus) alone.
fn row_key(target: &TargetView) -> (String, bool, Option<i64>, String) {
    (target.id.clone(), target.online, target.last_seen_at, format!("{:?}", target.info))
}

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
        <div class="table-wrap">
            <table class="table" data-testid="targets-table">
                <thead>
                    <tr>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Hostname"</th>
                        <th scope="col">"Operating system"</th>
                        <th scope="col">"User"</th>
                        <th scope="col">"Agent"</th>
                        <th scope="col">"Displays"</th>
                        <th scope="col">"Last seen"</th>
                        <th scope="col" class="align-right">"Actions"</th>
                    </tr>
                </thead>
                <tbody>
                    <For each=move || targets.get() key=row_key let:target>
                        <TargetRow target=target now=now connecting=connecting on_connect=on_connect />
                    </For>
                </tbody>
            </table>
        </div>
    }
}
