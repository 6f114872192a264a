//! The root component: the session, the router, and which screen the
//! session's phase allows (login, forced password change, or the shell);
//! and, apart from all that, the public pages: the agent's own page at
//! `/agent` and the page a connection link opens at `/connect/<code>`.

use crate::components::role_gate::RoleGate;
use crate::components::sidebar::Sidebar;
use crate::components::splash::Splash;
use crate::connect_page::code_in_path;
use crate::pages::account::AccountPage;
use crate::pages::agent_ui::{AGENT_UI_PATH, AgentUiPage};
use crate::pages::agents::AgentsPage;
use crate::pages::audit::AuditPage;
use crate::pages::broker_window::BrokerWindowPage;
use crate::pages::brokers::BrokersPage;
use crate::pages::computers::ComputersPage;
use crate::pages::connect::ConnectPage;
use crate::pages::controller::ControllerPage;
use crate::pages::forced_password_change::ForcedPasswordChangePage;
use crate::pages::groups::GroupsPage;
use crate::pages::home::HomePage;
use crate::pages::live_sessions::LiveSessionsPage;
use crate::pages::login::LoginPage;
use crate::pages::not_found::NotFoundPage;
use crate::pages::policies::PoliciesPage;
use crate::pages::session_timeline::SessionTimelinePage;
use crate::pages::sessions::SessionsPage;
use crate::pages::targets::TargetsPage;
use crate::pages::users::UsersPage;
use crate::session::{Phase, Session};
use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;
use tether_shared::Role;

/// The whole app.
#[component]
pub fn App() -> impl IntoView {
    // The pages for the person being helped live outside the technician's
    // session machinery: no refresh call, no login redirect, no shell.
    let path = current_path();
    if path.trim_end_matches('/') == AGENT_UI_PATH {
        return view! { <AgentUiPage /> }.into_any();
    }
    if let Some(code) = code_in_path(&path) {
        return view! { <ConnectPage code=code.to_owned() /> }.into_any();
    }
    let session = Session::provide();
    view! {
        <Router>
            {move || match session.phase().get() {
                Phase::Restoring => view! { <Splash /> }.into_any(),
                Phase::SignedOut => view! { <LoginPage /> }.into_any(),
                Phase::MustChangePassword => view! { <ForcedPasswordChangePage /> }.into_any(),
                Phase::Ready(role) => view! { <Shell role=role /> }.into_any(),
            }}
        </Router>
    }
    .into_any()
}

/// The address's path as the app started.
fn current_path() -> String {
    web_sys::window().and_then(|window| window.location().pathname().ok()).unwrap_or_default()
}

/// The signed-in layout: navigation on the left, the routed page on the right.
#[component]
fn Shell(role: Role) -> impl IntoView {
    view! {
        <div class="shell" data-testid="shell" data-role=role.as_str()>
            <Sidebar role=role />
            <main class="content">
                <Routes fallback=NotFoundPage>
                    <Route path=path!("/") view=HomePage />
                    <Route path=path!("/account") view=AccountPage />
                    <Route
                        path=path!("/targets")
                        view=|| view! { <RoleGate allow=Role::can_open_sessions><TargetsPage /></RoleGate> }
                    />
                    <Route
                        path=path!("/sessions")
                        view=|| view! { <RoleGate allow=Role::can_open_sessions><SessionsPage /></RoleGate> }
                    />
                    <Route
                        path=path!("/sessions/:id")
                        view=|| view! { <RoleGate allow=Role::can_open_sessions><ControllerPage /></RoleGate> }
                    />
                    <Route
                        path=path!("/broker/:id")
                        view=|| view! { <RoleGate allow=Role::can_open_sessions><BrokerWindowPage /></RoleGate> }
                    />
                    <Route
                        path=path!("/users")
                        view=|| view! { <RoleGate allow=Role::can_manage_users><UsersPage /></RoleGate> }
                    />
                    <Route
                        path=path!("/agents")
                        view=|| view! { <RoleGate allow=Role::can_enroll_agents><AgentsPage /></RoleGate> }
                    />
                    <Route
                        path=path!("/computers")
                        view=|| view! { <RoleGate allow=Role::can_manage_policies><ComputersPage /></RoleGate> }
                    />
                    <Route
                        path=path!("/groups")
                        view=|| view! { <RoleGate allow=Role::can_manage_policies><GroupsPage /></RoleGate> }
                    />
                    <Route
                        path=path!("/brokers")
                        view=|| view! { <RoleGate allow=Role::can_manage_policies><BrokersPage /></RoleGate> }
                    />
                    <Route
                        path=path!("/policies")
                        view=|| view! { <RoleGate allow=Role::can_manage_policies><PoliciesPage /></RoleGate> }
                    />
                    <Route
                        path=path!("/live-sessions")
                        view=|| view! { <RoleGate allow=Role::can_see_all_sessions><LiveSessionsPage /></RoleGate> }
                    />
                    <Route
                        path=path!("/audit")
                        view=|| view! { <RoleGate allow=Role::can_read_audit><AuditPage /></RoleGate> }
                    />
                    <Route
                        path=path!("/audit/sessions/:id")
                        view=|| view! { <RoleGate allow=Role::can_read_audit><SessionTimelinePage /></RoleGate> }
                    />
                </Routes>
            </main>
        </div>
    }
}
