//! Uploading a recorded chunk to the app (`PUT /api/practice/{session}/chunks/{n}`), with the
//! learner's session cookie.

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, RequestInit, Response};

use super::JsError;

/// Sends `blob` as chunk `sequence` of `session`. The HTTP status, or the network error.
pub async fn put_chunk(session: &str, sequence: u32, blob: &Blob) -> Result<u16, JsError> {
    let window = web_sys::window().ok_or_else(|| JsError::named("ReferenceError", "no window"))?;
    let init = RequestInit::new();
    init.set_method("PUT");
    init.set_body(blob);
    let url = format!("/api/practice/{session}/chunks/{sequence}");
    let response: Response = JsFuture::from(window.fetch_with_str_and_init(&url, &init))
        .await
        .map_err(JsError::from)?
        .unchecked_into();
    Ok(response.status())
}
