//! A dialog that asks before doing something that cannot be undone.

use crate::components::alert::{Alert, AlertKind};
use crate::components::modal::Modal;
use leptos::prelude::*;

/// "Are you sure?" with a danger-styled confirm button. The caller runs the
/// action in `on_confirm` and reports `pending` and `error` back.
#[component]
pub fn ConfirmDialog(
    /// The dialog's heading.
    title: String,
    /// What will happen, in a sentence or two.
    message: String,
    /// The confirm button's label, e.g. "Revoke token".
    confirm_label: &'static str,
    /// Whether the action is running (disables the button).
    #[prop(into)]
    pending: Signal<bool>,
    /// Why the action failed, if it did.
    #[prop(into)]
    error: Signal<Option<String>>,
    /// Runs the action.
    #[prop(into)]
    on_confirm: Callback<()>,
    /// Called when the dialog is dismissed.
    #[prop(into)]
    on_close: Callback<()>,
) -> impl IntoView {
    view! {
        <Modal title=title testid="confirm-dialog" on_close=on_close>
            <div class="form">
                <p>{message}</p>
                <Alert message=error kind=AlertKind::Error testid="confirm-error" />
                <div class="form-actions">
                    <button
                        type="button"
                        class="button button-ghost"
                        data-testid="confirm-cancel"
                        on:click=move |_| on_close.run(())
                    >
                        "Cancel"
                    </button>
                    <button
                        type="button"
                        class="button button-danger"
                        data-testid="confirm-submit"
                        disabled=move || pending.get()
                        on:click=move |_| on_confirm.run(())
                    >
                        {move || if pending.get() { "Working…" } else { confirm_label }}
                    </button>
                </div>
            </div>
        </Modal>
    }
}
