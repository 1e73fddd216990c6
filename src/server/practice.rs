//! Practice-session use cases, called by the server functions in `crate::api::practice`.
//! Logs carry the session's lifecycle (ids, topic, counts), never what was said.

mod history;
mod recovery;

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::storage::{ObjectKey, Storage};

pub use self::{
    history::{HISTORY_PAGE, history},
    recovery::{
        ABANDONED_AFTER_SECS, PROVISIONAL_KEPT_SECS, close_abandoned, finish_provisional, recover,
    },
};
use super::{
    auth::CurrentUser,
    config::Limits,
    db::{practice, recordings, shares, turns},
    feedback,
    finalize::{self, Finalize},
    limits,
    owned::{Owned, not_found, owned},
    state::AppState,
};
use crate::{
    domain::{
        call::{CallNote, DropCause},
        practice::{PracticeSession, Recording, SessionState},
        transcript::SavedTurn,
    },
    error::AppError,
};

/// The most turns one session may report: far more than an hour of conversation holds.
pub const MAX_TURNS: u32 = 10_000;

/// Starts a session about `topic` for `user`. Idempotent per `client_key`: a retried start
/// returns the session the first one made.
#[tracing::instrument(skip_all, fields(user_id = %user.id, topic = topic_slug))]
pub async fn start(
    pool: &PgPool,
    limits: &Limits,
    user: &CurrentUser,
    topic_slug: &str,
    client_key: &str,
    started_ms: Option<i64>,
) -> Result<PracticeSession, AppError> {
    let key = Uuid::parse_str(client_key.trim())
        .map_err(|_| AppError::invalid("The session key must be a UUID."))?;
    let started_at = match started_ms {
        None => None,
        Some(ms) => Some(started_at(ms, Utc::now())?),
    };
    limits::admit_session(pool, limits, user.id, Some(key)).await?;
    let started = practice::start(pool, user.id, topic_slug, key, started_at)
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

fn check_turns(turn_count: u32) -> Result<(), AppError> {
    if turn_count > MAX_TURNS {
        return Err(AppError::invalid(format!(
            "A session cannot have more than {MAX_TURNS} turns."
        )));
    }
    Ok(())
}

/// How long ago a session made late (by recovery) may say it started.
const LATE_START_DAYS: i64 = 30;

/// When a session made late started, as the browser says: not in the future (clock skew is
/// taken as now), not more than `LATE_START_DAYS` ago.
fn started_at(ms: i64, now: DateTime<Utc>) -> Result<DateTime<Utc>, AppError> {
    let earliest = now - chrono::Duration::days(LATE_START_DAYS);
    match DateTime::from_timestamp_millis(ms) {
        Some(at) if at >= earliest => Ok(at.min(now)),
        _ => Err(AppError::invalid(format!(
            "A session can start at most {LATE_START_DAYS} days ago."
        ))),
    }
}

/// Ends the session with what the call reported: the number of settled turns and the topic's
/// words the learner used (anything else is ignored). Ending twice keeps the first end. The end
/// and the request for the session's feedback are one transaction.
#[tracing::instrument(skip_all, fields(user_id = %user.id, session_id = raw_id))]
pub async fn end(
    state: &AppState,
    user: &CurrentUser,
    raw_id: &str,
    turn_count: u32,
    words_used: Vec<String>,
) -> Result<PracticeSession, AppError> {
    let pool = &state.db;
    check_turns(turn_count)?;
    let Owned { id, session } = owned(pool, user, raw_id).await?;
    let used: Vec<String> = session
        .topic
        .vocabulary
        .iter()
        .filter(|word| words_used.contains(word))
        .cloned()
        .collect();
    let turns = i32::try_from(turn_count).unwrap_or(i32::MAX);
    state.feedback.ready().await?;
    let mut tx = pool.begin().await?;
    let ended_now = practice::end(&mut tx, user.id, id, turns, &used)
        .await?
        .ok_or_else(not_found)?;
    if ended_now {
        feedback::request_in(&state.feedback, &mut tx, id).await?;
    }
    tx.commit().await?;
    let ended = practice::find(pool, user.id, id)
        .await?
        .ok_or_else(not_found)?;
    if ended_now {
        tracing::info!(
            turns = ended.turn_count,
            words_used = ended.words_used.len(),
            "practice session ended"
        );
    }
    Ok(ended)
}

/// The learner's session with its recording and where it stands.
#[tracing::instrument(skip_all, fields(user_id = %user.id, session_id = raw_id))]
pub async fn get(
    state: &AppState,
    user: &CurrentUser,
    raw_id: &str,
) -> Result<PracticeSession, AppError> {
    let pool = &state.db;
    let Owned { id, mut session } = owned(pool, user, raw_id).await?;
    session.recording = recordings::find(pool, id).await?;
    let recording = session.recording.as_ref().map(|recording| {
        (
            matches!(recording, Recording::Ready { .. }),
            recording.is_provisional(),
        )
    });
    session.share_url = shares::token_of(pool, user.id, id)
        .await?
        .map(|token| super::sharing::share_url(state, &token));
    session.share_includes_feedback = shares::includes_feedback(pool, user.id, id)
        .await?
        .unwrap_or(false);
    session.state = Some(SessionState::of(
        session.status,
        recording,
        practice::idle_secs(pool, id).await?,
        i64::from(state.config.practice_quiet_secs.get()),
    ));
    Ok(session)
}

/// Finalize the recording, then end. End waits for every chunk to be uploaded, so the recording
/// is made first and the feedback job queued by the end finds it. A recording that cannot be
/// finalized now (storage down) does not stop the end: the session answers without it and can
/// be finalized later.
pub async fn end_and_finalize(
    state: &AppState,
    user: &CurrentUser,
    raw_id: &str,
    turn_count: u32,
    words_used: Vec<String>,
) -> Result<PracticeSession, AppError> {
    check_turns(turn_count)?;
    let id = owned(&state.db, user, raw_id).await?.id;
    let recording = match finalize::finalize_waiting(state, id, Finalize::Final).await {
        Ok(recording) => Some(recording),
        Err(error) => {
            tracing::warn!(%error, session_id = %id, "recording left for later");
            None
        }
    };
    let mut session = end(state, user, raw_id, turn_count, words_used).await?;
    if recording.is_some() {
        session.recording = recording;
    }
    Ok(session)
}

/// Finalizes the recording of the learner's session for good (again: the final outcome is kept).
pub async fn finalize_recording(
    state: &AppState,
    user: &CurrentUser,
    raw_id: &str,
) -> Result<Recording, AppError> {
    let id = owned(&state.db, user, raw_id).await?.id;
    finalize::finalize_waiting(state, id, Finalize::Final).await
}

/// Saves one settled turn of the learner's session, during the call. Idempotent; a final turn is
/// never overwritten. True when something changed.
#[tracing::instrument(skip_all, fields(user_id = %user.id, session_id = raw_id))]
pub async fn save_turn(
    state: &AppState,
    user: &CurrentUser,
    raw_id: &str,
    turn: &SavedTurn,
) -> Result<bool, AppError> {
    let pool = &state.db;
    let id = owned(pool, user, raw_id).await?.id;
    if let Some(problem) = turn.problem() {
        return Err(AppError::invalid(problem));
    }
    limits::admit_turn(pool, &state.config.limits, id, turn).await?;
    Ok(turns::upsert(pool, id, turn).await?)
}

/// The session's saved turns, in spoken order.
#[tracing::instrument(skip_all, fields(user_id = %user.id, session_id = raw_id))]
pub async fn turns(
    pool: &PgPool,
    user: &CurrentUser,
    raw_id: &str,
) -> Result<Vec<SavedTurn>, AppError> {
    let id = owned(pool, user, raw_id).await?.id;
    Ok(turns::list(pool, id).await?)
}

/// Deletes the learner's session for good: its stored objects first (so a storage failure leaves
/// the session whole, to be deleted again), then its rows. Deleting it again is `NotFound`: the
/// outcome is the same.
#[tracing::instrument(skip_all, fields(user_id = %user.id, session_id = raw_id))]
pub async fn delete(state: &AppState, user: &CurrentUser, raw_id: &str) -> Result<(), AppError> {
    let id = owned(&state.db, user, raw_id).await?.id;
    if !practice::mark_deleting(&state.db, user.id, id).await? {
        return Err(not_found());
    }
    for key in state.storage.list(&ObjectKey::session_prefix(id)).await? {
        state.storage.delete(&key).await?;
    }
    if !practice::delete(&state.db, user.id, id).await? {
        return Err(not_found());
    }
    tracing::info!("practice session deleted");
    Ok(())
}

/// Logs a moment in the life of the session's call, for its owner's session only.
#[tracing::instrument(skip_all, fields(user_id = %user.id, session_id = raw_id))]
pub async fn note_call(
    pool: &PgPool,
    user: &CurrentUser,
    raw_id: &str,
    note: CallNote,
    cause: Option<DropCause>,
    attempt: u32,
) -> Result<(), AppError> {
    owned(pool, user, raw_id).await?;
    tracing::info!(?note, ?cause, attempt, "practice call event");
    Ok(())
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
    remove_keys(storage, session, keys).await;
}

/// Removes `keys` (all `session`'s), going on past a failure (logged); answers how many went.
async fn remove_keys(storage: &Storage, session: Uuid, keys: Vec<ObjectKey>) -> usize {
    let mut removed = 0;
    for key in keys {
        match storage.delete(&key).await {
            Ok(()) => removed += 1,
            Err(error) => {
                tracing::warn!(%error, %session, "a stored object of a deleted session not removed");
            }
        }
    }
    removed
}

/// Removes stored objects whose session no longer exists: what a crash, a storage failure during
/// an account's deletion, or an upload racing a delete left behind. Safe at any moment, since a
/// session's row is written before anything can be stored for it and removed only after its
/// objects. Goes on past an object it cannot remove (logged, tried again next sweep). Answers how
/// many objects it removed.
pub async fn remove_orphaned_objects(state: &AppState) -> Result<usize, AppError> {
    let mut by_session: BTreeMap<Uuid, Vec<ObjectKey>> = BTreeMap::new();
    for key in state.storage.list(ObjectKey::SESSIONS).await? {
        if let Some(session) = key.session() {
            by_session.entry(session).or_default().push(key);
        }
    }
    let ids: Vec<Uuid> = by_session.keys().copied().collect();
    let mut existing = HashSet::new();
    for batch in ids.chunks(1000) {
        existing.extend(practice::existing(&state.db, batch).await?);
    }
    let mut removed = 0;
    for (session, keys) in by_session {
        if !existing.contains(&session) {
            removed += remove_keys(&state.storage, session, keys).await;
        }
    }
    if removed > 0 {
        tracing::info!(objects = removed, "orphaned stored objects removed");
    }
    Ok(removed)
}
