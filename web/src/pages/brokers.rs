//! The administrator's brokers (TURN relays): the list with each broker's
//! address, URLs and live sessions, a form to add one (a coturn sharing the
//! server's TURN secret) and removal, with confirmation, of added ones.

use crate::components::action_button::ActionButton;
use crate::components::alert::{Alert, AlertKind};
use crate::components::confirm_dialog::ConfirmDialog;
use crate::components::data_table::{Column, DataTable};
use crate::components::form_field::FormField;
use crate::components::list_state::ListState;
use crate::components::page_header::PageHeader;
use crate::components::submit_button::SubmitButton;
use crate::components::text_field::TextField;
use crate::session::Session;
use crate::submission::{Submission, check_field};
use leptos::prelude::*;
use tether_shared::broker::{BrokerView, CreateBrokerRequest};

/// The id as the server wants it (1–64 of `a-z0-9-`), or why not.
fn checked_id(text: &str) -> Result<String, &'static str> {
    let id = text.trim();
    let ok = !id.is_empty()
        && id.len() <= 64
        && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok { Ok(id.to_owned()) } else { Err("Use 1 to 64 lower-case letters, digits and dashes.") }
}

/// One URL per line or comma; 1 to 8 `turn:`/`turns:` URLs. The server
/// checks each URL fully.
fn checked_urls(text: &str) -> Result<Vec<String>, &'static str> {
    let urls: Vec<String> =
        text.split([',', '\n']).map(str::trim).filter(|url| !url.is_empty()).map(str::to_owned).collect();
    if urls.is_empty() || urls.len() > 8 {
        return Err("Give 1 to 8 URLs.");
    }
    let turn = |url: &String| {
        let lower = url.to_ascii_lowercase();
        lower.starts_with("turn:") || lower.starts_with("turns:")
    };
    if urls.iter().all(turn) { Ok(urls) } else { Err("Each URL starts with turn: or turns:.") }
}

/// The brokers page.
#[component]
pub fn BrokersPage() -> impl IntoView {
    let session = Session::use_context();
    let brokers =
        LocalResource::new(move || async move { session.call(|api| async move { api.list_brokers().await }).await });
    let removing = RwSignal::new(None::<BrokerView>);
    let remove = Submission::new();
    let notice = RwSignal::new(None::<String>);

    let on_added = Callback::new(move |broker: BrokerView| {
        notice.set(Some(format!("Added {} ({}).", broker.id, broker.address)));
        brokers.refetch();
    });
    let close_remove = Callback::new(move |()| {
        removing.set(None);
        remove.error.set(None);
    });
    let confirm_remove = Callback::new(move |()| {
        let Some(broker) = removing.get_untracked() else {
            return;
        };
        if !remove.begin() {
            return;
        }
        remove.send(
            session,
            broker.id.clone(),
            |api, id| async move { api.delete_broker(&id).await },
            move |result| {
                result?;
                removing.set(None);
                notice.set(Some(format!("Removed {}.", broker.id)));
                brokers.refetch();
                Ok(())
            },
        );
    });

    let table = move || {
        view! {
            <ListState
                fetched=brokers.get()
                testid="brokers"
                loading="Loading brokers…"
                empty_title="No brokers"
                empty_text="Sessions connect directly only. Add a TURN relay above, or start the server with its embedded relay."
                list=move |list| view! {
                    <BrokersTable
                        brokers=list
                        on_remove=move |broker| {
                            notice.set(None);
                            removing.set(Some(broker));
                        }
                    />
                }
            />
        }
    };

    let remove_dialog = move || {
        removing.get().map(|broker| {
            view! {
                <ConfirmDialog
                    title=format!("Remove {}?", broker.id)
                    message=format!(
                        "New sessions will no longer use {}. Sessions using it now keep their connection until they end.",
                        broker.address,
                    )
                    confirm_label="Remove broker"
                    pending=remove.pending
                    error=remove.error
                    on_confirm=confirm_remove
                    on_close=close_remove
                />
            }
        })
    };

    view! {
        <PageHeader title="Brokers" subtitle="TURN relays that carry sessions when the two ends cannot connect directly.">
            <ActionButton testid="brokers-refresh" label="Refresh" on_click=move |()| brokers.refetch() />
        </PageHeader>
        <section class="card">
            <h2 class="card-title">"Add a broker"</h2>
            <p class="muted card-intro">
                "A broker is a TURN relay (for example coturn) configured with use-auth-secret and the same static-auth-secret as this server; each session gets short-lived credentials for it."
            </p>
            <BrokerForm on_added=on_added />
        </section>
        <Alert message=notice kind=AlertKind::Success testid="brokers-notice" />
        <section class="card card-flush">
            <header class="card-flush-header">
                <h2>"Brokers"</h2>
            </header>
            {table}
        </section>
        {remove_dialog}
    }
}

/// Id and URLs, checked here first, then sent.
#[component]
fn BrokerForm(
    /// Called with the broker once the server added it.
    #[prop(into)]
    on_added: Callback<BrokerView>,
) -> impl IntoView {
    let session = Session::use_context();
    let id = RwSignal::new(String::new());
    let urls = RwSignal::new(String::new());
    let id_error = RwSignal::new(None::<String>);
    let urls_error = RwSignal::new(None::<String>);
    let sending = Submission::new();

    let submit = sending.on_submit(move || {
        let checked = (
            check_field(id_error, checked_id(&id.get_untracked())),
            check_field(urls_error, checked_urls(&urls.get_untracked())),
        );
        let (Some(id_text), Some(url_list)) = checked else {
            return;
        };
        let body = CreateBrokerRequest { id: id_text, urls: url_list };
        sending.send(
            session,
            body,
            |api, body| async move { api.create_broker(&body).await },
            move |result| {
                let broker = result?;
                id.set(String::new());
                urls.set(String::new());
                on_added.run(broker);
                Ok(())
            },
        );
    });

    view! {
        <form class="form" data-testid="broker-form" on:submit=submit novalidate>
            <Alert message=sending.error kind=AlertKind::Error testid="broker-form-error" />
            <div class="broker-form-fields">
                <TextField
                    label="Name"
                    value=id
                    testid="broker-id"
                    placeholder="e.g. coturn-eu"
                    hint="Lower-case letters, digits and dashes; agents show it."
                    error=id_error
                />
                <FormField
                    label="TURN URLs"
                    input_id="field-broker-urls"
                    error_testid="broker-urls-error"
                    error=urls_error
                    hint="One per line, up to 8."
                >
                    <textarea
                        id="field-broker-urls"
                        rows="2"
                        data-testid="broker-urls"
                        placeholder="turn:relay.example.org:3478?transport=udp"
                        aria-invalid=move || urls_error.with(Option::is_some).to_string()
                        bind:value=urls
                    ></textarea>
                </FormField>
                <div class="broker-form-submit">
                    <SubmitButton testid="broker-add-submit" pending=sending.pending label="Add broker" busy_label="Adding…" />
                </div>
            </div>
        </form>
    }
}

/// The brokers table's header.
const COLUMNS: &[Column] = &[
    Column::new("Name"),
    Column::new("Address"),
    Column::new("URLs"),
    Column::new("Sessions"),
    Column::unlabelled("Actions"),
];

/// One row per broker: name, address, URLs, sessions, origin, actions.
#[component]
fn BrokersTable(
    /// The brokers, built-ins first.
    brokers: Vec<BrokerView>,
    /// Asks to remove a broker.
    #[prop(into)]
    on_remove: Callback<BrokerView>,
) -> impl IntoView {
    let rows = brokers
        .into_iter()
        .map(|broker| {
            let remove = broker.clone();
            let urls = broker.urls.iter().map(|url| view! { <li class="mono">{url.clone()}</li> }).collect_view();
            view! {
                <tr data-testid="broker-row" data-id=broker.id.clone()>
                    <td data-testid="broker-cell-id">
                        {broker.id.clone()}
                        {broker.built_in.then(|| view! {
                            <span class="badge badge-muted broker-built-in" data-testid="broker-built-in"
                                title="From the server's configuration">
                                "Built-in"
                            </span>
                        })}
                    </td>
                    <td class="mono nowrap" data-testid="broker-cell-address">{broker.address.clone()}</td>
                    <td>
                        <ul class="broker-urls">{urls}</ul>
                    </td>
                    <td class="nowrap" data-testid="broker-cell-sessions">{broker.active_sessions}</td>
                    <td>
                        <div class="row-actions">
                            {(!broker.built_in).then(|| view! {
                                <ActionButton
                                    class="button button-small button-danger-ghost"
                                    testid="broker-remove"
                                    label="Remove"
                                    on_click=move |()| on_remove.run(remove.clone())
                                />
                            })}
                        </div>
                    </td>
                </tr>
            }
        })
        .collect_view();

    view! {
        <DataTable testid="brokers-table" columns=COLUMNS>
            {rows}
        </DataTable>
    }
}

#[cfg(test)]
mod tests {
    use super::{checked_id, checked_urls};

    #[test]
    fn ids_and_urls_are_checked_before_sending() {
        assert_eq!(checked_id(" coturn-eu "), Ok("coturn-eu".to_owned()));
        for bad in ["", "Upper", "a_b", "a b", &"a".repeat(65)] {
            assert!(checked_id(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            checked_urls("turn:a.example.org\n TURNS:b.example.org:5349 ,"),
            Ok(vec!["turn:a.example.org".to_owned(), "TURNS:b.example.org:5349".to_owned()])
        );
        assert!(checked_urls("  ").is_err());
        assert!(checked_urls("stun:a.example.org").is_err());
        assert!(checked_urls(&["turn:a"; 9].join("\n")).is_err());
    }
}
