//! Queries on `users`.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::Email;

/// `created_at` is read as chrono (sqlx would pick `time`, which the session store enables).
pub struct UserRow {
    pub id: Uuid,
    pub email: String,
    pub password_hash: String,
    pub created_at: DateTime<Utc>,
}

pub async fn find_by_email(pool: &PgPool, email: &Email) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as!(
        UserRow,
        r#"select id, email, password_hash, created_at as "created_at: DateTime<Utc>"
           from users
           where email = $1"#,
        email.as_str()
    )
    .fetch_optional(pool)
    .await
}

pub async fn find_by_id(pool: &PgPool, id: Uuid) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as!(
        UserRow,
        r#"select id, email, password_hash, created_at as "created_at: DateTime<Utc>"
           from users
           where id = $1"#,
        id
    )
    .fetch_optional(pool)
    .await
}

/// Deletes the account; everything that belongs to it goes with it (foreign keys cascade).
/// Returns whether there was an account to delete.
pub async fn delete(pool: &PgPool, id: Uuid) -> Result<bool, sqlx::Error> {
    let result = sqlx::query!("delete from users where id = $1", id)
        .execute(pool)
        .await?;
    Ok(result.rows_affected() > 0)
}

/// Sign-up links mailed to one address in an hour, at most: sign-up cannot flood an inbox.
pub const LINKS_PER_HOUR: i64 = 5;

/// Stores a sign-up link for `email` (its token's SHA-256), valid for `valid_secs`. Returns
/// `false`, storing nothing, when the address already had [`LINKS_PER_HOUR`] links this hour.
pub async fn add_sign_up_link(
    pool: &PgPool,
    email: &Email,
    token_hash: &[u8],
    valid_secs: i64,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query!(
        "insert into sign_up_links (token_hash, email, expires_at)
         select $1, $2, now() + make_interval(secs => $3)
         where (select count(*) from sign_up_links
                where email = $2 and created_at > now() - interval '1 hour') < $4",
        token_hash,
        email.as_str(),
        valid_secs as f64,
        LINKS_PER_HOUR
    )
    .execute(pool)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

/// The address a sign-up link (its token's SHA-256) is for, while it is valid.
pub async fn sign_up_link_email(
    pool: &PgPool,
    token_hash: &[u8],
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar!(
        "select email from sign_up_links where token_hash = $1 and expires_at > now()",
        token_hash
    )
    .fetch_optional(pool)
    .await
}

/// What following a sign-up link gave.
#[derive(Debug, PartialEq, Eq)]
pub enum LinkOutcome {
    /// The account was created.
    Created(Uuid),
    /// The link does not work (unknown, used or expired).
    Expired,
    /// The address got an account meanwhile (through another of its links).
    EmailTaken,
}

/// Follows a sign-up link, once only and while valid: creates the account for its address with
/// `password_hash`, and voids the address's other links.
pub async fn create_from_link(
    pool: &PgPool,
    token_hash: &[u8],
    password_hash: &str,
) -> Result<LinkOutcome, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let Some(email) = sqlx::query_scalar!(
        "delete from sign_up_links where token_hash = $1 and expires_at > now() returning email",
        token_hash
    )
    .fetch_optional(&mut *tx)
    .await?
    else {
        return Ok(LinkOutcome::Expired);
    };
    let id = sqlx::query_scalar!(
        "insert into users (email, password_hash) values ($1, $2)
         on conflict (email) do nothing
         returning id",
        email,
        password_hash
    )
    .fetch_optional(&mut *tx)
    .await?;
    sqlx::query!("delete from sign_up_links where email = $1", email)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(id.map_or(LinkOutcome::EmailTaken, LinkOutcome::Created))
}

/// Records that an "you already have an account" notice is being mailed to `user_id`; `false`
/// when one went out in the last 10 minutes (then none is sent).
pub async fn note_account_notice(pool: &PgPool, user_id: Uuid) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query!(
        "update users set account_notice_sent_at = now()
         where id = $1
           and (account_notice_sent_at is null
                or account_notice_sent_at < now() - interval '10 minutes')",
        user_id
    )
    .execute(pool)
    .await?;
    Ok(updated.rows_affected() == 1)
}

/// Drops sign-up links past their validity; returns how many.
pub async fn forget_expired_links(pool: &PgPool) -> Result<u64, sqlx::Error> {
    let deleted = sqlx::query!("delete from sign_up_links where expires_at <= now()")
        .execute(pool)
        .await?;
    Ok(deleted.rows_affected())
}
