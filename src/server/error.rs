//! The one place where server-side failures become `AppError`: the cause chain is logged once,
//! with a reference, and the browser gets only that reference.

use axum::{body::Body, extract::Request, http::StatusCode, middleware::Next, response::Response};
use leptos::server_fn::{error::FromServerFnError, error::SERVER_FN_ERROR_HEADER};

use crate::{error::AppError, server::telemetry::cause_chain};

/// Logs `error` with its whole cause chain and returns an opaque internal error.
pub fn internal(context: &'static str, error: &(dyn std::error::Error + 'static)) -> AppError {
    let reference = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    tracing::error!(%reference, context, error = %cause_chain(error), "internal error");
    AppError::Internal { reference }
}

impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        // Text Postgres cannot hold (a NUL character) is the caller's input, not our failure.
        // Checks at the boundary refuse it first; this is the net under them.
        if let sqlx::Error::Database(database) = &error
            && database.code().as_deref() == Some(UNTRANSLATABLE_TEXT)
        {
            tracing::warn!("text with a NUL character reached the database");
            return AppError::invalid("Text cannot contain NUL characters.");
        }
        internal("database", &error)
    }
}

/// Postgres' `character_not_in_repertoire` (22021): a NUL byte in text.
const UNTRANSLATABLE_TEXT: &str = "22021";

/// Gives server-function error responses the status of their `AppError` (404, 400, 401, ...).
///
/// The framework answers every server-function error with 500, including arguments that could
/// not be read before our code ran. This middleware reads the (small) error body it marks with
/// `serverfnerror`, decodes the `AppError` and sets the matching status, so a bad request is
/// never reported as a server failure.
pub async fn server_fn_error_status(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    // Only the framework's blanket 500 is rewritten: a plain form post that failed is answered
    // with a redirect back to the form (the error travels in its URL) and must stay one.
    if !response.headers().contains_key(SERVER_FN_ERROR_HEADER)
        || response.status() != StatusCode::INTERNAL_SERVER_ERROR
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ERROR_BODY).await else {
        parts.status = StatusCode::INTERNAL_SERVER_ERROR;
        return Response::from_parts(parts, Body::empty());
    };
    let error = AppError::de(bytes.clone());
    if let Ok(status) = StatusCode::from_u16(error.status()) {
        parts.status = status;
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// An `AppError` is a few hundred bytes; anything larger is not one of ours.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// `AppError` as a plain axum response (routes outside server functions): its status and the same
/// JSON body a server function would send.
impl axum::response::IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, self.ser()).into_response();
        response.headers_mut().insert(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/json"),
        );
        response
    }
}
