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

/// Records a received chunk. False when the place was taken meanwhile (by a concurrent upload).
pub async fn insert(
    pool: &PgPool,
    session: Uuid,
    sequence: u32,
    size: usize,
    sha256: &[u8],
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query_scalar!(
        r#"insert into recording_chunks (session_id, sequence, size, sha256)
           values ($1, $2, $3, $4)
           on conflict (session_id, sequence) do nothing
           returning sequence"#,
        session,
        i32::try_from(sequence).unwrap_or(i32::MAX),
        i32::try_from(size).unwrap_or(i32::MAX),
        sha256
    )
    .fetch_optional(pool)
    .await?;
    Ok(inserted.is_some())
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
