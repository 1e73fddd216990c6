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

/// The least score (of zxcvbn's 0 to 4) a new password must reach: 3 is "at least 10^10
/// guesses", too many for an attacker holding a stolen hash of our Argon2 cost.
const MIN_SCORE: zxcvbn::Score = zxcvbn::Score::Three;

/// Refuses a new password that would be easy to guess: a dictionary word with a digit, a repeat,
/// a keyboard walk, a date, or the learner's own email. Says why and how to do better, in the
/// estimator's words. (It looks at the first 100 characters only, so any length is cheap.)
pub fn check_strength(password: &str, email: &str) -> Result<(), TooGuessable> {
    let local_part = email.split('@').next().unwrap_or_default();
    let estimate = zxcvbn::zxcvbn(password, &[email, local_part]);
    if estimate.score() >= MIN_SCORE {
        return Ok(());
    }
    let mut advice = Vec::new();
    if let Some(feedback) = estimate.feedback() {
        if let Some(warning) = feedback.warning() {
            advice.push(warning.to_string());
        }
        advice.extend(feedback.suggestions().iter().map(ToString::to_string));
    }
    Err(TooGuessable { advice })
}

/// Why a new password was refused, for the learner.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("That password would be easy to guess. {}", self.advice_or_default())]
pub struct TooGuessable {
    advice: Vec<String>,
}

impl TooGuessable {
    fn advice_or_default(&self) -> String {
        if self.advice.is_empty() {
            "Try a short sentence of four or five words that only you would put together.".into()
        } else {
            self.advice.join(" ")
        }
    }
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

    #[test]
    fn guessable_passwords_are_refused_with_advice() {
        for weak in [
            "aaaaaaaaab",
            "passwordpassword1",
            "qwertyuiop",
            "1234567890",
            "ana.lopez1990",
            "iloveyou2026",
        ] {
            let refused = check_strength(weak, "ana.lopez@example.org")
                .expect_err(weak)
                .to_string();
            assert!(
                refused.starts_with("That password would be easy to guess."),
                "{refused}"
            );
            assert!(refused.len() > 45, "says how to do better: {refused}");
        }
    }

    #[test]
    fn passphrases_pass_and_a_long_repeat_does_not() {
        for strong in [
            "a long enough passphrase",
            "violet tram under the bridge",
            "Kx9#mQ2!vLp7",
        ] {
            check_strength(strong, "ana@example.org").expect(strong);
        }
        // Past its first 100 characters the estimator does not look (its own bound on work), so
        // a very long repeat is judged by its start: still a repeat.
        assert!(check_strength(&"ab1".repeat(340), "ana@example.org").is_err());
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
