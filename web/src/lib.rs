//! Tether's web app (Leptos, client-side rendered): sign-in, the technician
//! console, account administration, agent enrollment and the audit log; and
//! the public pages for the person being helped (the agent's page, and the
//! page a connection link opens).
//!
//! Code map: [`api`] talks HTTP, [`session`] holds the signed-in state and
//! refreshes tokens, [`app`] routes, `pages/` are screens and `components/`
//! the pieces they share; [`controller`] is the live session's logic.

pub mod agent_ui;
pub mod api;
pub mod app;
pub mod broker_window;
pub mod clipboard;
pub mod components;
pub mod connect_page;
pub mod controller;
pub mod enrollment;
pub mod local_api;
pub mod pages;
pub mod policy_form;
pub mod poll;
pub mod secret;
pub mod session;
pub mod session_text;
pub mod sessions_feed;
pub mod submission;
pub mod text;
pub mod time;

pub use app::App;

/// Sets the browser tab's title to "`page` · Tether".
pub fn set_document_title(page: &str) {
    if let Some(document) = web_sys::window().and_then(|window| window.document()) {
        document.set_title(&format!("{page} · Tether"));
    }
}
