//! A labelled form field around any control (a textarea, an input with a
//! unit, ...), with a hint that an inline error replaces.

use leptos::prelude::*;

/// `<div class="field">` with a `<label for=input_id>`, the control given as
/// children, then either the error (test id `error_testid`), which also
/// marks the field invalid, or the hint.
#[component]
pub fn FormField(
    /// The visible label.
    label: &'static str,
    /// The `id` of the control the label names.
    #[prop(into)]
    input_id: String,
    /// The stable test id of the error line.
    #[prop(into)]
    error_testid: String,
    /// Inline error message, if any.
    #[prop(into)]
    error: Signal<Option<String>>,
    /// Help text shown while there is no error.
    hint: &'static str,
    /// The control.
    children: Children,
) -> impl IntoView {
    view! {
        <div class="field" class:field-invalid=move || error.with(Option::is_some)>
            <label for=input_id>{label}</label>
            {children()}
            {move || match error.get() {
                Some(message) => {
                    view! { <p class="field-error" data-testid=error_testid.clone()>{message}</p> }.into_any()
                }
                None => view! { <p class="field-hint">{hint}</p> }.into_any(),
            }}
        </div>
    }
}
