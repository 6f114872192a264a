//! Pinning the server's grant key: `enroll` and `configure` fetch it, show
//! its fingerprint for a person to compare out of band, and keep it in the
//! configuration. A pinned key is never replaced silently: a different key
//! from the server is refused until the operator accepts its fingerprint
//! explicitly (`--accept-new-key`). An agent that never pinned one and
//! takes a code pins the key the server shows then (trust on first use):
//! a server impersonated at that very moment would go unnoticed, which is
//! why the fingerprint is printed.

use anyhow::Context;
use tether_shared::grant::{BadPublicKey, PublicGrantKey};

/// What pinning did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pinned {
    /// No key was pinned; this one is now.
    First,
    /// The server still has the pinned key.
    Same,
    /// The operator accepted a new key in place of the one with this
    /// fingerprint.
    Replaced { previous: String },
}

/// Why the server's key was not pinned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PinError {
    /// The server shows another key than the pinned one.
    #[error(
        "the server's grant key has changed: this computer trusts {pinned}, the server now shows {offered}. \
         If its administrator replaced the key, check the new fingerprint with them, then run \
         `tether-agent configure --server URL --accept-new-key \"{offered}\"`; otherwise this may not be your server"
    )]
    Changed { pinned: String, offered: String },
    /// `--accept-new-key` names another fingerprint than the server's key.
    #[error("the server's grant key has the fingerprint {offered}, not {accepted}: nothing was changed")]
    NotAccepted { offered: String, accepted: String },
    /// The server's key is unusable.
    #[error(transparent)]
    Bad(#[from] BadPublicKey),
}

/// Decides whether `offered` may be pinned over `current`; `accept_new` is
/// the fingerprint the operator accepted, if any (spacing and case do not
/// matter).
pub fn pin(
    current: Option<&PublicGrantKey>,
    offered: &PublicGrantKey,
    accept_new: Option<&str>,
) -> Result<Pinned, PinError> {
    offered.verifying_key()?;
    if let Some(accepted) = accept_new
        && normal(accepted) != normal(&offered.fingerprint)
    {
        return Err(PinError::NotAccepted { offered: offered.fingerprint.clone(), accepted: accepted.to_owned() });
    }
    match current {
        None => Ok(Pinned::First),
        Some(pinned) if pinned.public_key == offered.public_key => Ok(Pinned::Same),
        Some(pinned) if accept_new.is_some() => Ok(Pinned::Replaced { previous: pinned.fingerprint.clone() }),
        Some(pinned) => {
            Err(PinError::Changed { pinned: pinned.fingerprint.clone(), offered: offered.fingerprint.clone() })
        }
    }
}

fn normal(fingerprint: &str) -> String {
    fingerprint.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_lowercase()
}

/// Fetches the server's grant key (`GET /api/grant-key`).
pub async fn fetch(client: &reqwest::Client, server_url: &str) -> anyhow::Result<PublicGrantKey> {
    let url = url::Url::parse(server_url)
        .and_then(|base| base.join("/api/grant-key"))
        .with_context(|| format!("{server_url:?} is not a URL"))?;
    let response = client.get(url).send().await.with_context(|| format!("cannot reach the server at {server_url}"))?;
    let status = response.status();
    anyhow::ensure!(status.is_success(), "the server did not give its grant key (HTTP {status})");
    response.json().await.context("the server's grant key is not in the expected form")
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;

    fn key(seed: u8) -> PublicGrantKey {
        PublicGrantKey::of(&SigningKey::from_bytes(&[seed; 32]).verifying_key())
    }

    #[test]
    fn a_pinned_key_is_kept_and_replaced_only_by_its_accepted_fingerprint() {
        let (old, new) = (key(1), key(2));
        assert_eq!(pin(None, &old, None), Ok(Pinned::First));
        assert_eq!(pin(Some(&old), &old, None), Ok(Pinned::Same));
        let changed = pin(Some(&old), &new, None).expect_err("another key");
        assert!(matches!(changed, PinError::Changed { .. }), "{changed}");
        assert!(changed.to_string().contains(&new.fingerprint), "{changed}");
        let wrong = pin(Some(&old), &new, Some(&old.fingerprint)).expect_err("the old fingerprint");
        assert!(matches!(wrong, PinError::NotAccepted { .. }), "{wrong}");
        let accepted = new.fingerprint.to_uppercase().replace(' ', "");
        assert_eq!(pin(Some(&old), &new, Some(&accepted)), Ok(Pinned::Replaced { previous: old.fingerprint.clone() }));
        let forged = PublicGrantKey { public_key: old.public_key.clone(), ..new.clone() };
        assert_eq!(pin(None, &forged, None), Err(PinError::Bad(BadPublicKey::Mismatch)));
    }
}
