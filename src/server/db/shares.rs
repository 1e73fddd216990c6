//! Queries on `practice_shares`: the links learners chose to make for their sessions.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

/// The session's link, made now if it has none (with its feedback shown or not, as the learner
/// chose). Only for the owner's session (else `None`).
pub async fn create(
    pool: &PgPool,
    user_id: Uuid,
    session: Uuid,
    token: &str,
    include_feedback: bool,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query!(
        r#"insert into practice_shares (session_id, token, include_feedback)
           select id, $3, $4 from practice_sessions where id = $1 and user_id = $2
           on conflict (session_id) do nothing"#,
        session,
        user_id,
        token,
        include_feedback
    )
    .execute(pool)
    .await?;
    token_of(pool, user_id, session).await
}

/// The owner's link for the session, if shared.
pub async fn token_of(
    pool: &PgPool,
    user_id: Uuid,
    session: Uuid,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select sh.token from practice_shares sh
           join practice_sessions s on s.id = sh.session_id
           where sh.session_id = $1 and s.user_id = $2"#,
        session,
        user_id
    )
    .fetch_optional(pool)
    .await
}

/// Whether the owner's link shows the session's feedback; `None` when it is not shared.
pub async fn includes_feedback(
    pool: &PgPool,
    user_id: Uuid,
    session: Uuid,
) -> Result<Option<bool>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select sh.include_feedback from practice_shares sh
           join practice_sessions s on s.id = sh.session_id
           where sh.session_id = $1 and s.user_id = $2"#,
        session,
        user_id
    )
    .fetch_optional(pool)
    .await
}

/// Shows or hides the feedback on the owner's link. False when the session is not shared.
pub async fn set_feedback(
    pool: &PgPool,
    user_id: Uuid,
    session: Uuid,
    include: bool,
) -> Result<bool, sqlx::Error> {
    let changed = sqlx::query!(
        r#"update practice_shares sh set include_feedback = $3
           from practice_sessions s
           where sh.session_id = s.id and s.id = $1 and s.user_id = $2"#,
        session,
        user_id,
        include
    )
    .execute(pool)
    .await?;
    Ok(changed.rows_affected() == 1)
}

/// Stops sharing the owner's session. True when a link was removed.
pub async fn revoke(pool: &PgPool, user_id: Uuid, session: Uuid) -> Result<bool, sqlx::Error> {
    let removed = sqlx::query!(
        r#"delete from practice_shares sh using practice_sessions s
           where sh.session_id = s.id and s.id = $1 and s.user_id = $2"#,
        session,
        user_id
    )
    .execute(pool)
    .await?;
    Ok(removed.rows_affected() == 1)
}

/// What a shared link opens: the session and its owner (to read it as them).
pub struct Shared {
    pub session: Uuid,
    pub owner: Uuid,
    pub created_at: DateTime<Utc>,
    pub include_feedback: bool,
}

pub async fn find(pool: &PgPool, token: &str) -> Result<Option<Shared>, sqlx::Error> {
    sqlx::query_as!(
        Shared,
        r#"select sh.session_id as session, s.user_id as owner,
                  sh.created_at as "created_at: DateTime<Utc>", sh.include_feedback
           from practice_shares sh join practice_sessions s on s.id = sh.session_id
           where sh.token = $1"#,
        token
    )
    .fetch_optional(pool)
    .await
}
