//! `GET /api/feedback/get`, `POST /api/feedback/remake` and `GET /api/feedback/progress`: the
//! coach's feedback on a signed-in learner's sessions. Someone else's session is `NotFound`.

use leptos::{prelude::*, server_fn::codec::GetUrl};

use crate::{
    domain::feedback::{Feedback, Progress},
    error::AppError,
};

/// The session's feedback: `None` while the session goes on (or for a session from before
/// feedback existed, until asked for).
#[server(endpoint = "feedback/get", input = GetUrl)]
pub async fn get_feedback(session: String) -> Result<Option<Feedback>, AppError> {
    use crate::server::{auth, feedback, state::AppState};
    let user = auth::require_user().await?;
    feedback::get(&AppState::current()?, &user, &session).await
}

/// Prepares the session's feedback again (Try again; or after a new model or a fixed
/// transcript). The same feedback is replaced, never duplicated.
#[server(endpoint = "feedback/remake")]
pub async fn remake_feedback(session: String) -> Result<Feedback, AppError> {
    use crate::server::{auth, feedback, state::AppState};
    let user = auth::require_user().await?;
    feedback::remake(&AppState::current()?, &user, &session).await
}

/// The learner's progress across their latest sessions with feedback.
#[server(endpoint = "feedback/progress", input = GetUrl)]
pub async fn get_progress() -> Result<Progress, AppError> {
    use crate::server::{auth, feedback, state::AppState};
    let user = auth::require_user().await?;
    feedback::progress(&AppState::current()?, &user).await
}
