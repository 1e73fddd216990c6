//! Sharing, an explicit opt-in: the owner makes one link for a session (an unguessable token),
//! anyone with it can play the recording and read the transcript (never the account), and
//! revoking makes the link not found at once.

use uuid::Uuid;

use super::{
    auth::CurrentUser,
    db::{feedback, practice, recordings, shares, turns},
    owned::{not_found, owned},
    state::AppState,
};
use crate::{
    domain::{
        feedback::FeedbackStatus,
        practice::{Recording, SharedSession},
    },
    error::AppError,
};

/// The link's address.
pub fn share_url(state: &AppState, token: &str) -> String {
    format!("{}/shared/{token}", state.config.public_url)
}

/// Makes (or returns) the session's share link, showing the session's feedback only when the
/// learner chose to include it. Owner only.
#[tracing::instrument(skip_all, fields(user_id = %user.id, session_id = raw_id))]
pub async fn share(
    state: &AppState,
    user: &CurrentUser,
    raw_id: &str,
    include_feedback: bool,
) -> Result<String, AppError> {
    let id = owned(&state.db, user, raw_id).await?.id;
    let token = format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
    let token = shares::create(&state.db, user.id, id, &token, include_feedback)
        .await?
        .ok_or_else(not_found)?;
    tracing::info!("practice session shared");
    Ok(share_url(state, &token))
}

/// Shows or hides the session's feedback on its link. Owner only; a session that is not shared
/// is a conflict (make a link first).
#[tracing::instrument(skip_all, fields(user_id = %user.id, session_id = raw_id))]
pub async fn share_feedback(
    state: &AppState,
    user: &CurrentUser,
    raw_id: &str,
    include: bool,
) -> Result<(), AppError> {
    let id = owned(&state.db, user, raw_id).await?.id;
    if !shares::set_feedback(&state.db, user.id, id, include).await? {
        return Err(AppError::Conflict {
            message: "This session is not shared.".into(),
        });
    }
    tracing::info!(include, "shared session's feedback shown or hidden");
    Ok(())
}

/// Revokes the session's link (none is fine). Owner only.
#[tracing::instrument(skip_all, fields(user_id = %user.id, session_id = raw_id))]
pub async fn unshare(state: &AppState, user: &CurrentUser, raw_id: &str) -> Result<(), AppError> {
    let id = owned(&state.db, user, raw_id).await?.id;
    if shares::revoke(&state.db, user.id, id).await? {
        tracing::info!("practice session share revoked");
    }
    Ok(())
}

/// What a share link shows. An unknown or revoked token is not found.
pub async fn shared(state: &AppState, token: &str) -> Result<SharedSession, AppError> {
    let missing = || AppError::not_found("shared session");
    let token = token.trim();
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(missing());
    }
    let found = shares::find(&state.db, token).await?.ok_or_else(missing)?;
    let session = practice::find(&state.db, found.owner, found.session)
        .await?
        .ok_or_else(missing)?;
    let playable = matches!(
        recordings::find(&state.db, found.session).await?,
        Some(Recording::Ready { .. })
    );
    // The feedback only when the learner chose to show it, and only once it is ready; never
    // the learner's own baseline.
    let feedback = if found.include_feedback {
        feedback::find(&state.db, found.owner, found.session)
            .await?
            .filter(|f| f.status == FeedbackStatus::Ready)
    } else {
        None
    };
    Ok(SharedSession {
        topic_title: session.topic.title.clone(),
        started_at: session.started_at,
        duration_secs: session.duration_secs(),
        turns: turns::list(&state.db, found.session).await?,
        playable,
        feedback,
    })
}
