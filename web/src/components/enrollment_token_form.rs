//! The administrator's form for a new enrollment token: what it is for, how
//! long it is valid, how many agents may enroll with it, and which target
//! groups their computers join.

use crate::components::alert::{Alert, AlertKind};
use crate::components::form_field::FormField;
use crate::components::submit_button::SubmitButton;
use crate::components::target_group_checkboxes::TargetGroupCheckboxes;
use crate::components::text_field::TextField;
use crate::enrollment::{self, TtlUnit};
use crate::session::Session;
use crate::submission::{Submission, check_field};
use leptos::prelude::*;
use tether_shared::agent::{CreateEnrollmentTokenRequest, CreatedEnrollmentToken};
use tether_shared::groups::GroupKind;

/// Label, validity (an amount and a unit) and maximum uses; checked here
/// first with the server's limits, then sent.
#[component]
pub fn EnrollmentTokenForm(
    /// Called with the new token (and its secret) once the server created it.
    #[prop(into)]
    on_created: Callback<CreatedEnrollmentToken>,
) -> impl IntoView {
    let session = Session::use_context();
    let label = RwSignal::new(String::new());
    let ttl_amount = RwSignal::new("1".to_owned());
    let ttl_unit = RwSignal::new(TtlUnit::Days);
    let max_uses = RwSignal::new("1".to_owned());
    let groups = RwSignal::new(Vec::<String>::new());
    let target_groups = LocalResource::new(move || async move {
        session.call(|api| async move { api.list_groups(GroupKind::Target).await }).await
    });
    let label_error = RwSignal::new(None::<String>);
    let ttl_error = RwSignal::new(None::<String>);
    let max_uses_error = RwSignal::new(None::<String>);
    let sending = Submission::new();

    let submit = sending.on_submit(move || {
        let checked = (
            check_field(label_error, enrollment::label(&label.get_untracked())),
            check_field(ttl_error, enrollment::ttl_minutes(&ttl_amount.get_untracked(), ttl_unit.get_untracked())),
            check_field(max_uses_error, enrollment::max_uses(&max_uses.get_untracked())),
        );
        let (Some(label_text), Some(ttl_minutes), Some(max_uses_count)) = checked else {
            return;
        };
        let body = CreateEnrollmentTokenRequest {
            label: label_text,
            ttl_minutes,
            max_uses: max_uses_count,
            groups: groups.get_untracked(),
        };
        sending.send(
            session,
            body,
            |api, body| async move { api.create_enrollment_token(&body).await },
            move |result| {
                let created = result?;
                label.set(String::new());
                groups.set(Vec::new());
                on_created.run(created);
                Ok(())
            },
        );
    });

    view! {
        <form class="form" data-testid="token-form" on:submit=submit novalidate>
            <Alert message=sending.error kind=AlertKind::Error testid="token-form-error" />
            <div class="token-form-fields">
                <TextField
                    label="Label"
                    value=label
                    testid="token-label"
                    placeholder="e.g. Library PCs"
                    hint="Who or what the token is for; shown in the list and the audit log."
                    error=label_error
                />
                <FormField
                    label="Valid for"
                    input_id="field-token-ttl-amount"
                    error_testid="token-ttl-amount-error"
                    error=ttl_error
                    hint="Up to 30 days."
                >
                    <div class="input-with-select">
                        <input
                            id="field-token-ttl-amount"
                            type="number"
                            min="1"
                            inputmode="numeric"
                            data-testid="token-ttl-amount"
                            aria-invalid=move || ttl_error.with(Option::is_some).to_string()
                            bind:value=ttl_amount
                        />
                        <select
                            aria-label="Unit"
                            data-testid="token-ttl-unit"
                            prop:value=move || ttl_unit.get().as_str()
                            on:change=move |ev| {
                                if let Some(unit) = TtlUnit::parse(&event_target_value(&ev)) {
                                    ttl_unit.set(unit);
                                }
                            }
                        >
                            {TtlUnit::ALL
                                .into_iter()
                                .map(|unit| {
                                    view! {
                                        <option value=unit.as_str() selected=move || ttl_unit.get() == unit>
                                            {unit.label()}
                                        </option>
                                    }
                                })
                                .collect_view()}
                        </select>
                    </div>
                </FormField>
                <TextField
                    label="Max uses"
                    value=max_uses
                    kind="number"
                    testid="token-max-uses"
                    hint="How many computers may enroll with it."
                    error=max_uses_error
                />
                <fieldset class="field">
                    <legend>"Target groups"</legend>
                    {move || match target_groups.get() {
                        Some(Ok(list)) => view! { <TargetGroupCheckboxes groups=list selected=groups testid="token-group" /> }.into_any(),
                        Some(Err(failure)) => view! { <p class="alert alert-error">{failure.message()}</p> }.into_any(),
                        None => view! { <p class="loading">"Loading groups…"</p> }.into_any(),
                    }}
                    <p class="field-hint">"Computers enrolling with this token join these groups."</p>
                </fieldset>
                <div class="token-form-submit">
                    <SubmitButton testid="token-create-submit" pending=sending.pending label="Create token" busy_label="Creating…" />
                </div>
            </div>
        </form>
    }
}
