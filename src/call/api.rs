//! The server functions the call uses (`api::practice`, `api::voice`), called as the Leptos
//! client would call them: a form post or a JSON post to `/api/{endpoint}`, answered with JSON,
//! and an `AppError` as JSON with an error status.

use serde::{Serialize, de::DeserializeOwned};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, RequestInit, Response};

use crate::{
    domain::{
        call::{CallNote, DropCause},
        transcript::SavedTurn,
        voice::VoiceCallSecret,
    },
    error::AppError,
};

/// `POST /api/voice/start` (a form): a secret for a call about `topic`.
pub async fn start_voice_call(
    topic: &str,
    session: Option<&str>,
) -> Result<VoiceCallSecret, AppError> {
    let mut form = vec![("topic", topic)];
    form.extend(session.map(|session| ("session", session)));
    post("voice/start", Body::Form(&form)).await
}

/// `POST /api/practice/start` (a form): the session for this attempt's `key`. Only its id is
/// read here.
pub async fn start_practice(topic: &str, key: &str) -> Result<String, AppError> {
    #[derive(serde::Deserialize)]
    struct Started {
        id: String,
    }
    let started: Started = post(
        "practice/start",
        Body::Form(&[("topic", topic), ("key", key)]),
    )
    .await?;
    Ok(started.id)
}

/// `POST /api/practice/end` (JSON).
pub async fn end_practice(
    session: &str,
    turns: u32,
    words_used: &[String],
) -> Result<(), AppError> {
    #[derive(Serialize)]
    struct End<'a> {
        session: &'a str,
        turns: u32,
        words_used: &'a [String],
    }
    post::<serde::de::IgnoredAny>(
        "practice/end",
        Body::json(&End {
            session,
            turns,
            words_used,
        }),
    )
    .await
    .map(drop)
}

/// `POST /api/practice/note` (JSON).
pub async fn note_call(
    session: &str,
    note: CallNote,
    cause: Option<DropCause>,
    attempt: u32,
) -> Result<(), AppError> {
    #[derive(Serialize)]
    struct Note<'a> {
        session: &'a str,
        note: CallNote,
        cause: Option<DropCause>,
        attempt: u32,
    }
    post::<serde::de::IgnoredAny>(
        "practice/note",
        Body::json(&Note {
            session,
            note,
            cause,
            attempt,
        }),
    )
    .await
    .map(drop)
}

/// `POST /api/practice/turn` (JSON): whether anything changed.
pub async fn save_turn(session: &str, turn: &SavedTurn) -> Result<bool, AppError> {
    #[derive(Serialize)]
    struct Turn<'a> {
        session: &'a str,
        turn: &'a SavedTurn,
    }
    post("practice/turn", Body::json(&Turn { session, turn })).await
}

enum Body<'a> {
    Form(&'a [(&'a str, &'a str)]),
    /// The body already written as JSON (or why it could not be).
    Json(serde_json::Result<String>),
}

impl Body<'_> {
    fn json(value: &impl Serialize) -> Self {
        Body::Json(serde_json::to_string(value))
    }
}

async fn post<T: DeserializeOwned>(endpoint: &str, body: Body<'_>) -> Result<T, AppError> {
    let text = send(endpoint, body).await?;
    serde_json::from_str(&text).map_err(|error| unreadable(&error))
}

fn unreadable(error: &serde_json::Error) -> AppError {
    AppError::Network {
        detail: format!("the answer could not be read: {error}"),
    }
}

/// Posts `body`; the answer's text when it succeeded, the error it carries otherwise.
async fn send(endpoint: &str, body: Body<'_>) -> Result<String, AppError> {
    let network = |detail: &str| AppError::Network {
        detail: detail.to_owned(),
    };
    let (content_type, body) = match body {
        Body::Form(fields) => (
            "application/x-www-form-urlencoded",
            fields
                .iter()
                .map(|(name, value)| format!("{name}={}", js_sys::encode_uri_component(value)))
                .collect::<Vec<_>>()
                .join("&"),
        ),
        Body::Json(json) => (
            "application/json",
            json.map_err(|error| network(&error.to_string()))?,
        ),
    };
    let headers = Headers::new().map_err(|_| network("no headers"))?;
    let _ = headers.set("content-type", content_type);
    let _ = headers.set("accept", "application/json");
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_headers(&headers);
    init.set_body(&body.into());
    let window = web_sys::window().ok_or_else(|| network("no window"))?;
    let response: Response =
        JsFuture::from(window.fetch_with_str_and_init(&format!("/api/{endpoint}"), &init))
            .await
            .map_err(|error| network(&crate::browser::JsError::from(error).message))?
            .unchecked_into();
    let text = match response.text() {
        Ok(text) => JsFuture::from(text)
            .await
            .ok()
            .and_then(|text| text.as_string()),
        Err(_) => None,
    }
    .ok_or_else(|| network("the answer could not be read"))?;
    if response.ok() {
        Ok(text)
    } else {
        Err(serde_json::from_str(&text).unwrap_or_else(|error| unreadable(&error)))
    }
}
