//! Queries on `recordings`: a session's finished recording, or why it could not be made.

use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::practice::Recording;

/// The recording of a session, if it was finalized.
pub async fn find(pool: &PgPool, session: Uuid) -> Result<Option<Recording>, sqlx::Error> {
    let row = sqlx::query!(
        r#"select status, mime_type, size_bytes, duration_ms, missing_chunks, failure, provisional
           from recordings where session_id = $1"#,
        session
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|row| {
        let missing_chunks = row.missing_chunks.iter().map(|n| *n as u32).collect();
        match (
            row.status.as_str(),
            row.mime_type,
            row.size_bytes,
            row.duration_ms,
        ) {
            ("ready", Some(mime_type), Some(size), Some(duration)) => Recording::Ready {
                mime_type,
                size_bytes: u64::try_from(size).unwrap_or(0),
                duration_ms: u64::try_from(duration).unwrap_or(0),
                missing_chunks,
                provisional: row.provisional,
            },
            _ => Recording::Failed {
                reason: row.failure.unwrap_or_default(),
                missing_chunks,
                provisional: row.provisional,
            },
        }
    }))
}

/// What claiming a session's finalization came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// This caller holds it, under this token.
    Taken(Uuid),
    /// Another finalization holds it (in this process or another).
    Busy,
    NoSession,
}

/// Claims the session's finalization for `secs` seconds (a lease on its row naming its holder:
/// no connection or transaction is held while the work runs).
pub async fn claim(pool: &PgPool, session: Uuid, secs: i64) -> Result<Claim, sqlx::Error> {
    let holder = Uuid::new_v4();
    let (exists, taken): (bool, bool) = sqlx::query_as(
        r#"with taken as (
               update practice_sessions
               set finalizing_until = now() + make_interval(secs => $2), finalizing_by = $3
               where id = $1 and (finalizing_until is null or finalizing_until < now())
               returning id
           )
           select exists (select 1 from practice_sessions where id = $1),
                  exists (select 1 from taken)"#,
    )
    .bind(session)
    .bind(secs as f64)
    .bind(holder)
    .fetch_one(pool)
    .await?;
    Ok(match (exists, taken) {
        (_, true) => Claim::Taken(holder),
        (true, false) => Claim::Busy,
        (false, false) => Claim::NoSession,
    })
}

/// Extends the holder's lease by `secs` from now; false when it is no longer theirs (it expired
/// and another finalization took it).
pub async fn renew(
    pool: &PgPool,
    session: Uuid,
    holder: Uuid,
    secs: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "update practice_sessions set finalizing_until = now() + make_interval(secs => $3)
         where id = $1 and finalizing_by = $2",
    )
    .bind(session)
    .bind(holder)
    .bind(secs as f64)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Gives the claim back, if the holder still has it.
pub async fn release(pool: &PgPool, session: Uuid, holder: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update practice_sessions set finalizing_until = null, finalizing_by = null
         where id = $1 and finalizing_by = $2",
    )
    .bind(session)
    .bind(holder)
    .execute(pool)
    .await?;
    Ok(())
}

/// Stores the outcome, replacing a provisional one; a final outcome is never replaced.
pub async fn save(pool: &PgPool, session: Uuid, recording: &Recording) -> Result<(), sqlx::Error> {
    let (status, mime, size, duration, missing, failure) = match recording {
        Recording::Ready {
            mime_type,
            size_bytes,
            duration_ms,
            missing_chunks,
            ..
        } => (
            "ready",
            Some(mime_type.as_str()),
            i64::try_from(*size_bytes).ok(),
            i32::try_from(*duration_ms).ok(),
            missing_chunks,
            None,
        ),
        Recording::Failed {
            reason,
            missing_chunks,
            ..
        } => (
            "failed",
            None,
            None,
            None,
            missing_chunks,
            Some(reason.as_str()),
        ),
    };
    let missing: Vec<i32> = missing.iter().map(|n| *n as i32).collect();
    sqlx::query!(
        r#"insert into recordings
               (session_id, status, mime_type, size_bytes, duration_ms, missing_chunks, failure,
                provisional)
           values ($1, $2, $3, $4, $5, $6, $7, $8)
           on conflict (session_id) do update
           set status = excluded.status, mime_type = excluded.mime_type,
               size_bytes = excluded.size_bytes, duration_ms = excluded.duration_ms,
               missing_chunks = excluded.missing_chunks, failure = excluded.failure,
               provisional = excluded.provisional, finalized_at = now()
           where recordings.provisional"#,
        session,
        status,
        mime,
        size,
        duration,
        &missing,
        failure,
        recording.is_provisional()
    )
    .execute(pool)
    .await?;
    Ok(())
}
