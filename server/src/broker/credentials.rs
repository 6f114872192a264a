//! Short-lived TURN credentials in the TURN REST scheme
//! (draft-uberti-behave-turn-rest, coturn's `use-auth-secret`): the
//! username is `"<unix-expiry>:<name>"` and the password is
//! `base64(HMAC-SHA1(secret, username))`, so a relay that knows the secret
//! checks a credential without asking the server, and a leaked one dies by
//! itself. No static relay password exists anywhere.

use std::fmt;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha1::Sha1;

/// The longest a credential may live.
pub const MAX_LIFETIME: Duration = Duration::from_secs(10 * 60);
/// Shortest secret accepted, in bytes.
pub const MIN_SECRET_BYTES: usize = 16;
/// Longest `name` part of a username, in bytes.
const MAX_NAME_BYTES: usize = 128;

/// The secret shared between the server and its TURN relays. `Debug` does
/// not show it.
#[derive(Clone)]
pub struct TurnSecret {
    text: String,
    mac: Hmac<Sha1>,
}

impl TurnSecret {
    /// A configured secret: at least 16 printable ASCII characters with no
    /// spaces (it is written into coturn's `static-auth-secret=` line).
    pub fn new(secret: impl Into<String>) -> Result<Self, CredentialError> {
        let text = secret.into();
        if text.len() < MIN_SECRET_BYTES || !text.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(CredentialError::WeakSecret);
        }
        let mac = Hmac::<Sha1>::new_from_slice(text.as_bytes()).map_err(|_| CredentialError::WeakSecret)?;
        Ok(TurnSecret { text, mac })
    }

    /// A random 256-bit secret (for the embedded relay, which needs no one
    /// else to know it).
    pub fn generate() -> Result<Self, CredentialError> {
        let mut bytes = [0_u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        TurnSecret::new(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// The secret itself, to write into a relay's configuration.
    pub fn expose(&self) -> &str {
        &self.text
    }

    /// The password for `username`: `base64(HMAC-SHA1(secret, username))`.
    pub fn password(&self, username: &str) -> String {
        let mut mac = self.mac.clone();
        mac.update(username.as_bytes());
        STANDARD.encode(mac.finalize().into_bytes())
    }

    /// A credential for `name` (a session id) that expires `lifetime`
    /// after `now_unix` (seconds). The lifetime is 1 s to [`MAX_LIFETIME`].
    pub fn issue(&self, name: &str, now_unix: u64, lifetime: Duration) -> Result<TurnCredential, CredentialError> {
        if lifetime > MAX_LIFETIME || lifetime.as_secs() == 0 {
            return Err(CredentialError::BadLifetime);
        }
        check_name(name)?;
        let expires_at = now_unix.saturating_add(lifetime.as_secs());
        let username = format!("{expires_at}:{name}");
        let password = self.password(&username);
        Ok(TurnCredential { username, password, expires_at })
    }

    /// Checks a username a relay received at `now_unix` and returns the
    /// password that goes with it: the expiry must not have passed and the
    /// name must be well formed.
    pub fn check(&self, username: &str, now_unix: u64) -> Result<String, CredentialError> {
        let (expiry, name) = username.split_once(':').ok_or(CredentialError::Malformed)?;
        if expiry.is_empty() || !expiry.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CredentialError::Malformed);
        }
        let expires_at: u64 = expiry.parse().map_err(|_| CredentialError::Malformed)?;
        check_name(name)?;
        if now_unix >= expires_at {
            return Err(CredentialError::Expired { expires_at });
        }
        Ok(self.password(username))
    }
}

impl fmt::Debug for TurnSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TurnSecret(<redacted>)")
    }
}

/// `name` is 1–128 printable ASCII bytes without `:`.
fn check_name(name: &str) -> Result<(), CredentialError> {
    let ok =
        !name.is_empty() && name.len() <= MAX_NAME_BYTES && name.bytes().all(|b| b.is_ascii_graphic() && b != b':');
    if ok { Ok(()) } else { Err(CredentialError::Malformed) }
}

/// One TURN username and password. `Debug` hides the password.
#[derive(Clone, PartialEq, Eq)]
pub struct TurnCredential {
    /// `"<expires_at>:<name>"`.
    pub username: String,
    /// `base64(HMAC-SHA1(secret, username))`.
    pub password: String,
    /// Unix seconds after which relays refuse it.
    pub expires_at: u64,
}

impl fmt::Debug for TurnCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TurnCredential")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Why a credential could not be made or was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialError {
    /// The secret is shorter than 16 bytes or has spaces or control
    /// characters.
    #[error("the TURN secret must be at least 16 printable characters without spaces")]
    WeakSecret,
    /// The lifetime is zero or longer than ten minutes.
    #[error("a TURN credential lives from 1 second to 10 minutes")]
    BadLifetime,
    /// Not `"<digits>:<name>"` with a printable name of 1–128 bytes.
    #[error("not a TURN REST username (<unix-expiry>:<name>)")]
    Malformed,
    /// The expiry has passed.
    #[error("the TURN credential expired at {expires_at}")]
    Expired {
        /// Unix seconds.
        expires_at: u64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    const SESSION: &str = "4b0f2c1e-8d6a-4f7e-9c31-2a5b7d9e0f11";

    fn secret() -> TurnSecret {
        TurnSecret::new("tether-test-secret").expect("valid secret")
    }

    #[test]
    fn hmac_sha1_matches_rfc_2202() {
        // RFC 2202 test case 1 needs a 20-byte binary key; check the
        // primitive directly, then the scheme against an independent
        // implementation (Python's hmac + base64).
        let mut mac = Hmac::<Sha1>::new_from_slice(&[0x0b; 20]).expect("any key length");
        mac.update(b"Hi There");
        assert_eq!(hex::encode(mac.finalize().into_bytes()), "b617318655057264e28bc0b6fb378c8ef146be00");
    }

    #[test]
    fn known_vector() {
        // python3: base64.b64encode(hmac.new(b"tether-test-secret",
        //   b"1700000600:4b0f2c1e-...", hashlib.sha1).digest())
        let credential = secret().issue(SESSION, 1_700_000_000, Duration::from_secs(600)).expect("issue");
        assert_eq!(credential.username, format!("1700000600:{SESSION}"));
        assert_eq!(credential.password, "7O1a5VbBTCEBDcWfibbLFulTd4w=");
        assert_eq!(credential.expires_at, 1_700_000_600);
        assert!(!format!("{credential:?}").contains(&credential.password));
    }

    #[test]
    fn lifetimes_are_at_most_ten_minutes() {
        let secret = secret();
        assert!(secret.issue(SESSION, 0, MAX_LIFETIME).is_ok());
        assert_eq!(secret.issue(SESSION, 0, MAX_LIFETIME + Duration::from_secs(1)), Err(CredentialError::BadLifetime));
        assert_eq!(secret.issue(SESSION, 0, Duration::from_millis(999)), Err(CredentialError::BadLifetime));
    }

    #[test]
    fn check_accepts_live_credentials_and_refuses_the_rest() {
        let secret = secret();
        let credential = secret.issue(SESSION, 1_000, Duration::from_secs(60)).expect("issue");
        assert_eq!(secret.check(&credential.username, 1_059), Ok(credential.password.clone()));
        assert_eq!(secret.check(&credential.username, 1_060), Err(CredentialError::Expired { expires_at: 1_060 }));
        for username in ["1060", "alice", ":alice", "x1060:alice", "1060:", "1060:a:b", "+1060:alice", "1060:a b"] {
            assert_eq!(secret.check(username, 0), Err(CredentialError::Malformed), "{username}");
        }
        assert_eq!(secret.check(&format!("99999999999999999999:{SESSION}"), 0), Err(CredentialError::Malformed));
        let other = TurnSecret::new("another-secret-of-16").expect("valid");
        assert_ne!(other.check(&credential.username, 1_000), Ok(credential.password));
    }

    #[test]
    fn names_and_secrets_are_checked() {
        let secret = secret();
        for name in ["", "a:b", "a b", &"x".repeat(129)] {
            assert_eq!(secret.issue(name, 0, MAX_LIFETIME), Err(CredentialError::Malformed), "{name:?}");
        }
        for weak in ["short", "has a space in it!", "tab\tinside-the-secret"] {
            assert_eq!(TurnSecret::new(weak).map(|_| ()), Err(CredentialError::WeakSecret), "{weak:?}");
        }
        let generated = TurnSecret::generate().expect("generate");
        assert_eq!(generated.expose().len(), 43);
        assert_eq!(format!("{generated:?}"), "TurnSecret(<redacted>)");
    }
}
