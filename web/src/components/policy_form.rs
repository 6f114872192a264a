//! A whole policy's form — the session rules (code lifetime, wrong tries,
//! acceptance and its time, server loss) and the access rules (allowed
//! modes, assent each time, unattended, idle limit, recording) — for the
//! default policy or one pair's assignment. Checked here with the server's
//! rules (`policy_form::checked`); the server decides, and the form then
//! shows what it saved.

use crate::components::alert::{Alert, AlertKind};
use crate::components::flag_checkboxes::FlagCheckboxes;
use crate::components::policy_number_field::PolicyNumberField;
use crate::components::submit_button::SubmitButton;
use crate::policy_form::{Field, Typed, as_clock, checked, wire_name};
use crate::session::Session;
use crate::submission::Submission;
use leptos::prelude::*;
use tether_shared::access::Access;
use tether_shared::access_policy::{AccessRules, Policy};
use tether_shared::mode::PRECEDENCE;
use tether_shared::policy::SessionPolicy;

/// Which policy the form saves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyTarget {
    /// The default, for pairs without an assignment.
    Default,
    /// The assignment with this id.
    Assignment(String),
}

/// A checkbox with a label and a hint.
#[component]
fn PolicyCheckbox(label: &'static str, hint: &'static str, testid: String, value: RwSignal<bool>) -> impl IntoView {
    view! {
        <div class="field checkbox-field">
            <label for=testid.clone()>
                <input
                    id=testid.clone()
                    type="checkbox"
                    data-testid=testid.clone()
                    prop:checked=move || value.get()
                    on:change=move |ev| value.set(event_target_checked(&ev))
                />
                {label}
            </label>
            <p class="field-hint">{hint}</p>
        </div>
    }
}

/// The policy's fields, filled with `saved`; test ids start with `prefix`
/// (`{prefix}-form`, `{prefix}-code-lifetime`, `{prefix}-save`, …).
#[component]
pub fn PolicyForm(
    /// The policy as the server has it.
    saved: Policy,
    /// Which policy a save replaces.
    target: PolicyTarget,
    /// The test ids' (and element ids') prefix.
    prefix: &'static str,
    /// Called with the saved policy.
    #[prop(optional, into)]
    on_saved: Option<Callback<Policy>>,
) -> impl IntoView {
    let session = Session::use_context();
    let text = |field| RwSignal::new(Typed::of(&saved).text(field).to_owned());
    let numbers = Field::ALL.map(text);
    let number = move |field: Field| numbers[Field::ALL.iter().position(|f| *f == field).unwrap_or(0)];
    let errors = Field::ALL.map(|_| RwSignal::new(None::<String>));
    let error_of = move |field: Field| errors[Field::ALL.iter().position(|f| *f == field).unwrap_or(0)];
    let user_acceptance = RwSignal::new(saved.session.user_acceptance);
    let allowed_modes = RwSignal::new(saved.access.allowed_modes);
    let assent_each_time = RwSignal::new(saved.access.assent_each_time);
    let unattended = RwSignal::new(saved.access.unattended);
    let recording = RwSignal::new(saved.access.recording);
    let show = move |policy: &Policy| {
        let typed = Typed::of(policy);
        for field in Field::ALL {
            number(field).set(typed.text(field).to_owned());
        }
        user_acceptance.set(typed.user_acceptance);
        allowed_modes.set(typed.allowed_modes);
        assent_each_time.set(typed.assent_each_time);
        unattended.set(typed.unattended);
        recording.set(typed.recording);
    };
    let notice = RwSignal::new(None::<String>);
    let sending = Submission::new();

    let submit = sending.on_submit(move || {
        notice.set(None);
        errors.iter().for_each(|error| error.set(None));
        let typed = Typed {
            code_lifetime: number(Field::CodeLifetime).get_untracked(),
            wrong_guesses: number(Field::WrongGuesses).get_untracked(),
            user_acceptance: user_acceptance.get_untracked(),
            acceptance_timeout: number(Field::AcceptanceTimeout).get_untracked(),
            server_loss: number(Field::ServerLoss).get_untracked(),
            allowed_modes: allowed_modes.get_untracked(),
            assent_each_time: assent_each_time.get_untracked(),
            unattended: unattended.get_untracked(),
            idle_timeout: number(Field::IdleTimeout).get_untracked(),
            recording: recording.get_untracked(),
            max_file_size: number(Field::MaxFileSize).get_untracked(),
        };
        let policy = match checked(&typed) {
            Ok(policy) => policy,
            Err(problems) => {
                for (field, message) in problems {
                    field.map_or(sending.error, error_of).set(Some(message));
                }
                return;
            }
        };
        sending.send(
            session,
            (target.clone(), policy),
            |api, (target, policy)| async move {
                match target {
                    PolicyTarget::Default => api.save_default_policy(&policy).await,
                    PolicyTarget::Assignment(id) => api.save_assignment(&id, &policy).await.map(|saved| saved.policy),
                }
            },
            move |result| {
                let saved = result?;
                show(&saved);
                notice.set(Some("Policy saved. Sessions and codes from now on follow it.".to_owned()));
                if let Some(on_saved) = on_saved {
                    on_saved.run(saved);
                }
                Ok(())
            },
        );
    });

    let lifetime_clock = Signal::derive(move || match number(Field::CodeLifetime).with(|text| as_clock(text)) {
        Some(clock) => format!("seconds = {clock}"),
        None => "seconds".to_owned(),
    });
    let id = move |name: &str| format!("{prefix}-{name}");
    let range = |range: std::ops::RangeInclusive<u32>| (*range.start(), *range.end());
    let modes = PRECEDENCE.iter().map(|mode| (*mode, mode.name(), id(&format!("mode-{}", wire_name(mode))))).collect();
    let kinds =
        Access::ALL.iter().map(|kind| (*kind, kind.label(), id(&format!("assent-{}", wire_name(kind))))).collect();

    view! {
        <form class="form policy-form" data-testid=id("form") on:submit=submit novalidate>
            <Alert message=sending.error kind=AlertKind::Error testid=id("form-error") />
            <FlagCheckboxes
                legend="Allowed session modes"
                hint="The technician's session runs in the first allowed mode from Active down; none allowed means no session at all."
                choices=modes
                set=allowed_modes
            />
            <FlagCheckboxes
                legend="Ask the person each time for"
                hint="Kinds of access the person at the computer must agree to every time the technician asks for them."
                choices=kinds
                set=assent_each_time
            />
            <PolicyCheckbox
                label="Allow unattended access"
                hint="A technician may start a session without anyone at the computer having typed a code (the computer must opt in too)."
                testid=id("unattended")
                value=unattended
            />
            <PolicyNumberField
                label="End idle sessions after (seconds)"
                testid=id("idle-timeout")
                hint="A session without input or chat from the technician this long ends; empty for no limit."
                value=number(Field::IdleTimeout)
                error=error_of(Field::IdleTimeout)
                range=range(AccessRules::IDLE_TIMEOUT_SECS)
            />
            <PolicyNumberField
                label="Largest file to transfer (MiB)"
                testid=id("max-file-size")
                hint="Files larger than this are refused either way; empty for no limit."
                value=number(Field::MaxFileSize)
                error=error_of(Field::MaxFileSize)
                range=range(AccessRules::MAX_FILE_MIB)
            />
            <PolicyCheckbox
                label="Allow recording"
                hint="Whether sessions may be recorded; a global off switch wins."
                testid=id("recording")
                value=recording
            />
            <PolicyNumberField
                label="Connection code lifetime"
                testid=id("code-lifetime")
                hint="How long a new, renewed or extended code can be entered, in seconds."
                value=number(Field::CodeLifetime)
                error=error_of(Field::CodeLifetime)
                range=range(SessionPolicy::CODE_LIFETIME_SECS)
                after=lifetime_clock
            />
            <PolicyNumberField
                label="Wrong tries before a code is void"
                testid=id("wrong-guesses")
                hint="Codes typed one digit away from this one; at this many, the code stops working."
                value=number(Field::WrongGuesses)
                error=error_of(Field::WrongGuesses)
                range=range(SessionPolicy::MAX_WRONG_GUESSES)
            />
            <PolicyCheckbox
                label="Ask the user to accept incoming sessions"
                hint="The person at the computer accepts or declines each session before anything is shared."
                testid=id("user-acceptance")
                value=user_acceptance
            />
            <PolicyNumberField
                label="Time to accept (seconds)"
                testid=id("acceptance-timeout")
                hint="From entering the code to the session starting, the answer included; no answer counts as declining."
                value=number(Field::AcceptanceTimeout)
                error=error_of(Field::AcceptanceTimeout)
                range=range(SessionPolicy::ACCEPTANCE_TIMEOUT_SECS)
            />
            <PolicyNumberField
                label="End sessions when the server is lost for (seconds)"
                testid=id("server-loss")
                hint="A computer that hears nothing from the server this long ends its session itself, so nothing goes on unrecorded."
                value=number(Field::ServerLoss)
                error=error_of(Field::ServerLoss)
                range=range(SessionPolicy::SERVER_LOSS_TIMEOUT_SECS)
            />
            <Alert message=notice kind=AlertKind::Success testid=id("saved") />
            <div class="form-actions">
                <SubmitButton testid=id("save") pending=sending.pending label="Save policy" busy_label="Saving…" />
            </div>
        </form>
    }
}
