//! One module per screen.

pub mod account;
pub mod agent_ui;
pub mod agents;
pub mod audit;
pub mod broker_window;
pub mod brokers;
pub mod computers;
pub mod connect;
pub mod controller;
pub mod forced_password_change;
pub mod groups;
pub mod home;
pub mod live_sessions;
pub mod login;
pub mod not_found;
pub mod policies;
pub mod session_timeline;
pub mod sessions;
pub mod targets;
pub mod users;
