//! The one check every request about a learner's own session makes first.

use sqlx::PgPool;
use uuid::Uuid;

use super::{auth::CurrentUser, db::practice};
use crate::{domain::practice::PracticeSession, error::AppError};

/// A session of the signed-in learner, found by the id a request named.
#[derive(Debug)]
pub struct Owned {
    pub id: Uuid,
    pub session: PracticeSession,
}

/// What a session that is not the caller's is: not found. (Not a UUID, another learner's, or
/// deleted: another learner's session does not exist for them, so nothing tells them apart.)
pub fn not_found() -> AppError {
    AppError::not_found("practice session")
}

/// The signed-in learner's session named `raw_id`, or `NotFound`.
pub async fn owned(pool: &PgPool, user: &CurrentUser, raw_id: &str) -> Result<Owned, AppError> {
    let id = Uuid::parse_str(raw_id.trim()).map_err(|_| not_found())?;
    let session = practice::find(pool, user.id, id)
        .await?
        .ok_or_else(not_found)?;
    Ok(Owned { id, session })
}
