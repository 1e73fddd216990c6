//! Speaking Coach: practise speaking with an AI coach, in one Leptos codebase that spans the
//! browser (feature `hydrate`, compiled to wasm) and the server (feature `ssr`), and the live
//! call page's own wasm bundle (feature `call`, without Leptos).
// The pages nest deep view types; the release wasm build needs more room.
#![recursion_limit = "256"]

// The site (its pages, islands and server functions) is Leptos', on the server (`ssr`) and in the
// islands' bundle (`hydrate`). The call page's own bundle (feature `call`) holds only the call,
// the domain and the browser wrappers: Leptos is not even a dependency of that build.
#[cfg(any(feature = "ssr", feature = "hydrate"))]
pub mod api;
#[cfg(any(feature = "ssr", feature = "hydrate"))]
pub mod app;
#[cfg(any(feature = "hydrate", feature = "call"))]
pub mod browser;
#[cfg(feature = "call")]
pub mod call;
#[cfg(any(feature = "ssr", feature = "hydrate"))]
pub mod components;
#[cfg(any(feature = "ssr", feature = "hydrate"))]
pub mod contexts;
pub mod domain;
pub mod error;
#[cfg(any(feature = "ssr", feature = "hydrate"))]
pub mod pages;

#[cfg(feature = "ssr")]
pub mod server;

/// Entry point of the islands' wasm bundle. Pages are server-rendered HTML; only their islands
/// (the replay, the feedback being prepared, the recovery notice: `#[island]`) come alive.
/// This readies the reactive system; the page's loader (`app::Scripts`) then hydrates each
/// island with the function the bundle exports for it.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
