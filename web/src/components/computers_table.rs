//! The administrator's table of enrolled computers: name (and the host
//! name it reports when renamed), groups, presence, last contact, agent
//! version, and Edit and Revoke buttons.

use crate::components::action_button::ActionButton;
use crate::components::data_table::{Column, DataTable};
use crate::components::target_status_badge::TargetStatusBadge;
use crate::time::relative;
use leptos::prelude::*;
use tether_shared::groups::ComputerView;

const COLUMNS: &[Column] = &[
    Column::new("Name"),
    Column::new("Groups"),
    Column::new("Status"),
    Column::new("Last contact"),
    Column::new("Agent version"),
    Column::actions(),
];

/// One row per computer.
#[component]
pub fn ComputersTable(
    computers: Vec<ComputerView>,
    /// The time last contacts are told from, Unix milliseconds.
    now_ms: i64,
    #[prop(into)] on_edit: Callback<ComputerView>,
    #[prop(into)] on_revoke: Callback<ComputerView>,
) -> impl IntoView {
    let rows = computers
        .into_iter()
        .map(|computer| {
            let groups: Vec<String> = computer.groups.iter().map(|group| group.name.clone()).collect();
            let last_contact = match (computer.online, computer.last_seen_at) {
                (true, _) => "now".to_owned(),
                (false, Some(at)) => relative(now_ms, at),
                (false, None) => "never".to_owned(),
            };
            let host = computer.display_name.is_some().then(|| computer.hostname.clone());
            let (edit, revoke) = (computer.clone(), computer.clone());
            view! {
                <tr data-testid="computer-row" data-id=computer.id.clone() data-name=computer.name.clone()>
                    <td>
                        <span data-testid="computer-name">{computer.name.clone()}</span>
                        {host.map(|host| view! { <span class="muted mono">{format!(" ({host})")}</span> })}
                    </td>
                    <td data-testid="computer-groups">{if groups.is_empty() { "—".to_owned() } else { groups.join(", ") }}</td>
                    <td><TargetStatusBadge online=computer.online /></td>
                    <td class="nowrap">{last_contact}</td>
                    <td class="mono">{computer.agent_version.clone()}</td>
                    <td>
                        <div class="row-actions">
                            <ActionButton class="button button-small button-secondary" testid="computer-edit" label="Edit" on_click=move |()| on_edit.run(edit.clone()) />
                            <ActionButton class="button button-small button-danger-ghost" testid="computer-revoke" label="Revoke" on_click=move |()| on_revoke.run(revoke.clone()) />
                        </div>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! { <DataTable testid="computers-table" columns=COLUMNS>{rows}</DataTable> }
}
