//! The public page a technician's connection link opens
//! (`/connect/<code>`): the code, grouped, and how the person at the
//! computer gives it to the Tether agent. Anyone may open it: it needs no
//! sign-in, shows no navigation and never calls the server's `/api`.

use crate::components::auth_layout::AuthLayout;
use crate::components::connection_code_display::ConnectionCodeDisplay;
use crate::components::copy_field::CopyField;
use crate::connect_page::{
    AFTERWARDS, AGENT_PAGE_HINT, AGENT_PAGE_STEP, ConnectLink, INTRODUCTION, INVALID_LINK, Instructions, TERMINAL_STEP,
};
use leptos::prelude::*;

/// The page for `code`, the code part of the address as the browser gives
/// it (percent-encoded, e.g. `123%20456%20789` for a typed address).
#[component]
pub fn ConnectPage(code: String) -> impl IntoView {
    // A part that does not decode (a stray `%`) is kept as it came, which no
    // code parses: the page then says the link is not valid.
    let decoded = js_sys::decode_uri_component(&code).map(String::from).unwrap_or(code);
    match ConnectLink::read(&decoded) {
        ConnectLink::Code(instructions) => view! {
            <AuthLayout title="Your connection code" subtitle="A technician is ready to help you with your computer.">
                <CodeInstructions instructions=instructions />
            </AuthLayout>
        }
        .into_any(),
        ConnectLink::Invalid => view! {
            <AuthLayout title="Connection code" subtitle="Remote assistance with Tether.">
                <div class="alert alert-error" role="alert" data-testid="connect-invalid">{INVALID_LINK}</div>
            </AuthLayout>
        }
        .into_any(),
    }
}

/// The code, the two ways to enter it, and what happens then.
#[component]
fn CodeInstructions(instructions: Instructions) -> impl IntoView {
    let Instructions { code, command } = instructions;
    view! {
        <div class="agent-screen" data-testid="connect-page">
            <ConnectionCodeDisplay code=code testid="connect-code" />
            <p>{INTRODUCTION}</p>
            <ol class="connect-steps">
                <li>
                    <p>{AGENT_PAGE_STEP}</p>
                    <p class="muted small">{AGENT_PAGE_HINT}</p>
                </li>
                <li>
                    <p>{TERMINAL_STEP}</p>
                    <CopyField label="Command" value=command testid="connect-command" />
                </li>
            </ol>
            <h2>"What happens next"</h2>
            <ul class="connect-steps">{AFTERWARDS.map(|sentence| view! { <li>{sentence}</li> })}</ul>
        </div>
    }
}
