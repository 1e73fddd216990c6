//! `GET /api/topics/list` and `GET /api/topics/get?slug=…`: public, no account needed.

use leptos::{prelude::*, server_fn::codec::GetUrl};

use crate::{domain::Topic, error::AppError};

/// Every practice topic, easiest level first.
#[server(endpoint = "topics/list", input = GetUrl)]
pub async fn list_topics() -> Result<Vec<Topic>, AppError> {
    use crate::server::{state::AppState, topics};
    topics::list(&AppState::current()?.db).await
}

/// One topic by its slug; `NotFound` (404) when there is none.
#[server(endpoint = "topics/get", input = GetUrl)]
pub async fn get_topic(slug: String) -> Result<Topic, AppError> {
    use crate::server::{state::AppState, topics};
    topics::get(&AppState::current()?.db, &slug).await
}
