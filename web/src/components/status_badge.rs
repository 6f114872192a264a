//! A badge for an account's state: active, disabled or awaiting a password change.

use leptos::prelude::*;
use tether_shared::api::UserView;

/// The account's state as a badge.
#[component]
pub fn StatusBadge(
    /// The account.
    user: UserView,
) -> impl IntoView {
    let (class, label, status) = if user.disabled {
        ("badge badge-muted", "Disabled", "disabled")
    } else if user.must_change_password {
        ("badge badge-warning", "Password change pending", "pending")
    } else {
        ("badge badge-success", "Active", "active")
    };
    view! {
        <span class=class data-testid="status-badge" data-status=status>
            {label}
        </span>
    }
}
