//! Tether's shared vocabulary: REST and wire types, roles, and the pure logic
//! (audit hash chain, input validation, who may do what, signed session
//! grants) that server, agent and web all compile.
//!
//! This crate does no I/O, spawns nothing and reads no clock: time comes in as
//! an argument. It builds for native targets and for `wasm32-unknown-unknown`.

pub mod access;
pub mod access_policy;
pub mod activity;
pub mod agent;
pub mod api;
pub mod audit_chain;
pub mod broker;
pub mod chat;
pub mod clipboard;
pub mod connection_code;
pub mod consent;
pub mod control;
pub mod error_code;
pub mod files;
pub mod flag_set;
pub mod grant;
pub mod groups;
pub mod guidance;
pub mod input;
pub mod local_floor;
pub mod local_input;
pub mod media_path;
pub mod mode;
pub mod mode_change;
pub mod monitor;
pub mod policy;
pub mod policy_assignment;
pub mod privacy;
pub mod role;
pub mod session_lifecycle;
pub mod signal;
pub mod system_info;
pub mod tool;
pub mod tool_message;
pub mod turn_stream;
pub mod validate;

pub use role::Role;
