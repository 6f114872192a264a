//! The server's grant-signing key: Ed25519, kept as PKCS#8 PEM with
//! owner-only permissions in the data directory, made once at first start
//! (like the token-signing key, but its own key: agents pin this one, and
//! it never signs anything but grants).

use anyhow::Context;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use std::path::Path;
use std::sync::Arc;
use tether_shared::grant::{self, Grant, PublicGrantKey, SignedGrant};

/// The file under the data directory.
pub const FILE_NAME: &str = "grant-signing-key.pem";

/// Signs grants. Cheap to clone.
#[derive(Clone)]
pub struct GrantKey {
    signing: Arc<SigningKey>,
}

impl std::fmt::Debug for GrantKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GrantKey {{ key_id: {} }}", grant::key_id(&self.signing.verifying_key()))
    }
}

impl GrantKey {
    /// Loads the key from `dir`, creating it there on first use.
    pub fn load_or_create(dir: &Path) -> anyhow::Result<Self> {
        let path = dir.join(FILE_NAME);
        let signing = if path.exists() {
            let pem = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
            SigningKey::from_pkcs8_pem(&pem).map_err(|err| anyhow::anyhow!("{}: {err}", path.display()))?
        } else {
            let key = SigningKey::generate(&mut rand::rngs::OsRng);
            let pem = key
                .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
                .map_err(|err| anyhow::anyhow!("encode grant signing key: {err}"))?;
            crate::fsutil::write_private(&path, pem.as_bytes())?;
            tracing::info!(path = %path.display(), "created the grant signing key");
            key
        };
        let key = Self::from_signing_key(signing);
        tracing::info!(key_id = %key.public().key_id, fingerprint = %key.public().fingerprint, "grant signing key");
        Ok(key)
    }

    /// A key from its secret.
    pub fn from_signing_key(signing: SigningKey) -> Self {
        Self { signing: Arc::new(signing) }
    }

    /// A fresh random key, for tests.
    pub fn ephemeral() -> Self {
        Self::from_signing_key(SigningKey::generate(&mut rand::rngs::OsRng))
    }

    /// The public half, as agents fetch and pin it.
    pub fn public(&self) -> PublicGrantKey {
        PublicGrantKey::of(&self.signing.verifying_key())
    }

    /// Signs `grant` (setting its key id).
    pub fn sign(&self, grant: &Grant) -> SignedGrant {
        grant::sign(grant, &self.signing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_file_is_made_once_private_and_read_back() {
        let dir = std::env::temp_dir().join(format!("tether-grant-key-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("dir");
        let first = GrantKey::load_or_create(&dir).expect("create");
        let second = GrantKey::load_or_create(&dir).expect("load");
        assert_eq!(first.public(), second.public());
        assert_ne!(first.public(), GrantKey::ephemeral().public());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(FILE_NAME)).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(dir).expect("cleanup");
    }
}
