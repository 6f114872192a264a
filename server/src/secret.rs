//! High-entropy secrets (refresh tokens, enrollment tokens, agent
//! credentials): made from the OS CSPRNG, shown once, stored as SHA-256.
//! A fast hash is right here because the secrets are 256-bit random values,
//! not passwords.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A new 256-bit secret, URL-safe base64 without padding, after `prefix`.
pub fn generate(prefix: &str) -> String {
    let mut bytes = [0_u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The stored form of a secret: hex SHA-256.
pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The secret kept in the file at `path`, made with `make` and stored
/// (owner-only) the first time, so it survives restarts.
pub fn load_or_create(path: &std::path::Path, make: impl FnOnce() -> String) -> anyhow::Result<String> {
    use anyhow::Context;
    if path.exists() {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        return Ok(text.trim().to_owned());
    }
    let secret = make();
    crate::fsutil::write_private(path, secret.as_bytes())?;
    tracing::info!(path = %path.display(), "created a secret");
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_prefixed_distinct_and_hashed() {
        let (a, b) = (generate("tet_"), generate("tet_"));
        assert!(a.starts_with("tet_") && a.len() == 4 + 43);
        assert_ne!(a, b);
        assert_eq!(digest(&a).len(), 64);
        assert_ne!(digest(&a), digest(&b));
    }

    #[test]
    fn stored_secrets_survive_a_restart() {
        let dir = std::env::temp_dir().join(format!("tether-secret-{}", uuid::Uuid::new_v4()));
        let path = dir.join("turn-secret");
        let first = load_or_create(&path, || "first-secret".to_owned()).expect("create");
        let second = load_or_create(&path, || "second-secret".to_owned()).expect("load");
        assert_eq!((first.as_str(), second.as_str()), ("first-secret", "first-secret"));
        std::fs::remove_dir_all(dir).expect("cleanup");
    }
}
