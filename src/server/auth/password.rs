//! Argon2id password hashing, always off the async threads.

use std::sync::OnceLock;

use argon2::{
    Argon2, PasswordHash, PasswordHasher, PasswordVerifier,
    password_hash::{SaltString, rand_core::OsRng},
};
use secrecy::{ExposeSecret, SecretString};

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("could not hash the password: {0}")]
    Hash(argon2::password_hash::Error),
    #[error("the hashing task failed")]
    Task(#[from] tokio::task::JoinError),
}

/// Hashes `password` with Argon2id (the crate's defaults: the OWASP-recommended parameters).
pub async fn hash(password: SecretString) -> Result<String, HashError> {
    tokio::task::spawn_blocking(move || hash_blocking(password.expose_secret()))
        .await?
        .map_err(HashError::Hash)
}

fn hash_blocking(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// Checks `password` against a stored hash. With no stored hash (unknown email) it still runs a
/// full check against a fixed dummy hash, so both cases take the same time and cannot be told
/// apart, and answers `false`.
pub async fn verify(password: SecretString, stored: Option<String>) -> Result<bool, HashError> {
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let stored = stored.as_deref().unwrap_or_else(|| dummy_hash());
        let matches = PasswordHash::new(stored).is_ok_and(|parsed| {
            Argon2::default()
                .verify_password(password.expose_secret().as_bytes(), &parsed)
                .is_ok()
        });
        known && matches
    })
    .await
    .map_err(HashError::Task)
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        hash_blocking("not the password of any account")
            .unwrap_or_else(|_| String::from("$argon2id$v=19$m=19456,t=2,p=1$invalid"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let stored = hash("correct horse battery".to_owned().into())
            .await
            .unwrap();
        assert!(stored.starts_with("$argon2id$"), "{stored}");
        assert!(!stored.contains("horse"));
        let ok = verify(
            "correct horse battery".to_owned().into(),
            Some(stored.clone()),
        );
        assert!(ok.await.unwrap());
        let wrong = verify("correct horse battery!".to_owned().into(), Some(stored));
        assert!(!wrong.await.unwrap());
    }

    #[tokio::test]
    async fn no_stored_hash_never_verifies_not_even_the_dummy_password() {
        let dummy = verify("not the password of any account".to_owned().into(), None);
        assert!(!dummy.await.unwrap());
        assert!(
            !verify("anything at all".to_owned().into(), None)
                .await
                .unwrap()
        );
    }
}
