//! `/topics/{slug}/practice`: the pre-call check, then the live conversation with the coach.
//! Everything slow (the microphone, the call secret, the offer) happens during the check, out of
//! sight, so Start only has to connect.
//!
//! The server renders every panel of the call here, hidden but the check; the call's own browser
//! bundle (`crate::call`, without Leptos' runtime) shows, hides and fills them, finding each part
//! it changes by its `data-call` name.

mod check;
mod controls;
mod live;
mod outcome;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::Redirect, hooks::use_params_map};

use self::{
    check::PreCallCheck,
    live::LiveCall,
    outcome::{EndedPanel, FailurePanel},
};
use crate::{
    api::{auth::my_account, topics::get_topic},
    components::feedback::ErrorPanel,
    domain::{Topic, call::CallState},
    error::AppError,
};

#[component]
pub fn PracticePage() -> impl IntoView {
    let params = use_params_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let topic = Resource::new(slug, |slug| async move {
        let account = my_account().await?;
        Ok::<_, AppError>((get_topic(slug).await?, account.email))
    });
    view! {
        <Suspense fallback=|| view! { <PracticeSkeleton /> }>
            {move || Suspend::new(async move {
                match topic.await {
                    Ok((topic, owner)) => {
                        view! {
                            <Title text=format!("Practise: {}", topic.title) />
                            <PracticeRoom topic owner />
                        }
                            .into_any()
                    }
                    Err(AppError::Unauthorized) => {
                        let next = crate::domain::account::sign_in_then(&format!(
                            "/topics/{}/practice",
                            slug()
                        ));
                        view! { <Redirect path=next /> }.into_any()
                    }
                    Err(error) => {
                        view! {
                            <Title text="Practice" />
                            <ErrorPanel error />
                        }
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// The call's page: the server-rendered panels, and what the call's bundle needs to start (the
/// topic, the learner, and where the bundle is). The page's loader (`app::Scripts`) starts it.
#[component]
fn PracticeRoom(topic: Topic, owner: String) -> impl IntoView {
    let slug = topic.slug.as_str().to_owned();
    let props = serde_json::to_string(&(&topic, &owner)).unwrap_or_default();
    let pkg = use_context::<leptos::config::LeptosOptions>()
        .map(|options| options.site_pkg_dir.to_string())
        .unwrap_or_else(|| "pkg".to_owned());
    let (js, wasm) = call_bundle(&pkg);
    view! {
        <div
            data-call="page"
            data-props=props
            data-js=js
            data-wasm=wasm
        >
            <div class="flex flex-wrap items-center justify-between gap-3">
                <a href=format!("/topics/{slug}") class="link-back">
                    <span aria-hidden="true">"←"</span>
                    {topic.title.clone()}
                </a>
                <StatusBar suggested_minutes=topic.suggested_minutes />
            </div>
            <h1 class="mt-2 text-2xl font-semibold tracking-tight text-stone-900 sm:text-3xl">
                {topic.title.clone()}
            </h1>
            <PreCallCheck vocabulary=topic.vocabulary.clone() />
            <LiveCall />
            <EndedPanel slug=slug.clone() />
            <FailurePanel slug />
        </div>
    }
}

/// The call's own bundle under the site's `pkg` directory (`script/lib.sh`'s `build_call` writes
/// it there): its script and its wasm.
pub fn call_bundle(pkg: &str) -> (String, String) {
    (
        format!("/{pkg}/call/call.js"),
        format!("/{pkg}/call/call_bg.wasm"),
    )
}

/// The status pill and the elapsed time against the topic's suggested length.
#[component]
fn StatusBar(suggested_minutes: u8) -> impl IntoView {
    let suggested = crate::domain::practice::clock(u64::from(suggested_minutes) * 60);
    view! {
        <div class="flex items-center gap-3">
            <p
                role="status"
                data-testid="call-status"
                data-call="status"
                class="inline-flex min-h-9 items-center gap-2 rounded-full border border-stone-200 bg-white px-3 text-sm font-medium text-stone-700"
            >
                <span
                    data-call="status-dot"
                    class="h-2.5 w-2.5 rounded-full bg-stone-400"
                    aria-hidden="true"
                ></span>
                <span data-call="status-text">{CallState::Idle.label()}</span>
            </p>
            <p class="text-sm tabular-nums text-stone-600" data-testid="elapsed" data-call="elapsed" hidden>
                <span class="sr-only">"Elapsed time "</span>
                <span data-call="elapsed-clock">"0:00"</span>
                <span class="text-stone-400">{format!(" / {suggested}")}</span>
            </p>
        </div>
    }
}

#[component]
fn PracticeSkeleton() -> impl IntoView {
    view! {
        <div role="status" aria-label="Loading" class="motion-safe:animate-pulse">
            <div class="h-6 w-40 rounded bg-stone-200"></div>
            <div class="mt-4 h-8 w-2/3 rounded bg-stone-200"></div>
            <div class="mt-8 h-64 rounded-2xl bg-stone-100"></div>
        </div>
    }
}
