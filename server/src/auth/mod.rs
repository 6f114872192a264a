//! Authentication: password hashing, access tokens, login sessions with
//! refresh tokens, rate limits on login, and the extractor that turns a
//! request's bearer token into a checked [`AuthUser`].

pub mod extractor;
pub mod password;
pub mod rate_limit;
pub mod sessions;
pub mod tokens;

pub use extractor::AuthUser;
