//! RAII wrappers over the browser's media APIs (web-sys). Each wrapper owns its JS objects and
//! closures and releases them when dropped: dropping the microphone stops its tracks, so the
//! browser's recording indicator goes off. Only compiled into the wasm bundle.
//!
//! Beware: web-sys gives `MediaStreamTrack` (and `MediaStream`) an inherent `clone()` — the JS
//! method, which makes a *new* track. For another handle to the same object use `Clone::clone`.

pub mod call;
pub mod mic;
pub mod outbox;
pub mod recorder;
pub mod timing;
pub mod upload;

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

impl JsError {
    pub fn named(name: &str, message: &str) -> Self {
        JsError {
            name: name.to_owned(),
            message: message.to_owned(),
        }
    }
}

pub use gloo_timers::callback::{Interval, Timeout};

/// Writes a warning to the browser's console: what happened, never what was said.
pub fn warn(message: &str) {
    web_sys::console::warn_1(&message.into());
}

/// `format!` into the browser's console as a warning (`browser::warn`).
#[macro_export]
macro_rules! console_warn {
    ($($message:tt)*) => {
        $crate::browser::warn(&format!($($message)*))
    };
}

/// Waits `ms` milliseconds.
pub async fn sleep(ms: u32) {
    gloo_timers::future::TimeoutFuture::new(ms).await;
}

/// A random UUID from the browser's CSPRNG.
pub fn random_uuid() -> Option<String> {
    web_sys::window()?
        .crypto()
        .ok()
        .map(|crypto| crypto.random_uuid())
}

/// True when this browser has what a voice call needs: WebRTC, the microphone API (which only
/// exists in a secure context) and MediaRecorder.
///
/// The page head asks the same of the browser in JavaScript (`app::MARK_NO_CALLS`, for the style):
/// change them together.
pub fn calls_supported() -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    js_sys::Reflect::has(&window, &"RTCPeerConnection".into()).unwrap_or(false)
        && recorder::is_supported()
}
