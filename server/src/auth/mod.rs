//! Authentication: password hashing, access tokens, login sessions with
//! refresh tokens, rate limits on login, the extractor that turns a
//! request's bearer token into a checked [`AuthUser`], and those of agents'
//! credentials and broker session tokens (`bearer.rs`).

pub mod bearer;
pub mod extractor;
pub mod password;
pub mod rate_limit;
pub mod sessions;
pub mod tokens;

pub use extractor::AuthUser;
