//! Access tokens: short-lived EdDSA-signed JWTs. The algorithm is pinned,
//! and issuer, audience, expiry and the `typ` header are all checked.
//!
//! The signing key is an Ed25519 key kept as PKCS#8 PEM in the data
//! directory (owner-only permissions), created at first start.

use anyhow::Context;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Arc;
use tether_shared::Role;

/// `iss` of every token.
pub const ISSUER: &str = "tether";
/// `aud` of access tokens.
pub const AUDIENCE: &str = "tether-api";
/// `typ` header of access tokens (RFC 9068).
pub const ACCESS_TYP: &str = "at+jwt";
/// Lifetime of an access token, seconds (RFC limit for us: at most 15 min).
pub const ACCESS_TTL_SECS: u64 = 10 * 60;

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    /// User id.
    pub sub: String,
    /// Login session id; revoking it ends the token at once.
    pub sid: String,
    pub role: Role,
    pub iat: u64,
    pub exp: u64,
    pub jti: String,
}

/// Signs and checks access tokens. Cheap to clone.
#[derive(Clone)]
pub struct TokenKeys {
    inner: Arc<Keys>,
}

struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKeys { .. }")
    }
}

/// Why a token was refused.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("access token expired")]
    Expired,
    #[error("access token invalid: {0}")]
    Invalid(String),
}

impl TokenKeys {
    /// Loads the key from `dir`, creating it there on first use.
    pub fn load_or_create(dir: &Path) -> anyhow::Result<Self> {
        let path = dir.join("token-signing-key.pem");
        let signing = if path.exists() {
            let pem = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
            SigningKey::from_pkcs8_pem(&pem).map_err(|err| anyhow::anyhow!("{}: {err}", path.display()))?
        } else {
            let key = SigningKey::generate(&mut rand::rngs::OsRng);
            let pem = key
                .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
                .map_err(|err| anyhow::anyhow!("encode signing key: {err}"))?;
            crate::fsutil::write_private(&path, pem.as_bytes())?;
            tracing::info!(path = %path.display(), "created token signing key");
            key
        };
        Self::from_signing_key(&signing)
    }

    /// Keys from an Ed25519 signing key.
    pub fn from_signing_key(key: &SigningKey) -> anyhow::Result<Self> {
        let der = key.to_pkcs8_der().map_err(|err| anyhow::anyhow!("encode signing key: {err}"))?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 5;
        Ok(Self {
            inner: Arc::new(Keys {
                encoding: EncodingKey::from_ed_der(der.as_bytes()),
                decoding: DecodingKey::from_ed_der(key.verifying_key().as_bytes()),
                validation,
            }),
        })
    }

    /// A fresh random key, for tests.
    pub fn ephemeral() -> anyhow::Result<Self> {
        Self::from_signing_key(&SigningKey::generate(&mut rand::rngs::OsRng))
    }

    /// Signs claims as an access token.
    pub fn sign(&self, claims: &AccessClaims) -> anyhow::Result<String> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.typ = Some(ACCESS_TYP.to_owned());
        self.sign_with_header(&header, claims)
    }

    /// Signs any claims under any header with this key: for tests that
    /// must prove that wrong headers and claims are refused.
    pub fn sign_with_header(&self, header: &Header, claims: &impl Serialize) -> anyhow::Result<String> {
        jsonwebtoken::encode(header, claims, &self.inner.encoding).context("sign token")
    }

    /// Issues an access token for a user's login session, valid from `now`.
    pub fn issue(&self, user_id: &str, session_id: &str, role: Role, now_secs: u64) -> anyhow::Result<String> {
        self.sign(&AccessClaims {
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            sub: user_id.to_owned(),
            sid: session_id.to_owned(),
            role,
            iat: now_secs,
            exp: now_secs + ACCESS_TTL_SECS,
            jti: uuid::Uuid::new_v4().to_string(),
        })
    }

    /// Checks signature, algorithm, `typ`, issuer, audience and expiry.
    pub fn verify(&self, token: &str) -> Result<AccessClaims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|err| TokenError::Invalid(err.to_string()))?;
        if header.alg != Algorithm::EdDSA {
            return Err(TokenError::Invalid(format!("algorithm {:?} not accepted", header.alg)));
        }
        if header.typ.as_deref() != Some(ACCESS_TYP) {
            return Err(TokenError::Invalid("not an access token".to_owned()));
        }
        jsonwebtoken::decode::<AccessClaims>(token, &self.inner.decoding, &self.inner.validation)
            .map(|data| data.claims)
            .map_err(|err| match err.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid(err.to_string()),
            })
    }
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_verify() {
        let keys = TokenKeys::ephemeral().expect("keys");
        let token = keys.issue("u1", "s1", Role::Admin, now_secs()).expect("issue");
        let claims = keys.verify(&token).expect("verify");
        assert_eq!((claims.sub.as_str(), claims.sid.as_str(), claims.role), ("u1", "s1", Role::Admin));
    }

    #[test]
    fn expired_and_foreign_tokens_fail() {
        let keys = TokenKeys::ephemeral().expect("keys");
        let old = keys.issue("u1", "s1", Role::Admin, now_secs() - 3600).expect("issue");
        assert!(matches!(keys.verify(&old), Err(TokenError::Expired)));
        let other = TokenKeys::ephemeral().expect("keys");
        let foreign = other.issue("u1", "s1", Role::Admin, now_secs()).expect("issue");
        assert!(matches!(keys.verify(&foreign), Err(TokenError::Invalid(_))));
    }

    #[test]
    fn key_file_is_created_once_and_private() {
        let dir = std::env::temp_dir().join(format!("tether-keys-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("dir");
        let first = TokenKeys::load_or_create(&dir).expect("create");
        let second = TokenKeys::load_or_create(&dir).expect("load");
        let token = first.issue("u", "s", Role::Auditor, now_secs()).expect("issue");
        assert!(second.verify(&token).is_ok());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join("token-signing-key.pem")).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(dir).expect("cleanup");
    }
}
