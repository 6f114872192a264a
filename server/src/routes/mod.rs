//! The HTTP API, one module per area; each exposes `router()`.

pub mod agents;
pub mod audit;
pub mod auth;
pub mod broker;
pub mod broker_sessions;
pub mod brokers;
pub mod computers;
pub mod enrollment;
pub mod grant_key;
pub mod groups;
pub mod health;
pub mod live_sessions;
pub mod policies;
pub mod policy_assignments;
pub mod sessions;
pub mod users;
