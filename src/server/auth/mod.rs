//! Accounts and sign-in. The session lives in a server-side store (Postgres, through
//! tower-sessions) behind an HttpOnly, SameSite=Lax cookie; the cookie only names it.
//!
//! Server functions get the signed-in learner with [`require_user`]; axum routes with the
//! [`CurrentUser`] extractor. Both answer `Unauthorized` (401) when nobody is signed in.

pub mod confirmation;
pub mod password;
pub mod rate_limit;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::request::Parts,
};
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use tower_sessions::Session;
use uuid::Uuid;

use super::{
    db::users::{self, LinkOutcome, UserRow},
    error::internal,
    state::AppState,
};
use crate::{
    domain::{Email, Password, account::Account},
    error::AppError,
};

/// The session key under which the signed-in user's id is kept.
const USER_ID: &str = "user_id";

/// The learner making the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentUser {
    pub id: Uuid,
    pub email: Email,
    pub created_at: DateTime<Utc>,
}

impl CurrentUser {
    fn from_row(row: UserRow) -> Result<Self, AppError> {
        let email = Email::parse(&row.email).map_err(|error| internal("users row", &error))?;
        Ok(CurrentUser {
            id: row.id,
            email,
            created_at: row.created_at,
        })
    }

    pub fn account(&self) -> Account {
        Account {
            email: self.email.to_string(),
            created_at: self.created_at,
            usage: None,
        }
    }
}

/// What a failed sign-in says, whether the email is unknown or the password wrong.
const NO_MATCH: &str = "That email and password don't match an account. Check them and try again.";

/// Signs up `email`. Whether or not the address has an account, the answer is the same ("check
/// your inbox") after the same work (a lookup and a mail), so sign-up tells nobody which
/// addresses have accounts: a new address gets a link to finish signing up, one with an account a
/// notice that it has one. The account is made when the link is followed ([`finish_sign_up`]),
/// with a password chosen there: only whoever reads the inbox can put a password on an address.
#[tracing::instrument(skip_all)]
pub async fn sign_up(
    state: &AppState,
    ip: IpAddr,
    email: &str,
    next: Option<&str>,
) -> Result<(), AppError> {
    state.auth_limits.check(ip, None).await?;
    let email = Email::parse(email).map_err(|error| AppError::invalid(error.to_string()))?;
    match users::find_by_email(&state.db, &email).await? {
        Some(existing) => confirmation::send_account_notice(state, existing.id, &email).await,
        None => confirmation::send_link(state, &email, next).await,
    }
}

/// Follows a sign-up link: checks the password chosen on its page, creates the account and
/// returns its user, to be signed in. A refused password leaves the link working.
#[tracing::instrument(skip_all)]
pub async fn finish_sign_up(
    state: &AppState,
    ip: IpAddr,
    token: &str,
    password: String,
) -> Result<CurrentUser, AppError> {
    state.auth_limits.check(ip, None).await?;
    let (token_hash, email) = confirmation::valid_link(state, token).await?;
    let password =
        Password::parse(password).map_err(|error| AppError::invalid(error.to_string()))?;
    password::check_strength(password.expose(), &email)
        .map_err(|error| AppError::invalid(error.to_string()))?;
    let hash = password::hash(SecretString::from(password.into_inner()))
        .await
        .map_err(|error| internal("password hash", &error))?;
    match users::create_from_link(&state.db, &token_hash, &hash).await? {
        LinkOutcome::Created(id) => {
            tracing::info!(user_id = %id, "account created");
            let row = users::find_by_id(&state.db, id).await?;
            CurrentUser::from_row(row.ok_or_else(|| AppError::not_found("account"))?)
        }
        LinkOutcome::Expired => Err(confirmation::expired()),
        LinkOutcome::EmailTaken => Err(AppError::invalid(
            "This email has an account already: sign in with it.",
        )),
    }
}

/// The address a sign-up link is for, to show on its page; `confirmation::expired` when it does not work.
pub async fn sign_up_link_email(state: &AppState, token: &str) -> Result<String, AppError> {
    Ok(confirmation::valid_link(state, token).await?.1)
}

/// Checks credentials. Unknown email and wrong password are indistinguishable: same message,
/// same work (a full Argon2 check either way).
#[tracing::instrument(skip_all)]
pub async fn sign_in(
    state: &AppState,
    ip: IpAddr,
    email: &str,
    password: String,
) -> Result<CurrentUser, AppError> {
    let email = Email::parse(email);
    state
        .auth_limits
        .check(ip, email.as_ref().ok().map(Email::as_str))
        .await?;
    let email = email.map_err(|error| AppError::invalid(error.to_string()))?;
    if password.len() > Password::MAX_BYTES {
        return Err(AppError::invalid(NO_MATCH));
    }
    let row = users::find_by_email(&state.db, &email).await?;
    let stored = row.as_ref().map(|row| row.password_hash.clone());
    let matches = password::verify(SecretString::from(password), stored)
        .await
        .map_err(|error| internal("password check", &error))?;
    match row {
        Some(row) if matches => {
            tracing::info!(user_id = %row.id, "signed in");
            CurrentUser::from_row(row)
        }
        _ => {
            tracing::info!("sign-in refused");
            Err(AppError::invalid(NO_MATCH))
        }
    }
}

/// Binds the session to `user` under a fresh session id (no session fixation).
pub async fn start_session(session: &Session, user: &CurrentUser) -> Result<(), AppError> {
    session.cycle_id().await.map_err(session_error)?;
    session
        .insert(USER_ID, user.id)
        .await
        .map_err(session_error)?;
    Ok(())
}

/// For the sign-up and sign-in server functions: starts `user`'s session on the current request
/// and sends the browser on to `next` (a path on this site; otherwise the topics page).
pub async fn enter(user: &CurrentUser, next: Option<&str>) -> Result<(), AppError> {
    start_session(&request_session()?, user).await?;
    leptos_axum::redirect(&crate::domain::account::safe_return_path(next));
    Ok(())
}

/// Deletes the session from the store: the old cookie is worthless from now on.
pub async fn end_session(session: &Session) -> Result<(), AppError> {
    session.flush().await.map_err(session_error)
}

/// The user the session belongs to, if any. A session whose account is gone is ended.
pub async fn user_of(state: &AppState, session: &Session) -> Result<Option<CurrentUser>, AppError> {
    let Some(id) = session.get::<Uuid>(USER_ID).await.map_err(session_error)? else {
        return Ok(None);
    };
    match users::find_by_id(&state.db, id).await? {
        Some(row) => CurrentUser::from_row(row).map(Some),
        None => {
            end_session(session).await?;
            Ok(None)
        }
    }
}

/// The session of the request a server function is answering.
pub fn request_session() -> Result<Session, AppError> {
    leptos::prelude::use_context::<Parts>()
        .and_then(|parts| parts.extensions.get::<Session>().cloned())
        .ok_or_else(|| internal("session", &MissingSessionLayer))
}

/// The client's address: the TCP peer, or, when the peer is one of `TRUSTED_PROXIES`, the
/// address its `X-Forwarded-For` names. Unknown in in-process tests.
pub fn request_ip() -> IpAddr {
    let trusted = AppState::current()
        .map(|state| state.config.trusted_proxies.clone())
        .unwrap_or_default();
    leptos::prelude::use_context::<Parts>()
        .and_then(|parts| {
            let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>()?.0.ip();
            let forwarded = parts
                .headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|value| value.to_str().ok())
                .collect::<Vec<_>>()
                .join(",");
            Some(client_ip(peer, &forwarded, &trusted))
        })
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

/// The client behind a chain of proxies: walking `X-Forwarded-For` from the nearest hop while
/// the hop is a trusted proxy, the first address that is not. A request that does not come from
/// a trusted proxy is from its peer, whatever it claims.
pub fn client_ip(peer: IpAddr, forwarded_for: &str, trusted: &[ipnet::IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut client = peer;
    for hop in forwarded_for.rsplit(',') {
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) => {
                client = ip;
                if !is_trusted(&ip) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    client
}

/// For server functions: the signed-in learner, or `Unauthorized`.
pub async fn require_user() -> Result<CurrentUser, AppError> {
    let state = AppState::current()?;
    user_of(&state, &request_session()?)
        .await?
        .ok_or(AppError::Unauthorized)
}

/// For axum routes: `CurrentUser` as an extractor; rejects with `Unauthorized` (401).
impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let session = parts
            .extensions
            .get::<Session>()
            .cloned()
            .ok_or_else(|| internal("session", &MissingSessionLayer))?;
        user_of(state, &session)
            .await?
            .ok_or(AppError::Unauthorized)
    }
}

fn session_error(error: tower_sessions::session::Error) -> AppError {
    internal("session store", &error)
}

#[derive(Debug, thiserror::Error)]
#[error("the session layer is not installed on this route")]
struct MissingSessionLayer;

#[cfg(test)]
mod tests {
    use super::client_ip;

    #[test]
    fn only_a_trusted_proxy_names_the_client() {
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        let proxy = ip("10.0.0.2");
        let trusted = [ipnet::IpNet::from(proxy), "10.0.0.3/32".parse().unwrap()];
        // Straight from a client: what it claims is ignored.
        assert_eq!(
            client_ip(ip("198.51.100.7"), "1.2.3.4", &trusted),
            ip("198.51.100.7")
        );
        // Through the proxy: the address it saw.
        assert_eq!(
            client_ip(proxy, "198.51.100.7", &trusted),
            ip("198.51.100.7")
        );
        // A client's own forged entry sits left of what the proxies appended.
        assert_eq!(
            client_ip(proxy, "1.2.3.4, 198.51.100.7, 10.0.0.3", &trusted),
            ip("198.51.100.7")
        );
        // Nothing usable: the proxy itself.
        assert_eq!(client_ip(proxy, "", &trusted), proxy);
        assert_eq!(client_ip(proxy, "garbage", &trusted), proxy);
        // Without trusted proxies, nobody is trusted.
        assert_eq!(client_ip(proxy, "198.51.100.7", &[]), proxy);
    }

    #[test]
    fn a_range_trusts_every_proxy_in_it() {
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        let trusted: [ipnet::IpNet; 2] =
            ["10.0.0.0/8".parse().unwrap(), "fd00::/8".parse().unwrap()];
        // Two load balancers in the range, one after the other.
        assert_eq!(
            client_ip(ip("10.1.2.3"), "203.0.113.9, 10.9.9.9", &trusted),
            ip("203.0.113.9")
        );
        assert_eq!(
            client_ip(ip("fd12::1"), "2001:db8::5", &trusted),
            ip("2001:db8::5")
        );
        // Just outside it: not a proxy.
        assert_eq!(
            client_ip(ip("11.0.0.1"), "203.0.113.9", &trusted),
            ip("11.0.0.1")
        );
    }
}
