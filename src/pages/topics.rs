//! `/` and `/topics`: every practice topic as a card, filterable by level (`?level=B1`). The
//! filter is made of plain links, so it works before the wasm has loaded or without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::topics::list_topics,
    components::{
        feedback::{CardSkeletons, ErrorPanel},
        topic_card::TopicCard,
    },
    domain::{CefrLevel, Topic},
};

#[component]
pub fn TopicsPage() -> impl IntoView {
    let topics = Resource::new(|| (), |()| list_topics());
    let query = use_query_map();
    let level = Memo::new(move |_| {
        query
            .read()
            .get("level")
            .and_then(|raw| CefrLevel::parse(&raw).ok())
    });

    view! {
        <Title text="Topics" />
        <div class="max-w-2xl">
            <h1 class="text-3xl font-semibold tracking-tight text-stone-900 sm:text-4xl">
                "What would you like to talk about?"
            </h1>
            <p class="mt-3 text-lg leading-relaxed text-stone-600">
                "Pick a topic and have a real conversation with your coach. You'll see what you said as you speak, and you can replay every session afterwards."
            </p>
        </div>
        <LevelFilter selected=level />
        <Suspense fallback=|| view! { <CardSkeletons /> }>
            {move || Suspend::new(async move {
                match topics.await {
                    Ok(all) => view! { <TopicGrid topics=all level=level.get() /> }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Links to `/topics?level=…`, the current one marked for assistive technology.
#[component]
pub fn LevelFilter(#[prop(into)] selected: Signal<Option<CefrLevel>>) -> impl IntoView {
    let option = move |label: String, href: String, level: Option<CefrLevel>| {
        let current = move || (selected.get() == level).then_some("page");
        view! {
            <li>
                <a
                    href=href
                    aria-current=current
                    class="focus-ring inline-flex min-h-11 items-center rounded-full border border-stone-300 bg-white px-4 text-sm font-medium text-stone-700 hover:border-stone-400 hover:bg-stone-50 aria-[current=page]:border-teal-700 aria-[current=page]:bg-teal-700 aria-[current=page]:text-white"
                >
                    {label}
                </a>
            </li>
        }
    };
    view! {
        <nav aria-label="Filter by level" class="mt-8 mb-6">
            <ul class="flex flex-wrap gap-2">
                {option("All levels".into(), "/topics".into(), None)}
                {CefrLevel::ALL
                    .into_iter()
                    .map(|level| {
                        option(
                            format!("{} · {}", level.code(), level.name()),
                            format!("/topics?level={}", level.code()),
                            Some(level),
                        )
                    })
                    .collect_view()}
            </ul>
        </nav>
    }
}

#[component]
fn TopicGrid(topics: Vec<Topic>, level: Option<CefrLevel>) -> impl IntoView {
    let shown: Vec<Topic> = topics
        .into_iter()
        .filter(|topic| level.is_none_or(|level| topic.level == level))
        .collect();
    let count = match (shown.len(), level) {
        (1, None) => "1 topic".to_owned(),
        (n, None) => format!("{n} topics"),
        (1, Some(level)) => format!("1 topic at {level}"),
        (n, Some(level)) => format!("{n} topics at {level}"),
    };

    if shown.is_empty() {
        return view! {
            <div class="rounded-2xl border border-dashed border-stone-300 bg-white p-10 text-center">
                <h2 class="text-xl font-semibold">"No topics at this level yet"</h2>
                <p class="mt-2 text-stone-600">"New topics are added regularly. Meanwhile, try a neighbouring level."</p>
                <a
                    href="/topics"
                    class="btn btn-primary mt-6"
                >
                    "Show all topics"
                </a>
            </div>
        }
        .into_any();
    }

    view! {
        <p class="mb-4 text-sm text-stone-500" aria-live="polite">{count}</p>
        <ul class="grid gap-4 sm:grid-cols-2 lg:grid-cols-3" aria-label="Practice topics">
            {shown.into_iter().map(|topic| view! { <TopicCard topic /> }).collect_view()}
        </ul>
    }
    .into_any()
}
