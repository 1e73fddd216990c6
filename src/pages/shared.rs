//! `/shared/{token}`: a session its learner chose to share, for anyone with the link: the topic,
//! the date, the recording and the transcript; nothing of the account. A revoked or unknown link
//! is a 404.

use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_params_map;

use crate::{
    api::practice::get_shared,
    components::replay::{Conversation, Replay},
    components::{feedback::ErrorPanel, report::HowYouSpoke},
    domain::practice::{SharedSession, clock},
};

#[component]
pub fn SharedPage() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let shared = Resource::new(token, get_shared);
    view! {
        // Shared links are not for search engines.
        <Meta name="robots" content="noindex" />
        <Suspense fallback=|| {
            view! { <div role="status" aria-label="Loading" class="h-64 rounded-2xl bg-stone-100 motion-safe:animate-pulse"></div> }
        }>
            {move || Suspend::new(async move {
                match shared.await {
                    Ok(shared) => view! { <Shared shared token=token() /> }.into_any(),
                    Err(error) => {
                        view! {
                            <Title text="Shared session not found" />
                            <ErrorPanel error />
                        }
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn Shared(shared: SharedSession, token: String) -> impl IntoView {
    let date = shared.started_at.format("%-d %B %Y").to_string();
    let facts = match shared.duration_secs {
        Some(secs) => format!("Practised on {date} · {}", clock(secs)),
        None => format!("Practised on {date}"),
    };
    view! {
        <Title text=format!("Shared session: {}", shared.topic_title) />
        <div class="mx-auto max-w-5xl">
            <p class="text-sm font-medium uppercase tracking-wide text-teal-700">"A shared practice session"</p>
            <h1 class="mt-1 text-3xl font-semibold tracking-tight text-stone-900">{shared.topic_title.clone()}</h1>
            <p class="mt-2 text-lg text-stone-600" data-testid="shared-facts">{facts}</p>
            {shared.feedback.map(|feedback| {
                view! { <HowYouSpoke session=String::new() feedback=Some(feedback) ended=true own=false play=shared.playable /> }
            })}
            {if shared.playable {
                view! { <Replay src=format!("/api/shared/{token}/recording") turns=shared.turns own=false /> }.into_any()
            } else {
                view! {
                    <p class="mt-6 rounded-2xl border border-stone-200 bg-white p-6 text-stone-600">
                        "This session has no recording to play."
                    </p>
                    <Conversation turns=shared.turns own=false />
                }
                    .into_any()
            }}
            <p class="mt-6 text-sm text-stone-500">
                "Shared by the learner who practised it. They can stop sharing at any time."
            </p>
        </div>
    }
}
