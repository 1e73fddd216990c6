//! The coach's notes (corrections beside what was said, better wording, strengths, one focus,
//! a level estimate) and the rest of the measures.

use super::*;

#[component]
pub(super) fn CoachNotes(review: CoachReview, play: bool, own: bool) -> impl IntoView {
    let CoachReview {
        corrections,
        rewrites,
        strengths,
        focus,
        level,
        ..
    } = review;
    let said = if own { "You said" } else { "Said" };
    let corrections_view = if corrections.is_empty() {
        view! {
            <p class="mt-2 text-stone-700" data-testid="no-corrections">
                "No corrections this time: what was said was clear and correct."
            </p>
        }
        .into_any()
    } else {
        view! {
            <ol class="mt-3 space-y-3" data-testid="corrections">
                {corrections
                    .into_iter()
                    .map(|c| {
                        let item = c.item_id.clone();
                        view! {
                            <li class="rounded-xl border border-stone-200 p-4" data-testid="correction" data-item=c.item_id.clone()>
                                <p class="text-sm font-medium uppercase tracking-wide text-stone-500">
                                    {c.kind.replace('_', " ")}
                                </p>
                                <div class="mt-2 grid gap-2 sm:grid-cols-2">
                                    <p class="rounded-lg bg-amber-50 px-3 py-2 text-lg leading-relaxed text-stone-900">
                                        <span class="block text-xs font-semibold uppercase tracking-wide text-amber-900">{said}</span>
                                        <span data-testid="correction-original">{c.original}</span>
                                    </p>
                                    <p class="rounded-lg bg-teal-50 px-3 py-2 text-lg leading-relaxed text-stone-900">
                                        <span class="block text-xs font-semibold uppercase tracking-wide text-teal-900">"Better"</span>
                                        <span data-testid="correction-corrected">{c.corrected}</span>
                                    </p>
                                </div>
                                <p class="mt-2 text-stone-700">{c.explanation}</p>
                                // The replay's island plays the turn (`components/replay.rs`).
                                {play.then(|| {
                                    view! {
                                        <button
                                            type="button"
                                            data-play-turn=item
                                            class="focus-ring mt-2 inline-flex min-h-11 items-center gap-2 rounded-lg px-2 font-medium text-teal-800 underline underline-offset-2 hover:text-teal-900"
                                        >
                                            <span aria-hidden="true">"▶"</span>
                                            "Hear it in the recording"
                                        </button>
                                    }
                                })}
                            </li>
                        }
                    })
                    .collect_view()}
            </ol>
        }
        .into_any()
    };
    let level_view = match level {
        LevelEstimate::Estimated { level, reason } => view! {
            <p class="mt-1 text-stone-800">
                <span class="mr-2 rounded-full border border-teal-300 bg-teal-50 px-3 py-0.5 font-semibold text-teal-900" data-testid="feedback-level">
                    {level}
                </span>
                {reason}
            </p>
        }
        .into_any(),
        LevelEstimate::NotEnoughSpeech { words } => view! {
            <p class="mt-1 text-stone-700" data-testid="feedback-level-none">
                {format!(
                    "Not enough speech to estimate a level yet ({words} words; about {MIN_WORDS_FOR_LEVEL} are needed)."
                )}
            </p>
        }
        .into_any(),
    };
    view! {
        <div class="mt-8">
            <h3 class="text-lg font-semibold">"Corrections"</h3>
            {corrections_view}
        </div>
        {(!rewrites.is_empty())
            .then(|| {
                view! {
                    <div class="mt-8">
                        <h3 class="text-lg font-semibold">"Try saying it this way"</h3>
                        <ul class="mt-3 space-y-3" data-testid="rewrites">
                            {rewrites
                                .into_iter()
                                .map(|r| {
                                    view! {
                                        <li class="rounded-xl border border-stone-200 p-4">
                                            <p class="text-stone-600">{format!("“{}”", r.original)}</p>
                                            <p class="mt-1 text-lg font-medium text-stone-900">{format!("→ “{}”", r.better)}</p>
                                            <p class="mt-1 text-sm text-stone-600">{r.why}</p>
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    </div>
                }
            })}
        <div class="mt-8 grid gap-4 md:grid-cols-2">
            <div class="rounded-xl bg-teal-50 p-4">
                <h3 class="font-semibold text-teal-950">"What went well"</h3>
                <ul class="mt-2 list-disc space-y-1 pl-5 text-stone-800" data-testid="strengths">
                    {strengths.into_iter().map(|s| view! { <li>{s}</li> }).collect_view()}
                </ul>
            </div>
            <div class="rounded-xl bg-amber-50 p-4">
                <h3 class="font-semibold text-amber-950">"Focus next time"</h3>
                <p class="mt-2 text-stone-800" data-testid="focus">{focus}</p>
            </div>
        </div>
        <div class="mt-6">
            <h3 class="font-semibold">"Estimated level (CEFR)"</h3>
            {level_view}
        </div>
    }
}

/// Everything else that was measured, folded away.
#[component]
pub(super) fn MoreMeasures(metrics: SpeechMetrics, own: bool) -> impl IntoView {
    let you = if own { "You" } else { "The learner" };
    let seconds = |ms: u64| format!("{} s", one_decimal(ms as f64 / 1000.0));
    let mut rows: Vec<(&'static str, String)> = vec![(
        "Words and turns",
        format!(
            "{} words in {} turns{}",
            metrics.learner_words,
            metrics.learner_turns,
            metrics
                .longest_turn
                .as_ref()
                .map(|t| format!("; the longest turn had {} words", t.words))
                .unwrap_or_default()
        ),
    )];
    rows.push((
        "Speaking time",
        format!(
            "{you} {}, the coach {}",
            clock(metrics.learner_speaking_ms / 1000),
            clock(metrics.coach_speaking_ms / 1000)
        ),
    ));
    rows.push((
        "Answering the coach",
        metrics.answer_gaps.as_ref().map_or_else(
            || "Not measured".to_owned(),
            |gaps| {
                format!(
                    "Usually after {} (the longest wait {})",
                    seconds(gaps.median_ms),
                    seconds(gaps.longest_ms)
                )
            },
        ),
    ));
    rows.push((
        "Pauses of a second or more",
        metrics.pauses.as_ref().map_or_else(
            || "Not measured: there is no recording to measure them on".to_owned(),
            |p| match p.count {
                0 => "None inside the turns".to_owned(),
                1 => format!("1 (it lasted {})", seconds(p.longest_ms)),
                n => format!("{n} (the longest {})", seconds(p.longest_ms)),
            },
        ),
    ));
    rows.push((
        "Repeated words",
        match metrics.repetitions.count {
            0 => "None".to_owned(),
            n => format!(
                "{n}: {}",
                metrics
                    .repetitions
                    .examples
                    .iter()
                    .map(|e| format!("“{e}”"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
    ));
    rows.push((
        "Word variety (MATTR)",
        metrics.mattr.map_or_else(
            || "Needs at least 50 words to measure".to_owned(),
            |m| format!("{m:.2} (1.00 would be no word ever repeated within 50)"),
        ),
    ));
    rows.push((
        "Topic words used",
        if metrics.topic_words_used.is_empty() {
            "None yet".to_owned()
        } else {
            metrics.topic_words_used.join(", ")
        },
    ));
    if !metrics.topic_words_unused.is_empty() {
        rows.push(("Topic words to try", metrics.topic_words_unused.join(", ")));
    }
    if let Some(new) = metrics.new_words.as_ref().filter(|n| !n.is_empty()) {
        rows.push(("New words", new.join(", ")));
    }
    view! {
        <details class="group mt-8 rounded-xl border border-stone-200 p-4">
            <summary class="focus-ring cursor-pointer rounded font-medium text-stone-800">
                "More about how you spoke"
            </summary>
            <dl class="mt-3 divide-y divide-stone-100" data-testid="more-measures">
                {rows
                    .into_iter()
                    .map(|(label, value)| {
                        view! {
                            <div class="grid gap-1 py-2 sm:grid-cols-[14rem_1fr]">
                                <dt class="text-stone-600">{label}</dt>
                                <dd class="text-stone-900">{value}</dd>
                            </div>
                        }
                    })
                    .collect_view()}
            </dl>
        </details>
    }
}
