//! Logging: one `tracing` subscriber for the process, a span per request, and session lifecycle
//! events. Request bodies, transcripts, audio and secrets are never logged.

use std::{fmt::Write as _, time::Duration};

use axum::{body::Body, http::Request, response::Response};
use tower_http::{
    classify::{ServerErrorsAsFailures, SharedClassifier},
    request_id::RequestId,
    trace::{DefaultOnBodyChunk, DefaultOnEos, MakeSpan, OnFailure, OnResponse, TraceLayer},
};
use tracing::Span;
use tracing_subscriber::{EnvFilter, fmt, prelude::*};

use super::config::{Config, LogFormat};

/// The default filter when `RUST_LOG` is not set: our own events and one line per request.
const DEFAULT_FILTER: &str = "info,speaking_coach=info,tower_http=warn,sqlx=warn";

pub fn init(config: &Config) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let registry = tracing_subscriber::registry().with(filter);
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    // A second init (tests) is harmless: the first subscriber stays.
    let _ = match config.log_format {
        LogFormat::Pretty => registry
            .with(fmt::layer().compact().with_ansi(ansi))
            .try_init(),
        LogFormat::Json => registry
            .with(fmt::layer().json().flatten_event(true))
            .try_init(),
    };
}

/// `error: cause: cause`: the whole chain on one line.
pub fn cause_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let _ = write!(text, ": {cause}");
        source = cause.source();
    }
    text
}

/// A span per request with method, path (never the query string), request id, status and
/// latency.
pub fn trace_layer() -> TraceLayer<
    SharedClassifier<ServerErrorsAsFailures>,
    RequestSpan,
    (),
    LogResponse,
    DefaultOnBodyChunk,
    DefaultOnEos,
    LogFailure,
> {
    TraceLayer::new_for_http()
        .make_span_with(RequestSpan)
        .on_request(())
        .on_response(LogResponse)
        .on_failure(LogFailure)
}

/// The request path as logs may keep it: a share link's token (a bearer secret: whoever has
/// it sees the session) is replaced by `[token]`.
pub fn loggable_path(path: &str) -> std::borrow::Cow<'_, str> {
    const MARK: &str = "/shared/";
    match path.find(MARK) {
        None => path.into(),
        Some(at) => {
            let start = at + MARK.len();
            let end = path[start..].find('/').map_or(path.len(), |i| start + i);
            format!("{}[token]{}", &path[..start], &path[end..]).into()
        }
    }
}

#[derive(Clone, Copy)]
pub struct RequestSpan;

impl MakeSpan<Body> for RequestSpan {
    fn make_span(&mut self, request: &Request<Body>) -> Span {
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .and_then(|id| id.header_value().to_str().ok())
            .unwrap_or("-");
        tracing::info_span!(
            "request",
            method = %request.method(),
            path = %loggable_path(request.uri().path()),
            request_id,
        )
    }
}

#[derive(Clone, Copy)]
pub struct LogResponse;

impl<B> OnResponse<B> for LogResponse {
    fn on_response(self, response: &Response<B>, latency: Duration, _span: &Span) {
        let status = response.status().as_u16();
        let latency_ms = latency.as_millis() as u64;
        tracing::info!(status, latency_ms, "request finished");
    }
}

#[derive(Clone, Copy)]
pub struct LogFailure;

impl<F: std::fmt::Display> OnFailure<F> for LogFailure {
    fn on_failure(&mut self, failure: F, latency: Duration, _span: &Span) {
        tracing::warn!(%failure, latency_ms = latency.as_millis() as u64, "request failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] Inner);

    #[derive(Debug, thiserror::Error)]
    #[error("inner")]
    struct Inner;

    #[test]
    fn share_tokens_never_reach_the_log() {
        let token = "ab".repeat(32);
        assert_eq!(
            loggable_path(&format!("/shared/{token}")),
            "/shared/[token]"
        );
        assert_eq!(
            loggable_path(&format!("/api/shared/{token}/recording")),
            "/api/shared/[token]/recording"
        );
        assert_eq!(loggable_path("/topics/x"), "/topics/x");
    }

    #[test]
    fn cause_chain_lists_every_cause() {
        assert_eq!(cause_chain(&Outer(Inner)), "outer: inner");
    }
}
