//! The administrator's agent enrollment: issue tokens, see them once, list
//! and revoke them.

use crate::components::action_button::ActionButton;
use crate::components::alert::{Alert, AlertKind};
use crate::components::confirm_dialog::ConfirmDialog;
use crate::components::enrollment_token_created::EnrollmentTokenCreated;
use crate::components::enrollment_token_form::EnrollmentTokenForm;
use crate::components::enrollment_tokens_table::EnrollmentTokensTable;
use crate::components::list_state::ListState;
use crate::components::page_header::PageHeader;
use crate::session::Session;
use crate::submission::Submission;
use crate::time::now_ms;
use leptos::prelude::*;
use tether_shared::agent::{CreatedEnrollmentToken, EnrollmentTokenView};

/// The origin agents should reach this server at: the one this page came from.
fn page_origin() -> String {
    web_sys::window().and_then(|window| window.location().origin().ok()).unwrap_or_default()
}

/// How enrollment works, the form, the token just created and the token list.
#[component]
pub fn AgentsPage() -> impl IntoView {
    let session = Session::use_context();
    let tokens = LocalResource::new(move || async move {
        let list = session.call(|api| async move { api.list_enrollment_tokens().await }).await;
        (list, now_ms())
    });
    let created = RwSignal::new(None::<CreatedEnrollmentToken>);
    let revoking = RwSignal::new(None::<EnrollmentTokenView>);
    let revoke = Submission::new();
    let notice = RwSignal::new(None::<String>);

    let on_created = Callback::new(move |token: CreatedEnrollmentToken| {
        notice.set(None);
        created.set(Some(token));
        tokens.refetch();
    });
    let close_revoke = Callback::new(move |()| {
        revoking.set(None);
        revoke.error.set(None);
    });
    let confirm_revoke = Callback::new(move |()| {
        let Some(token) = revoking.get_untracked() else {
            return;
        };
        if !revoke.begin() {
            return;
        }
        revoke.send(
            session,
            token.id.clone(),
            |api, id| async move { api.revoke_enrollment_token(&id).await },
            move |result| {
                result?;
                revoking.set(None);
                notice.set(Some(format!("Revoked “{}”. No more computers can enroll with it.", token.label)));
                if created.with_untracked(|c| c.as_ref().is_some_and(|c| c.info.id == token.id)) {
                    created.set(None);
                }
                tokens.refetch();
                Ok(())
            },
        );
    });

    let table = move || {
        let (fetched, at) = tokens.get().map_or((None, 0), |(list, at)| (Some(list), at));
        view! {
            <ListState
                fetched=fetched
                testid="tokens"
                loading="Loading tokens…"
                empty_title="No enrollment tokens yet"
                empty_text="Create one above to enroll your first computer."
                list=move |list| view! {
                    <EnrollmentTokensTable
                        tokens=list
                        now_ms=at
                        on_revoke=move |token| {
                            notice.set(None);
                            revoking.set(Some(token));
                        }
                    />
                }
            />
        }
    };

    let revoke_dialog = move || {
        revoking.get().map(|token| {
            view! {
                <ConfirmDialog
                    title=format!("Revoke “{}”?", token.label)
                    message="Computers can no longer enroll with this token. Computers already enrolled with it stay enrolled."
                        .to_owned()
                    confirm_label="Revoke token"
                    pending=revoke.pending
                    error=revoke.error
                    on_confirm=confirm_revoke
                    on_close=close_revoke
                />
            }
        })
    };

    view! {
        <PageHeader title="Agents" subtitle="Enroll computers so technicians can assist them.">
            <ActionButton testid="tokens-refresh" label="Refresh" on_click=move |()| tokens.refetch() />
        </PageHeader>
        <section class="card">
            <h2 class="card-title">"New enrollment token"</h2>
            <p class="muted card-intro" data-testid="enrollment-explainer">
                "A computer joins Tether when someone runs the Tether agent on it with an enrollment token: the agent trades the token for its own credential and then shows up under Targets."
            </p>
            <EnrollmentTokenForm on_created=on_created />
        </section>
        {move || {
            created
                .get()
                .map(|token| {
                    view! {
                        <EnrollmentTokenCreated
                            created=token
                            origin=page_origin()
                            on_dismiss=move |()| created.set(None)
                        />
                    }
                })
        }}
        <Alert message=notice kind=AlertKind::Success testid="tokens-notice" />
        <section class="card card-flush">
            <header class="card-flush-header">
                <h2>"Enrollment tokens"</h2>
            </header>
            {table}
        </section>
        {revoke_dialog}
    }
}
