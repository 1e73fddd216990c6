//! Sessions that stopped before everything was saved: recovered when the browser or the learner
//! asks, or ended and finalized by the server's sweeps when nobody comes back.

use uuid::Uuid;

use super::get;
use crate::{
    domain::{
        practice::{PracticeSession, PracticeStatus, Recording, words_said},
        transcript::{Speaker, TurnState},
    },
    error::AppError,
    server::{
        auth::CurrentUser,
        db::{practice, recordings, turns},
        feedback,
        finalize::{self, Finalize},
        owned::{Owned, not_found, owned},
        state::AppState,
    },
};

/// The id of a session read from the database.
fn session_id(raw: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(raw.trim()).map_err(|_| not_found())
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
    let recording = finalize::finalize_waiting(state, id, Finalize::Final).await?;
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
    // Never past what a session may report, whatever was saved.
    let count = saved.len().min(super::MAX_TURNS as usize);
    Ok((i32::try_from(count).unwrap_or(i32::MAX), used))
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
        let session = match practice::owner(&state.db, id).await {
            Ok(Some(owner)) => practice::find(&state.db, owner, id).await,
            Ok(None) => Ok(None),
            Err(error) => Err(error.into()),
        };
        let session = match session {
            Ok(Some(session)) => session,
            Ok(None) => continue,
            Err(error) => {
                tracing::warn!(%error, session_id = %id, "abandoned session not read; left for later");
                continue;
            }
        };
        // Provisional: the learner's browser may still hold the last chunks.
        let recording = match finalize::finalize(state, id, Finalize::Provisional).await {
            Ok(recording) => recording,
            Err(error) => {
                tracing::warn!(%error, session_id = %id, "abandoned session's recording left for later");
                continue;
            }
        };
        match end_unattended(state, &session, &recording).await {
            Ok(true) => {
                closed += 1;
                tracing::info!(session_id = %id, "abandoned practice session ended by the server");
            }
            Ok(false) => {}
            // One session that cannot be ended does not stop the others.
            Err(error) => {
                tracing::warn!(%error, session_id = %id, "abandoned session left for later");
            }
        }
    }
    Ok(closed)
}
