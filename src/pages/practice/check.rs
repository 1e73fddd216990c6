//! The pre-call check: the microphone, the coach and the topic's words, before Start.

use leptos::prelude::*;

use super::Practice;
use crate::domain::session::Command;
use crate::domain::{call::CallState, practice::words_used};

/// Microphone permission, a live level meter, the headphone hint, and Start once all is ready.
#[component]
pub(super) fn PreCallCheck(p: Practice) -> impl IntoView {
    let mic_ready = move || {
        matches!(
            p.state.get(),
            CallState::Ready
                | CallState::Checking {
                    mic_ready: true,
                    ..
                }
        )
    };
    let coach_ready = move || {
        matches!(
            p.state.get(),
            CallState::Ready
                | CallState::Checking {
                    secret_ready: true,
                    ..
                }
        )
    };
    let ready = move || p.state.get() == CallState::Ready;
    // -60 dBFS (silence) .. 0 dBFS (full scale) as 0..100 %.
    let level_percent = move || {
        let level = p.mic_level.get().max(1e-6);
        let db = 20.0 * level.log10();
        ((db + 60.0) / 60.0 * 100.0).clamp(0.0, 100.0)
    };
    // The bar's width is set through the CSSOM in the browser: a server-rendered `style`
    // attribute would break the page's Content Security Policy (no inline styles).
    let meter_bar = NodeRef::<leptos::html::Div>::new();
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let width = format!("{:.0}%", level_percent());
        if let Some(bar) = meter_bar.get() {
            let _ = web_sys::HtmlElement::style(&bar).set_property("width", &width);
        }
    });
    view! {
        <div class="mt-8 grid gap-6 lg:grid-cols-[minmax(0,1fr)_20rem]">
            <section
                aria-labelledby="check-heading"
                class="card h-fit p-6"
            >
                <h2 id="check-heading" class="text-lg font-semibold">"Before you start"</h2>
                <ul class="mt-5 space-y-5">
                    <CheckRow
                        done=Signal::derive(mic_ready)
                        waiting="Asking for your microphone…"
                        finished="Your microphone is on"
                    />
                    <li class="pl-9">
                        <p id="meter-label" class="text-sm text-stone-600">
                            "Say something: the bar should move when you speak."
                        </p>
                        <div
                            role="meter"
                            aria-labelledby="meter-label"
                            aria-valuemin="0"
                            aria-valuemax="100"
                            aria-valuenow=move || format!("{:.0}", level_percent())
                            data-testid="mic-meter"
                            class="mt-2 h-3 w-full overflow-hidden rounded-full bg-stone-100"
                        >
                            <div
                                node_ref=meter_bar
                                class="h-full w-0 rounded-full bg-teal-600 transition-[width] duration-75 motion-reduce:transition-none"
                            ></div>
                        </div>
                    </li>
                    <CheckRow
                        done=Signal::derive(coach_ready)
                        waiting="Getting your coach ready…"
                        finished="Your coach is ready"
                    />
                </ul>
                <button
                    type="button"
                    on:click=move |_| p.send(Command::Start)
                    disabled=move || !ready()
                    class="btn-lg btn-primary mt-8 w-full sm:w-auto sm:min-w-56"
                >
                    {move || if ready() { "Start conversation" } else { "Getting ready…" }}
                </button>
            </section>
            <aside class="h-fit space-y-4 rounded-2xl border border-teal-200 bg-teal-50/60 p-6">
                <h2 class="text-lg font-semibold text-stone-900">"Tips"</h2>
                <p class="text-base leading-relaxed text-stone-700">
                    <span class="font-medium">"Use headphones"</span>
                    " if you can: then the coach hears only you, not itself."
                </p>
                <p class="text-base leading-relaxed text-stone-700">
                    "Your coach speaks first. Take your time; there are no wrong answers."
                </p>
                <VocabularyList p />
            </aside>
        </div>
    }
}

#[component]
pub(super) fn CheckRow(
    done: Signal<bool>,
    waiting: &'static str,
    finished: &'static str,
) -> impl IntoView {
    view! {
        <li class="flex items-center gap-3">
            <span
                aria-hidden="true"
                class=move || {
                    if done.get() {
                        "flex h-6 w-6 items-center justify-center rounded-full bg-teal-600 text-sm text-white"
                    } else {
                        "h-6 w-6 rounded-full border-2 border-stone-300 border-t-teal-600 motion-safe:animate-spin"
                    }
                }
            >
                {move || if done.get() { "✓" } else { "" }}
            </span>
            <span class="text-base text-stone-800">
                {move || if done.get() { finished } else { waiting }}
            </span>
        </li>
    }
}

/// The topic's words, each ticked once the learner has said it.
#[component]
pub(super) fn VocabularyList(p: Practice) -> impl IntoView {
    let used = Memo::new(move |_| {
        p.topic
            .with_value(|topic| p.transcript.with(|t| words_used(&topic.vocabulary, t)))
    });
    let words = p.topic.with_value(|topic| topic.vocabulary.clone());
    let count = move || used.with(|used| used.iter().filter(|u| **u).count());
    let total = words.len();
    view! {
        <section aria-labelledby="words-heading">
            <h2 id="words-heading" class="flex items-baseline justify-between text-lg font-semibold">
                "Words to try"
                <span class="text-sm font-normal text-stone-600" data-testid="words-count">
                    {move || format!("{} of {total} used", count())}
                </span>
            </h2>
            <ul class="mt-3 flex flex-wrap gap-2" aria-label="Target vocabulary">
                {words
                    .into_iter()
                    .enumerate()
                    .map(|(index, word)| {
                        let is_used = move || used.with(|used| used.get(index).copied().unwrap_or(false));
                        view! {
                            <li
                                data-used=move || is_used().to_string()
                                class=move || {
                                    if is_used() {
                                        "inline-flex items-center gap-1 rounded-full border border-teal-600 bg-teal-600 px-3 py-1.5 text-base text-white"
                                    } else {
                                        "inline-flex items-center gap-1 rounded-full border border-stone-300 bg-white px-3 py-1.5 text-base text-stone-800"
                                    }
                                }
                            >
                                <span aria-hidden="true">{move || if is_used() { "✓" } else { "" }}</span>
                                {word.clone()}
                                <span class="sr-only">{move || if is_used() { " (used)" } else { "" }}</span>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </section>
    }
}
