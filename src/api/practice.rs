//! `POST /api/practice/start`, `POST /api/practice/end` (JSON) and `GET /api/practice/get`: a
//! signed-in learner's practice sessions. Someone else's session is `NotFound` (404), exactly
//! like a session that does not exist.

use leptos::{
    prelude::*,
    server_fn::codec::{GetUrl, Json},
};

use crate::{
    domain::{
        call::{CallNote, DropCause},
        practice::{HistoryPage, PracticeSession, Recording, SharedSession},
        transcript::SavedTurn,
    },
    error::AppError,
};

/// Starts a practice session about `topic` once the call is up. `key` is a UUID the browser
/// makes for each attempt: the same key again returns the same session. `started_ms` (ms since
/// the epoch) is when the call came up, for a session made late by recovery; by default, now.
#[server(endpoint = "practice/start")]
pub async fn start_practice(
    topic: String,
    key: String,
    started_ms: Option<i64>,
) -> Result<PracticeSession, AppError> {
    use crate::server::{auth, practice, state::AppState};
    let user = auth::require_user().await?;
    let state = AppState::current()?;
    practice::start(
        &state.db,
        &state.config.limits,
        &user,
        &topic,
        &key,
        started_ms,
    )
    .await
}

/// Ends a practice session with what the call counted: settled turns and the topic's words the
/// learner used. Idempotent: the first end is kept.
#[server(endpoint = "practice/end", input = Json)]
pub async fn end_practice(
    session: String,
    turns: u32,
    words_used: Vec<String>,
) -> Result<PracticeSession, AppError> {
    use crate::server::{auth, practice, state::AppState};
    let user = auth::require_user().await?;
    practice::end_and_finalize(&AppState::current()?, &user, &session, turns, words_used).await
}

/// Assembles the uploaded chunks into the session's recording (recovery: End does this too).
/// Idempotent.
#[server(endpoint = "practice/finalize")]
pub async fn finalize_recording(session: String) -> Result<Recording, AppError> {
    use crate::server::{auth, practice, state::AppState};
    let user = auth::require_user().await?;
    practice::finalize_recording(&AppState::current()?, &user, &session).await
}

/// Logs a moment in the life of the session's call (dropped, reconnected, ...) with the server's
/// session lifecycle events. Never content.
#[server(endpoint = "practice/note", input = Json)]
pub async fn note_call(
    session: String,
    note: CallNote,
    cause: Option<DropCause>,
    attempt: u32,
) -> Result<(), AppError> {
    use crate::server::{auth, practice, state::AppState};
    let user = auth::require_user().await?;
    practice::note_call(
        &AppState::current()?.db,
        &user,
        &session,
        note,
        cause,
        attempt,
    )
    .await
}

#[server(endpoint = "practice/get", input = GetUrl)]
pub async fn get_practice(session: String) -> Result<PracticeSession, AppError> {
    use crate::server::{auth, practice, state::AppState};
    let user = auth::require_user().await?;
    practice::get(&AppState::current()?, &user, &session).await
}

/// Saves one settled turn during the call (idempotent; a final turn is never overwritten).
/// Answers whether anything changed.
#[server(endpoint = "practice/turn", input = Json)]
pub async fn save_turn(session: String, turn: SavedTurn) -> Result<bool, AppError> {
    use crate::server::{auth, practice, state::AppState};
    let user = auth::require_user().await?;
    practice::save_turn(&AppState::current()?, &user, &session, &turn).await
}

/// The session's saved turns, in spoken order.
#[server(endpoint = "practice/turns", input = GetUrl)]
pub async fn practice_turns(session: String) -> Result<Vec<SavedTurn>, AppError> {
    use crate::server::{auth, practice, state::AppState};
    let user = auth::require_user().await?;
    practice::turns(&AppState::current()?.db, &user, &session).await
}

/// Recovers a session that stopped before everything was saved: ends it if it was left live and
/// makes its recording for good from every chunk the server has. Idempotent.
#[server(endpoint = "practice/recover")]
pub async fn recover_practice(session: String) -> Result<PracticeSession, AppError> {
    use crate::server::{auth, practice, state::AppState};
    let user = auth::require_user().await?;
    practice::recover(&AppState::current()?, &user, &session).await
}

/// A page of the learner's sessions, newest first. `after` is the previous page's `next`.
#[server(endpoint = "practice/history", input = GetUrl)]
pub async fn practice_history(after: Option<String>) -> Result<HistoryPage, AppError> {
    use crate::server::{auth, practice, state::AppState};
    let user = auth::require_user().await?;
    practice::history(&AppState::current()?, &user, after.as_deref()).await
}

/// Deletes one of the learner's sessions for good (rows, transcript, recording and chunks), then
/// goes to history. Someone else's, or one already deleted, is `NotFound`.
#[server(endpoint = "practice/delete")]
pub async fn delete_practice(session: String) -> Result<(), AppError> {
    use crate::server::{auth, practice, state::AppState};
    let user = auth::require_user().await?;
    practice::delete(&AppState::current()?, &user, &session).await?;
    leptos_axum::redirect("/history");
    Ok(())
}

/// Makes (or returns) a read-only link to the session; answers its URL. Owner only.
/// `include_feedback` (a checkbox: present when ticked) shows the session's feedback on the link.
#[server(endpoint = "practice/share")]
pub async fn share_practice(
    session: String,
    include_feedback: Option<String>,
) -> Result<String, AppError> {
    use crate::server::{auth, sharing, state::AppState};
    let user = auth::require_user().await?;
    let include = include_feedback.is_some_and(|v| v != "false");
    sharing::share(&AppState::current()?, &user, &session, include).await
}

/// Shows (`include` = `true`) or hides the session's feedback on its share link. Owner only.
#[server(endpoint = "practice/share-feedback")]
pub async fn share_feedback(session: String, include: String) -> Result<(), AppError> {
    use crate::server::{auth, sharing, state::AppState};
    let user = auth::require_user().await?;
    let include = match include.trim() {
        "true" => true,
        "false" => false,
        _ => return Err(AppError::invalid("`include` must be true or false.")),
    };
    sharing::share_feedback(&AppState::current()?, &user, &session, include).await
}

/// Revokes the session's link: it stops working at once. Owner only.
#[server(endpoint = "practice/unshare")]
pub async fn unshare_practice(session: String) -> Result<(), AppError> {
    use crate::server::{auth, sharing, state::AppState};
    let user = auth::require_user().await?;
    sharing::unshare(&AppState::current()?, &user, &session).await
}

/// What a share link shows, for anyone holding it (no account needed).
#[server(endpoint = "shared/get", input = GetUrl)]
pub async fn get_shared(token: String) -> Result<SharedSession, AppError> {
    use crate::server::{sharing, state::AppState};
    sharing::shared(&AppState::current()?, &token).await
}
