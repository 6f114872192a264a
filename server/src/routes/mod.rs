//! The HTTP API, one module per area; each exposes `router()`.

pub mod audit;
pub mod auth;
pub mod health;
pub mod users;
