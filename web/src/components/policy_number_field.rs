//! One numeric policy field: a labelled number input with its range, its
//! own error or hint, and optional text after it (a unit, a clock).

use crate::components::form_field::FormField;
use leptos::prelude::*;

/// `<input type="number">` with `{testid}` and `{testid}-error`.
#[component]
pub fn PolicyNumberField(
    /// The visible label.
    label: &'static str,
    /// The input's test id and element id.
    testid: String,
    /// What the number means.
    hint: &'static str,
    /// The typed text.
    value: RwSignal<String>,
    /// This field's own error.
    error: RwSignal<Option<String>>,
    /// The smallest and largest accepted value.
    range: (u32, u32),
    /// Text shown after the input, if any.
    #[prop(optional, into)]
    after: Option<Signal<String>>,
) -> impl IntoView {
    let error_testid = format!("{testid}-error");
    let after_testid = format!("{testid}-clock");
    view! {
        <FormField label=label input_id=testid.clone() error_testid=error_testid error=error hint=hint>
            <div class="input-with-unit">
                <input
                    id=testid.clone()
                    type="number"
                    inputmode="numeric"
                    min=range.0.to_string()
                    max=range.1.to_string()
                    data-testid=testid.clone()
                    aria-invalid=move || error.with(Option::is_some).to_string()
                    bind:value=value
                />
                {after.map(|after| view! { <span class="input-unit" data-testid=after_testid>{after}</span> })}
            </div>
        </FormField>
    }
}
