//! Performance marks for the moments that make up "Start -> first coach audio". They cost
//! nothing, show up in the browser's performance tools, and are what `script/bench` reads.

/// The marks, in the order a call passes them.
pub const CHECK: &str = "sc:check";
pub const MINTED: &str = "sc:minted";
pub const MIC_READY: &str = "sc:mic-ready";
/// A call's channel opened (the warm call's, before Start).
pub const CALL_OPEN: &str = "sc:call-open";
pub const START: &str = "sc:start";
pub const ANSWERED: &str = "sc:answered";
/// The first `response.create` sent: the coach asked for its greeting.
pub const GREETING: &str = "sc:greeting";
pub const CONNECTED: &str = "sc:connected";
pub const FIRST_AUDIO: &str = "sc:first-audio";

pub fn mark(name: &str) {
    if let Some(performance) = web_sys::window().and_then(|window| window.performance()) {
        let _ = performance.mark(name);
    }
}

/// Marks `name` unless it is marked already: the first time counts.
pub fn mark_once(name: &str) {
    if let Some(performance) = web_sys::window().and_then(|window| window.performance())
        && performance.get_entries_by_name(name).length() == 0
    {
        let _ = performance.mark(name);
    }
}

/// Milliseconds since the page loaded.
pub fn now() -> f64 {
    web_sys::window()
        .and_then(|window| window.performance())
        .map_or(0.0, |performance| performance.now())
}
