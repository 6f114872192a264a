//! Shows a page only to the roles allowed to use it.

use crate::components::empty_state::EmptyState;
use crate::session::{Phase, Session};
use leptos::prelude::*;
use tether_shared::Role;

/// Renders `children` when the signed-in role passes `allow`, and a
/// "not available" notice otherwise. The server enforces the same rules;
/// this only keeps people from pages that would answer `403`.
#[component]
pub fn RoleGate(
    /// Which roles may see the page, e.g. `Role::can_manage_users`.
    allow: fn(Role) -> bool,
    /// The page.
    children: ChildrenFn,
) -> impl IntoView {
    let session = Session::use_context();
    move || match session.phase().get() {
        Phase::Ready(role) if allow(role) => children().into_any(),
        _ => view! {
            <EmptyState title="Not available for your role" testid="forbidden">
                <p>"Your account's role does not give access to this page."</p>
            </EmptyState>
        }
        .into_any(),
    }
}
