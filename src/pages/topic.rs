//! `/topics/{slug}`: what the conversation is about, its level, the words to try, and the place
//! where the learner starts a practice session.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::{
    api::{auth::my_account, topics::get_topic},
    components::{
        feedback::ErrorPanel,
        topic_card::{LevelBadge, Minutes},
    },
    domain::{Topic, account::Account},
    error::AppError,
};

#[component]
pub fn TopicPage() -> impl IntoView {
    let params = use_params_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let topic = Resource::new(slug, get_topic);
    // Made with the page, not inside its Suspense: what a render made there and then dropped
    // would be read after the response is gone.
    let account = Resource::new(|| (), |()| my_account());

    view! {
        <Suspense fallback=|| view! { <TopicSkeleton /> }>
            {move || Suspend::new(async move {
                match topic.await {
                    Ok(topic) => view! { <TopicDetail topic account /> }.into_any(),
                    Err(error) => {
                        view! {
                            <Title text="Topic not found" />
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
fn TopicDetail(topic: Topic, account: AccountResource) -> impl IntoView {
    let minutes = topic.suggested_minutes;
    view! {
        <Title text=topic.title.clone() />
        <a
            href="/topics"
            class="link-back"
        >
            <span aria-hidden="true">"←"</span>
            "All topics"
        </a>
        <header class="mt-2 max-w-3xl">
            <div class="flex flex-wrap items-center gap-3">
                <LevelBadge level=topic.level />
                <Minutes minutes />
            </div>
            <h1 class="mt-4 text-3xl font-semibold tracking-tight text-stone-900 sm:text-4xl">
                {topic.title.clone()}
            </h1>
            <p class="mt-3 text-lg leading-relaxed text-stone-600">{topic.summary.clone()}</p>
        </header>

        <div class="mt-10 grid gap-6 lg:grid-cols-[minmax(0,1fr)_20rem]">
            <div class="space-y-6">
                <section
                    aria-labelledby="goal-heading"
                    class="card p-6"
                >
                    <h2 id="goal-heading" class="text-lg font-semibold">
                        "How the conversation goes"
                    </h2>
                    <p class="mt-2 text-lg leading-relaxed text-stone-700">{topic.goal.clone()}</p>
                </section>
                <section
                    aria-labelledby="vocabulary-heading"
                    class="card p-6"
                >
                    <h2 id="vocabulary-heading" class="text-lg font-semibold">
                        "Words to try"
                    </h2>
                    <p class="mt-1 text-stone-600">
                        "Use these while you talk. Each one is ticked off when you say it."
                    </p>
                    <ul class="mt-4 flex flex-wrap gap-2" aria-label="Target vocabulary">
                        {topic
                            .vocabulary
                            .iter()
                            .map(|word| {
                                view! {
                                    <li class="rounded-full border border-stone-300 bg-stone-50 px-3 py-1.5 text-base text-stone-800">
                                        {word.clone()}
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                </section>
            </div>

            <aside
                aria-labelledby="start-heading"
                class="h-fit rounded-2xl border border-teal-200 bg-teal-50/60 p-6 lg:sticky lg:top-6"
            >
                <h2 id="start-heading" class="text-lg font-semibold text-stone-900">
                    "Ready to talk?"
                </h2>
                <ul class="mt-3 space-y-2 text-base text-stone-700">
                    <li>{format!("About {minutes} minutes with your coach")}</li>
                    <li>"Headphones help the coach hear only you"</li>
                    <li>"Private to you unless you choose to share"</li>
                </ul>
                <NearALimit account />
                <StartPractice slug=topic.slug.as_str().to_owned() />
            </aside>
        </div>
    }
}

/// For a signed-in learner near one of their limits (calls today, storage), what it is, before
/// they start; nothing for anyone else.
/// The signed-in learner's account with their usage (an error for a visitor).
type AccountResource = Resource<Result<Account, AppError>>;

#[component]
fn NearALimit(account: AccountResource) -> impl IntoView {
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                let warnings = account
                    .await
                    .ok()
                    .and_then(|account| account.usage)
                    .map(|usage| usage.warnings())
                    .unwrap_or_default();
                (!warnings.is_empty())
                    .then(|| {
                        view! {
                            <div
                                class="mt-6 rounded-xl border border-amber-300 bg-amber-50 p-4 text-base text-amber-900"
                                data-testid="near-a-limit"
                            >
                                {warnings
                                    .into_iter()
                                    .map(|warning| view! { <p class="[&+p]:mt-2">{warning}</p> })
                                    .collect_view()}
                                <a
                                    href="/account"
                                    class="mt-2 inline-block font-medium underline underline-offset-4"
                                >
                                    "See your limits"
                                </a>
                            </div>
                        }
                    })
            })}
        </Suspense>
    }
}

/// The one big action, or (said before the learner commits) why this browser cannot do it. The
/// document's head marks a browser that cannot make calls (`app.rs`), and the style shows the one
/// or the other, so the page needs no wasm to tell.
#[component]
fn StartPractice(slug: String) -> impl IntoView {
    view! {
        <div
            role="alert"
            class="mt-6 hidden rounded-xl border border-amber-300 bg-amber-50 p-4 text-base text-amber-900 no-calls:block"
        >
            <p class="font-semibold">"This browser can't run voice practice"</p>
            <p class="mt-1">
                "Voice practice needs a microphone, WebRTC and audio recording, over a secure (https) connection. Please open Speaking Coach in a recent Chrome, Edge, Firefox or Safari."
            </p>
        </div>
        <a
            href=format!("/topics/{slug}/practice")
            class="btn-lg btn-primary mt-6 w-full no-calls:hidden"
        >
            "Start practice"
        </a>
    }
}

#[component]
fn TopicSkeleton() -> impl IntoView {
    view! {
        <div role="status" aria-label="Loading topic" class="motion-safe:animate-pulse">
            <div class="h-6 w-28 rounded-full bg-stone-200"></div>
            <div class="mt-5 h-9 w-2/3 rounded bg-stone-200"></div>
            <div class="mt-4 h-5 w-full max-w-2xl rounded bg-stone-100"></div>
            <div class="mt-10 h-40 rounded-2xl bg-stone-100"></div>
        </div>
    }
}
