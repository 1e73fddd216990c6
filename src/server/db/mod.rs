//! Postgres: the pool, the migrations, and one module of queries per table.

pub mod chunks;
pub mod feedback;
pub mod practice;
pub mod rate_limits;
pub mod recordings;
pub mod shares;
pub mod topics;
pub mod turns;
pub mod users;

use std::time::Duration;

use sqlx::{PgPool, postgres::PgPoolOptions};

use super::config::Config;

/// Connects to the database and applies every pending migration (under Postgres' advisory lock,
/// so several instances starting at once are safe).
pub async fn connect_and_migrate(config: &Config) -> Result<PgPool, sqlx::Error> {
    let pool = PgPoolOptions::new()
        .max_connections(config.database_max_connections.get())
        .acquire_timeout(Duration::from_secs(5))
        .connect(config.database_url())
        .await?;
    MIGRATOR.run(&pool).await?;
    Ok(pool)
}

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A row that the schema allows but the domain does not: a bug or a bad manual edit.
#[derive(Debug, thiserror::Error)]
#[error("row in `{table}` is not valid: {reason}")]
pub struct CorruptRow {
    pub table: &'static str,
    pub reason: String,
}

/// What a query fails with: the database, or a row the domain does not allow.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Corrupt(#[from] CorruptRow),
}

impl From<Error> for crate::error::AppError {
    fn from(error: Error) -> Self {
        match error {
            Error::Database(error) => error.into(),
            Error::Corrupt(error) => error.into(),
        }
    }
}

impl From<CorruptRow> for crate::error::AppError {
    fn from(error: CorruptRow) -> Self {
        super::error::internal("database row", &error)
    }
}
