//! A coloured badge naming a role.

use leptos::prelude::*;
use tether_shared::Role;

/// The role's label in its colour.
#[component]
pub fn RoleBadge(
    /// The role to show.
    role: Role,
) -> impl IntoView {
    let class = format!("badge badge-role-{}", role.as_str());
    view! {
        <span class=class data-testid="role-badge" data-role=role.as_str()>
            {role.label()}
        </span>
    }
}
