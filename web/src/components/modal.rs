//! A dialog over the page, closed with its button, Escape or a click outside.

use leptos::prelude::*;

/// A modal dialog with a title; the caller decides when it is shown.
#[component]
pub fn Modal(
    /// The dialog's heading.
    title: String,
    /// The stable test id of the dialog box.
    testid: &'static str,
    /// Called when the user dismisses the dialog.
    #[prop(into)]
    on_close: Callback<()>,
    /// The dialog's content.
    children: Children,
) -> impl IntoView {
    let label = title.clone();
    view! {
        <div
            class="modal-backdrop"
            on:click=move |_| on_close.run(())
            on:keydown=move |ev| {
                if ev.key() == "Escape" {
                    on_close.run(());
                }
            }
        >
            <div
                class="modal"
                role="dialog"
                aria-modal="true"
                aria-label=label
                data-testid=testid
                on:click=|ev| ev.stop_propagation()
            >
                <header class="modal-header">
                    <h2>{title}</h2>
                    <button
                        type="button"
                        class="icon-button"
                        aria-label="Close"
                        data-testid="modal-close"
                        on:click=move |_| on_close.run(())
                    >
                        "×"
                    </button>
                </header>
                <div class="modal-body">{children()}</div>
            </div>
        </div>
    }
}
