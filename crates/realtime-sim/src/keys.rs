//! Minting ephemeral client secrets, and checking them when a call is opened.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::{
    Json,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use realtime_protocol::{
    SessionConfig,
    http::{ApiError, ClientSecret, ClientSecretRequest, ExpiresAfter, MintedSession},
};
use secrecy::ExposeSecret;

use crate::{MODELS, Simulator, control::Fault, lock, new_id, new_secret};

#[derive(Debug, Clone)]
pub(crate) struct MintedKey {
    pub session_id: String,
    pub session: SessionConfig,
    /// Unix seconds after which the key opens no new call.
    pub expires_at: u64,
}

/// The simulator's own bounds, kept in memory per live key: stricter than OpenAI documents, and
/// listed in `contracts/realtime.md`.
pub const MAX_INSTRUCTIONS_BYTES: usize = 64 * 1024;
pub const MAX_LIVE_KEYS: usize = 10_000;

pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

pub(crate) fn api_error(status: StatusCode, error: ApiError) -> Response {
    (status, Json(error)).into_response()
}

pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

fn invalid(param: &str, message: impl Into<String>) -> Response {
    api_error(
        StatusCode::BAD_REQUEST,
        ApiError::new("invalid_request_error", Some("invalid_value"), message).with_param(param),
    )
}

/// `POST /v1/realtime/client_secrets`.
pub(crate) async fn mint(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    body: String,
) -> Response {
    if let Err(problem) = check_standard_key(&sim, &headers) {
        return problem.into_response();
    }
    let control = &sim.inner.control;
    if let Some(Fault::MintError { status }) =
        control.take_fault(|f| matches!(f, Fault::MintError { .. }))
    {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let (kind, code) = if status == StatusCode::TOO_MANY_REQUESTS {
            ("rate_limit_error", "rate_limit_exceeded")
        } else {
            ("server_error", "server_error")
        };
        return api_error(
            status,
            ApiError::new(kind, Some(code), "Simulated failure (fault injection)."),
        );
    }

    let value: serde_json::Value = match serde_json::from_str(&body) {
        Ok(value) => value,
        Err(error) => return invalid("body", format!("The request body is not valid: {error}")),
    };
    if let Err(refusal) = crate::params::check(&value, &crate::params::mint_request(), "") {
        return api_error(
            StatusCode::BAD_REQUEST,
            ApiError::new("invalid_request_error", Some(refusal.code), refusal.message)
                .with_param(&refusal.param),
        );
    }
    let request: ClientSecretRequest = match serde_json::from_value(value) {
        Ok(request) => request,
        Err(error) => return invalid("body", format!("The request body is not valid: {error}")),
    };
    let session = request.session;
    if session.kind != SessionConfig::KIND {
        return invalid("session.type", "session.type must be 'realtime'.");
    }
    let model = session
        .model
        .clone()
        .unwrap_or_else(|| "gpt-realtime".to_owned());
    if !MODELS.contains(&model.as_str()) {
        return invalid(
            "session.model",
            format!("The model '{model}' does not exist."),
        );
    }
    let seconds = request
        .expires_after
        .map_or(ExpiresAfter::DEFAULT_SECONDS, |e| e.seconds);
    if !(ExpiresAfter::MIN_SECONDS..=ExpiresAfter::MAX_SECONDS).contains(&seconds) {
        return invalid(
            "expires_after.seconds",
            "expires_after.seconds must be between 10 and 7200.",
        );
    }
    if session
        .instructions
        .as_ref()
        .is_some_and(|text| text.len() > MAX_INSTRUCTIONS_BYTES)
    {
        return invalid(
            "session.instructions",
            format!("session.instructions must be at most {MAX_INSTRUCTIONS_BYTES} bytes."),
        );
    }
    // A queued `key_lifetime` fault stands for another `expires_after.seconds`; a `key_ttl`
    // fault makes this key expire sooner than it says (faults are checked when queued).
    let seconds = match control.take_fault(|f| matches!(f, Fault::KeyLifetime { .. })) {
        Some(Fault::KeyLifetime { seconds }) => {
            u32::try_from(seconds).unwrap_or(ExpiresAfter::MAX_SECONDS)
        }
        _ => seconds,
    };
    let real_ttl = match control.take_fault(|f| matches!(f, Fault::KeyTtl { .. })) {
        Some(Fault::KeyTtl { seconds }) => seconds,
        _ => u64::from(seconds),
    };

    let now = unix_now();
    let value = new_secret("ek");
    let session_id = new_id("sess");
    let mut session = session;
    session.model = Some(model);
    {
        let mut keys = lock(&sim.inner.keys);
        keys.retain(|_, key| key.expires_at >= now);
        if keys.len() >= MAX_LIVE_KEYS {
            return api_error(
                StatusCode::TOO_MANY_REQUESTS,
                ApiError::new(
                    "rate_limit_error",
                    Some("rate_limit_exceeded"),
                    format!("At most {MAX_LIVE_KEYS} client secrets may be live at once."),
                ),
            );
        }
        keys.insert(
            value.clone(),
            MintedKey {
                session_id: session_id.clone(),
                session: session.clone(),
                expires_at: now.saturating_add(real_ttl),
            },
        );
    }
    control.count_mint();
    tracing::info!(session_id, ttl_secs = real_ttl, "sim: client secret minted");
    Json(ClientSecret {
        value,
        expires_at: now + u64::from(seconds),
        session: Some(MintedSession {
            id: Some(session_id),
            config: session,
        }),
    })
    .into_response()
}

/// Requests that only the standard key may make (minting, hanging up): anything else, missing
/// included, is `invalid_api_key` as the API answers it.
pub(crate) fn check_standard_key(sim: &Simulator, headers: &HeaderMap) -> Result<(), KeyProblem> {
    let given = bearer(headers).ok_or(KeyProblem::Unknown)?;
    if same_secret(given, sim.inner.config.api_key.expose_secret()) {
        Ok(())
    } else {
        Err(KeyProblem::Unknown)
    }
}

/// Compares in time that depends on the lengths only, not on where the first difference is.
fn same_secret(given: &str, expected: &str) -> bool {
    given.len() == expected.len()
        && given
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

/// Why a key cannot open a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyProblem {
    Missing,
    Unknown,
    Expired,
}

impl IntoResponse for KeyProblem {
    fn into_response(self) -> Response {
        let (code, message) = match self {
            KeyProblem::Missing => ("missing_api_key", "You didn't provide an API key."),
            KeyProblem::Unknown => ("invalid_api_key", "Incorrect API key provided."),
            KeyProblem::Expired => ("expired_api_key", "The client secret has expired."),
        };
        api_error(
            StatusCode::UNAUTHORIZED,
            ApiError::new("invalid_request_error", Some(code), message),
        )
    }
}

/// The session bound to a live key; the API answers 401 for an unknown or expired one.
pub(crate) fn check_key(sim: &Simulator, key: Option<&str>) -> Result<MintedKey, KeyProblem> {
    let key = key.ok_or(KeyProblem::Missing)?;
    let keys = lock(&sim.inner.keys);
    match keys.get(key) {
        None => Err(KeyProblem::Unknown),
        Some(minted) if minted.expires_at < unix_now() => Err(KeyProblem::Expired),
        Some(minted) => Ok(minted.clone()),
    }
}
