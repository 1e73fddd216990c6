//! Speaking Coach: practise speaking with an AI coach, in one Leptos codebase that spans the
//! browser (feature `hydrate`, compiled to wasm) and the server (feature `ssr`).
// The live call page nests deep view types; the release wasm build needs more room.
#![recursion_limit = "256"]

// The call page's own bundle (feature `call`) holds only the call, the domain and the browser
// wrappers: nothing of the site's views or islands, and so no Leptos.
#[cfg(not(feature = "call"))]
pub mod api;
#[cfg(not(feature = "call"))]
pub mod app;
#[cfg(any(feature = "hydrate", feature = "call"))]
pub mod browser;
#[cfg(feature = "call")]
pub mod call;
#[cfg(not(feature = "call"))]
pub mod components;
#[cfg(not(feature = "call"))]
pub mod contexts;
pub mod domain;
pub mod error;
#[cfg(not(feature = "call"))]
pub mod pages;

#[cfg(feature = "ssr")]
pub mod server;

/// Entry point of the wasm bundle. Pages are server-rendered HTML; only their islands (the live
/// call, the replay, the feedback being prepared, the recovery notice: `#[island]`) come alive.
/// This readies the reactive system; the page's loader (`app::Scripts`) then hydrates each
/// island with the function the bundle exports for it.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
