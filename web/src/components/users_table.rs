//! The administrator's table of accounts with per-row actions.

use crate::components::role_badge::RoleBadge;
use crate::components::status_badge::StatusBadge;
use crate::time::local_date;
use leptos::prelude::*;
use tether_shared::api::UserView;

/// One row per account: username, display name, role, status, creation date
/// and the actions edit, reset password and disable/enable.
#[component]
pub fn UsersTable(
    /// The accounts, in display order.
    users: Vec<UserView>,
    /// The signed-in admin's id: their own row cannot be disabled.
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
) -> impl IntoView {
    let rows = users
        .into_iter()
        .map(|user| {
            let is_self = user.id == current_user_id;
            let (edit_user, reset_user, toggle_user) = (user.clone(), user.clone(), user.clone());
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
                        <button
                            type="button"
                            class="button button-small button-secondary"
                            data-testid="user-edit"
                            on:click=move |_| on_edit.run(edit_user.clone())
                        >
                            "Edit"
                        </button>
                        <button
                            type="button"
                            class="button button-small button-secondary"
                            data-testid="user-reset-password"
                            on:click=move |_| on_reset.run(reset_user.clone())
                        >
                            "Reset password"
                        </button>
                        {(!is_self)
                            .then(|| {
                                view! {
                                    <button
                                        type="button"
                                        class=toggle_class
                                        data-testid="user-toggle-disabled"
                                        on:click=move |_| on_toggle.run(toggle_user.clone())
                                    >
                                        {toggle_label}
                                    </button>
                                }
                            })}
                        </div>
                    </td>
                </tr>
            }
        })
        .collect_view();

    view! {
        <div class="table-wrap">
            <table class="table" data-testid="users-table">
                <thead>
                    <tr>
                        <th scope="col">"Username"</th>
                        <th scope="col">"Display name"</th>
                        <th scope="col">"Role"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Created"</th>
                        <th scope="col" class="align-right">"Actions"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}
