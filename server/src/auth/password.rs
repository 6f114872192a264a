//! Argon2id password hashing, run on the blocking pool so a login never
//! stalls the async workers.

use anyhow::Context;
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};

/// Hashes `password` into a PHC string (Argon2id, default parameters).
pub async fn hash(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|err| anyhow::anyhow!("argon2: {err}"))
    })
    .await
    .context("password hashing task")?
}

/// Whether `password` matches the PHC string `hash`. A malformed stored hash
/// is an error, not a mismatch.
pub async fn verify(password: String, hash: String) -> anyhow::Result<bool> {
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&hash).map_err(|err| anyhow::anyhow!("stored hash: {err}"))?;
        Ok(Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
    })
    .await
    .context("password verification task")?
}

/// A hash of a random password, verified against when the username does not
/// exist so that timing does not reveal which usernames exist.
pub async fn dummy_hash() -> anyhow::Result<String> {
    hash(random_password()).await
}

/// A random one-time password: 20 characters from an unambiguous alphabet
/// (about 100 bits).
pub fn random_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rngs::OsRng;
    (0..20).map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())])).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_and_verify() {
        let hashed = hash("correct horse battery".into()).await.expect("hash");
        assert!(hashed.starts_with("$argon2id$"));
        assert!(verify("correct horse battery".into(), hashed.clone()).await.expect("verify"));
        assert!(!verify("wrong".into(), hashed).await.expect("verify"));
        assert!(verify("x".into(), "not a hash".into()).await.is_err());
    }

    #[test]
    fn random_passwords_are_long_and_distinct() {
        let (a, b) = (random_password(), random_password());
        assert_eq!(a.len(), 20);
        assert_ne!(a, b);
    }
}
