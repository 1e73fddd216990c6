//! The one place where server-side failures become `AppError`: the cause chain is logged once,
//! with a reference, and the browser gets only that reference.

use crate::{error::AppError, server::telemetry::cause_chain};

/// Logs `error` with its whole cause chain and returns an opaque internal error.
pub fn internal(context: &'static str, error: &(dyn std::error::Error + 'static)) -> AppError {
    let reference = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    tracing::error!(%reference, context, error = %cause_chain(error), "internal error");
    AppError::Internal { reference }
}

impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        internal("database", &error)
    }
}

/// Sets the HTTP status of the current response from the outcome of a server function, so a
/// `NotFound` is answered with 404 rather than the framework's default 500. Inside server-side
/// rendering it sets the status of the page being rendered.
pub fn with_status<T>(result: Result<T, AppError>) -> Result<T, AppError> {
    if let Err(error) = &result
        && let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>()
        && let Ok(status) = axum::http::StatusCode::from_u16(error.status())
    {
        response.set_status(status);
    }
    result
}
