//! Practice-session use cases, called by the server functions in `crate::api::practice`.
//! Logs carry the session's lifecycle (ids, topic, counts), never what was said.

use sqlx::PgPool;
use uuid::Uuid;

use super::storage::{ObjectKey, Storage};

use super::{
    auth::CurrentUser,
    db::{
        practice::{self, PracticeQueryError},
        recordings,
        turns::{self, TurnQueryError},
    },
    finalize,
    state::AppState,
};
use crate::{
    domain::{practice::PracticeSession, transcript::SavedTurn},
    error::AppError,
};

impl From<TurnQueryError> for AppError {
    fn from(error: TurnQueryError) -> Self {
        match error {
            TurnQueryError::Database(error) => error.into(),
            TurnQueryError::Corrupt(error) => error.into(),
        }
    }
}

impl From<PracticeQueryError> for AppError {
    fn from(error: PracticeQueryError) -> Self {
        match error {
            PracticeQueryError::Database(error) => error.into(),
            PracticeQueryError::Corrupt(error) => error.into(),
        }
    }
}

/// The most turns one session may report: far more than an hour of conversation holds.
pub const MAX_TURNS: u32 = 10_000;

fn not_found() -> AppError {
    AppError::not_found("practice session")
}

/// A session id from a URL or a request: anything that is not a UUID names no session.
fn session_id(raw: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(raw.trim()).map_err(|_| not_found())
}

/// Starts a session about `topic` for `user`. Idempotent per `client_key`: a retried start
/// returns the session the first one made.
#[tracing::instrument(skip_all, fields(user_id = %user.id, topic = topic_slug))]
pub async fn start(
    pool: &PgPool,
    user: &CurrentUser,
    topic_slug: &str,
    client_key: &str,
) -> Result<PracticeSession, AppError> {
    let key = Uuid::parse_str(client_key.trim())
        .map_err(|_| AppError::invalid("The session key must be a UUID."))?;
    let started = practice::start(pool, user.id, topic_slug, key)
        .await?
        .ok_or_else(|| AppError::not_found("topic"))?;
    if started.session.topic.slug.as_str() != topic_slug {
        return Err(AppError::invalid(
            "This session key already started a session about another topic.",
        ));
    }
    if started.created {
        tracing::info!(session_id = %started.session.id, "practice session started");
    }
    Ok(started.session)
}

/// Ends the session with what the call reported: the number of settled turns and the topic's
/// words the learner used (anything else is ignored). Ending twice keeps the first end.
#[tracing::instrument(skip_all, fields(user_id = %user.id, session_id = raw_id))]
pub async fn end(
    pool: &PgPool,
    user: &CurrentUser,
    raw_id: &str,
    turn_count: u32,
    words_used: Vec<String>,
) -> Result<PracticeSession, AppError> {
    let id = session_id(raw_id)?;
    if turn_count > MAX_TURNS {
        return Err(AppError::invalid(format!(
            "A session cannot have more than {MAX_TURNS} turns."
        )));
    }
    let session = practice::find(pool, user.id, id)
        .await?
        .ok_or_else(not_found)?;
    let used: Vec<String> = session
        .topic
        .vocabulary
        .iter()
        .filter(|word| words_used.contains(word))
        .cloned()
        .collect();
    let turns = i32::try_from(turn_count).unwrap_or(i32::MAX);
    let ended = practice::end(pool, user.id, id, turns, &used)
        .await?
        .ok_or_else(not_found)?;
    tracing::info!(
        turns = ended.turn_count,
        words_used = ended.words_used.len(),
        "practice session ended"
    );
    Ok(ended)
}

#[tracing::instrument(skip_all, fields(user_id = %user.id, session_id = raw_id))]
pub async fn get(
    pool: &PgPool,
    user: &CurrentUser,
    raw_id: &str,
) -> Result<PracticeSession, AppError> {
    let id = session_id(raw_id)?;
    let mut session = practice::find(pool, user.id, id)
        .await?
        .ok_or_else(not_found)?;
    session.recording = recordings::find(pool, id).await?;
    Ok(session)
}

/// End, then finalize the recording. A recording that cannot be finalized now (storage down)
/// does not undo the end: the session answers without it and can be finalized later.
pub async fn end_and_finalize(
    state: &AppState,
    user: &CurrentUser,
    raw_id: &str,
    turn_count: u32,
    words_used: Vec<String>,
) -> Result<PracticeSession, AppError> {
    let mut session = end(&state.db, user, raw_id, turn_count, words_used).await?;
    let id = session_id(raw_id)?;
    match finalize::finalize(state, id).await {
        Ok(recording) => session.recording = Some(recording),
        Err(error) => tracing::warn!(%error, session_id = %id, "recording left for later"),
    }
    Ok(session)
}

/// Finalizes the recording of the learner's session (again: the first outcome is kept).
pub async fn finalize_recording(
    state: &AppState,
    user: &CurrentUser,
    raw_id: &str,
) -> Result<crate::domain::practice::Recording, AppError> {
    let id = session_id(raw_id)?;
    practice::find(&state.db, user.id, id)
        .await?
        .ok_or_else(not_found)?;
    finalize::finalize(state, id).await
}

/// Saves one settled turn of the learner's session, during the call. Idempotent; a final turn is
/// never overwritten. True when something changed.
#[tracing::instrument(skip_all, fields(user_id = %user.id, session_id = raw_id))]
pub async fn save_turn(
    pool: &PgPool,
    user: &CurrentUser,
    raw_id: &str,
    turn: &SavedTurn,
) -> Result<bool, AppError> {
    let id = session_id(raw_id)?;
    if let Some(problem) = turn.problem() {
        return Err(AppError::invalid(problem));
    }
    practice::find(pool, user.id, id)
        .await?
        .ok_or_else(not_found)?;
    Ok(turns::upsert(pool, id, turn).await?)
}

/// The session's saved turns, in spoken order.
#[tracing::instrument(skip_all, fields(user_id = %user.id, session_id = raw_id))]
pub async fn turns(
    pool: &PgPool,
    user: &CurrentUser,
    raw_id: &str,
) -> Result<Vec<SavedTurn>, AppError> {
    let id = session_id(raw_id)?;
    practice::find(pool, user.id, id)
        .await?
        .ok_or_else(not_found)?;
    Ok(turns::list(pool, id).await?)
}

/// Removes every stored object of a session (its recording and chunks). Failures are logged and
/// the rest still removed; the caller has already deleted the rows, so nothing refers to them.
pub async fn delete_objects(storage: &Storage, session: Uuid) {
    let keys = match storage.list(&ObjectKey::session_prefix(session)).await {
        Ok(keys) => keys,
        Err(error) => {
            tracing::warn!(%error, %session, "stored objects of a deleted session not listed");
            return;
        }
    };
    for key in keys {
        if let Err(error) = storage.delete(&key).await {
            tracing::warn!(%error, %session, "a stored object of a deleted session not removed");
        }
    }
}

/// How long a live session may show no sign of life before the server ends and finalizes it.
pub const ABANDONED_AFTER_SECS: i64 = 10 * 60;

/// Ends and finalizes the sessions whose tab died without End, with what arrived. Returns how many.
pub async fn close_abandoned(state: &AppState, idle_secs: i64) -> Result<usize, AppError> {
    let mut closed = 0;
    for id in practice::abandoned(&state.db, idle_secs).await? {
        if practice::end_abandoned(&state.db, id).await? {
            closed += 1;
            tracing::info!(session_id = %id, "abandoned practice session ended by the server");
            if let Err(error) = finalize::finalize(state, id).await {
                tracing::warn!(%error, session_id = %id, "abandoned session's recording left for later");
            }
        }
    }
    Ok(closed)
}
