//! `AppError`: the one error type that crosses the server-function boundary.
//!
//! Server-side failures (database, storage, upstream HTTP) are converted into it in one place
//! (`crate::server::error`), which logs the whole cause chain and hands the browser only an
//! opaque reference. Nothing here ever carries SQL, file paths or secrets.

#[cfg(any(feature = "ssr", feature = "hydrate"))]
use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum AppError {
    /// The thing asked for does not exist, or is not the caller's to see.
    #[error("We couldn't find that {what}.")]
    NotFound { what: String },
    /// The request was understood but its content is not acceptable; the message says why.
    #[error("{message}")]
    InvalidInput { message: String },
    /// The request contradicts what is already stored (e.g. different bytes for a recording
    /// chunk that was already received).
    #[error("{message}")]
    Conflict { message: String },
    /// The request body is larger than allowed.
    #[error("That is too large: the limit is {} KiB.", limit_bytes / 1024)]
    TooLarge { limit_bytes: u64 },
    /// The caller must sign in first.
    #[error("Please sign in to continue.")]
    Unauthorized,
    /// Too many attempts in a short time (sign-in, sign-up); try again after the wait.
    #[error("Too many attempts. Please wait {} and try again.", wait_text(*retry_after_secs))]
    TooManyRequests { retry_after_secs: u64 },
    /// A limit on what a learner may consume (calls today, a session's call time, live sessions,
    /// storage) was reached; the message says which, in plain words, and when it frees up.
    #[error("{message}")]
    LimitReached {
        message: String,
        retry_after_secs: Option<u64>,
    },
    /// The voice coach (the Realtime API) cannot be reached right now; trying again later may work.
    #[error("The coach is unavailable right now. Please try again in a moment.")]
    CoachUnavailable,
    /// The browser could not reach the server or could not read its answer.
    #[error("We couldn't reach Speaking Coach. Check your connection and try again.")]
    Network { detail: String },
    /// Something failed on the server. The cause is in the server log under `reference`.
    #[error(
        "Something went wrong on our side. Please try again in a moment (reference {reference})."
    )]
    Internal { reference: String },
}

impl AppError {
    pub fn not_found(what: impl Into<String>) -> Self {
        AppError::NotFound { what: what.into() }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        AppError::InvalidInput {
            message: message.into(),
        }
    }

    /// Refused for now: try again after `wait`, in whole seconds rounded up (a page that waits
    /// what it is told must not come back a moment too early).
    pub fn too_many(wait: std::time::Duration) -> Self {
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        AppError::TooManyRequests {
            retry_after_secs: secs.max(1),
        }
    }

    /// The HTTP status this error is answered with.
    pub fn status(&self) -> u16 {
        match self {
            AppError::NotFound { .. } => 404,
            AppError::InvalidInput { .. } => 400,
            AppError::Conflict { .. } => 409,
            AppError::TooLarge { .. } => 413,
            AppError::Unauthorized => 401,
            AppError::TooManyRequests { .. } => 429,
            // Waiting lifts it (a daily budget): 429; only the learner can (storage): 403.
            AppError::LimitReached {
                retry_after_secs: Some(_),
                ..
            } => 429,
            AppError::LimitReached { .. } => 403,
            AppError::Network { .. } => 503,
            AppError::CoachUnavailable => 503,
            AppError::Internal { .. } => 500,
        }
    }
}

// How server functions carry it (the call's own bundle reads it from the JSON: `call::api`).
#[cfg(any(feature = "ssr", feature = "hydrate"))]
impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // The request's arguments could not be read: the caller sent bad input.
            ServerFnErrorErr::Args(detail) | ServerFnErrorErr::MissingArg(detail) => {
                AppError::invalid(format!(
                    "The request was not understood: {}",
                    brief(&detail)
                ))
            }
            // On the server, a body that does not decode (e.g. JSON with an unknown value) is
            // also the caller's bad input; in the browser it is an answer that could not be read.
            #[cfg(feature = "ssr")]
            ServerFnErrorErr::Deserialization(detail) => AppError::invalid(format!(
                "The request was not understood: {}",
                brief(&detail)
            )),
            #[cfg(not(feature = "ssr"))]
            ServerFnErrorErr::Deserialization(detail) => AppError::Network { detail },
            // The browser could not talk to the server.
            ServerFnErrorErr::Request(detail) | ServerFnErrorErr::Serialization(detail) => {
                AppError::Network { detail }
            }
            // Framework failures on the server: never shown in detail.
            other => AppError::Internal {
                reference: short_reference(&other.to_string()),
            },
        }
    }
}

/// At most 200 characters of a parser's complaint: it may quote the whole input back.
#[cfg(any(feature = "ssr", feature = "hydrate"))]
fn brief(detail: &str) -> String {
    const MAX: usize = 200;
    match detail.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &detail[..cut]),
        None => detail.to_owned(),
    }
}

fn wait_text(seconds: u64) -> String {
    match seconds {
        0..=1 => "a second".to_owned(),
        2..=59 => format!("{seconds} seconds"),
        60..=119 => "a minute".to_owned(),
        _ => format!("{} minutes", seconds.div_ceil(60)),
    }
}

/// A short, stable tag for an error message, so a learner can quote it and we can find it.
#[cfg(any(feature = "ssr", feature = "hydrate"))]
fn short_reference(text: &str) -> String {
    // FNV-1a: tiny, dependency-free and deterministic on both targets.
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{:08x}", hash as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_the_wire_encoding() {
        let errors = [
            AppError::not_found("topic"),
            AppError::invalid("too long"),
            AppError::LimitReached {
                message: "You've used today's calls.".into(),
                retry_after_secs: Some(60),
            },
            AppError::Conflict {
                message: "different bytes".into(),
            },
            AppError::TooLarge { limit_bytes: 1024 },
            AppError::Unauthorized,
            AppError::Internal {
                reference: "abcd1234".into(),
            },
        ];
        for error in errors {
            assert_eq!(AppError::de(error.ser()), error);
        }
    }

    #[test]
    fn framework_errors_never_leak_their_text() {
        let error = AppError::from_server_fn_error(ServerFnErrorErr::ServerError(
            "relation \"topics\" does not exist".into(),
        ));
        let shown = error.to_string();
        assert!(!shown.contains("relation"), "{shown}");
        assert_eq!(error.status(), 500);
    }

    #[test]
    fn waits_read_naturally() {
        let shown = |secs| {
            AppError::TooManyRequests {
                retry_after_secs: secs,
            }
            .to_string()
        };
        assert_eq!(
            shown(1),
            "Too many attempts. Please wait a second and try again."
        );
        assert_eq!(
            shown(45),
            "Too many attempts. Please wait 45 seconds and try again."
        );
        assert_eq!(
            shown(61),
            "Too many attempts. Please wait a minute and try again."
        );
        assert_eq!(
            shown(121),
            "Too many attempts. Please wait 3 minutes and try again."
        );
        assert_eq!(
            AppError::TooManyRequests {
                retry_after_secs: 5
            }
            .status(),
            429
        );
    }

    #[test]
    fn a_wait_is_told_in_whole_seconds_rounded_up() {
        use std::time::Duration;
        let told = |wait| match AppError::too_many(wait) {
            AppError::TooManyRequests { retry_after_secs } => retry_after_secs,
            other => panic!("{other:?}"),
        };
        assert_eq!(told(Duration::from_millis(5_800)), 6);
        assert_eq!(told(Duration::from_secs(5)), 5);
        assert_eq!(told(Duration::from_millis(1)), 1);
        assert_eq!(told(Duration::ZERO), 1);
    }

    #[test]
    fn bad_arguments_are_the_callers_fault() {
        let error = AppError::from_server_fn_error(ServerFnErrorErr::Args("missing field".into()));
        assert_eq!(error.status(), 400);
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn an_unreadable_request_body_is_the_callers_fault() {
        let error = AppError::from_server_fn_error(ServerFnErrorErr::Deserialization(
            "unknown variant `Exploded`".into(),
        ));
        assert_eq!(error.status(), 400);
    }
}
