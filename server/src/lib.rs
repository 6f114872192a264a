//! Tether's server: REST API, accounts and login, the hash-chained audit
//! log, and the built web app. `main.rs` wires it to a socket; everything
//! else is here so tests can drive it without one.

pub mod access;
pub mod agent_link;
pub mod agents;
pub mod app;
pub mod audit;
pub mod auth;
pub mod bootstrap;
pub mod broker;
pub mod broker_sessions;
pub mod computers;
pub mod config;
pub mod db;
pub mod error;
pub mod extract;
pub mod fsutil;
pub mod grants;
pub mod groups;
pub mod heartbeat;
pub mod hub;
pub mod ice;
pub mod policies;
pub mod policy_assignments;
pub mod relay;
pub mod routes;
pub mod secret;
pub mod sessions;
pub mod socket;
pub mod state;
pub mod store;
pub mod tls;
pub mod users;
