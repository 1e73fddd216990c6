//! What every handler and server function can reach.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use sqlx::PgPool;

use super::config::Config;
use crate::error::AppError;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: PgPool,
    pub config: Arc<Config>,
}

impl AppState {
    /// The state as provided to server functions by `leptos_routes_with_context`.
    pub fn current() -> Result<Self, AppError> {
        leptos::prelude::use_context::<AppState>().ok_or_else(|| {
            let error = MissingState;
            super::error::internal("server function context", &error)
        })
    }
}

#[derive(Debug, thiserror::Error)]
#[error("AppState was not provided to this server function")]
struct MissingState;
