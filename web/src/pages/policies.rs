//! The administrator's session policy: how long a connection code lives, how
//! many wrong tries void it, and whether (and how quickly) the person at the
//! computer must accept a session. Checked here with the server's own rules
//! (`SessionPolicy::validate`); the server decides.

use crate::components::alert::{Alert, AlertKind};
use crate::components::form_field::FormField;
use crate::components::page_header::PageHeader;
use crate::components::submit_button::SubmitButton;
use crate::session::Session;
use crate::submission::Submission;
use leptos::prelude::*;
use tether_shared::connection_code::countdown_text;
use tether_shared::policy::{InvalidPolicy, SessionPolicy};

/// The policies page.
#[component]
pub fn PoliciesPage() -> impl IntoView {
    let session = Session::use_context();
    let saved =
        LocalResource::new(move || async move { session.call(|api| async move { api.session_policy().await }).await });
    let content = move || match saved.get() {
        None => view! { <div class="loading" data-testid="policy-loading">"Loading the policy…"</div> }.into_any(),
        Some(Err(failure)) => view! {
            <div class="alert alert-error" role="alert" data-testid="policy-load-error">
                {failure.message()}
            </div>
        }
        .into_any(),
        Some(Ok(policy)) => view! { <SessionPolicyForm saved=policy /> }.into_any(),
    };
    view! {
        <PageHeader title="Policies" subtitle="Rules every new session follows, set once for everyone." />
        <section class="card">
            <h2 class="card-title">"Sessions"</h2>
            <p class="muted card-intro">
                "A connection code and its session keep the policy in force when the code was issued; changes apply to codes issued after saving."
            </p>
            {content}
        </section>
    }
}

/// A policy field that can be wrong on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    CodeLifetime,
    WrongGuesses,
    AcceptanceTimeout,
    ServerLoss,
}

impl Field {
    /// The field `validate` named by its JSON name.
    fn named(json_name: &str) -> Option<Self> {
        match json_name {
            "code_lifetime_secs" => Some(Field::CodeLifetime),
            "max_wrong_guesses" => Some(Field::WrongGuesses),
            "acceptance_timeout_secs" => Some(Field::AcceptanceTimeout),
            "server_loss_timeout_secs" => Some(Field::ServerLoss),
            _ => None,
        }
    }

    /// `policy` with this field set to `value`.
    fn set(self, policy: SessionPolicy, value: u32) -> SessionPolicy {
        match self {
            Field::CodeLifetime => SessionPolicy { code_lifetime_secs: value, ..policy },
            Field::WrongGuesses => SessionPolicy { max_wrong_guesses: value, ..policy },
            Field::AcceptanceTimeout => SessionPolicy { acceptance_timeout_secs: value, ..policy },
            Field::ServerLoss => SessionPolicy { server_loss_timeout_secs: value, ..policy },
        }
    }

    /// What the number counts, for messages.
    fn unit(self) -> &'static str {
        match self {
            Field::CodeLifetime | Field::AcceptanceTimeout | Field::ServerLoss => "seconds",
            Field::WrongGuesses => "tries",
        }
    }
}

/// The form's inputs as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Typed {
    code_lifetime: String,
    wrong_guesses: String,
    user_acceptance: bool,
    acceptance_timeout: String,
    server_loss: String,
}

/// What is wrong, and with which field (`None`: one this form does not
/// show, so the form as a whole).
type Problem = (Option<Field>, String);

/// The policy the inputs describe, or every field's problem: not a whole
/// number, or out of range. Each field is range-checked by `validate` on
/// the default policy with that field alone changed (the default is valid,
/// so a refusal is that field's), then the whole policy once more.
fn checked(typed: &Typed) -> Result<SessionPolicy, Vec<Problem>> {
    let mut policy = SessionPolicy { user_acceptance: typed.user_acceptance, ..SessionPolicy::default() };
    let mut problems = Vec::new();
    for (field, text) in [
        (Field::CodeLifetime, &typed.code_lifetime),
        (Field::WrongGuesses, &typed.wrong_guesses),
        (Field::AcceptanceTimeout, &typed.acceptance_timeout),
        (Field::ServerLoss, &typed.server_loss),
    ] {
        let Ok(value) = text.trim().parse::<u32>() else {
            problems.push((Some(field), format!("Enter a whole number of {}.", field.unit())));
            continue;
        };
        match field.set(SessionPolicy::default(), value).validate() {
            Ok(()) => policy = field.set(policy, value),
            Err(invalid) => problems.push(out_of_range(&invalid)),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    policy.validate().map_err(|invalid| vec![out_of_range(&invalid)])?;
    Ok(policy)
}

/// `validate`'s refusal as the field's inline message.
fn out_of_range(invalid: &InvalidPolicy) -> Problem {
    match Field::named(invalid.field) {
        Some(field) => (Some(field), format!("Must be between {} and {} {}.", invalid.min, invalid.max, field.unit())),
        None => (None, invalid.to_string()),
    }
}

/// A number of seconds as the code window's countdown shows it, `15:00 min`
/// (`1:00:00 h` from an hour), if it is one.
fn as_clock(seconds: &str) -> Option<String> {
    let seconds = seconds.trim().parse::<u32>().ok()?;
    let unit = if seconds >= 3600 { "h" } else { "min" };
    Some(format!("{} {unit}", countdown_text(i64::from(seconds) * 1000, 0)))
}

/// The policy's fields, filled with `saved` and shown again as the server
/// saved them after each save.
#[component]
fn SessionPolicyForm(
    /// The policy in force when the page loaded.
    saved: SessionPolicy,
) -> impl IntoView {
    let session = Session::use_context();
    let code_lifetime = RwSignal::new(String::new());
    let wrong_guesses = RwSignal::new(String::new());
    let user_acceptance = RwSignal::new(false);
    let acceptance_timeout = RwSignal::new(String::new());
    let server_loss = RwSignal::new(String::new());
    let show = move |policy: SessionPolicy| {
        code_lifetime.set(policy.code_lifetime_secs.to_string());
        wrong_guesses.set(policy.max_wrong_guesses.to_string());
        user_acceptance.set(policy.user_acceptance);
        acceptance_timeout.set(policy.acceptance_timeout_secs.to_string());
        server_loss.set(policy.server_loss_timeout_secs.to_string());
    };
    show(saved);
    let errors = [(); 4].map(|()| RwSignal::new(None::<String>));
    let [code_lifetime_error, wrong_guesses_error, acceptance_timeout_error, server_loss_error] = errors;
    let error_of = move |field: Field| match field {
        Field::CodeLifetime => code_lifetime_error,
        Field::WrongGuesses => wrong_guesses_error,
        Field::AcceptanceTimeout => acceptance_timeout_error,
        Field::ServerLoss => server_loss_error,
    };
    let notice = RwSignal::new(None::<String>);
    let sending = Submission::new();

    let submit = sending.on_submit(move || {
        notice.set(None);
        errors.iter().for_each(|error| error.set(None));
        let typed = Typed {
            code_lifetime: code_lifetime.get_untracked(),
            wrong_guesses: wrong_guesses.get_untracked(),
            user_acceptance: user_acceptance.get_untracked(),
            acceptance_timeout: acceptance_timeout.get_untracked(),
            server_loss: server_loss.get_untracked(),
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
            policy,
            |api, policy| async move { api.save_session_policy(&policy).await },
            move |result| {
                show(result?);
                notice.set(Some("Policy saved. Codes issued from now on follow it.".to_owned()));
                Ok(())
            },
        );
    });

    let lifetime_clock = move || match code_lifetime.with(|text| as_clock(text)) {
        Some(clock) => format!("seconds = {clock}"),
        None => "seconds".to_owned(),
    };

    view! {
        <form class="form policy-form" data-testid="policy-form" on:submit=submit novalidate>
            <Alert message=sending.error kind=AlertKind::Error testid="policy-form-error" />
            <FormField
                label="Connection code lifetime"
                input_id="policy-code-lifetime"
                error_testid="policy-code-lifetime-error"
                error=code_lifetime_error
                hint="How long a new, renewed or extended code can be entered, in seconds."
            >
                <div class="input-with-unit">
                    <input
                        id="policy-code-lifetime"
                        type="number"
                        inputmode="numeric"
                        min=SessionPolicy::CODE_LIFETIME_SECS.start().to_string()
                        max=SessionPolicy::CODE_LIFETIME_SECS.end().to_string()
                        data-testid="policy-code-lifetime"
                        aria-invalid=move || code_lifetime_error.with(Option::is_some).to_string()
                        bind:value=code_lifetime
                    />
                    <span class="input-unit" data-testid="policy-code-lifetime-clock">{lifetime_clock}</span>
                </div>
            </FormField>
            <FormField
                label="Wrong tries before a code is void"
                input_id="policy-wrong-guesses"
                error_testid="policy-wrong-guesses-error"
                error=wrong_guesses_error
                hint="Codes typed one digit away from this one; at this many, the code stops working."
            >
                <input
                    id="policy-wrong-guesses"
                    type="number"
                    inputmode="numeric"
                    min=SessionPolicy::MAX_WRONG_GUESSES.start().to_string()
                    max=SessionPolicy::MAX_WRONG_GUESSES.end().to_string()
                    data-testid="policy-wrong-guesses"
                    aria-invalid=move || wrong_guesses_error.with(Option::is_some).to_string()
                    bind:value=wrong_guesses
                />
            </FormField>
            <div class="field checkbox-field">
                <label for="policy-user-acceptance">
                    <input
                        id="policy-user-acceptance"
                        type="checkbox"
                        data-testid="policy-user-acceptance"
                        prop:checked=move || user_acceptance.get()
                        on:change=move |ev| user_acceptance.set(event_target_checked(&ev))
                    />
                    "Ask the user to accept incoming sessions"
                </label>
                <p class="field-hint">
                    "The person at the computer accepts or declines each session before anything is shared."
                </p>
            </div>
            <FormField
                label="Time to accept (seconds)"
                input_id="policy-acceptance-timeout"
                error_testid="policy-acceptance-timeout-error"
                error=acceptance_timeout_error
                hint="From entering the code to the session starting, the answer included; no answer counts as declining."
            >
                <input
                    id="policy-acceptance-timeout"
                    type="number"
                    inputmode="numeric"
                    min=SessionPolicy::ACCEPTANCE_TIMEOUT_SECS.start().to_string()
                    max=SessionPolicy::ACCEPTANCE_TIMEOUT_SECS.end().to_string()
                    data-testid="policy-acceptance-timeout"
                    aria-invalid=move || acceptance_timeout_error.with(Option::is_some).to_string()
                    bind:value=acceptance_timeout
                />
            </FormField>
            <FormField
                label="End sessions when the server is lost for (seconds)"
                input_id="policy-server-loss"
                error_testid="policy-server-loss-error"
                error=server_loss_error
                hint="A computer that hears nothing from the server this long ends its session itself, so nothing goes on unrecorded."
            >
                <input
                    id="policy-server-loss"
                    type="number"
                    inputmode="numeric"
                    min=SessionPolicy::SERVER_LOSS_TIMEOUT_SECS.start().to_string()
                    max=SessionPolicy::SERVER_LOSS_TIMEOUT_SECS.end().to_string()
                    data-testid="policy-server-loss"
                    aria-invalid=move || server_loss_error.with(Option::is_some).to_string()
                    bind:value=server_loss
                />
            </FormField>
            <Alert message=notice kind=AlertKind::Success testid="policy-saved" />
            <div class="form-actions">
                <SubmitButton testid="policy-save" pending=sending.pending label="Save policy" busy_label="Saving…" />
            </div>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(code_lifetime: &str, wrong_guesses: &str, acceptance_timeout: &str) -> Typed {
        Typed {
            code_lifetime: code_lifetime.to_owned(),
            wrong_guesses: wrong_guesses.to_owned(),
            user_acceptance: false,
            acceptance_timeout: acceptance_timeout.to_owned(),
            server_loss: "15".to_owned(),
        }
    }

    #[test]
    fn the_inputs_become_a_policy_when_the_server_would_take_it() {
        let policy = checked(&typed(" 600 ", "3", "60")).map_err(|problems| format!("{problems:?}"));
        let expected = SessionPolicy {
            code_lifetime_secs: 600,
            max_wrong_guesses: 3,
            user_acceptance: false,
            acceptance_timeout_secs: 60,
            server_loss_timeout_secs: 15,
        };
        assert_eq!(policy, Ok(expected));
    }

    #[test]
    fn each_field_says_what_is_wrong_with_it() {
        assert_eq!(
            checked(&typed("", "x", "1.5")),
            Err(vec![
                (Some(Field::CodeLifetime), "Enter a whole number of seconds.".to_owned()),
                (Some(Field::WrongGuesses), "Enter a whole number of tries.".to_owned()),
                (Some(Field::AcceptanceTimeout), "Enter a whole number of seconds.".to_owned()),
            ])
        );
        assert_eq!(
            checked(&typed("9", "", "601")),
            Err(vec![
                (Some(Field::CodeLifetime), "Must be between 10 and 86400 seconds.".to_owned()),
                (Some(Field::WrongGuesses), "Enter a whole number of tries.".to_owned()),
                (Some(Field::AcceptanceTimeout), "Must be between 10 and 600 seconds.".to_owned()),
            ])
        );
        assert_eq!(
            checked(&typed("9", "3", "60")),
            Err(vec![(Some(Field::CodeLifetime), "Must be between 10 and 86400 seconds.".to_owned())])
        );
        assert_eq!(
            checked(&typed("600", "21", "60")),
            Err(vec![(Some(Field::WrongGuesses), "Must be between 1 and 20 tries.".to_owned())])
        );
        assert_eq!(
            checked(&typed("600", "3", "601")),
            Err(vec![(Some(Field::AcceptanceTimeout), "Must be between 10 and 600 seconds.".to_owned())])
        );
    }

    #[test]
    fn every_field_validate_names_has_an_input() {
        for field in [Field::CodeLifetime, Field::WrongGuesses, Field::AcceptanceTimeout] {
            let named =
                field.set(SessionPolicy::default(), 0).validate().map_err(|invalid| Field::named(invalid.field));
            assert_eq!(named, Err(Some(field)));
        }
        let unknown = InvalidPolicy { field: "later_field", min: 1, max: 2 };
        assert_eq!(out_of_range(&unknown), (None, "later_field must be between 1 and 2".to_owned()));
    }

    #[test]
    fn lifetimes_read_as_a_clock() {
        assert_eq!(as_clock("900").as_deref(), Some("15:00 min"));
        assert_eq!(as_clock(" 65").as_deref(), Some("1:05 min"));
        assert_eq!(as_clock("3600").as_deref(), Some("1:00:00 h"));
        assert_eq!(as_clock("ten"), None);
    }
}
