//! Tether's native agent: enrollment, the lasting link to the server,
//! connection codes (broker sessions) and the loopback UI, what it reports
//! about the machine, capture, encoding, the WebRTC session and
//! remote input under the user's consent.

pub mod backoff;
pub mod broker;
pub mod config;
pub mod consent;
pub mod encode;
pub mod enroll;
pub mod frame;
pub mod inject;
pub mod link;
pub mod local_ui;
pub mod logging;
pub mod machine;
pub mod notice;
pub mod platform;
pub mod server_key;
pub mod session;
pub mod trust;
