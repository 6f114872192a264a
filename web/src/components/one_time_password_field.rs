//! The input for a one-time password an administrator hands out, with a
//! button that fills in a strong random one.

use leptos::prelude::*;

/// A visible (not masked) password input plus a "Generate" button.
#[component]
pub fn OneTimePasswordField(
    /// The password, two-way bound.
    value: RwSignal<String>,
    /// The stable test id of the input; the button gets `-generate` appended.
    testid: &'static str,
    /// Inline error message, if any.
    #[prop(into)]
    error: Signal<Option<String>>,
) -> impl IntoView {
    let id = format!("field-{testid}");
    let error_testid = format!("{testid}-error");
    let generate_testid = format!("{testid}-generate");
    let generate = move |_| {
        if let Some(password) = crate::secret::generate_password() {
            value.set(password);
        }
    };
    view! {
        <div class="field" class:field-invalid=move || error.with(Option::is_some)>
            <label for=id.clone()>"One-time password"</label>
            <div class="input-with-button">
                <input
                    id=id
                    type="text"
                    class="mono"
                    autocomplete="off"
                    spellcheck="false"
                    data-testid=testid
                    aria-invalid=move || error.with(Option::is_some).to_string()
                    bind:value=value
                />
                <button
                    type="button"
                    class="button button-secondary"
                    data-testid=generate_testid
                    on:click=generate
                >
                    "Generate"
                </button>
            </div>
            <p class="field-hint">
                "Give it to the user over a trusted channel; they must replace it at first sign-in."
            </p>
            {move || {
                error
                    .get()
                    .map(|message| {
                        view! {
                            <p class="field-error" data-testid=error_testid.clone()>
                                {message}
                            </p>
                        }
                    })
            }}
        </div>
    }
}
