//! A newly created enrollment token, shown this once, with the commands to
//! run on the computer being enrolled.

use crate::components::action_button::ActionButton;
use crate::components::alert::{Alert, AlertKind};
use crate::components::copy_field::CopyField;
use crate::enrollment::{RUN_COMMAND, enroll_command};
use leptos::prelude::*;
use tether_shared::agent::CreatedEnrollmentToken;

/// The secret token, the enroll and run commands for this server, and a
/// warning that the token cannot be shown again.
#[component]
pub fn EnrollmentTokenCreated(
    /// The server's answer to creating the token.
    created: CreatedEnrollmentToken,
    /// The address agents reach this server at (the page's origin).
    origin: String,
    /// Called when the admin has copied what they need.
    #[prop(into)]
    on_dismiss: Callback<()>,
) -> impl IntoView {
    let uses = match created.info.max_uses {
        1 => "one computer".to_owned(),
        n => format!("up to {n} computers"),
    };
    let expires = crate::time::local_date_time(created.info.expires_at);
    view! {
        <section class="card token-created" data-testid="token-created">
            <header class="card-header">
                <h2>{format!("Enrollment token “{}” created", created.info.label)}</h2>
                <ActionButton testid="token-created-dismiss" label="Done" on_click=on_dismiss />
            </header>
            <div class="form">
                <Alert
                    message=Signal::stored(
                        Some("Copy the token now: it will not be shown again. Anyone who has it can enroll a computer until it expires or you revoke it.".to_owned()),
                    )
                    kind=AlertKind::Warning
                    testid="token-created-warning"
                />
                <p class="muted">{format!("Valid for {uses} until {expires}.")}</p>
                <CopyField label="Enrollment token" value=created.token.clone() testid="token-secret" />
                <CopyField
                    label="1. On the computer to enroll, with the Tether agent installed, run"
                    value=enroll_command(&origin, &created.token)
                    testid="token-enroll-command"
                />
                <CopyField
                    label="2. Then start the agent"
                    value=RUN_COMMAND.to_owned()
                    testid="token-run-command"
                    hint="The computer then appears to technicians under Targets while the agent runs."
                />
            </div>
        </section>
    }
}
