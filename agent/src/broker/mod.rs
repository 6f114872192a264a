//! Broker sessions on the agent: the person at this computer enters the
//! connection code a technician read out; the agent picks a broker (a TURN
//! relay), redeems the code with its target data, and serves the one live
//! session over the broker session socket. Typing the code is the user's
//! consent to start that session (no `--unattended` needed; the acceptance
//! prompt comes with session policies).

pub mod choice;
pub mod connect;
pub mod error;
pub mod list;
pub mod probe;
pub mod redeem;
pub mod socket;

pub use connect::{ConnectOptions, Progress};
pub use error::ConnectError;
