//! The administrator's table of enrollment tokens, newest first, with their
//! state and a Revoke button for those still usable.

use crate::components::action_button::ActionButton;
use crate::components::data_table::{Column, DataTable};
use crate::components::token_status_badge::TokenStatusBadge;
use crate::enrollment::TokenStatus;
use crate::time::{local_date_time, relative};
use leptos::prelude::*;
use tether_shared::agent::EnrollmentTokenView;

/// The tokens table's header.
const COLUMNS: &[Column] = &[
    Column::new("Label"),
    Column::new("Created by"),
    Column::new("Created"),
    Column::new("Expires"),
    Column::new("Uses"),
    Column::new("Status"),
    Column::actions(),
];

/// One row per token: label, creator, created, expires, uses, status, actions.
#[component]
pub fn EnrollmentTokensTable(
    /// The tokens, in display order.
    tokens: Vec<EnrollmentTokenView>,
    /// The time the statuses are judged at, Unix milliseconds.
    now_ms: i64,
    /// Asks to revoke a token.
    #[prop(into)]
    on_revoke: Callback<EnrollmentTokenView>,
) -> impl IntoView {
    let rows = tokens
        .into_iter()
        .map(|token| {
            let status = TokenStatus::of(&token, now_ms);
            let expires = if token.expires_at <= now_ms {
                format!("expired {}", relative(now_ms, token.expires_at))
            } else {
                relative(now_ms, token.expires_at)
            };
            let revoke_token = token.clone();
            view! {
                <tr
                    data-testid="token-row"
                    data-id=token.id.clone()
                    data-label=token.label.clone()
                    data-status=status.as_str()
                    class:row-muted=status != TokenStatus::Active
                >
                    <td data-testid="token-cell-label">{token.label.clone()}</td>
                    <td class="mono" data-testid="token-cell-created-by">{token.created_by.clone()}</td>
                    <td class="nowrap">{local_date_time(token.created_at)}</td>
                    <td class="nowrap" title=local_date_time(token.expires_at) data-testid="token-cell-expires">
                        {expires}
                    </td>
                    <td class="nowrap" data-testid="token-cell-uses">
                        {format!("{} / {}", token.uses, token.max_uses)}
                    </td>
                    <td>
                        <TokenStatusBadge status=status />
                    </td>
                    <td>
                        <div class="row-actions">
                            {(status == TokenStatus::Active)
                                .then(|| {
                                    view! {
                                        <ActionButton
                                            class="button button-small button-danger-ghost"
                                            testid="token-revoke"
                                            label="Revoke"
                                            on_click=move |()| on_revoke.run(revoke_token.clone())
                                        />
                                    }
                                })}
                        </div>
                    </td>
                </tr>
            }
        })
        .collect_view();

    view! {
        <DataTable testid="tokens-table" columns=COLUMNS>
            {rows}
        </DataTable>
    }
}
