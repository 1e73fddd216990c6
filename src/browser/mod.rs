//! RAII wrappers over the browser's media APIs (web-sys). Each wrapper owns its JS objects and
//! closures and releases them when dropped: dropping the microphone stops its tracks, so the
//! browser's recording indicator goes off. Only compiled into the wasm bundle.
//!
//! Beware: web-sys gives `MediaStreamTrack` (and `MediaStream`) an inherent `clone()` — the JS
//! method, which makes a *new* track. For another handle to the same object use `Clone::clone`.

pub mod mic;

use wasm_bindgen::JsValue;

/// A DOMException (or any JS error) reduced to its `name` and `message`, so nothing above this
/// layer handles raw `JsValue`s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsError {
    pub name: String,
    pub message: String,
}

impl From<JsValue> for JsError {
    fn from(value: JsValue) -> Self {
        let field = |key: &str| {
            js_sys::Reflect::get(&value, &JsValue::from_str(key))
                .ok()
                .and_then(|v| v.as_string())
                .unwrap_or_default()
        };
        JsError {
            name: field("name"),
            message: field("message"),
        }
    }
}
