//! A topic as a card in the topics grid, and the level badge used wherever a level is shown.

use leptos::prelude::*;

use crate::domain::{CefrLevel, Topic};

#[component]
pub fn LevelBadge(level: CefrLevel) -> impl IntoView {
    view! {
        <span
            class="inline-flex items-center gap-1.5 rounded-full bg-teal-50 px-2.5 py-1 text-sm font-medium text-teal-800 ring-1 ring-inset ring-teal-200"
            title=level.name()
        >
            <span class="font-semibold">{level.code()}</span>
            <span class="text-teal-700">{level.name()}</span>
        </span>
    }
}

#[component]
pub fn Minutes(minutes: u8) -> impl IntoView {
    view! {
        <span class="inline-flex items-center gap-1 text-sm text-stone-500">
            <svg
                aria-hidden="true"
                viewBox="0 0 20 20"
                class="h-4 w-4"
                fill="none"
                stroke="currentColor"
                stroke-width="1.8"
            >
                <circle cx="10" cy="10" r="7.25" />
                <path d="M10 6v4l2.5 1.5" stroke-linecap="round" />
            </svg>
            {format!("{minutes} min")}
        </span>
    }
}

#[component]
pub fn TopicCard(topic: Topic) -> impl IntoView {
    let words = topic.vocabulary.len();
    let href = topic.href();
    view! {
        <li>
            <a
                href=href
                class="card focus-ring group flex h-full flex-col p-5 transition-colors hover:border-teal-300 hover:shadow-md"
            >
                <div class="flex items-center justify-between gap-3">
                    <LevelBadge level=topic.level />
                    <Minutes minutes=topic.suggested_minutes />
                </div>
                <h2 class="mt-4 text-lg font-semibold leading-snug text-stone-900 group-hover:text-teal-800">
                    {topic.title}
                </h2>
                <p class="mt-1.5 flex-1 text-base leading-relaxed text-stone-600">{topic.summary}</p>
                <p class="mt-4 flex items-center justify-between text-sm font-medium text-stone-500">
                    <span>{format!("{words} words to practise")}</span>
                    <span
                        aria-hidden="true"
                        class="text-teal-700 transition-transform motion-safe:group-hover:translate-x-0.5"
                    >
                        "→"
                    </span>
                </p>
            </a>
        </li>
    }
}
