//! The learner's account as a whole: deleting it deletes everything it owns.

use tower_sessions::Session;

use super::{
    auth::{self, CurrentUser},
    db::{practice, users},
    state::AppState,
};
use crate::error::AppError;

/// Deletes the account and everything it owns (sessions, turns, feedback, share links: the rows
/// go with it; then its recordings in storage), and ends the sign-in.
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn delete(
    state: &AppState,
    session: &Session,
    user: &CurrentUser,
) -> Result<(), AppError> {
    let sessions = practice::ids_of_user(&state.db, user.id).await?;
    users::delete(&state.db, user.id).await?;
    auth::end_session(session).await?;
    for id in sessions {
        super::practice::delete_objects(&state.storage, id).await;
    }
    tracing::info!("account deleted");
    Ok(())
}
