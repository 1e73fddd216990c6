//! `GET /api/practice/{session}/recording` (its owner) and `GET /api/shared/{token}/recording`
//! (anyone with a share link): a session's finished recording, with HTTP range support (206) so
//! playback starts before the whole file has arrived and seeking fetches only what it needs.
//! `no-cache`: a revoked link or a deleted session must not keep playing from a cache. With S3
//! storage the answer is a redirect to a presigned URL valid for 5 minutes, issued after the same
//! checks, so the bytes come straight from S3 (which handles the ranges).

use axum::{
    body::Body,
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use tokio_util::io::ReaderStream;
use uuid::Uuid;

use super::{
    auth::CurrentUser,
    db::{recordings, shares},
    owned::owned,
    state::AppState,
    storage::{ObjectKey, StorageError},
};
use crate::{domain::practice::Recording, error::AppError};

/// How long a presigned S3 URL for a recording works.
pub const PRESIGNED_FOR: std::time::Duration = std::time::Duration::from_secs(5 * 60);

/// What a `Range` header asks of an object of `size` bytes.
#[derive(Debug, PartialEq, Eq)]
pub enum Wanted {
    /// No range (or one we do not serve, like several at once): the whole object.
    Whole,
    /// Bytes `start..=end`.
    Part { start: u64, end: u64 },
    /// Outside the object: 416.
    Unsatisfiable,
}

/// Reads a single `bytes=` range (`a-b`, `a-`, `-n`) against an object of `size` bytes.
pub fn wanted(range: Option<&str>, size: u64) -> Wanted {
    let Some(spec) = range.and_then(|value| value.trim().strip_prefix("bytes=")) else {
        return Wanted::Whole;
    };
    if spec.contains(',') {
        return Wanted::Whole;
    }
    let Some((first, last)) = spec.split_once('-') else {
        return Wanted::Whole;
    };
    let (first, last) = (first.trim(), last.trim());
    let number = |text: &str| text.parse::<u64>().ok();
    let (start, end) = match (first.is_empty(), last.is_empty()) {
        // The last `n` bytes.
        (true, false) => match number(last) {
            Some(0) => return Wanted::Unsatisfiable,
            Some(n) => (size.saturating_sub(n), size.saturating_sub(1)),
            None => return Wanted::Whole,
        },
        (false, true) => match number(first) {
            Some(start) => (start, size.saturating_sub(1)),
            None => return Wanted::Whole,
        },
        (false, false) => match (number(first), number(last)) {
            (Some(start), Some(end)) if start <= end => (start, end.min(size.saturating_sub(1))),
            _ => return Wanted::Whole,
        },
        (true, true) => return Wanted::Whole,
    };
    if size == 0 || start >= size {
        return Wanted::Unsatisfiable;
    }
    Wanted::Part { start, end }
}

#[tracing::instrument(skip_all, fields(user_id = %user.id, session_id = raw_session))]
pub async fn get_recording(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(raw_session): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let session = owned(&state.db, &user, &raw_session).await?.id;
    serve(&state, session, &headers).await
}

/// `GET /api/shared/{token}/recording`: the recording of a session its learner shared, for anyone
/// with the link; a revoked or unknown link is not found.
#[tracing::instrument(skip_all)]
pub async fn get_shared_recording(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let shared = shares::find(&state.db, token.trim())
        .await?
        .ok_or_else(|| AppError::not_found("recording"))?;
    serve(&state, shared.session, &headers).await
}

/// The session's ready recording, whole or the range asked for.
async fn serve(state: &AppState, session: Uuid, headers: &HeaderMap) -> Result<Response, AppError> {
    let not_found = || AppError::not_found("recording");
    let Some(Recording::Ready { mime_type, .. }) = recordings::find(&state.db, session).await?
    else {
        return Err(not_found());
    };
    let key = ObjectKey::recording(session, "ogg");
    // From S3 the browser reads the file itself, through a URL that works for a few minutes.
    if let Some(url) = state.storage.presigned_get(&key, PRESIGNED_FOR).await? {
        let mut response = StatusCode::TEMPORARY_REDIRECT.into_response();
        let headers = response.headers_mut();
        if let Ok(location) = HeaderValue::from_str(&url) {
            headers.insert(header::LOCATION, location);
        }
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        return Ok(response);
    }
    let size = state.storage.size(&key).await?.ok_or_else(not_found)?;
    let range = headers
        .get(header::RANGE)
        .and_then(|value| value.to_str().ok());
    let (status, start, end) = match wanted(range, size) {
        Wanted::Whole => (StatusCode::OK, 0, size.saturating_sub(1)),
        Wanted::Part { start, end } => (StatusCode::PARTIAL_CONTENT, start, end),
        Wanted::Unsatisfiable => return Ok(unsatisfiable(size)),
    };
    // Streamed from the file: a seek asks for `bytes=N-`, and the player needs only the first
    // few kilobytes of that to go on.
    let read = match state.storage.read_range(&key, start, Some(end)).await {
        Ok(Some(read)) => read,
        Ok(None) => return Err(not_found()),
        Err(StorageError::RangeNotSatisfiable { size }) => return Ok(unsatisfiable(size)),
        Err(error) => return Err(error.into()),
    };
    let (first, last, size) = (read.start, read.end, read.size);
    let mut response = Response::new(Body::from_stream(ReaderStream::new(read.body)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&mime_type)
            .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream")),
    );
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(last - first + 1));
    if status == StatusCode::PARTIAL_CONTENT
        && let Ok(value) = HeaderValue::from_str(&format!("bytes {first}-{last}/{size}"))
    {
        headers.insert(header::CONTENT_RANGE, value);
    }
    Ok(response)
}

fn unsatisfiable(size: u64) -> Response {
    let mut response = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
    if let Ok(value) = HeaderValue::from_str(&format!("bytes */{size}")) {
        response.headers_mut().insert(header::CONTENT_RANGE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::{Wanted, wanted};

    #[test]
    fn ranges_are_read_as_browsers_send_them() {
        let part = |start, end| Wanted::Part { start, end };
        assert_eq!(wanted(None, 100), Wanted::Whole);
        assert_eq!(wanted(Some("bytes=0-"), 100), part(0, 99));
        assert_eq!(wanted(Some("bytes=10-19"), 100), part(10, 19));
        assert_eq!(wanted(Some("bytes=90-500"), 100), part(90, 99));
        assert_eq!(wanted(Some("bytes=-10"), 100), part(90, 99));
        assert_eq!(wanted(Some("bytes=-500"), 100), part(0, 99));
        assert_eq!(wanted(Some("bytes=100-"), 100), Wanted::Unsatisfiable);
        assert_eq!(wanted(Some("bytes=-0"), 100), Wanted::Unsatisfiable);
        assert_eq!(wanted(Some("bytes=0-1,5-6"), 100), Wanted::Whole);
        assert_eq!(wanted(Some("bytes=9-3"), 100), Wanted::Whole);
        assert_eq!(wanted(Some("items=0-1"), 100), Wanted::Whole);
        assert_eq!(wanted(Some("bytes=x-"), 100), Wanted::Whole);
    }
}
