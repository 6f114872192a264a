//! The audit chain's integrity, checked by the server and shown prominently.

use crate::components::action_button::ActionButton;
use crate::session::Session;
use leptos::prelude::*;
use tether_shared::api::ChainStatus;

/// The badge text for a verification result.
fn headline(status: &ChainStatus) -> String {
    match (&status.first_break, status.ok) {
        (_, true) => {
            let plural = if status.entries_checked == 1 { "entry" } else { "entries" };
            format!("Chain intact — {} {plural}", status.entries_checked)
        }
        (Some(first_break), false) => format!("Chain broken at entry {}: {}", first_break.seq, first_break.message),
        (None, false) => format!("Chain broken — {} entries checked", status.entries_checked),
    }
}

/// Runs `GET /api/audit/verify` on mount and on demand, and shows the result.
#[component]
pub fn ChainStatusPanel() -> impl IntoView {
    let session = Session::use_context();
    let status =
        LocalResource::new(move || async move { session.call(|api| async move { api.verify_audit().await }).await });

    let body = move || match status.get() {
        None => view! {
            <div class="chain-badge chain-pending" data-testid="chain-status" data-state="pending">
                <span class="spinner spinner-small" aria-hidden="true"></span>
                "Verifying the audit chain…"
            </div>
        }
        .into_any(),
        Some(Err(failure)) => view! {
            <div class="chain-badge chain-unknown" data-testid="chain-status" data-state="error">
                {format!("Could not verify the chain: {}", failure.message())}
            </div>
        }
        .into_any(),
        Some(Ok(result)) => {
            let state = if result.ok { "intact" } else { "broken" };
            let class = if result.ok { "chain-badge chain-intact" } else { "chain-badge chain-broken" };
            let head = result.head_hash.clone().unwrap_or_else(|| "—".to_owned());
            view! {
                <div class=class role="status" data-testid="chain-status" data-state=state>
                    <span class="chain-icon" aria-hidden="true">
                        {if result.ok { "✓" } else { "!" }}
                    </span>
                    <span data-testid="chain-status-text">{headline(&result)}</span>
                </div>
                <div class="chain-head">
                    <span class="muted">"Head hash "</span>
                    <code class="mono" data-testid="chain-head-hash" title="Note this down to detect later truncation">
                        {head}
                    </code>
                </div>
            }
            .into_any()
        }
    };

    view! {
        <section class="card chain-panel">
            <div class="chain-panel-body">{body}</div>
            <ActionButton testid="chain-verify" label="Verify again" on_click=move |()| status.refetch() />
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::headline;
    use tether_shared::api::ChainStatus;
    use tether_shared::audit_chain::{BreakKind, ChainBreak};

    #[test]
    fn headlines() {
        let intact = ChainStatus { ok: true, entries_checked: 12, head_hash: Some("ab".into()), first_break: None };
        assert_eq!(headline(&intact), "Chain intact — 12 entries");
        let broken = ChainStatus {
            ok: false,
            entries_checked: 4,
            head_hash: None,
            first_break: Some(ChainBreak { seq: 5, kind: BreakKind::Altered, message: "entry 5 was edited".into() }),
        };
        assert_eq!(headline(&broken), "Chain broken at entry 5: entry 5 was edited");
    }
}
