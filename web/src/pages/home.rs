//! The start address `/`, which forwards to the role's main page.

use crate::session::{Phase, Session};
use leptos::prelude::*;
use leptos_router::components::Redirect;
use tether_shared::Role;

/// The main page of each role.
pub fn home_path(role: Role) -> &'static str {
    match role {
        Role::Technician => "/targets",
        Role::Admin => "/users",
        Role::Auditor => "/audit",
    }
}

/// Redirects to [`home_path`] of the signed-in role.
#[component]
pub fn HomePage() -> impl IntoView {
    let session = Session::use_context();
    move || match session.phase().get() {
        Phase::Ready(role) => Some(view! { <Redirect path=home_path(role) /> }),
        _ => None,
    }
}
