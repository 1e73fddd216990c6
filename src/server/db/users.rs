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

#[derive(Debug, thiserror::Error)]
pub enum InsertUserError {
    #[error("an account with this email exists")]
    EmailTaken,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

pub async fn insert(
    pool: &PgPool,
    email: &Email,
    password_hash: &str,
) -> Result<Uuid, InsertUserError> {
    sqlx::query_scalar!(
        "insert into users (email, password_hash) values ($1, $2) returning id",
        email.as_str(),
        password_hash
    )
    .fetch_one(pool)
    .await
    .map_err(|error| match &error {
        sqlx::Error::Database(db) if db.constraint() == Some("users_email_key") => {
            InsertUserError::EmailTaken
        }
        _ => InsertUserError::Database(error),
    })
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
