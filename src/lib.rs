//! Speaking Coach: practise speaking with an AI coach, in one Leptos codebase that spans the
//! browser (feature `hydrate`, compiled to wasm) and the server (feature `ssr`).
// The live call page nests deep view types; the release wasm build needs more room.
#![recursion_limit = "256"]

pub mod api;
pub mod app;
#[cfg(feature = "hydrate")]
pub mod browser;
pub mod components;
pub mod contexts;
pub mod domain;
pub mod error;
pub mod pages;

#[cfg(feature = "ssr")]
pub mod server;

/// Entry point of the wasm bundle: attaches the reactive app to the server-rendered HTML.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
