//! The technician's assistance sessions, live and past (`/sessions`):
//! which computer and person, when each started and how long it ran (live
//! ones tick), how it ended and by whom; a live one can be opened again or
//! ended.

use crate::components::action_button::ActionButton;
use crate::components::alert::{Alert, AlertKind};
use crate::components::data_table::{Column, DataTable};
use crate::components::end_session_dialog::EndSessionDialog;
use crate::components::list_state::ListState;
use crate::components::page_header::PageHeader;
use crate::session_text::{duration, ended_by, is_live, outcome, state_label};
use crate::sessions_feed::SessionsFeed;
use crate::time::local_date_time;
use leptos::prelude::*;
use leptos_router::components::A;
use tether_shared::api::SessionSummary;

/// The sessions table's header.
const COLUMNS: &[Column] = &[
    Column::new("Computer"),
    Column::new("Started"),
    Column::new("Duration"),
    Column::new("Outcome"),
    Column::unlabelled("Actions"),
];

/// Every session of the signed-in technician, newest first.
#[component]
pub fn SessionsPage() -> impl IntoView {
    let feed = SessionsFeed::start(false);
    let ending = RwSignal::new(None::<SessionSummary>);
    let notice = RwSignal::new(None::<String>);

    let on_ended = Callback::new(move |()| {
        if let Some(session) = ending.get_untracked() {
            notice.set(Some(format!("Ended the session with {}.", session.computer)));
        }
        ending.set(None);
        feed.reload();
    });
    let end_dialog = move || {
        ending.get().map(|session| {
            view! { <EndSessionDialog session=session on_ended=on_ended on_close=move |()| ending.set(None) /> }
        })
    };
    let table = move || {
        view! {
            <ListState
                fetched=feed.fetched.get()
                testid="sessions"
                loading="Loading sessions…"
                empty_title="No sessions yet"
                empty_text="Sessions you open to a computer (from Targets, or with a connection code) are listed here with how long they ran and how they ended."
                list=move |sessions| {
                    let rows = sessions
                        .into_iter()
                        .map(|session| view! { <SessionRow session=session now=feed.now on_end=move |s| { notice.set(None); ending.set(Some(s)); } /> })
                        .collect_view();
                    view! { <DataTable testid="sessions-table" columns=COLUMNS>{rows}</DataTable> }
                }
            />
        }
    };

    view! {
        <PageHeader title="Sessions" subtitle="Your assistance sessions, live and past.">
            <ActionButton testid="sessions-refresh" label="Refresh" on_click=move |()| feed.reload() />
        </PageHeader>
        <Alert message=feed.refresh_error kind=AlertKind::Error testid="sessions-refresh-error" />
        <Alert message=notice kind=AlertKind::Success testid="sessions-notice" />
        <section class="card card-flush">{table}</section>
        {end_dialog}
    }
}

/// One session: computer and person, start, duration, outcome, actions.
#[component]
fn SessionRow(
    session: SessionSummary,
    /// The clock live durations count to.
    now: RwSignal<i64>,
    /// Asks to end this (live) session.
    #[prop(into)]
    on_end: Callback<SessionSummary>,
) -> impl IntoView {
    let live = is_live(&session);
    let started = session.created_at;
    let ended_at = session.ended_at;
    let length = move || duration(started, ended_at.unwrap_or_else(|| now.get()));
    let outcome_cell = if live {
        view! {
            <span class="badge badge-success" data-testid="session-state" data-state=session.state.clone()>
                {state_label(&session.state)}
            </span>
        }
        .into_any()
    } else {
        let by = ended_by(&session);
        view! {
            <span data-testid="session-outcome">{outcome(&session)}</span>
            {by.map(|by| view! { <div class="muted small" data-testid="session-ended-by">{format!("Ended by {by}")}</div> })}
        }
        .into_any()
    };
    let actions = live.then(|| {
        let to_end = session.clone();
        view! {
            <A href=format!("/sessions/{}", session.id) attr:class="button button-small button-secondary" attr:data-testid="session-open">
                "Open"
            </A>
            <ActionButton
                class="button button-small button-danger-ghost"
                testid="session-end"
                label="End"
                on_click=move |()| on_end.run(to_end.clone())
            />
        }
    });
    view! {
        <tr data-testid="session-row" data-id=session.id.clone() data-live=live.to_string()>
            <td data-testid="session-cell-computer">
                {session.computer.clone()}
                {session.person.clone().map(|person| view! { <div class="muted small">{person}</div> })}
            </td>
            <td class="nowrap" data-testid="session-cell-started">{local_date_time(started)}</td>
            <td class="nowrap" data-testid="session-cell-duration">{length}</td>
            <td data-testid="session-cell-outcome">{outcome_cell}</td>
            <td>
                <div class="row-actions">{actions}</div>
            </td>
        </tr>
    }
}
