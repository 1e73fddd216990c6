//! What every handler and server function can reach.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use sqlx::PgPool;

use super::{auth::rate_limit::AuthLimits, config::Config};
use crate::error::AppError;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: PgPool,
    pub config: Arc<Config>,
    pub auth_limits: AuthLimits,
}

impl AppState {
    pub fn new(leptos_options: LeptosOptions, db: PgPool, config: Config) -> Self {
        AppState {
            leptos_options,
            db,
            auth_limits: AuthLimits::new(config.auth_attempts_per_minute),
            config: Arc::new(config),
        }
    }

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
