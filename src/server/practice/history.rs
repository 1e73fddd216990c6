//! The learner's history: their sessions, newest first, a page at a time.

use uuid::Uuid;

use crate::{
    domain::{
        feedback::{FeedbackLine, FeedbackStatus},
        practice::{HistoryEntry, HistoryPage, PracticeStatus, SessionState},
    },
    error::AppError,
    server::{
        auth::CurrentUser,
        db::{CorruptRow, practice},
        state::AppState,
    },
};

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
