//! Queries on `recording_chunks`: the receipts of uploaded recording pieces.

use sqlx::PgPool;
use uuid::Uuid;

/// The hash of the chunk already received at this place, if any.
pub async fn hash_of(
    pool: &PgPool,
    session: Uuid,
    sequence: u32,
) -> Result<Option<Vec<u8>>, sqlx::Error> {
    sqlx::query_scalar!(
        "select sha256 from recording_chunks where session_id = $1 and sequence = $2",
        session,
        i32::try_from(sequence).unwrap_or(i32::MAX)
    )
    .fetch_optional(pool)
    .await
}

/// What recording a received chunk came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    Yes,
    /// The place was taken meanwhile (by a concurrent upload).
    Taken,
    /// The session is gone or being deleted.
    Gone,
}

/// Records a received chunk, unless the session is gone or being deleted.
pub async fn insert(
    pool: &PgPool,
    session: Uuid,
    sequence: u32,
    size: usize,
    sha256: &[u8],
) -> Result<Inserted, sqlx::Error> {
    let (inserted, open): (bool, bool) = sqlx::query_as(
        r#"with open as (
               select id from practice_sessions where id = $1 and not deleting for share
           ),
           inserted as (
               insert into recording_chunks (session_id, sequence, size, sha256)
               select id, $2, $3, $4 from open
               on conflict (session_id, sequence) do nothing
               returning sequence
           )
           select exists (select 1 from inserted), exists (select 1 from open)"#,
    )
    .bind(session)
    .bind(i32::try_from(sequence).unwrap_or(i32::MAX))
    .bind(i32::try_from(size).unwrap_or(i32::MAX))
    .bind(sha256)
    .fetch_one(pool)
    .await?;
    Ok(match (inserted, open) {
        (true, _) => Inserted::Yes,
        (false, true) => Inserted::Taken,
        (false, false) => Inserted::Gone,
    })
}

/// The receipts of a session's chunks, in recording order: (sequence, sha256).
pub async fn list(pool: &PgPool, session: Uuid) -> Result<Vec<(u32, Vec<u8>)>, sqlx::Error> {
    let rows = sqlx::query!(
        "select sequence, sha256 from recording_chunks where session_id = $1 order by sequence",
        session
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| (u32::try_from(row.sequence).unwrap_or(0), row.sha256))
        .collect())
}
