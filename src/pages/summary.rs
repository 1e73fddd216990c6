//! `/practice/{id}`: the summary of one of the learner's sessions (someone else's is a 404).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::Redirect, hooks::use_params_map};

use crate::{
    api::{
        feedback::{RemakeFeedback, get_feedback},
        practice::{
            DeletePractice, RecoverPractice, ShareFeedback, SharePractice, UnsharePractice,
            get_practice, practice_turns,
        },
    },
    components::{
        feedback::{ErrorPanel, action_error},
        recovery::RecoverButton,
        replay::{Conversation, Replay},
        report::HowYouSpoke,
    },
    domain::{
        feedback::Feedback,
        practice::{PracticeSession, PracticeStatus, Recording, SessionState, clock},
        transcript::SavedTurn,
    },
    error::AppError,
};

mod manage;

use self::manage::{DeleteSession, ShareSession, Sharing};

#[component]
pub fn SummaryPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    // Recovering from this page makes the recording; the page then shows it.
    let recover = ServerAction::<RecoverPractice>::new();
    let sharing = Sharing {
        share: ServerAction::new(),
        unshare: ServerAction::new(),
        feedback: ServerAction::new(),
    };
    // Read once per page: every form here posts as plain HTML and the page is loaded again.
    let session = Resource::new(id, |id| async move {
        let session = get_practice(id.clone()).await?;
        let turns = practice_turns(id).await?;
        Ok::<_, AppError>((session, turns))
    });
    // The feedback is read on its own; while it is being prepared, an island looks again
    // (`components::report`).
    let remake = ServerAction::<RemakeFeedback>::new();
    let feedback = Resource::new(id, get_feedback);
    view! {
        <Transition fallback=|| {
            view! { <div role="status" aria-label="Loading" class="h-64 rounded-2xl bg-stone-100 motion-safe:animate-pulse"></div> }
        }>
            {move || Suspend::new(async move {
                match session.await {
                    Ok((session, turns)) => {
                        view! { <Summary session turns recover sharing feedback remake /> }.into_any()
                    }
                    Err(AppError::Unauthorized) => {
                        let next = crate::domain::account::sign_in_then(&format!("/practice/{}", id()));
                        view! { <Redirect path=next /> }.into_any()
                    }
                    Err(error) => {
                        view! {
                            <Title text="Session not found" />
                            <ErrorPanel error />
                        }
                            .into_any()
                    }
                }
            })}
        </Transition>
    }
}

/// The session's feedback.
type FeedbackResource = Resource<Result<Option<Feedback>, AppError>>;

#[component]
fn Summary(
    session: PracticeSession,
    turns: Vec<SavedTurn>,
    recover: ServerAction<RecoverPractice>,
    sharing: Sharing,
    feedback: FeedbackResource,
    remake: ServerAction<RemakeFeedback>,
) -> impl IntoView {
    let topic = session.topic.clone();
    let duration = session
        .duration_secs()
        .map_or_else(|| "Live".to_owned(), clock);
    let date = session
        .started_at
        .format("%-d %B %Y, %H:%M UTC")
        .to_string();
    let used = session.words_used.len();
    let recording = match &session.recording {
        Some(Recording::Ready {
            duration_ms,
            provisional: true,
            ..
        }) => format!(
            "We saved the recording as far as it reached us ({}). If the page that recorded it is \
             still open somewhere, open Speaking Coach there to send the rest, or recover it as it is.",
            clock(duration_ms / 1000)
        ),
        Some(Recording::Ready {
            duration_ms,
            missing_chunks,
            ..
        }) if missing_chunks.is_empty() => {
            format!("Your recording is saved ({}).", clock(duration_ms / 1000))
        }
        Some(Recording::Ready { duration_ms, .. }) => format!(
            "Your recording is saved ({}); part of it never reached us and is missing.",
            clock(duration_ms / 1000)
        ),
        Some(Recording::Failed { reason, .. }) => format!(
            "We couldn't process your recording: {reason} What was uploaded and your transcript are kept."
        ),
        None if session.state == Some(SessionState::InProgress) => {
            "This session is still going on.".to_owned()
        }
        None if session.recording_bytes > 0 => format!(
            "This session stopped before its recording was finished ({} KB reached us): recover \
             it to keep what was recorded.",
            session.recording_bytes.div_ceil(1024)
        ),
        None => "No recording was saved for this session.".to_owned(),
    };
    // Choosing a correction plays its turn in the replay.
    let playable = matches!(session.recording, Some(Recording::Ready { .. }));
    let ended = session.status == PracticeStatus::Ended;
    let session_id = session.id.clone();
    let recoverable = session.state == Some(SessionState::NeedsRecovery);
    let total = topic.vocabulary.len();
    let headline = match used {
        0 => "Every conversation counts.".to_owned(),
        n if n == total => "You used every word. Brilliant!".to_owned(),
        n => format!("You used {n} of the {total} words."),
    };
    view! {
        <Title text=format!("Summary: {}", topic.title) />
        <div class="mx-auto max-w-5xl">
            <p class="text-sm font-medium uppercase tracking-wide text-teal-700">"Session summary"</p>
            <h1 class="mt-1 text-3xl font-semibold tracking-tight text-stone-900">{topic.title.clone()}</h1>
            <p class="mt-2 text-lg text-stone-600">{headline}</p>

            <Transition fallback=|| {
                view! { <div role="status" aria-label="Loading your feedback" class="mt-6 h-40 rounded-2xl bg-stone-100 motion-safe:animate-pulse"></div> }
            }>
                {move || {
                    let session = session_id.clone();
                    Suspend::new(async move {
                        match feedback.await {
                            Ok(feedback) => {
                                view! { <HowYouSpoke session feedback ended remake=Some(remake) play=playable /> }
                                    .into_any()
                            }
                            Err(error) => {
                                view! {
                                    <p role="alert" class="mt-6 rounded-xl bg-red-50 p-4 text-red-900">
                                        {format!("Your feedback could not be loaded: {error}")}
                                    </p>
                                }
                                    .into_any()
                            }
                        }
                    })
                }}
            </Transition>

            <dl class="mt-8 grid grid-cols-3 gap-3 sm:gap-4">
                <Fact label="Duration" value=duration testid="summary-duration" />
                <Fact label="Turns" value=session.turn_count.to_string() testid="summary-turns" />
                <Fact label="Words used" value=format!("{used} / {total}") testid="summary-words" />
            </dl>

            <section
                aria-labelledby="summary-words-heading"
                class="card mt-6 p-6"
            >
                <h2 id="summary-words-heading" class="text-lg font-semibold">"Your words"</h2>
                <ul class="mt-4 flex flex-wrap gap-2" aria-label="Target vocabulary">
                    {topic
                        .vocabulary
                        .iter()
                        .map(|word| {
                            let was_used = session.words_used.contains(word);
                            view! {
                                <li
                                    data-used=was_used.to_string()
                                    class=if was_used {
                                        "inline-flex items-center gap-1 rounded-full border border-teal-600 bg-teal-600 px-3 py-1.5 text-base text-white"
                                    } else {
                                        "inline-flex items-center gap-1 rounded-full border border-stone-300 bg-white px-3 py-1.5 text-base text-stone-600"
                                    }
                                >
                                    {was_used.then_some(view! { <span aria-hidden="true">"✓"</span> })}
                                    {word.clone()}
                                    <span class="sr-only">{if was_used { " (used)" } else { " (not yet)" }}</span>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            </section>

            {if playable {
                view! { <Replay src=format!("/api/practice/{}/recording", session.id) turns own=true /> }.into_any()
            } else {
                view! { <Conversation turns own=true /> }.into_any()
            }}
            <p class="mt-6 text-sm text-stone-500" data-testid="summary-recording">{recording}</p>
            {recoverable
                .then(|| {
                    view! {
                        <div class="mt-3">
                            <RecoverButton session=session.id.clone() recover label="Recover this session" />
                            <p role="alert" class="mt-2 text-red-700 empty:hidden">{action_error(recover)}</p>
                        </div>
                    }
                })}
            <p class="mt-1 text-sm text-stone-500">{format!("Practised on {date}. Private to you.")}</p>
            <a
                href=format!("/api/practice/{}/export", session.id)
                download
                rel="external"
                class="focus-ring mt-3 inline-flex min-h-11 items-center gap-2 rounded-lg text-base font-medium text-teal-800 underline underline-offset-2 hover:text-teal-900"
            >
                <span aria-hidden="true">"↓"</span>
                "Download everything (recording and transcript, zip)"
            </a>
            <div class="mt-6 flex flex-wrap gap-3">
                <a
                    href=format!("/topics/{}/practice", topic.slug.as_str())
                    class="btn-lg btn-primary"
                >
                    "Practise again"
                </a>
                <a
                    href="/topics"
                    class="btn-lg btn-secondary"
                >
                    "Choose another topic"
                </a>
            </div>
            <ShareSession
                session=session.id.clone()
                url=session.share_url.clone()
                with_feedback=session.share_includes_feedback
                sharing
            />
            <DeleteSession session=session.id.clone() />
        </div>
    }
}

#[component]
fn Fact(label: &'static str, value: String, testid: &'static str) -> impl IntoView {
    view! {
        <div class="card p-4 sm:p-5">
            <dt class="text-sm text-stone-600">{label}</dt>
            <dd class="mt-1 text-2xl font-semibold tabular-nums text-stone-900" data-testid=testid>
                {value}
            </dd>
        </div>
    }
}
