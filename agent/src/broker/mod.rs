//! Broker sessions on the agent: the person at this computer enters the
//! connection code a technician read out; the agent picks a broker (a TURN
//! relay), redeems the code with its target data, and serves the one live
//! session over the broker session socket. Typing the code asks for that
//! session; when the session's policy (or the person's own rule) wants the
//! user's acceptance, the consent gate asks again once it knows who the
//! technician is (`awaiting.rs`, `crate::consent`), and nothing starts
//! before a yes.

pub mod awaiting;
pub mod choice;
pub mod connect;
pub mod error;
pub mod list;
pub mod probe;
pub mod redeem;
pub mod socket;
mod wire;

pub use connect::{ConnectOptions, Person, Progress};
pub use error::ConnectError;
