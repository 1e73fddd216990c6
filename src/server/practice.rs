//! Practice-session use cases, called by the server functions in `crate::api::practice`.
//! Logs carry the session's lifecycle (ids, topic, counts), never what was said.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::storage::{ObjectKey, Storage};

use super::{
    auth::CurrentUser,
    db::{CorruptRow, practice, recordings, shares, turns},
    feedback,
    finalize::{self, Finalize},
    owned::{Owned, not_found, owned},
    state::AppState,
};
use crate::{
    domain::{
        call::{CallNote, DropCause},
        feedback::{FeedbackLine, FeedbackStatus},
        practice::{
            HistoryEntry, HistoryPage, PracticeSession, PracticeStatus, Recording, SessionState,
            words_said,
        },
        transcript::{SavedTurn, Speaker, TurnState},
    },
    error::AppError,
};

/// The most turns one session may report: far more than an hour of conversation holds.
pub const MAX_TURNS: u32 = 10_000;

/// The id of a session read from the database.
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
    started_ms: Option<i64>,
) -> Result<PracticeSession, AppError> {
    let key = Uuid::parse_str(client_key.trim())
        .map_err(|_| AppError::invalid("The session key must be a UUID."))?;
    let started_at = match started_ms {
        None => None,
        Some(ms) => Some(started_at(ms, Utc::now())?),
    };
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
    let recording = match finalize::finalize(state, id, Finalize::Final).await {
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
    finalize::finalize(state, id, Finalize::Final).await
}

/// Recovers a session that stopped before everything was saved (its tab closed or crashed): a
/// live one is ended at its last sign of life, and the recording is made for good from every
/// chunk the server has. The browser calls this after sending what it still held; the learner
/// calls it from history when the rest is nowhere else.
#[tracing::instrument(skip_all, fields(user_id = %user.id, session_id = raw_id))]
pub async fn recover(
    state: &AppState,
    user: &CurrentUser,
    raw_id: &str,
) -> Result<PracticeSession, AppError> {
    let Owned { id, session } = owned(&state.db, user, raw_id).await?;
    let was_provisional = recordings::find(&state.db, id)
        .await?
        .is_some_and(|recording| recording.is_provisional());
    let recording = finalize::finalize(state, id, Finalize::Final).await?;
    if session.status == PracticeStatus::Live && end_unattended(state, &session, &recording).await?
    {
        tracing::info!("practice session ended by recovery");
    } else {
        // Ended already (by the server's sweep, or from history on another device): the turns
        // the browser held came in since, so count again, and make the feedback again from
        // what is now there.
        let (turn_count, used) = counts(state, &session).await?;
        state.feedback.ready().await?;
        let mut tx = state.db.begin().await?;
        let changed = practice::recount(&mut tx, id, turn_count, &used).await?;
        if changed || was_provisional {
            feedback::request_in(&state.feedback, &mut tx, id).await?;
        }
        tx.commit().await?;
    }
    tracing::info!("practice session recovered");
    get(state, user, raw_id).await
}

/// Ends a live session nobody attends, counting its saved turns and the topic's words the
/// learner said in them, no later than its recording ends, and asks for its feedback in the same
/// transaction. False when it was no longer live.
async fn end_unattended(
    state: &AppState,
    session: &PracticeSession,
    recording: &Recording,
) -> Result<bool, AppError> {
    let recorded_ms = match recording {
        Recording::Ready { duration_ms, .. } => i64::try_from(*duration_ms).ok(),
        Recording::Failed { .. } => None,
    };
    let (turn_count, used) = counts(state, session).await?;
    let id = session_id(&session.id)?;
    state.feedback.ready().await?;
    let mut tx = state.db.begin().await?;
    let ended = practice::end_unattended(&mut tx, id, turn_count, &used, recorded_ms).await?;
    if ended {
        feedback::request_in(&state.feedback, &mut tx, id).await?;
    }
    tx.commit().await?;
    Ok(ended)
}

/// The session's saved turns and the topic's words the learner said in them.
async fn counts(
    state: &AppState,
    session: &PracticeSession,
) -> Result<(i32, Vec<String>), AppError> {
    let saved = turns::list(&state.db, session_id(&session.id)?).await?;
    let said = saved
        .iter()
        .filter(|turn| turn.speaker == Speaker::Learner && turn.state == TurnState::Final)
        .map(|turn| turn.text.as_str());
    let vocabulary = &session.topic.vocabulary;
    let used: Vec<String> = vocabulary
        .iter()
        .zip(words_said(vocabulary, said))
        .filter(|(_, used)| *used)
        .map(|(word, _)| word.clone())
        .collect();
    Ok((i32::try_from(saved.len()).unwrap_or(i32::MAX), used))
}

/// Sessions on one page of history.
pub const HISTORY_PAGE: usize = 20;

/// A page of the learner's sessions, newest first, continuing after `after` (a page's `next`).
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn history(
    state: &AppState,
    user: &CurrentUser,
    after: Option<&str>,
) -> Result<HistoryPage, AppError> {
    let pool = &state.db;
    let quiet_secs = i64::from(state.config.practice_quiet_secs.get());
    let cursor = match after.map(str::trim).filter(|raw| !raw.is_empty()) {
        None => None,
        Some(raw) => Some(parse_cursor(raw).ok_or_else(|| {
            AppError::invalid("That page of history does not exist. Start from the first page.")
        })?),
    };
    let rows = practice::history(pool, user.id, cursor, HISTORY_PAGE as i64 + 1).await?;
    let more = rows.len() > HISTORY_PAGE;
    let mut entries = Vec::with_capacity(HISTORY_PAGE);
    let mut next = None;
    for row in rows.into_iter().take(HISTORY_PAGE) {
        let status = PracticeStatus::parse(&row.status).ok_or_else(|| CorruptRow {
            table: "practice_sessions",
            reason: format!("status `{}`", row.status),
        })?;
        let recording = row
            .recording_status
            .as_deref()
            .map(|status| (status == "ready", row.provisional.unwrap_or(false)));
        next = more.then(|| format!("{}.{}", row.started_micros, row.id));
        entries.push(HistoryEntry {
            id: row.id.to_string(),
            topic_slug: row.slug,
            topic_title: row.title,
            started_at: row.started_at,
            duration_secs: row
                .ended_at
                .map(|end| u64::try_from((end - row.started_at).num_seconds()).unwrap_or(0)),
            turn_count: u32::try_from(row.turn_count).unwrap_or(0),
            state: SessionState::of(status, recording, row.idle_secs, quiet_secs),
            feedback: match row
                .feedback_status
                .as_deref()
                .and_then(FeedbackStatus::parse)
            {
                None => None,
                Some(FeedbackStatus::Preparing) => Some(FeedbackLine::Preparing),
                Some(FeedbackStatus::Failed) => Some(FeedbackLine::Failed),
                Some(FeedbackStatus::Ready) => row.feedback_headline.map(FeedbackLine::Ready),
            },
        });
    }
    Ok(HistoryPage { entries, next })
}

/// `{started-at microseconds}.{id}`, as `history` writes it.
fn parse_cursor(raw: &str) -> Option<(i64, Uuid)> {
    let (micros, id) = raw.split_once('.')?;
    Some((micros.parse().ok()?, Uuid::parse_str(id).ok()?))
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
    let id = owned(pool, user, raw_id).await?.id;
    if let Some(problem) = turn.problem() {
        return Err(AppError::invalid(problem));
    }
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
    for key in keys {
        if let Err(error) = storage.delete(&key).await {
            tracing::warn!(%error, %session, "a stored object of a deleted session not removed");
        }
    }
}

/// How long a live session may show no sign of life before the server ends and finalizes it.
pub const ABANDONED_AFTER_SECS: i64 = 10 * 60;

/// How long a provisional recording waits for the browser that held the rest (7 days).
pub const PROVISIONAL_KEPT_SECS: i64 = 7 * 24 * 3600;

/// Makes the provisional recordings nobody came back for final, from what arrived (their chunks
/// leave storage). A browser that comes back later still sends its turns; its chunks are refused
/// as the recording is complete. Returns how many.
pub async fn finish_provisional(state: &AppState, idle_secs: i64) -> Result<usize, AppError> {
    let mut finished = 0;
    for id in practice::stale_provisional(&state.db, idle_secs).await? {
        match finalize::finalize(state, id, Finalize::Final).await {
            Ok(_) => {
                finished += 1;
                tracing::info!(session_id = %id, "provisional recording made final by the server");
            }
            Err(error) => {
                tracing::warn!(%error, session_id = %id, "provisional recording left for later");
            }
        }
    }
    Ok(finished)
}

/// Ends and finalizes the sessions whose tab died without End, with what arrived. Returns how many.
pub async fn close_abandoned(state: &AppState, idle_secs: i64) -> Result<usize, AppError> {
    let mut closed = 0;
    for id in practice::abandoned(&state.db, idle_secs).await? {
        let Some(owner) = practice::owner(&state.db, id).await? else {
            continue;
        };
        let Some(session) = practice::find(&state.db, owner, id).await? else {
            continue;
        };
        // Provisional: the learner's browser may still hold the last chunks.
        let recording = match finalize::finalize(state, id, Finalize::Provisional).await {
            Ok(recording) => recording,
            Err(error) => {
                tracing::warn!(%error, session_id = %id, "abandoned session's recording left for later");
                continue;
            }
        };
        if end_unattended(state, &session, &recording).await? {
            closed += 1;
            tracing::info!(session_id = %id, "abandoned practice session ended by the server");
        }
    }
    Ok(closed)
}
