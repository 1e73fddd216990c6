//! `/history`: the learner's own sessions, newest first, twenty at a time (keyset pages: `?after=`
//! is the previous page's last session). A session that stopped before everything was saved says
//! so and is recovered with one click.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::Redirect, hooks::use_query_map};

use crate::{
    api::practice::{RecoverPractice, practice_history},
    components::feedback::{ErrorPanel, action_error},
    components::recovery::RecoverButton,
    domain::{
        feedback::FeedbackLine,
        practice::{HistoryEntry, HistoryPage as Page, SessionState, clock},
    },
    error::AppError,
};

#[component]
pub fn HistoryPage() -> impl IntoView {
    let query = use_query_map();
    let after = move || query.read().get("after");
    let recover = ServerAction::<RecoverPractice>::new();
    let page = Resource::new(after, practice_history);
    view! {
        <Title text="Your sessions" />
        <div class="mx-auto max-w-3xl">
            <h1 class="text-3xl font-semibold tracking-tight text-stone-900">"Your sessions"</h1>
            <p class="mt-2 text-lg text-stone-600">
                "Every conversation you have had, newest first. Only you can see them. "
                <a href="/progress" class="link">
                    "See your progress"
                </a>
            </p>
            <Transition fallback=|| view! { <HistorySkeleton /> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(page) => {
                            view! { <HistoryList page first=after().is_none() recover /> }.into_any()
                        }
                        Err(AppError::Unauthorized) => {
                            view! { <Redirect path="/sign-in?next=/history" /> }.into_any()
                        }
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    }
                })}
            </Transition>
        </div>
    }
}

#[component]
fn HistorySkeleton() -> impl IntoView {
    view! {
        <div role="status" aria-label="Loading your sessions" class="mt-8 space-y-3">
            {(0..4)
                .map(|_| {
                    view! {
                        <div class="h-20 rounded-2xl border border-stone-200 bg-white p-5" aria-hidden="true">
                            <div class="motion-safe:animate-pulse space-y-3">
                                <div class="h-5 w-1/2 rounded bg-stone-200"></div>
                                <div class="h-4 w-1/3 rounded bg-stone-100"></div>
                            </div>
                        </div>
                    }
                })
                .collect_view()}
        </div>
    }
}

#[component]
fn HistoryList(page: Page, first: bool, recover: ServerAction<RecoverPractice>) -> impl IntoView {
    if page.entries.is_empty() {
        let (title, text) = if first {
            (
                "No sessions yet",
                "Pick a topic and have your first conversation: it will be saved here.",
            )
        } else {
            (
                "No older sessions",
                "You have reached your very first session.",
            )
        };
        return view! {
            <section class="mt-8 rounded-2xl border border-dashed border-stone-300 bg-white p-10 text-center">
                <h2 class="text-xl font-semibold text-stone-900">{title}</h2>
                <p class="mt-2 text-stone-600">{text}</p>
                <a
                    href="/topics"
                    class="btn-lg btn-primary mt-6"
                >
                    "Choose a topic"
                </a>
            </section>
        }
        .into_any();
    }
    view! {
        <p role="alert" class="mt-6 text-red-700 empty:hidden">{action_error(recover)}</p>
        <ul class="mt-8 space-y-3" aria-label="Sessions">
            {page
                .entries
                .into_iter()
                .map(|entry| view! { <Entry entry recover /> })
                .collect_view()}
        </ul>
        <nav aria-label="More sessions" class="mt-8 flex flex-wrap gap-3">
            {(!first)
                .then(|| {
                    view! {
                        <a href="/history" class=PAGE_LINK>
                            "Newest sessions"
                        </a>
                    }
                })}
            {page
                .next
                .map(|next| {
                    view! {
                        <a href=format!("/history?after={next}") class=PAGE_LINK>
                            "Older sessions"
                        </a>
                    }
                })}
        </nav>
    }
    .into_any()
}

const PAGE_LINK: &str = "focus-ring inline-flex min-h-11 items-center rounded-xl border border-stone-300 bg-white px-5 font-medium text-stone-800 hover:bg-stone-50";

#[component]
fn Entry(entry: HistoryEntry, recover: ServerAction<RecoverPractice>) -> impl IntoView {
    let date = date_label(&entry);
    let facts = match entry.duration_secs {
        Some(secs) => format!(
            "{date} · {} · {} {}",
            clock(secs),
            entry.turn_count,
            if entry.turn_count == 1 {
                "turn"
            } else {
                "turns"
            }
        ),
        None => date,
    };
    let (badge, tone) = match entry.state {
        SessionState::Saved => ("Saved", "border-teal-200 bg-teal-50 text-teal-900"),
        SessionState::InProgress => ("In progress", "border-stone-200 bg-stone-50 text-stone-700"),
        SessionState::NeedsRecovery => (
            "Needs recovery",
            "border-amber-300 bg-amber-50 text-amber-900",
        ),
        SessionState::Failed => ("Recording failed", "border-red-200 bg-red-50 text-red-800"),
    };
    let needs_recovery = entry.state == SessionState::NeedsRecovery;
    let id = entry.id.clone();
    let label = format!("Recover {} from {}", entry.topic_title, date_label(&entry));
    view! {
        <li
            data-testid="history-entry"
            data-state=entry.state.label()
            class="card flex flex-wrap items-center justify-between gap-3 p-4 sm:p-5"
        >
            <div class="min-w-0">
                <a
                    href=format!("/practice/{}", entry.id)
                    class="focus-ring rounded text-lg font-semibold text-stone-900 hover:text-teal-800"
                >
                    {entry.topic_title.clone()}
                </a>
                <p class="mt-0.5 text-sm text-stone-600">{facts}</p>
                {entry.feedback.map(|line| {
                    let text = match line {
                        FeedbackLine::Preparing => "Feedback being prepared…".to_owned(),
                        FeedbackLine::Failed => "Feedback could not be prepared: open to try again".to_owned(),
                        FeedbackLine::Ready(headline) => headline,
                    };
                    view! { <p class="mt-0.5 text-sm font-medium text-teal-900" data-testid="history-feedback">{text}</p> }
                })}
            </div>
            <div class="flex items-center gap-3">
                <span class=format!("rounded-full border px-3 py-1 text-sm font-medium {tone}")>
                    {badge}
                </span>
                {needs_recovery
                    .then(|| {
                        view! {
                            <RecoverButton session=id.clone() recover label="Recover" aria_label=label.clone() />
                        }
                    })}
            </div>
        </li>
    }
}

fn date_label(entry: &HistoryEntry) -> String {
    entry.started_at.format("%-d %B %Y, %H:%M UTC").to_string()
}
