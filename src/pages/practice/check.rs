//! The pre-call check: the microphone, the coach and the topic's words, before Start.

use leptos::prelude::*;

/// Microphone permission, a live level meter, the headphone hint, and Start once all is ready.
#[component]
pub(super) fn PreCallCheck(vocabulary: Vec<String>) -> impl IntoView {
    view! {
        <div data-call="check" class="mt-8 grid gap-6 lg:grid-cols-[minmax(0,1fr)_20rem]">
            <section aria-labelledby="check-heading" class="card h-fit p-6">
                <h2 id="check-heading" class="text-lg font-semibold">"Before you start"</h2>
                <ul class="mt-5 space-y-5">
                    <CheckRow
                        name="mic-row"
                        waiting="Asking for your microphone…"
                        finished="Your microphone is on"
                    />
                    <li class="pl-9">
                        <p id="meter-label" class="text-sm text-stone-600">
                            "Say something: the bar should move when you speak."
                        </p>
                        // The bar's width is set through the CSSOM in the browser: a `style`
                        // attribute would break the page's Content Security Policy.
                        <div
                            role="meter"
                            aria-labelledby="meter-label"
                            aria-valuemin="0"
                            aria-valuemax="100"
                            aria-valuenow="0"
                            data-testid="mic-meter"
                            data-call="meter"
                            class="mt-2 h-3 w-full overflow-hidden rounded-full bg-stone-100"
                        >
                            <div
                                data-call="meter-bar"
                                class="h-full w-0 rounded-full bg-teal-600 transition-[width] duration-75 motion-reduce:transition-none"
                            ></div>
                        </div>
                    </li>
                    <CheckRow
                        name="coach-row"
                        waiting="Getting your coach ready…"
                        finished="Your coach is ready"
                    />
                </ul>
                <button
                    type="button"
                    data-call="start"
                    disabled
                    class="btn-lg btn-primary mt-8 w-full sm:w-auto sm:min-w-56"
                >
                    "Getting ready…"
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
                <div data-call="check-words">
                    <VocabularyList vocabulary />
                </div>
            </aside>
        </div>
    }
}

/// A step of the check: a spinner and what is awaited, then a tick and what is done, as the
/// call marks it (`data-done`).
#[component]
fn CheckRow(name: &'static str, waiting: &'static str, finished: &'static str) -> impl IntoView {
    view! {
        <li class="group flex items-center gap-3" data-call=name data-done="false">
            <span
                aria-hidden="true"
                class="h-6 w-6 rounded-full border-2 border-stone-300 border-t-teal-600 motion-safe:animate-spin group-data-[done=true]:hidden"
            ></span>
            <span
                aria-hidden="true"
                class="hidden h-6 w-6 items-center justify-center rounded-full bg-teal-600 text-sm text-white group-data-[done=true]:flex"
            >
                "✓"
            </span>
            <span class="text-base text-stone-800 group-data-[done=true]:hidden">{waiting}</span>
            <span class="hidden text-base text-stone-800 group-data-[done=true]:inline">{finished}</span>
        </li>
    }
}

/// The topic's words, each ticked once the learner has said it (`data-used`, set by the call).
/// One list, which the call moves beside the conversation when it starts.
#[component]
fn VocabularyList(vocabulary: Vec<String>) -> impl IntoView {
    let total = vocabulary.len();
    view! {
        <section data-call="words">
            <h2 class="flex items-baseline justify-between text-lg font-semibold">
                "Words to try"
                <span class="text-sm font-normal text-stone-600" data-testid="words-count" data-call="words-count">
                    {format!("0 of {total} used")}
                </span>
            </h2>
            <ul class="mt-3 flex flex-wrap gap-2" aria-label="Target vocabulary">
                {vocabulary
                    .into_iter()
                    .enumerate()
                    .map(|(index, word)| {
                        view! {
                            <li
                                data-call=format!("word-{index}")
                                data-used="false"
                                class="group inline-flex items-center gap-1 rounded-full border border-stone-300 bg-white px-3 py-1.5 text-base text-stone-800 data-[used=true]:border-teal-600 data-[used=true]:bg-teal-600 data-[used=true]:text-white"
                            >
                                <span aria-hidden="true" class="hidden group-data-[used=true]:inline">"✓"</span>
                                {word}
                                <span class="sr-only" data-call=format!("word-{index}-note")></span>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </section>
    }
}
