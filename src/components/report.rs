//! "How you spoke": the coach's feedback on a session, as the summary (and a share link whose
//! learner chose to include it) shows it. Headline figures with a plain reading each (compared
//! with the learner's own earlier sessions first), the corrections beside what was said, better
//! ways to say things, strengths, one focus, a level estimate, then the rest of the measures.

use leptos::prelude::*;

use crate::{
    api::feedback::RemakeFeedback,
    components::feedback::action_error,
    domain::{
        feedback::{
            Baseline, CoachReview, Feedback, FeedbackReport, FeedbackStatus, LevelEstimate,
            MIN_WORDS_FOR_LEVEL, Review, SpeechMetrics, one_decimal,
        },
        practice::clock,
    },
};

const CARD: &str = "rounded-2xl border border-stone-200 bg-white p-6 shadow-sm";
const SECONDARY_BUTTON: &str = "focus-ring inline-flex min-h-11 items-center rounded-xl border border-teal-700 bg-white px-5 font-medium text-teal-800 hover:bg-teal-50 disabled:opacity-60";

/// The section for a session whose feedback is `feedback` (`None`: never asked for). `remake`
/// runs Try again; `play` plays a learner turn (by item id) in the replay, when there is one.
#[component]
pub fn HowYouSpoke(
    session: String,
    feedback: Option<Feedback>,
    /// The session has ended (feedback comes only then).
    ended: bool,
    #[prop(default = None)] remake: Option<ServerAction<RemakeFeedback>>,
    #[prop(default = None)] play: Option<Callback<String>>,
    /// The learner reads their own session ("you"); false on a share link.
    #[prop(default = true)]
    own: bool,
) -> impl IntoView {
    let body = match feedback {
        None if !ended => view! {
            <p class="mt-2 text-stone-600">"Your feedback comes when the session ends."</p>
        }
        .into_any(),
        None => view! {
            <p class="mt-2 text-stone-600">"Feedback was not prepared for this session yet."</p>
            <RemakeButton session=session.clone() remake label="Prepare feedback" />
        }
        .into_any(),
        Some(Feedback {
            status: FeedbackStatus::Preparing,
            ..
        }) => view! { <Preparing /> }.into_any(),
        Some(Feedback {
            status: FeedbackStatus::Failed,
            report,
            failure,
            ..
        }) => view! {
            <div role="alert" data-testid="feedback-failed" class="mt-4 rounded-xl border border-red-200 bg-red-50 p-4">
                <p class="font-medium text-red-900">
                    {failure.unwrap_or_else(|| "We couldn't prepare your feedback this time.".into())}
                </p>
                <p class="mt-1 text-red-900">
                    "Your recording and transcript are saved and safe. You can try again."
                </p>
                <RemakeButton session=session.clone() remake label="Try again" />
            </div>
            {report.map(|report| view! { <Figures metrics=report.metrics baseline=None own /> })}
        }
        .into_any(),
        Some(Feedback {
            status: FeedbackStatus::Ready,
            report: Some(report),
            baseline,
            made_at,
            ..
        }) => {
            let made = made_at.map(|at| at.format("%-d %B %Y, %H:%M UTC").to_string());
            view! {
                <Ready report baseline play own />
                {made.map(|made| view! {
                    <p class="mt-6 text-sm text-stone-500">{format!("Prepared {made}.")}</p>
                })}
            }
            .into_any()
        }
        Some(Feedback {
            status: FeedbackStatus::Ready,
            report: None,
            ..
        }) => view! { <Preparing /> }.into_any(),
    };
    view! {
        <section aria-labelledby="how-you-spoke" data-testid="how-you-spoke" class=format!("mt-6 {CARD}")>
            <h2 id="how-you-spoke" class="text-xl font-semibold tracking-tight">
                {if own { "How you spoke" } else { "How the learner spoke" }}
            </h2>
            {body}
        </section>
    }
}

/// Designed loading: what is coming, in the shape it will have.
#[component]
fn Preparing() -> impl IntoView {
    view! {
        <div data-testid="feedback-preparing">
            // Without JavaScript the page cannot look again by itself: the browser reloads it.
            <noscript inner_html=r#"<meta http-equiv="refresh" content="5">"#></noscript>
            <p role="status" class="mt-2 text-stone-700">
                "Your feedback is being prepared. It appears here by itself in a moment."
            </p>
            <div aria-hidden="true" class="mt-4 grid grid-cols-2 gap-3 sm:grid-cols-4">
                {(0..4)
                    .map(|_| {
                        view! {
                            <div class="h-24 rounded-xl bg-stone-100 motion-safe:animate-pulse"></div>
                        }
                    })
                    .collect_view()}
            </div>
        </div>
    }
}

#[component]
fn RemakeButton(
    session: String,
    remake: Option<ServerAction<RemakeFeedback>>,
    label: &'static str,
) -> impl IntoView {
    remake.map(|remake| {
        let failed = action_error(remake);
        view! {
            <ActionForm action=remake attr:class="mt-3">
                <input type="hidden" name="session" value=session />
                <button type="submit" class=SECONDARY_BUTTON disabled=move || remake.pending().get()>
                    {label}
                </button>
            </ActionForm>
            <p role="alert" class="mt-2 text-red-700 empty:hidden">{failed}</p>
        }
    })
}

#[component]
fn Ready(
    report: FeedbackReport,
    baseline: Option<Baseline>,
    play: Option<Callback<String>>,
    own: bool,
) -> impl IntoView {
    let FeedbackReport { metrics, review } = report;
    if metrics.learner_words == 0 {
        return view! {
            <p class="mt-2 text-lg text-stone-700" data-testid="feedback-empty">
                "Not enough speech to assess."
            </p>
            <p class="mt-1 text-stone-600">
                "Nothing the learner said was transcribed. Next time, answer the coach in full \
                 sentences: even a short conversation gives you feedback."
            </p>
        }
        .into_any();
    }
    let review = match review {
        Review::Done(review) => view! { <CoachNotes review play own /> }.into_any(),
        Review::NotEnoughSpeech => ().into_any(),
        Review::Unavailable { reason } => view! {
            <p class="mt-6 rounded-xl bg-stone-100 p-4 text-stone-700">
                {format!("{reason} The measurements above still stand.")}
            </p>
        }
        .into_any(),
    };
    view! {
        <p class="mt-1 text-sm text-stone-600">
            "Measured from the transcript and the recording. Timings are approximate."
        </p>
        <Figures metrics=metrics.clone() baseline own />
        {review}
        <MoreMeasures metrics own />
    }
    .into_any()
}

/// A headline figure with its plain reading.
#[component]
fn Figure(
    label: &'static str,
    value: String,
    reading: String,
    testid: &'static str,
) -> impl IntoView {
    view! {
        <div class="rounded-xl border border-stone-200 bg-stone-50 p-4">
            <dt class="text-sm text-stone-600">{label}</dt>
            <dd class="mt-1">
                <span class="block text-2xl font-semibold tabular-nums text-stone-900" data-testid=testid>
                    {value}
                </span>
                <span class="mt-1 block text-sm leading-snug text-stone-700">{reading}</span>
            </dd>
        </div>
    }
}

#[component]
fn Figures(metrics: SpeechMetrics, baseline: Option<Baseline>, own: bool) -> impl IntoView {
    let base = baseline.as_ref();
    let pace = metrics
        .pace_wpm
        .map_or_else(|| "—".to_owned(), |wpm| format!("{} wpm", wpm.round()));
    let fillers = metrics
        .fillers
        .per_100_words
        .map_or_else(|| "—".to_owned(), one_decimal);
    let share = metrics
        .learner_share
        .map_or_else(|| "—".to_owned(), |s| format!("{}%", (s * 100.0).round()));
    view! {
        <dl class="mt-4 grid grid-cols-1 gap-3 min-[480px]:grid-cols-2 lg:grid-cols-4">
            <Figure
                label="Pace"
                value=pace
                reading=pace_reading(metrics.pace_wpm, base)
                testid="feedback-pace"
            />
            <Figure
                label="Fillers per 100 words"
                value=fillers
                reading=fillers_reading(&metrics, base)
                testid="feedback-fillers"
            />
            <Figure
                label=if own { "Your share of the talking" } else { "Learner's share of the talking" }
                value=share
                reading=share_reading(metrics.learner_share)
                testid="feedback-share"
            />
            <Figure
                label="Different words"
                value=metrics.distinct_words.to_string()
                reading=words_reading(&metrics, base)
                testid="feedback-words"
            />
        </dl>
    }
}

/// "About your usual", "faster than your usual 110", or, with no earlier session, where the pace
/// sits among conversational speech rates (see research.md).
pub fn pace_reading(wpm: Option<f64>, base: Option<&Baseline>) -> String {
    let Some(wpm) = wpm else {
        return "Your turns were too short to time.".to_owned();
    };
    if let Some(usual) = base.and_then(|b| b.pace_wpm) {
        let difference = wpm - usual;
        return if difference.abs() < 8.0 {
            format!("About your usual pace ({} wpm).", usual.round())
        } else if difference > 0.0 {
            format!("Faster than your usual {} wpm.", usual.round())
        } else {
            format!("Slower than your usual {} wpm.", usual.round())
        };
    }
    if wpm < 90.0 {
        "Unhurried. Taking your time is fine while fluency grows.".to_owned()
    } else if wpm <= 160.0 {
        "A comfortable conversational pace.".to_owned()
    } else {
        "Quick. Short pauses help your listener follow.".to_owned()
    }
}

pub fn fillers_reading(metrics: &SpeechMetrics, base: Option<&Baseline>) -> String {
    let Some(rate) = metrics.fillers.per_100_words else {
        return "No words to count.".to_owned();
    };
    let top = metrics
        .fillers
        .top
        .iter()
        .map(|(filler, n)| format!("“{filler}” ×{n}"))
        .collect::<Vec<_>>()
        .join(", ");
    let top = if top.is_empty() {
        String::new()
    } else {
        format!(" Most often: {top}.")
    };
    if let Some(usual) = base.and_then(|b| b.fillers_per_100_words) {
        let reading = if (rate - usual).abs() < 0.5 {
            format!("About your usual {}.", one_decimal(usual))
        } else if rate < usual {
            format!("Fewer than your usual {}.", one_decimal(usual))
        } else {
            format!("More than your usual {}.", one_decimal(usual))
        };
        return format!("{reading}{top}");
    }
    let reading = if metrics.fillers.count == 0 {
        "None at all."
    } else if rate < 3.0 {
        "Few: your speech flowed."
    } else if rate < 6.0 {
        "Some, about as many as everyday conversation has."
    } else {
        "Many. A short silent pause works better."
    };
    format!("{reading}{top}")
}

pub fn share_reading(share: Option<f64>) -> String {
    match share {
        None => "No timed speech.".to_owned(),
        Some(s) if s < 0.35 => "The coach did most of the talking: try longer answers.".to_owned(),
        Some(s) if s <= 0.65 => "A balanced conversation.".to_owned(),
        Some(_) => "Most of the talking was yours: great practice.".to_owned(),
    }
}

pub fn words_reading(metrics: &SpeechMetrics, base: Option<&Baseline>) -> String {
    match &metrics.new_words {
        None => "Your first session with feedback: the next ones compare with it.".to_owned(),
        Some(_) if metrics.new_word_count == 0 => {
            let usual = base.and_then(|b| b.distinct_words);
            match usual {
                Some(usual) => format!("No new words this time (usually {}).", usual.round()),
                None => "No new words this time.".to_owned(),
            }
        }
        Some(_) if metrics.new_word_count == 1 => "1 word you had not used before.".to_owned(),
        Some(_) => format!("{} words you had not used before.", metrics.new_word_count),
    }
}

#[component]
fn CoachNotes(review: CoachReview, play: Option<Callback<String>>, own: bool) -> impl IntoView {
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
                                {play.map(|play| {
                                    view! {
                                        <button
                                            type="button"
                                            class="focus-ring mt-2 inline-flex min-h-11 items-center gap-2 rounded-lg px-2 font-medium text-teal-800 underline underline-offset-2 hover:text-teal-900"
                                            on:click=move |_| play.run(item.clone())
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
fn MoreMeasures(metrics: SpeechMetrics, own: bool) -> impl IntoView {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn base(pace: f64) -> Baseline {
        Baseline {
            sessions: 3,
            pace_wpm: Some(pace),
            fillers_per_100_words: Some(4.0),
            learner_share: Some(0.5),
            distinct_words: Some(60.0),
        }
    }

    #[test]
    fn pace_is_read_against_the_learners_usual_pace_first() {
        assert_eq!(
            pace_reading(Some(130.0), Some(&base(110.0))),
            "Faster than your usual 110 wpm."
        );
        assert_eq!(
            pace_reading(Some(112.0), Some(&base(110.0))),
            "About your usual pace (110 wpm)."
        );
        assert_eq!(
            pace_reading(Some(120.0), None),
            "A comfortable conversational pace."
        );
        assert_eq!(
            pace_reading(None, None),
            "Your turns were too short to time."
        );
    }

    #[test]
    fn fillers_name_the_most_frequent() {
        let mut metrics = SpeechMetrics::default();
        metrics.fillers.count = 3;
        metrics.fillers.per_100_words = Some(2.0);
        metrics.fillers.top = vec![("um".into(), 2), ("like".into(), 1)];
        assert_eq!(
            fillers_reading(&metrics, None),
            "Few: your speech flowed. Most often: “um” ×2, “like” ×1."
        );
        assert_eq!(
            fillers_reading(&metrics, Some(&base(100.0))),
            "Fewer than your usual 4. Most often: “um” ×2, “like” ×1."
        );
    }
}
