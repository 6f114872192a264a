//! The administrator's table of accounts with per-row actions.

use crate::components::action_button::ActionButton;
use crate::components::data_table::{Column, DataTable};
use crate::components::role_badge::RoleBadge;
use crate::components::status_badge::StatusBadge;
use crate::time::local_date;
use leptos::prelude::*;
use tether_shared::api::UserView;

/// The users table's header.
const COLUMNS: &[Column] = &[
    Column::new("Username"),
    Column::new("Display name"),
    Column::new("Role"),
    Column::new("Status"),
    Column::new("Created"),
    Column::actions(),
];

/// One row per account: username, display name, role, status, creation date
/// and the actions edit, reset password, disable/enable and delete.
#[component]
pub fn UsersTable(
    /// The accounts, in display order.
    users: Vec<UserView>,
    /// The signed-in admin's id: their own row cannot be disabled or deleted.
    current_user_id: String,
    /// Edit display name and role.
    #[prop(into)]
    on_edit: Callback<UserView>,
    /// Set a one-time password.
    #[prop(into)]
    on_reset: Callback<UserView>,
    /// Disable an active account or enable a disabled one.
    #[prop(into)]
    on_toggle: Callback<UserView>,
    /// Delete an account (after asking).
    #[prop(into)]
    on_delete: Callback<UserView>,
) -> impl IntoView {
    let rows = users
        .into_iter()
        .map(|user| {
            let is_self = user.id == current_user_id;
            let (edit_user, reset_user, toggle_user, delete_user) =
                (user.clone(), user.clone(), user.clone(), user.clone());
            let toggle_label = if user.disabled { "Enable" } else { "Disable" };
            let toggle_class = if user.disabled {
                "button button-small button-secondary"
            } else {
                "button button-small button-danger-ghost"
            };
            view! {
                <tr
                    data-testid="user-row"
                    data-username=user.username.clone()
                    class:row-muted=user.disabled
                >
                    <td class="mono" data-testid="user-cell-username">
                        {user.username.clone()}
                        {is_self.then(|| view! { <span class="tag">"you"</span> })}
                    </td>
                    <td data-testid="user-cell-display-name">{user.display_name.clone()}</td>
                    <td data-testid="user-cell-role">
                        <RoleBadge role=user.role />
                    </td>
                    <td data-testid="user-cell-status">
                        <StatusBadge user=user.clone() />
                    </td>
                    <td class="nowrap" title=crate::time::local_date_time(user.created_at)>
                        {local_date(user.created_at)}
                    </td>
                    <td>
                        <div class="row-actions">
                        <ActionButton
                            class="button button-small button-secondary"
                            testid="user-edit"
                            label="Edit"
                            on_click=move |()| on_edit.run(edit_user.clone())
                        />
                        <ActionButton
                            class="button button-small button-secondary"
                            testid="user-reset-password"
                            label="Reset password"
                            on_click=move |()| on_reset.run(reset_user.clone())
                        />
                        {(!is_self)
                            .then(|| {
                                view! {
                                    <ActionButton
                                        class=toggle_class
                                        testid="user-toggle-disabled"
                                        label=toggle_label
                                        on_click=move |()| on_toggle.run(toggle_user.clone())
                                    />
                                    <ActionButton
                                        class="button button-small button-danger-ghost"
                                        testid="user-delete"
                                        label="Delete"
                                        on_click=move |()| on_delete.run(delete_user.clone())
                                    />
                                }
                            })}
                        </div>
                    </td>
                </tr>
            }
        })
        .collect_view();

    view! {
        <DataTable testid="users-table" columns=COLUMNS>
            {rows}
        </DataTable>
    }
}
