//! The signed-in user's own account: profile details and password change.

use crate::components::alert::{Alert, AlertKind};
use crate::components::page_header::PageHeader;
use crate::components::password_change_form::PasswordChangeForm;
use crate::components::role_badge::RoleBadge;
use crate::session::Session;
use crate::time::local_date_time;
use leptos::prelude::*;

/// Profile facts and the password change form.
#[component]
pub fn AccountPage() -> impl IntoView {
    let session = Session::use_context();
    let changed = RwSignal::new(None::<String>);
    let profile = move || {
        session.user().map(|user| {
            view! {
                <dl class="facts" data-testid="account-facts">
                    <dt>"Username"</dt>
                    <dd class="mono">{user.username}</dd>
                    <dt>"Display name"</dt>
                    <dd>{user.display_name}</dd>
                    <dt>"Role"</dt>
                    <dd>
                        <RoleBadge role=user.role />
                    </dd>
                    <dt>"Member since"</dt>
                    <dd>{local_date_time(user.created_at)}</dd>
                </dl>
            }
        })
    };
    view! {
        <PageHeader title="Account" subtitle="Your profile and password." />
        <div class="grid-2">
            <section class="card">
                <h2 class="card-title">"Profile"</h2>
                {profile}
                <p class="muted small">"Only an administrator can change your name or role."</p>
            </section>
            <section class="card">
                <h2 class="card-title">"Change password"</h2>
                <Alert message=changed kind=AlertKind::Success testid="password-changed" />
                <PasswordChangeForm on_done=move |()| {
                    changed.set(Some("Your password was changed.".to_owned()))
                } />
            </section>
        </div>
    }
}
