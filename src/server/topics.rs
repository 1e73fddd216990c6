//! Topic use cases, called by the server functions in `crate::api::topics`.

use sqlx::PgPool;

use super::db::topics;
use crate::{
    domain::{Topic, TopicSlug},
    error::AppError,
};

#[tracing::instrument(skip_all)]
pub async fn list(pool: &PgPool) -> Result<Vec<Topic>, AppError> {
    Ok(topics::list(pool).await?)
}

/// Looks a topic up by the slug from a URL. A slug that cannot name a topic is simply not found.
#[tracing::instrument(skip_all, fields(slug = raw_slug))]
pub async fn get(pool: &PgPool, raw_slug: &str) -> Result<Topic, AppError> {
    let not_found = || AppError::not_found("topic");
    let slug = TopicSlug::parse(raw_slug).map_err(|_| not_found())?;
    topics::find(pool, &slug).await?.ok_or_else(not_found)
}
