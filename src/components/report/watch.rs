//! Feedback being prepared appears by itself: an island that looks again every second and, once
//! the feedback is there, puts the section in as the server renders it now. The rest of the page
//! (the replay that may be playing) stays as it is.

use leptos::prelude::*;

/// Watches the feedback of `session` while it is being prepared.
// Lazy in the split build: its code loads in files of its own (`server::bundle`).
#[cfg_attr(feature = "split", island(lazy))]
#[cfg_attr(not(feature = "split"), island)]
pub(super) fn FeedbackWatch(session: String) -> impl IntoView {
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(browser::watch(session));
    #[cfg(not(feature = "hydrate"))]
    let _ = session;
}

#[cfg(feature = "hydrate")]
mod browser {
    use std::time::Duration;

    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;

    use crate::{
        api::feedback::get_feedback,
        domain::feedback::{Feedback, FeedbackStatus},
    };

    /// How often the page looks again at feedback being prepared.
    const POLL: Duration = Duration::from_secs(1);
    /// The section the summary shows the feedback in (`HowYouSpoke`).
    const SECTION: &str = r#"[data-testid="how-you-spoke"]"#;
    /// What it holds while the feedback is being prepared (`Preparing`).
    const PREPARING: &str = r#"[data-testid="feedback-preparing"]"#;

    pub(super) async fn watch(session: String) {
        loop {
            gloo_timers::future::sleep(POLL).await;
            let preparing = matches!(
                get_feedback(session.clone()).await,
                Ok(Some(Feedback {
                    status: FeedbackStatus::Preparing,
                    ..
                }))
            );
            // A failed look (offline for a moment) is tried again too.
            if preparing {
                continue;
            }
            match swap_in().await {
                Ok(true) => return,
                // The page was still preparing when it was read again: go on looking.
                Ok(false) => continue,
                Err(_) => {
                    // Reading the page failed: load it again, which shows the feedback too.
                    let _ = leptos::prelude::window().location().reload();
                    return;
                }
            }
        }
    }

    /// Reads this page again and puts its feedback section in place of the one shown. `false`
    /// when the fresh page still shows the feedback being prepared (nothing is changed then).
    async fn swap_in() -> Result<bool, JsValue> {
        let window = leptos::prelude::window();
        let response: web_sys::Response =
            JsFuture::from(window.fetch_with_str(&window.location().href()?))
                .await?
                .dyn_into()?;
        if !response.ok() {
            return Err(JsValue::from_str("the page could not be read"));
        }
        let html = JsFuture::from(response.text()?)
            .await?
            .as_string()
            .unwrap_or_default();
        let fresh = web_sys::DomParser::new()?
            .parse_from_string(&html, web_sys::SupportedType::TextHtml)?
            .query_selector(SECTION)?
            .ok_or_else(|| JsValue::from_str("no feedback on the page"))?;
        if fresh.query_selector(PREPARING)?.is_some() {
            return Ok(false);
        }
        let shown = leptos::prelude::document()
            .query_selector(SECTION)?
            .ok_or_else(|| JsValue::from_str("no feedback shown"))?;
        shown.replace_with_with_node_1(&fresh)?;
        Ok(true)
    }
}
