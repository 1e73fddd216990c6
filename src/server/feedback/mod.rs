//! The coach's feedback on ended sessions: what the feedback job makes (`make`), and the use
//! cases the server functions call (read it, ask for it again, the progress page).
//!
//! Failure here never touches what was saved: the job only reads the session, its turns and its
//! recording, and writes `session_feedback`. Logs carry ids and counts, never what was said.

pub mod pauses;
pub mod review;

use std::{collections::HashSet, sync::Arc};

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use self::review::{LearnerLine, Line, ReviewError, Reviewer};
use super::{
    auth::CurrentUser,
    db::{feedback as db, practice, recordings, turns},
    jobs::FeedbackJobs,
    owned::{Owned, not_found, owned},
    state::AppState,
    storage::{ObjectKey, Storage},
};
use crate::{
    domain::{
        feedback::{BASELINE_SESSIONS, Feedback, FeedbackReport, Progress, ProgressPoint, Review},
        fluency::{self, Context, Padding},
        practice::{PracticeStatus, Recording},
        transcript::{SavedTurn, Speaker, TurnState},
    },
    error::AppError,
};

/// What the feedback job needs.
#[derive(Clone)]
pub struct FeedbackDeps {
    pub db: PgPool,
    pub storage: Storage,
    pub reviewer: Arc<Reviewer>,
    /// Attempts of one request before it is given up.
    pub max_attempts: i32,
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Made {
    /// The feedback is stored.
    Ready,
    /// Nothing to make: the session is gone, a newer request replaced this one, or it is made.
    NothingToDo,
}

/// Why an attempt did not make the feedback (the reason, in words a learner can read).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MakeError {
    /// Worth another attempt: the job retries with backoff.
    #[error("{0}")]
    Retry(String),
    /// Given up: the feedback is marked failed with this reason.
    #[error("{0}")]
    GaveUp(String),
}

const COULD_NOT_PREPARE: &str = "We couldn't prepare your feedback this time.";

/// Asks for the session's feedback (again) inside the caller's transaction: the request and its
/// job are stored together with whatever the transaction does (ending the session), or neither.
pub async fn request_in(
    jobs: &FeedbackJobs,
    conn: &mut PgConnection,
    session: Uuid,
) -> Result<(), AppError> {
    let generation = db::request(&mut *conn, session).await?;
    jobs.enqueue(conn, session, generation).await?;
    tracing::info!(%session, generation, "feedback requested");
    Ok(())
}

/// Makes `generation` of the session's feedback, in the job's transaction `conn`. One maker per
/// session at a time (a lock on the session held by `conn`): a second job for the same session
/// waits, then finds it made.
#[tracing::instrument(skip_all, fields(session_id = %session, generation))]
pub async fn make(
    deps: &FeedbackDeps,
    conn: &mut PgConnection,
    session: Uuid,
    generation: i32,
) -> Result<Made, MakeError> {
    let retry = |error: &dyn std::fmt::Display| {
        tracing::warn!(%error, "feedback attempt failed");
        MakeError::Retry(COULD_NOT_PREPARE.into())
    };
    db::lock(&mut *conn, session).await.map_err(|e| retry(&e))?;
    let Some(attempt) = db::claim(&deps.db, session, generation)
        .await
        .map_err(|e| retry(&e))?
    else {
        return Ok(Made::NothingToDo);
    };
    let outcome = attempt_once(deps, conn, session, generation).await;
    let (reason, report, worth_retrying) = match outcome {
        Ok(made) => {
            tracing::info!(attempt, "feedback made");
            return Ok(made);
        }
        Err(Failure {
            reason,
            report,
            worth_retrying,
        }) => (reason, report, worth_retrying),
    };
    if attempt >= deps.max_attempts || !worth_retrying {
        if let Err(error) = db::fail(&deps.db, session, generation, &reason, report.as_ref()).await
        {
            tracing::warn!(%error, "feedback failure not stored");
        }
        tracing::warn!(attempt, "feedback given up");
        Err(MakeError::GaveUp(reason))
    } else {
        if let Err(error) = db::note_failure(&deps.db, session, generation, &reason).await {
            tracing::warn!(%error, "feedback failure not noted");
        }
        Err(MakeError::Retry(reason))
    }
}

/// Why one attempt failed, with what it measured (kept if this was the last attempt).
struct Failure {
    reason: String,
    report: Option<FeedbackReport>,
    /// False when another attempt would fail the same way (no quota, a refused request).
    worth_retrying: bool,
}

impl Failure {
    fn internal(error: &dyn std::fmt::Display) -> Self {
        tracing::warn!(%error, "feedback attempt failed");
        Failure {
            reason: COULD_NOT_PREPARE.into(),
            report: None,
            worth_retrying: true,
        }
    }
}

async fn attempt_once(
    deps: &FeedbackDeps,
    conn: &mut PgConnection,
    id: Uuid,
    generation: i32,
) -> Result<Made, Failure> {
    let db = &deps.db;
    let internal = |e: &dyn std::fmt::Display| Failure::internal(e);
    let Some(owner) = practice::owner(db, id).await.map_err(|e| internal(&e))? else {
        return Ok(Made::NothingToDo);
    };
    let Some(session) = practice::find(db, owner, id)
        .await
        .map_err(|e| internal(&e))?
    else {
        return Ok(Made::NothingToDo);
    };
    let turns = turns::list(db, id).await.map_err(|e| internal(&e))?;
    let recording = recordings::find(db, id).await.map_err(|e| internal(&e))?;
    let earlier: Option<HashSet<String>> = db::earlier_words(db, owner, session.started_at)
        .await
        .map_err(|e| internal(&e))?
        .map(|words| words.into_iter().collect());
    let pauses = match recording {
        Some(Recording::Ready { .. }) => pauses(&deps.storage, id, &turns).await,
        _ => None,
    };
    let metrics = fluency::measure(
        &turns,
        Padding::STORED,
        &Context {
            vocabulary: &session.topic.vocabulary,
            earlier_words: earlier.as_ref(),
            pauses,
        },
    );
    let spoken = learner_texts(&turns);
    let content = fluency::content_words(spoken.iter().map(|(_, text)| *text));
    let mut model = None;
    let review = if metrics.learner_words == 0 {
        Review::NotEnoughSpeech
    } else {
        match deps.reviewer.review(&session.topic, &lines(&turns)).await {
            Ok(review) => {
                model = Some(deps.reviewer.model().to_owned());
                Review::Done(review)
            }
            Err(ReviewError::Refused(reason)) => Review::Unavailable { reason },
            Err(error) => {
                let worth_retrying = matches!(error, ReviewError::Retry(_));
                let reason = error.to_string();
                return Err(Failure {
                    report: Some(FeedbackReport {
                        metrics,
                        review: Review::Unavailable {
                            reason: reason.clone(),
                        },
                    }),
                    reason,
                    worth_retrying,
                });
            }
        }
    };
    let report = FeedbackReport { metrics, review };
    let saved = db::save_ready(
        &mut *conn,
        id,
        generation,
        &report,
        &content,
        model.as_deref(),
    )
    .await
    .map_err(|e| internal(&e))?;
    Ok(if saved {
        Made::Ready
    } else {
        Made::NothingToDo
    })
}

/// The learner's transcribed turns: (item id, text).
fn learner_texts(turns: &[SavedTurn]) -> Vec<(&str, &str)> {
    turns
        .iter()
        .filter(|t| t.speaker == Speaker::Learner && t.state == TurnState::Final)
        .filter(|t| !t.text.trim().is_empty())
        .map(|t| (t.item_id.as_str(), t.text.as_str()))
        .collect()
}

/// The conversation as the reviewer reads it.
fn lines(turns: &[SavedTurn]) -> Vec<Line> {
    turns
        .iter()
        .filter(|t| t.state != TurnState::TranscriptionFailed && !t.text.trim().is_empty())
        .map(|t| match t.speaker {
            Speaker::Coach => Line::Coach(t.text.clone()),
            Speaker::Learner => Line::Learner(LearnerLine {
                item_id: t.item_id.clone(),
                text: t.text.clone(),
            }),
        })
        .collect()
}

/// Long pauses inside the learner's turns, measured on the stored recording. A recording that
/// cannot be read gives no pause figures (logged), never a failed feedback.
async fn pauses(
    storage: &Storage,
    id: Uuid,
    turns: &[SavedTurn],
) -> Option<crate::domain::feedback::Pauses> {
    let spans = fluency::learner_spans(turns, Padding::STORED);
    let bytes = match storage.get(&ObjectKey::recording(id, "ogg")).await {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return None,
        Err(error) => {
            tracing::warn!(%error, "feedback: recording not read for pauses");
            return None;
        }
    };
    let levels = tokio::task::spawn_blocking(move || pauses::levels(&bytes)).await;
    match levels {
        Ok(Ok(levels)) => Some(fluency::pauses_in(&levels, pauses::FRAME_MS, &spans)),
        Ok(Err(error)) => {
            tracing::warn!(%error, "feedback: recording not decoded for pauses");
            None
        }
        Err(error) => {
            tracing::warn!(%error, "feedback: pause measurement stopped");
            None
        }
    }
}

/// The feedback on the learner's session: `None` while the session goes on (or, for a session
/// from before feedback existed, until the learner asks for it).
#[tracing::instrument(skip_all, fields(user_id = %user.id, session_id = raw_id))]
pub async fn get(
    state: &AppState,
    user: &CurrentUser,
    raw_id: &str,
) -> Result<Option<Feedback>, AppError> {
    let Owned { id, session } = owned(&state.db, user, raw_id).await?;
    let Some(mut feedback) = db::find(&state.db, user.id, id).await? else {
        return Ok(None);
    };
    if feedback.report.is_some() {
        feedback.baseline =
            db::baseline(&state.db, user.id, session.started_at, BASELINE_SESSIONS).await?;
    }
    Ok(Some(feedback))
}

/// Makes the session's feedback again (Try again, or with a new model or a fixed transcript):
/// the same row, a new generation, a new job.
#[tracing::instrument(skip_all, fields(user_id = %user.id, session_id = raw_id))]
pub async fn remake(
    state: &AppState,
    user: &CurrentUser,
    raw_id: &str,
) -> Result<Feedback, AppError> {
    let Owned { id, session } = owned(&state.db, user, raw_id).await?;
    if session.status != PracticeStatus::Ended {
        return Err(AppError::Conflict {
            message: "Feedback comes once the session has ended.".into(),
        });
    }
    state.feedback.ready().await?;
    let mut tx = state.db.begin().await?;
    request_in(&state.feedback, &mut tx, id).await?;
    tx.commit().await?;
    db::find(&state.db, user.id, id)
        .await?
        .ok_or_else(not_found)
}

/// Sessions the progress page shows at most.
pub const PROGRESS_SESSIONS: i64 = 30;

/// The learner's progress: their latest sessions with feedback, oldest first.
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn progress(state: &AppState, user: &CurrentUser) -> Result<Progress, AppError> {
    let rows = db::progress(&state.db, user.id, PROGRESS_SESSIONS).await?;
    let preparing = db::preparing(&state.db, user.id).await?;
    Ok(Progress {
        points: rows
            .into_iter()
            .map(|row| ProgressPoint {
                session_id: row.session_id.to_string(),
                started_at: row.started_at,
                topic_title: row.title,
                pace_wpm: row.pace_wpm.map(f64::from),
                fillers_per_100_words: row.fillers_per_100.map(f64::from),
                learner_share: row.learner_share.map(f64::from),
                distinct_words: row
                    .distinct_words
                    .and_then(|n| u32::try_from(n).ok())
                    .unwrap_or(0),
                level: row.cefr_level,
            })
            .collect(),
        preparing: u32::try_from(preparing).unwrap_or(u32::MAX),
    })
}

/// How long feedback may stay "being prepared" before the server gives it up (its job kept
/// crashing or was lost): the learner is then offered Try again.
pub const STALE_AFTER_SECS: i64 = 15 * 60;
