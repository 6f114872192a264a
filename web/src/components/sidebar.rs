//! The app shell's side navigation: product name, the role's pages, and the
//! signed-in user with a log-out button.

use crate::components::role_badge::RoleBadge;
use crate::session::Session;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use tether_shared::Role;

/// One entry of the navigation.
struct NavLink {
    href: &'static str,
    label: &'static str,
    testid: &'static str,
}

/// The pages a role can open, in menu order.
fn links_for(role: Role) -> Vec<NavLink> {
    let link = |href, label, testid| NavLink { href, label, testid };
    match role {
        Role::Technician => {
            vec![link("/targets", "Targets", "nav-targets"), link("/sessions", "Sessions", "nav-sessions")]
        }
        Role::Admin => vec![
            link("/users", "Users", "nav-users"),
            link("/agents", "Agents", "nav-agents"),
            link("/computers", "Computers", "nav-computers"),
            link("/groups", "Groups", "nav-groups"),
            link("/brokers", "Brokers", "nav-brokers"),
            link("/policies", "Policies", "nav-policies"),
            link("/live-sessions", "Live sessions", "nav-live-sessions"),
        ],
        Role::Auditor => {
            vec![link("/audit", "Audit log", "nav-audit"), link("/live-sessions", "Live sessions", "nav-live-sessions")]
        }
    }
}

/// Up to two capital letters from a display name, for the avatar.
fn initials(name: &str) -> String {
    name.split_whitespace().filter_map(|word| word.chars().next()).take(2).flat_map(char::to_uppercase).collect()
}

/// The side navigation for `role`.
#[component]
pub fn Sidebar(
    /// The signed-in user's role.
    role: Role,
) -> impl IntoView {
    let session = Session::use_context();
    let navigate = use_navigate();
    let signing_out = RwSignal::new(false);
    let display_name = move || session.user().map(|user| user.display_name).unwrap_or_default();
    let username = move || session.user().map(|user| user.username).unwrap_or_default();

    let log_out = move |_| {
        signing_out.set(true);
        let navigate = navigate.clone();
        spawn_local(async move {
            session.logout().await;
            navigate("/", Default::default());
        });
    };

    view! {
        <aside class="sidebar" data-testid="sidebar" data-role=role.as_str()>
            <div class="brand">
                <span class="brand-mark" aria-hidden="true"></span>
                "Tether"
            </div>
            <nav class="nav" aria-label="Main">
                {links_for(role)
                    .into_iter()
                    .map(|link| {
                        view! {
                            <A href=link.href attr:class="nav-link" attr:data-testid=link.testid>
                                {link.label}
                            </A>
                        }
                    })
                    .collect_view()}
                <A href="/account" attr:class="nav-link" attr:data-testid="nav-account">
                    "Account"
                </A>
            </nav>
            <div class="sidebar-footer">
                <div class="user-card" data-testid="user-card">
                    <div class="avatar" aria-hidden="true">
                        {move || initials(&display_name())}
                    </div>
                    <div class="user-card-text">
                        <div class="user-card-name" data-testid="user-display-name">
                            {display_name}
                        </div>
                        <div class="user-card-meta">
                            <span class="muted" data-testid="user-username">{username}</span>
                            <RoleBadge role=role />
                        </div>
                    </div>
                </div>
                <button
                    type="button"
                    class="button button-ghost button-block"
                    data-testid="logout-button"
                    disabled=move || signing_out.get()
                    on:click=log_out
                >
                    {move || if signing_out.get() { "Logging out…" } else { "Log out" }}
                </button>
            </div>
        </aside>
    }
}

#[cfg(test)]
mod tests {
    use super::{initials, links_for};
    use tether_shared::Role;

    #[test]
    fn initials_of_names() {
        assert_eq!(initials("Tina Technician"), "TT");
        assert_eq!(initials("admin"), "A");
        assert_eq!(initials("ana maria lopez"), "AM");
        assert_eq!(initials(""), "");
    }

    #[test]
    fn each_role_sees_only_its_pages() {
        let hrefs = |role| links_for(role).iter().map(|l| l.href).collect::<Vec<_>>();
        assert_eq!(hrefs(Role::Technician), ["/targets", "/sessions"]);
        assert_eq!(
            hrefs(Role::Admin),
            ["/users", "/agents", "/computers", "/groups", "/brokers", "/policies", "/live-sessions"]
        );
        assert_eq!(hrefs(Role::Auditor), ["/audit", "/live-sessions"]);
    }
}
