//! Sign-up links: the single-use links sign-up mails, and the messages that carry them. Only a
//! token's SHA-256 is stored; the token itself exists only in the mail.

use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{
    domain::{Email, account::encode_query_value, account::safe_return_path},
    error::AppError,
    server::{db::users, error::internal, state::AppState},
};

/// How long a sign-up link works.
pub const VALID_SECS: i64 = 24 * 3600;

/// What a link that does not (or no longer) work says.
pub fn expired() -> AppError {
    AppError::invalid(
        "This link has expired or was already used. Sign up again with the same email to get a \
         new one, or sign in if you have finished already.",
    )
}

/// A fresh token: 64 hex digits from two random UUIDs (244 random bits).
fn new_token() -> String {
    format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple())
}

/// The stored form of a token, or `None` for anything that cannot be one (so bad input never
/// reaches the database).
pub fn token_hash(token: &str) -> Option<[u8; 32]> {
    let token = token.trim();
    (token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| Sha256::digest(token.to_ascii_lowercase().as_bytes()).into())
}

/// The stored hash of a link's `token` and the address it is for, while the link works;
/// otherwise [`expired`].
pub async fn valid_link(state: &AppState, token: &str) -> Result<([u8; 32], String), AppError> {
    let hash = token_hash(token).ok_or_else(expired)?;
    let email = users::sign_up_link_email(&state.db, &hash)
        .await?
        .ok_or_else(expired)?;
    Ok((hash, email))
}

/// Mails `email` a link to finish signing up, which then sends the learner to `next`. Over the
/// hourly limit nothing is sent (the caller answers as if it were: the inbox already holds
/// working links).
pub async fn send_link(
    state: &AppState,
    email: &Email,
    next: Option<&str>,
) -> Result<(), AppError> {
    let token = new_token();
    let hash = token_hash(&token).expect("a new token is well formed");
    if !users::add_sign_up_link(&state.db, email, &hash, VALID_SECS).await? {
        tracing::info!("sign-up link not sent: hourly limit for the address");
        return Ok(());
    }
    let mut link = format!("{}/confirm-email?token={token}", state.config.public_url);
    let next = safe_return_path(next);
    if next != "/topics" {
        link.push_str(&format!("&next={}", encode_query_value(&next)));
    }
    let text = format!(
        "Hello,\n\n\
         Someone, we hope you, asked to create a Speaking Coach account with this address.\n\n\
         To finish, open this link within 24 hours and choose your password:\n\n\
         {link}\n\n\
         If it wasn't you, ignore this email: no account is made without this step.\n\n\
         Speaking Coach\n"
    );
    state
        .mailer
        .send(email, "Confirm your email for Speaking Coach", &text)
        .await
        .map_err(|error| internal("sign-up mail", &error))?;
    tracing::info!("sign-up link sent");
    Ok(())
}

/// Mails the owner of an account that someone tried to sign up with their address
/// (at most one such notice per 10 minutes).
pub async fn send_account_notice(
    state: &AppState,
    user_id: Uuid,
    email: &Email,
) -> Result<(), AppError> {
    if !users::note_account_notice(&state.db, user_id).await? {
        return Ok(());
    }
    let text = format!(
        "Hello,\n\n\
         Someone, we hope you, tried to create a Speaking Coach account with this address, \
         but you already have one.\n\n\
         Sign in here:\n\n\
         {}/sign-in\n\n\
         If it wasn't you, ignore this email: nothing in your account has changed.\n\n\
         Speaking Coach\n",
        state.config.public_url
    );
    state
        .mailer
        .send(email, "You already have a Speaking Coach account", &text)
        .await
        .map_err(|error| internal("account notice mail", &error))?;
    tracing::info!(%user_id, "account notice sent");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_well_formed_token_has_a_hash() {
        let token = new_token();
        assert_eq!(token.len(), 64);
        assert_eq!(token_hash(&token), token_hash(&token.to_uppercase()));
        assert_ne!(token_hash(&token), token_hash(&new_token()));
        for bad in ["", "abc", &"g".repeat(64), &"a".repeat(65), "\0"] {
            assert_eq!(token_hash(bad), None, "{bad:?}");
        }
    }
}
