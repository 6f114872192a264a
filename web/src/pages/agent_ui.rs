//! The end user's page in the Tether agent (`/agent`, served by the agent on
//! loopback): enter the technician's connection code, accept or reject the
//! technician's session when the policy asks, then see the session and end
//! it. It talks only to the agent ([`LocalApi`]), never to the
//! Tether server's `/api`, and knows nothing of technician sign-in.
//!
//! The agent opens the page with its per-launch key in the fragment
//! (`#key=…`); the page keeps the key in memory and removes it from the
//! address bar at once.

use crate::agent_ui::{CodeCheck, key_from_fragment};
use crate::components::alert::{Alert, AlertKind};
use crate::components::auth_layout::AuthLayout;
use crate::components::chat_panel::ChatPanel;
use crate::components::text_field::TextField;
use crate::local_api::LocalApi;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::time::Duration;
use tether_shared::access::AccessSet;
use tether_shared::broker::LocalAgentStatus;
use tether_shared::chat::Speaker;
use tether_shared::connection_code::countdown_text;
use tether_shared::consent::ToolUse;
use tether_shared::mode::{ModeSet, SessionMode};

/// The path the agent opens.
pub const AGENT_UI_PATH: &str = "/agent";

/// How often the agent's status is fetched.
const POLL_EVERY: Duration = Duration::from_secs(1);

/// Reads the key from the address's fragment and removes the fragment.
fn take_key() -> Option<String> {
    let window = web_sys::window()?;
    let location = window.location();
    let key = key_from_fragment(&location.hash().ok()?);
    if key.is_some() {
        let path = location.pathname().unwrap_or_default();
        let search = location.search().unwrap_or_default();
        if let Ok(history) = window.history() {
            // Failing to tidy the address bar leaves the key visible, nothing worse.
            let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&format!("{path}{search}")));
        }
    }
    key
}

/// The agent's page: code entry, progress, the session, failures.
#[component]
pub fn AgentUiPage() -> impl IntoView {
    match take_key() {
        Some(key) => view! { <AgentScreens api=LocalApi::new(key) /> }.into_any(),
        None => view! {
            <AuthLayout title="Tether agent" subtitle="Remote assistance">
                <div class="alert alert-error" role="alert" data-testid="agent-no-key">
                    "Open this page from the Tether agent: this address lacks the agent's key."
                </div>
            </AuthLayout>
        }
        .into_any(),
    }
}

/// The screens, following `GET /local/status`.
#[component]
fn AgentScreens(api: LocalApi) -> impl IntoView {
    let api = StoredValue::new(api);
    let status = RwSignal::new(None::<LocalAgentStatus>);
    // A failed status fetch, cleared by the next good one.
    let unreachable = RwSignal::new(None::<String>);
    // A refused action, cleared by the next action.
    let error = RwSignal::new(None::<String>);
    let fetching = RwSignal::new(false);
    let busy = RwSignal::new(false);

    let refresh = move || {
        if fetching.get_untracked() {
            return;
        }
        fetching.set(true);
        let api = api.get_value();
        spawn_local(async move {
            let result = api.status().await;
            fetching.set(false);
            match result {
                Ok(current) => {
                    unreachable.set(None);
                    // Only a change re-renders, so a half-typed code survives the polls.
                    if !busy.get_untracked() && status.with_untracked(|shown| shown.as_ref() != Some(&current)) {
                        status.set(Some(current));
                    }
                }
                Err(failure) => unreachable.set(Some(format!("Cannot reach the Tether agent: {}", failure.message()))),
            }
        });
    };
    refresh();
    crate::poll::every(POLL_EVERY, refresh);

    // One call to the agent at a time; its status is fetched right after.
    let run = move |call: Action| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        let api = api.get_value();
        spawn_local(async move {
            let result = match &call {
                Action::Connect(code) => api.connect(code).await,
                Action::Accept(mode) => api.accept(*mode).await,
                Action::Reject => api.reject().await,
                Action::Cancel => api.cancel().await,
                Action::Narrow(mode) => api.narrow(*mode).await,
                Action::Say(text) => api.chat(text).await,
                Action::Reset => api.reset().await,
            };
            busy.set(false);
            if let Err(failure) = result {
                error.set(Some(failure.message()));
            }
            refresh();
        });
    };
    let on_action = Callback::new(run);

    // A question may arrive while the page is a background tab: the tab's
    // title says so.
    Effect::new(move |_| crate::set_document_title(status.with(|status| tab_title(status.as_ref()))));

    let screen = move || {
        match status.get() {
        None => view! { <div class="loading" data-testid="agent-loading">"Contacting the agent…"</div> }.into_any(),
        Some(LocalAgentStatus::NotConfigured { message }) => view! {
            <div class="agent-screen" data-testid="agent-not-configured">
                <h2>"Not set up yet"</h2>
                <p>{message}</p>
                <p class="muted">"Ask your IT department to configure the Tether agent for their server."</p>
            </div>
        }
        .into_any(),
        Some(LocalAgentStatus::Idle { server, last_session }) => view! {
            {last_session.map(|reason| view! {
                <div class="alert alert-info" role="status" data-testid="agent-last-session">
                    "Session ended: " {crate::text::sentence(&reason)}
                </div>
            })}
            <CodeForm server=server on_action=on_action busy=busy />
        }
        .into_any(),
        Some(LocalAgentStatus::AwaitingAcceptance { technician, seconds_left, tool: Some(tool), .. }) => view! {
            <ToolQuestion technician=technician tool=tool seconds_left=seconds_left busy=busy on_action=on_action />
        }.into_any(),
        Some(LocalAgentStatus::AwaitingAcceptance { technician, mode, access, choices, seconds_left, change_from, .. }) => view! {
            <Question technician=technician mode=mode access=access choices=choices seconds_left=seconds_left change_from=change_from busy=busy on_action=on_action />
        }
        .into_any(),
        Some(LocalAgentStatus::Connecting { server }) => view! {
            <div class="agent-screen" data-testid="agent-connecting">
                <h2>"Connecting…"</h2>
                <p class="muted">"Checking the code with " <span class="mono">{server}</span></p>
                <div class="form-actions">
                    <AgentButton class="button button-secondary" testid="agent-cancel" label="Cancel" action=Action::Cancel busy=busy on_action=on_action />
                </div>
            </div>
        }
        .into_any(),
        Some(LocalAgentStatus::InSession { technician, mode, in_use, .. }) => view! {
            <div class="agent-screen" data-testid="agent-in-session">
                <h2>"In session"</h2>
                <p data-testid="agent-being-accessed">
                    "This computer is being accessed by " <strong>{technician.clone()}</strong>
                    {mode.map(|mode| format!(", in {} mode", mode.name()))} "."
                </p>
                <dl class="broker-details">
                    <dt>"Technician"</dt>
                    <dd data-testid="agent-technician">{technician}</dd>
                    {mode.map(|mode| view! {
                        <dt>"Mode"</dt>
                        <dd data-testid="agent-mode" data-mode=mode.key()>{mode.name()} <span class="muted">" — " {mode.description()}</span></dd>
                    })}
                    <dt>"Right now"</dt>
                    <dd data-testid="agent-in-use">{in_use.unwrap_or_else(|| "nothing in use".to_owned())}</dd>
                </dl>
                <div class="form-actions">
                    {mode.map(|mode| narrower_for_person(mode).into_iter().map(|narrower| view! {
                        <AgentButton class="button button-secondary" testid=format!("agent-narrow-{}", narrower.key())
                            label=format!("Allow only {}", narrower.name()) action=Action::Narrow(narrower) busy=busy on_action=on_action />
                    }).collect_view())}
                    <AgentButton class="button button-danger" testid="agent-end" label="End session" action=Action::Cancel busy=busy on_action=on_action />
                </div>
                {mode.filter(|mode| !narrower_for_person(*mode).is_empty()).map(|_| view! {
                    <p class="muted small">"You can take access away at any time: it takes effect at once. The technician must ask you again to get it back."</p>
                })}
            </div>
        }
        .into_any(),
        Some(LocalAgentStatus::Failed { error: code, message }) => view! {
            <div class="agent-screen" data-testid="agent-failed" data-error=code>
                <h2>"Could not connect"</h2>
                <p data-testid="agent-failure">{crate::text::sentence(&message)}</p>
                <div class="form-actions">
                    <AgentButton class="button button-primary" testid="agent-retry" label="Try Again" action=Action::Reset busy=busy on_action=on_action />
                    <AgentButton class="button button-secondary" testid="agent-cancel" label="Cancel" action=Action::Cancel busy=busy on_action=on_action />
                </div>
            </div>
        }
        .into_any(),
    }
    };

    let in_session =
        Signal::derive(move || status.with(|status| matches!(status, Some(LocalAgentStatus::InSession { .. }))));
    let chat_lines = Signal::derive(move || match status.get() {
        Some(LocalAgentStatus::InSession { chat, .. }) => chat,
        _ => Vec::new(),
    });
    view! {
        <AuthLayout title="Tether agent" subtitle="Let a technician see and control this computer.">
            <div data-testid="agent-ui" data-state=move || status.with(|s| s.as_ref().map(state_key))>
                <Alert message=unreachable kind=AlertKind::Error testid="agent-unreachable" />
                <Alert message=error kind=AlertKind::Error testid="agent-error" />
                {screen}
                // Outside the screens, so a new line does not redraw what is being typed.
                <Show when=move || in_session.get()>
                    <ChatPanel lines=chat_lines me=Speaker::Person enabled=in_session
                        on_send=Callback::new(move |text| on_action.run(Action::Say(text))) />
                </Show>
            </div>
        </AuthLayout>
    }
}

/// What the user asked the agent to do.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Action {
    Connect(String),
    /// Yes, as asked, or only in the narrower mode named.
    Accept(Option<SessionMode>),
    Reject,
    Cancel,
    Reset,
    /// Take access away: the session goes on only in this mode.
    Narrow(SessionMode),
    /// A chat line for the technician.
    Say(String),
}

/// The modes the person is offered to take access away from a session in
/// `mode`: view only (Monitor) while the technician controls or draws,
/// chat only while they see the screen.
fn narrower_for_person(mode: SessionMode) -> Vec<SessionMode> {
    [SessionMode::Monitor, SessionMode::Chat].into_iter().filter(|narrower| narrower.is_narrower_than(mode)).collect()
}

/// A button that asks the agent for `action`; disabled while a request runs.
#[component]
fn AgentButton(
    /// The button's classes.
    class: &'static str,
    /// The stable test id of the button.
    #[prop(into)]
    testid: String,
    /// The button's text.
    #[prop(into)]
    label: String,
    /// What it asks for.
    action: Action,
    /// Whether a request is running.
    busy: RwSignal<bool>,
    /// Sends the request.
    on_action: Callback<Action>,
) -> impl IntoView {
    view! {
        <button type="button" class=class data-testid=testid disabled=move || busy.get()
            on:click=move |_| on_action.run(action.clone())>
            {label}
        </button>
    }
}

/// The question on screen: who asks, for which mode and what it lets them
/// do, the countdown, and the answers — accept, accept only a narrower
/// mode (each saying what it allows), reject.
#[component]
fn Question(
    technician: String,
    mode: SessionMode,
    access: AccessSet,
    choices: ModeSet,
    seconds_left: u64,
    /// The mode a running session is in, when the question is to change it.
    change_from: Option<SessionMode>,
    busy: RwSignal<bool>,
    on_action: Callback<Action>,
) -> impl IntoView {
    let millis_left = i64::try_from(seconds_left).unwrap_or(i64::MAX).saturating_mul(1000);
    let (heading, asks, silence) = match change_from {
        Some(current) => (
            "Allow more access?",
            format!(" asks to change the session from {} to ", current.name()),
            format!("no answer keeps {} mode", current.name()),
        ),
        None => (
            "Accept this session?",
            " asks for a session on this computer in ".to_owned(),
            "no answer rejects it".to_owned(),
        ),
    };
    view! {
        <div class="agent-screen" data-testid="agent-awaiting" data-change=change_from.is_some().to_string() role="alertdialog" aria-labelledby="agent-question">
            <h2 id="agent-question">{heading}</h2>
            <p>
                <strong data-testid="agent-asking-technician">{technician}</strong>
                {asks}
                <strong data-testid="agent-asked-mode" data-mode=mode.key()>{mode.name()}</strong> " mode."
            </p>
            <p>{mode.description()}</p>
            <p class="muted">"If you accept, they could:"</p>
            <ul data-testid="agent-asked-access">
                {access.iter().map(|access| view! { <li>{crate::text::sentence(access.describe())}</li> }).collect_view()}
            </ul>
            <p class="muted" data-testid="agent-seconds-left">
                {format!("Answer within {}; {silence}.", countdown_text(millis_left, 0))}
            </p>
            <div class="form-actions">
                <AgentButton class="button button-primary" testid="agent-accept" label="Accept" action=Action::Accept(None) busy=busy on_action=on_action />
                {choices.iter().map(|choice| view! {
                    <AgentButton class="button button-secondary" testid=format!("agent-choose-{}", choice.key()) label=format!("Allow only {}", choice.name())
                        action=Action::Accept(Some(choice)) busy=busy on_action=on_action />
                }).collect_view()}
                <AgentButton class="button button-danger" testid="agent-reject" label="Reject" action=Action::Reject busy=busy on_action=on_action />
            </div>
            {(!choices.is_empty()).then(|| view! {
                <ul class="muted small" data-testid="agent-choices">
                    {choices.iter().map(|choice| view! { <li>{format!("Allow only {}: {}", choice.name(), choice.description())}</li> }).collect_view()}
                </ul>
            })}
        </div>
    }
}

/// "Tess asks to read and change your clipboard": allow it or not, within
/// the countdown; the session's mode stays as it is either way.
#[component]
fn ToolQuestion(
    technician: String,
    tool: ToolUse,
    seconds_left: u64,
    busy: RwSignal<bool>,
    on_action: Callback<Action>,
) -> impl IntoView {
    let millis_left = i64::try_from(seconds_left).unwrap_or(i64::MAX).saturating_mul(1000);
    view! {
        <div class="agent-screen" data-testid="agent-awaiting" data-tool=format!("{:?}", tool.access) role="alertdialog" aria-labelledby="agent-question">
            <h2 id="agent-question">"Allow this?"</h2>
            <p data-testid="agent-tool-question">{tool.sentence(&technician)}</p>
            <p class="muted" data-testid="agent-seconds-left">
                {format!("Answer within {}; no answer does not allow it. The session goes on either way.", countdown_text(millis_left, 0))}
            </p>
            <div class="form-actions">
                <AgentButton class="button button-primary" testid="agent-accept" label="Allow" action=Action::Accept(None) busy=busy on_action=on_action />
                <AgentButton class="button button-danger" testid="agent-reject" label="Don't allow" action=Action::Reject busy=busy on_action=on_action />
            </div>
        </div>
    }
}

/// The tab's title for `status` (before " · Tether").
fn tab_title(status: Option<&LocalAgentStatus>) -> &'static str {
    match status {
        Some(LocalAgentStatus::AwaitingAcceptance { .. }) => "Accept this session? — Tether agent",
        Some(LocalAgentStatus::InSession { .. }) => "In session — Tether agent",
        _ => "Tether agent",
    }
}

/// The status's name, for styling and tests.
fn state_key(status: &LocalAgentStatus) -> &'static str {
    match status {
        LocalAgentStatus::NotConfigured { .. } => "not_configured",
        LocalAgentStatus::Idle { .. } => "idle",
        LocalAgentStatus::Connecting { .. } => "connecting",
        LocalAgentStatus::AwaitingAcceptance { .. } => "awaiting_acceptance",
        LocalAgentStatus::InSession { .. } => "in_session",
        LocalAgentStatus::Failed { .. } => "failed",
    }
}

/// "Enter connection code", checked as it is typed.
#[component]
fn CodeForm(server: String, on_action: Callback<Action>, busy: RwSignal<bool>) -> impl IntoView {
    let input = RwSignal::new(String::new());
    let check = Memo::new(move |_| input.with(|text| CodeCheck::of(text)));
    let field_error = Signal::derive(move || match check.get() {
        CodeCheck::Invalid(message) => Some(message),
        CodeCheck::Empty | CodeCheck::Valid { .. } => None,
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if check.with_untracked(CodeCheck::is_valid) {
            on_action.run(Action::Connect(input.get_untracked().trim().to_owned()));
        }
    };
    view! {
        <form class="form agent-screen" on:submit=submit novalidate data-testid="agent-code-form">
            <TextField
                label="Enter connection code"
                value=input
                testid="agent-code"
                placeholder="123 456 789"
                hint="The 9-digit code your technician reads to you, or the link they sent."
                error=field_error
                autofocus=true
            />
            {move || match check.get() {
                CodeCheck::Valid { grouped, .. } => Some(view! {
                    <p class="muted small" data-testid="agent-code-ok">"Code " <span class="mono">{grouped}</span></p>
                }),
                _ => None,
            }}
            <button
                type="submit"
                class="button button-primary button-block"
                data-testid="agent-connect"
                disabled=move || busy.get() || !check.with(CodeCheck::is_valid)
            >
                "Connect"
            </button>
            <p class="muted small">"Server: " <span class="mono" data-testid="agent-server">{server}</span></p>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tab_title_says_when_the_user_is_asked() {
        let asked = LocalAgentStatus::AwaitingAcceptance {
            session_id: "s".into(),
            technician: "Tess".into(),
            mode: SessionMode::Active,
            access: SessionMode::Active.access(),
            choices: ModeSet::of(&[SessionMode::Monitor]),
            seconds_left: 90,
            change_from: None,
            tool: None,
        };
        assert_eq!(tab_title(Some(&asked)), "Accept this session? — Tether agent");
        let idle = LocalAgentStatus::Idle { server: "http://s".into(), last_session: None };
        assert_eq!(tab_title(Some(&idle)), "Tether agent");
        assert_eq!(tab_title(None), "Tether agent");
    }

    #[test]
    fn the_person_can_take_control_or_the_screen_away() {
        assert_eq!(narrower_for_person(SessionMode::Active), vec![SessionMode::Monitor, SessionMode::Chat]);
        assert_eq!(narrower_for_person(SessionMode::Guidance), vec![SessionMode::Monitor, SessionMode::Chat]);
        assert_eq!(narrower_for_person(SessionMode::Monitor), vec![SessionMode::Chat]);
        assert_eq!(narrower_for_person(SessionMode::Chat), vec![]);
        assert_eq!(narrower_for_person(SessionMode::FileTransfer), vec![]);
    }
}
