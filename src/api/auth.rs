//! Accounts: sign up (a mailed link, then a password), sign in, sign out, the current account,
//! deleting it.
//!
//! The forms post here directly, so they work without JavaScript: on success the server redirects
//! (to `next`, a path on this site); on failure the framework sends the browser back to the form
//! with the error, which the form shows.

use leptos::{prelude::*, server_fn::codec::GetUrl};

use crate::{domain::account::Account, error::AppError};

#[server(endpoint = "auth/sign-up")]
pub async fn sign_up(email: String, next: Option<String>) -> Result<(), AppError> {
    use crate::server::{auth, state::AppState};
    let state = AppState::current()?;
    auth::sign_up(&state, auth::request_ip(), &email, next.as_deref()).await?;
    leptos_axum::redirect("/check-email");
    Ok(())
}

/// Finishes signing up through the link mailed to the address (`token`): creates the account with
/// the password chosen on the link's page, signs the learner in and sends them on to `next`.
#[server(endpoint = "auth/finish-sign-up")]
pub async fn finish_sign_up(
    token: String,
    password: String,
    next: Option<String>,
) -> Result<(), AppError> {
    use crate::server::{auth, state::AppState};
    let state = AppState::current()?;
    let user = auth::finish_sign_up(&state, auth::request_ip(), &token, password).await?;
    auth::enter(&user, next.as_deref()).await
}

/// The address a sign-up link is for (its page shows it), while the link works.
#[server(endpoint = "auth/sign-up-link", input = GetUrl)]
pub async fn sign_up_link_email(token: String) -> Result<String, AppError> {
    use crate::server::{auth, state::AppState};
    let state = AppState::current()?;
    auth::sign_up_link_email(&state, &token).await
}

/// Whether mail stays on this machine (development): then "check your inbox" links to it.
#[server(endpoint = "auth/local-mailbox", input = GetUrl)]
pub async fn local_mailbox() -> Result<bool, AppError> {
    use crate::server::state::AppState;
    Ok(AppState::current()?.mailer.directory().is_some())
}

#[server(endpoint = "auth/sign-in")]
pub async fn sign_in(
    email: String,
    password: String,
    next: Option<String>,
) -> Result<(), AppError> {
    use crate::server::{auth, state::AppState};
    let state = AppState::current()?;
    let user = auth::sign_in(&state, auth::request_ip(), &email, password).await?;
    auth::enter(&user, next.as_deref()).await
}

#[server(endpoint = "auth/sign-out")]
pub async fn sign_out() -> Result<(), AppError> {
    use crate::server::auth;
    auth::end_session(&auth::request_session()?).await?;
    tracing::info!("signed out");
    leptos_axum::redirect("/");
    Ok(())
}

/// The signed-in learner's account, or `None` for a visitor.
#[server(endpoint = "auth/me", input = GetUrl)]
pub async fn current_account() -> Result<Option<Account>, AppError> {
    use crate::server::{auth, state::AppState};
    let state = AppState::current()?;
    let user = auth::user_of(&state, &auth::request_session()?).await?;
    Ok(user.map(|user| user.account()))
}

/// The signed-in learner's account with what they used of their limits; `Unauthorized` (401)
/// for a visitor.
#[server(endpoint = "account", input = GetUrl)]
pub async fn my_account() -> Result<Account, AppError> {
    use crate::server::{auth, limits, state::AppState};
    let user = auth::require_user().await?;
    let state = AppState::current()?;
    let mut account = user.account();
    account.usage = Some(limits::usage(&state.db, &state.config.limits, user.id).await?);
    Ok(account)
}

/// Deletes the account and everything in it. `confirm` must be `"delete"` (the checkbox).
#[server(endpoint = "account/delete")]
pub async fn delete_account(confirm: Option<String>) -> Result<(), AppError> {
    use crate::server::{account, auth, state::AppState};
    let user = auth::require_user().await?;
    if confirm.as_deref() != Some("delete") {
        return Err(AppError::invalid(
            "Tick the box to confirm that you want to delete your account and everything in it.",
        ));
    }
    let state = AppState::current()?;
    account::delete(&state, &auth::request_session()?, &user).await?;
    leptos_axum::redirect("/account-deleted");
    Ok(())
}
