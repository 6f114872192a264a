//! The technician's connection-code window (`/broker/{id}`): the code to
//! read out, its link, a countdown, the live status, and Request New /
//! Extend Timeout / Cancel. The status follows the server by polling once a
//! second; when a target's session starts the window opens its controller.
//!
//! The server keeps only a hash of the code, so its digits come only with
//! the answer that made it: the Targets page hands that answer over
//! ([`hand_off`]); after a reload the window shows the status and offers
//! Request New instead.

use crate::api::BrokerAction;
use crate::broker_window::{Next, ServerClock, ShownCode, can_cancel, can_extend, countdown, is_over, next_step};
use crate::components::alert::{Alert, AlertKind};
use crate::components::connection_code_display::ConnectionCodeDisplay;
use crate::components::copy_field::CopyField;
use crate::components::page_header::PageHeader;
use crate::session::Session;
use crate::time::now_ms;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_params_map};
use std::cell::RefCell;
use std::time::Duration;
use tether_shared::broker::BrokerSessionView;
use tether_shared::connection_code::CodeState;

/// How often the status is fetched and the countdown redrawn.
const TICK: Duration = Duration::from_secs(1);

thread_local! {
    /// The answer that made a code, from the page that asked for it to the
    /// window that shows it (the only time its digits are known).
    static HANDOFF: RefCell<Option<BrokerSessionView>> = const { RefCell::new(None) };
}

/// Gives the window for `view.id` the answer that created its code.
pub fn hand_off(view: BrokerSessionView) {
    HANDOFF.with(|slot| *slot.borrow_mut() = Some(view));
}

/// The handed-over answer, if it is for `id`.
fn take_handoff(id: &str) -> Option<BrokerSessionView> {
    HANDOFF.with(|slot| slot.borrow_mut().take_if(|view| view.id == id))
}

/// An action's button: test id, classes, label and the label while it runs.
fn button_text(action: BrokerAction) -> [&'static str; 4] {
    match action {
        BrokerAction::Renew => ["broker-renew", "button button-primary", "Request New", "Requesting…"],
        BrokerAction::Extend => ["broker-extend", "button button-secondary", "Extend Timeout", "Extending…"],
        BrokerAction::Cancel => ["broker-cancel", "button button-danger-ghost", "Cancel", "Cancelling…"],
    }
}

/// The phrase for an action's failure: "Could not extend the code: …".
fn failure_text(action: BrokerAction) -> &'static str {
    match action {
        BrokerAction::Renew => "Could not make a new code",
        BrokerAction::Extend => "Could not extend the code",
        BrokerAction::Cancel => "Could not cancel the code",
    }
}

/// The connection-code window of one broker session.
#[component]
pub fn BrokerWindowPage() -> impl IntoView {
    let session = Session::use_context();
    let navigate = use_navigate();
    let id = use_params_map().with_untracked(|params| params.get("id")).unwrap_or_default();
    let latest = RwSignal::new(None::<BrokerSessionView>);
    let shown = RwSignal::new(None::<ShownCode>);
    let clock = RwSignal::new(ServerClock::default());
    let browser_now = RwSignal::new(now_ms());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(None::<BrokerAction>);
    let polling = RwSignal::new(false);
    // Bumped by every action, so a poll sent before it cannot undo its answer.
    let generation = RwSignal::new(0_u32);
    let left = RwSignal::new(false);

    let go = Callback::new(move |(path, replace): (String, bool)| {
        if !left.get_untracked() {
            left.set(true);
            navigate(&path, NavigateOptions { replace, ..Default::default() });
        }
    });
    let apply = move |view: BrokerSessionView| {
        clock.set(ServerClock::from_answer(view.server_now, now_ms()));
        browser_now.set(now_ms());
        if let Some(code) = ShownCode::from_view(&view) {
            shown.set(Some(code));
        }
        if let Next::OpenSession(session_id) = next_step(&view) {
            go.run((format!("/sessions/{session_id}"), true));
        }
        latest.set(Some(view));
    };

    let poll_id = id.clone();
    let poll = move || {
        if polling.get_untracked() || busy.with_untracked(Option::is_some) || left.get_untracked() {
            return;
        }
        polling.set(true);
        let sent_in = generation.get_untracked();
        let id = poll_id.clone();
        spawn_local(async move {
            let result = session
                .call(|api| {
                    let id = id.clone();
                    async move { api.broker_session(&id).await }
                })
                .await;
            polling.set(false);
            if generation.get_untracked() != sent_in || left.get_untracked() {
                return;
            }
            match result {
                Ok(view) => {
                    error.set(None);
                    apply(view);
                }
                Err(failure) => error.set(Some(format!("Could not refresh the status: {}", failure.message()))),
            }
        });
    };

    let act_id = id.clone();
    let act = Callback::new(move |action: BrokerAction| {
        if busy.with_untracked(Option::is_some) {
            return;
        }
        busy.set(Some(action));
        generation.update(|generation| *generation += 1);
        error.set(None);
        let id = act_id.clone();
        spawn_local(async move {
            let result = session
                .call(|api| {
                    let id = id.clone();
                    async move { api.broker_session_action(&id, action).await }
                })
                .await;
            busy.set(None);
            match result {
                Ok(Some(view)) => apply(view),
                Ok(None) => go.run(("/targets".to_owned(), false)),
                Err(failure) => error.set(Some(format!("{}: {}", failure_text(action), failure.message()))),
            }
        });
    });

    match take_handoff(&id) {
        Some(view) => apply(view),
        None => poll(),
    }
    crate::poll::every(TICK, move || {
        browser_now.set(now_ms());
        poll();
    });

    let state = move || latest.with(|view| view.as_ref().map(|view| view.state));
    let time_left = move || state().and_then(|state| countdown(state, clock.get(), browser_now.get()));
    let time_label = move || match state() {
        Some(CodeState::Waiting { .. }) => "Code expires in",
        _ => "Time left",
    };
    let details = move || {
        latest.with(|view| {
            let view = view.as_ref()?;
            let target = view.target.as_ref().map(|target| match target.os_user.as_str() {
                "" => target.hostname.clone(),
                user => format!("{} ({user})", target.hostname),
            });
            (target.is_some() || view.broker.is_some()).then(|| {
                view! {
                    <dl class="broker-details">
                        {target.map(|target| view! { <dt>"Target"</dt><dd data-testid="broker-target">{target}</dd> })}
                        {view.broker.clone().map(|broker| view! { <dt>"Broker"</dt><dd class="mono" data-testid="broker-address">{broker}</dd> })}
                    </dl>
                }
            })
        })
    };
    let code_block = move || {
        match shown.get() {
        Some(ShownCode { code, url }) => view! {
            <ConnectionCodeDisplay code=code testid="broker-code" />
            {url.map(|url| view! { <CopyField label="Connection link" value=url testid="broker-url" hint="The person can also open this link, or paste it into the agent." /> })}
        }
        .into_any(),
        None if latest.with(Option::is_some) => view! {
            <p class="muted" data-testid="broker-code-hidden">
                "The code is shown only once, when it is made. Use Request New to get a code to read out."
            </p>
        }
        .into_any(),
        None => view! { <div class="loading" data-testid="broker-loading">"Loading…"</div> }.into_any(),
    }
    };
    let disabled = move || busy.with(Option::is_some) || latest.with(Option::is_none);
    let button = move |action| view! { <ActionButton action=action busy=busy disabled=disabled act=act /> };

    view! {
        <PageHeader
            title="Connection code"
            subtitle="Read the code to the person at the computer; they enter it in the Tether agent."
        />
        <Alert message=error kind=AlertKind::Error testid="broker-error" />
        <section
            class="card broker-window"
            data-testid="broker-window"
            data-state=move || state().map(CodeState::as_str)
        >
            {code_block}
            <p class="broker-status" role="status">
                "Status: "
                <strong data-testid="broker-status">{move || state().map(CodeState::label)}</strong>
            </p>
            {move || {
                time_left()
                    .map(|text| {
                        view! {
                            <p class="broker-countdown">
                                {time_label} " "
                                <span class="mono" data-testid="broker-countdown">{text}</span>
                            </p>
                        }
                    })
            }}
            {details}
            <div class="form-actions broker-actions">
                {button(BrokerAction::Renew)}
                <Show when=move || state().is_some_and(can_extend)>{button(BrokerAction::Extend)}</Show>
                <Show when=move || state().is_some_and(can_cancel)>{button(BrokerAction::Cancel)}</Show>
                <Show when=move || state().is_none_or(is_over)>
                    <button
                        type="button"
                        class="button button-secondary"
                        data-testid="broker-close"
                        on:click=move |_| go.run(("/targets".to_owned(), false))
                    >
                        "Close"
                    </button>
                </Show>
            </div>
        </section>
    }
}

/// A button for one code action: disabled while any action runs, and saying
/// its busy label while its own does.
#[component]
fn ActionButton(
    /// The action it asks for.
    action: BrokerAction,
    /// The action running, if any.
    busy: RwSignal<Option<BrokerAction>>,
    /// Whether the button is disabled.
    #[prop(into)]
    disabled: Signal<bool>,
    /// Runs an action.
    act: Callback<BrokerAction>,
) -> impl IntoView {
    let [testid, class, label, busy_label] = button_text(action);
    view! {
        <button type="button" class=class data-testid=testid disabled=move || disabled.get() on:click=move |_| act.run(action)>
            {move || if busy.get() == Some(action) { busy_label } else { label }}
        </button>
    }
}
