//! Connection codes for broker sessions: the nine-digit code a technician
//! reads to the target's user, its URL form, the countdown shown beside it,
//! and the code's lifecycle as a pure state machine (time comes in as a
//! value; nothing here reads a clock or touches a socket).
//!
//! The server owns every decision: it generates codes, keeps only their
//! hashes, drives [`CodeLifecycle`] with its own clock and enforces expiry.
//! The web app and the agent use the formatting and parsing helpers.

mod code;
mod countdown;
mod lifecycle;

pub use code::{CODE_DIGITS, CodeInput, CodeParseError, ConnectionCode, URL_PATH};
pub use countdown::{countdown_text, remaining_secs};
pub use lifecycle::{Change, CodeLifecycle, CodePolicy, CodeState, Event, Refusal, UnixMillis};
