//! The agent's loopback UI: a small HTTP server on 127.0.0.1 serving the
//! web app's `/agent` page and a JSON API (`/local/*`) to enter a
//! connection code. Only this computer's browser, opened by the agent with
//! the per-launch secret in the URL fragment, can use it: every API request
//! carries the secret, a loopback `Host` (against DNS rebinding) and, if
//! any, the UI's own `Origin`.

pub mod guard;
pub mod server;
pub mod state;

pub use server::{LinkPage, LocalUi, UiOptions};
