//! A labelled form input with an optional hint and an inline error.

use leptos::prelude::*;

/// A labelled `<input>` bound to `value`. `error` shows below the input and
/// marks it invalid; `testid` names the input (`data-testid`) and, suffixed
/// with `-error`, its error line.
#[component]
pub fn TextField(
    /// The visible label.
    label: &'static str,
    /// The text, two-way bound.
    value: RwSignal<String>,
    /// The stable test id of the input.
    testid: &'static str,
    /// Input type: `text`, `password`, `datetime-local`, ...
    #[prop(default = "text")]
    kind: &'static str,
    /// Browser autofill hint.
    #[prop(default = "off")]
    autocomplete: &'static str,
    /// Help text under the input.
    #[prop(optional)]
    hint: Option<&'static str>,
    /// Placeholder text.
    #[prop(optional)]
    placeholder: Option<&'static str>,
    /// Inline error message, if any.
    #[prop(into, optional)]
    error: Signal<Option<String>>,
    /// Whether the field is required.
    #[prop(optional)]
    required: bool,
    /// Whether the field should take focus when shown.
    #[prop(optional)]
    autofocus: bool,
) -> impl IntoView {
    let id = format!("field-{testid}");
    let error_id = format!("{id}-error");
    let error_testid = format!("{testid}-error");
    let described_by = error_id.clone();
    view! {
        <div class="field" class:field-invalid=move || error.with(Option::is_some)>
            <label for=id.clone()>{label}</label>
            <input
                id=id
                type=kind
                autocomplete=autocomplete
                placeholder=placeholder
                required=required
                autofocus=autofocus
                data-testid=testid
                aria-invalid=move || error.with(Option::is_some).to_string()
                aria-describedby=move || error.with(Option::is_some).then(|| described_by.clone())
                bind:value=value
            />
            {hint.map(|hint| view! { <p class="field-hint">{hint}</p> })}
            {move || {
                error
                    .get()
                    .map(|message| {
                        view! {
                            <p class="field-error" id=error_id.clone() data-testid=error_testid.clone()>
                                {message}
                            </p>
                        }
                    })
            }}
        </div>
    }
}
