//! The server-side key that turns connection codes into stored hashes
//! (HMAC-SHA256). A plain hash of nine digits falls to an offline search of
//! 10^9 candidates; without the key (kept in the data directory, beside the
//! token signing key, owner-only) the stored hashes say nothing.

use anyhow::Context;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use std::path::Path;
use std::sync::Arc;
use tether_shared::connection_code::ConnectionCode;

const KEY_FILE: &str = "connection-code-key";
const KEY_BYTES: usize = 32;

/// The HMAC key for connection codes, ready keyed. Cheap to clone; `Debug`
/// hides it.
#[derive(Clone)]
pub struct CodeKey(Arc<Hmac<Sha256>>);

impl std::fmt::Debug for CodeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CodeKey(<redacted>)")
    }
}

impl CodeKey {
    /// Loads the key from `dir`, creating it on first start.
    pub fn load_or_create(dir: &Path) -> anyhow::Result<Self> {
        let path = dir.join(KEY_FILE);
        if path.exists() {
            let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
            let bytes = hex::decode(text.trim()).with_context(|| format!("{} is not hex", path.display()))?;
            let key: [u8; KEY_BYTES] =
                bytes.try_into().map_err(|_| anyhow::anyhow!("{} must hold {KEY_BYTES} bytes", path.display()))?;
            return Self::from_bytes(&key);
        }
        let key = random_key();
        crate::fsutil::write_private(&path, hex::encode(key).as_bytes())?;
        tracing::info!(path = %path.display(), "created connection-code key");
        Self::from_bytes(&key)
    }

    fn from_bytes(key: &[u8]) -> anyhow::Result<Self> {
        let mac =
            <Hmac<Sha256> as Mac>::new_from_slice(key).map_err(|err| anyhow::anyhow!("connection-code key: {err}"))?;
        Ok(Self(Arc::new(mac)))
    }

    /// A fresh random key that lives as long as the process (tests, and the
    /// default until `load_or_create` replaces it).
    pub fn ephemeral() -> Self {
        // HMAC takes keys of any length, so building it cannot fail.
        let mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&random_key()).unwrap_or_else(|_| Hmac::new(&Default::default()));
        Self(Arc::new(mac))
    }

    /// The stored form of `code`: hex HMAC-SHA256 of its nine digits.
    pub fn hash(&self, code: ConnectionCode) -> String {
        let mut mac = (*self.0).clone();
        mac.update(code.digits().as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

fn random_key() -> [u8; KEY_BYTES] {
    let mut key = [0_u8; KEY_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut key);
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_depend_on_the_key_and_the_key_persists() {
        let code = ConnectionCode::from_value(123_456_789).expect("code");
        let dir = std::env::temp_dir().join(format!("tether-code-key-{}", uuid::Uuid::new_v4()));
        let first = CodeKey::load_or_create(&dir).expect("create");
        let again = CodeKey::load_or_create(&dir).expect("load");
        assert_eq!(first.hash(code), again.hash(code));
        assert_ne!(first.hash(code), CodeKey::ephemeral().hash(code));
        assert_eq!(first.hash(code).len(), 64);
        std::fs::remove_dir_all(dir).expect("cleanup");
    }
}
