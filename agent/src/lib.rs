//! Tether's native agent: enrollment, the lasting link to the server, what
//! it reports about the machine, and (with the live-screen work) capture,
//! encoding, WebRTC and input under the user's consent.

pub mod backoff;
pub mod config;
pub mod encode;
pub mod enroll;
pub mod frame;
pub mod link;
pub mod machine;
pub mod platform;
