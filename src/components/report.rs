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

mod notes;
mod readings;
mod watch;

use self::notes::{CoachNotes, MoreMeasures};
pub use self::readings::{fillers_reading, pace_reading, share_reading, words_reading};
use self::watch::FeedbackWatch;

/// The section for a session whose feedback is `feedback` (`None`: never asked for). `remake`
/// runs Try again; `play`: the page has a replay, and each correction a button that plays its
/// turn in it.
#[component]
pub fn HowYouSpoke(
    session: String,
    feedback: Option<Feedback>,
    /// The session has ended (feedback comes only then).
    ended: bool,
    #[prop(default = None)] remake: Option<ServerAction<RemakeFeedback>>,
    #[prop(optional)] play: bool,
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
        }) => view! { <Preparing session=session.clone() own /> }.into_any(),
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
        }) => view! { <Preparing session=session.clone() own /> }.into_any(),
    };
    view! {
        <section aria-labelledby="how-you-spoke" data-testid="how-you-spoke" class="card mt-6 p-6">
            <h2 id="how-you-spoke" class="text-xl font-semibold tracking-tight">
                {if own { "How you spoke" } else { "How the learner spoke" }}
            </h2>
            {body}
        </section>
    }
}

/// Designed loading: what is coming, in the shape it will have. On the learner's own summary it
/// appears by itself once it is ready (`FeedbackWatch`).
#[component]
fn Preparing(session: String, own: bool) -> impl IntoView {
    view! {
        <div data-testid="feedback-preparing">
            // Without JavaScript the page cannot look again by itself: the browser reloads it.
            <noscript inner_html=r#"<meta http-equiv="refresh" content="5">"#></noscript>
            {own.then(|| view! { <FeedbackWatch session /> })}
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
                <button type="submit" class="btn btn-outline">
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
    play: bool,
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
