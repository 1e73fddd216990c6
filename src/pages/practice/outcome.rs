//! How a call ends: saving after End, a failure with its way forward, and what the page says
//! while part of the session waits to be saved.

use leptos::prelude::*;

use super::Practice;
use crate::domain::session::Command;
use crate::domain::{call::CallFailure, saving::SaveTrouble};

/// After End, while the session is saved (then the summary opens).
#[component]
pub(super) fn EndedPanel(p: Practice) -> impl IntoView {
    let slug = p.topic.with_value(|topic| topic.slug.as_str().to_owned());
    view! {
        <section class="card mt-8 p-8 text-center">
            {move || match p.trouble.get().map(Err).or(p.problem.get().map(Ok)) {
                Some(problem) => {
                    view! {
                        <h2 class="text-xl font-semibold text-stone-900">"Your session has ended"</h2>
                        <div class="mt-2 text-lg text-stone-700" data-testid="saving-problem">
                            {match problem {
                                Ok(problem) => view! { <p>{problem.message().to_owned()}</p> }.into_any(),
                                Err(trouble) => view! { <TroubleNote trouble /> }.into_any(),
                            }}
                        </div>
                        <a
                            href=format!("/topics/{slug}")
                            class="btn btn-secondary mt-6"
                        >
                            "Back to the topic"
                        </a>
                    }
                        .into_any()
                }
                None if p.session_id.get().is_none() && p.live_since.get().is_none() => {
                    view! {
                        <h2 class="text-xl font-semibold text-stone-900">"Call cancelled"</h2>
                        <p class="mt-2 text-lg text-stone-700">"Nothing was saved."</p>
                        <a
                            href=format!("/topics/{slug}/practice")
                            rel="external"
                            class="btn btn-primary mt-6"
                        >
                            "Start again"
                        </a>
                    }
                        .into_any()
                }
                None => {
                    view! {
                        <div role="status" class="text-lg text-stone-700">
                            <p class="font-semibold text-stone-900">"Session ended"</p>
                            <p class="mt-1">"Saving your session…"</p>
                        </div>
                    }
                        .into_any()
                }
            }}
        </section>
    }
}

/// What went wrong, in a learner's words, and the way forward.
#[component]
pub(super) fn FailurePanel(p: Practice, failure: CallFailure) -> impl IntoView {
    let slug = p.topic.with_value(|topic| topic.slug.as_str().to_owned());
    let went_live = p.live_since.get_untracked().is_some();
    let title = failure.title();
    let body = failure
        .advice(went_live, p.problem.get_untracked().as_ref())
        .to_owned();
    // A session that was going on: it is saved, and there is no trying again.
    let lost = matches!(
        failure,
        CallFailure::ConnectionLost | CallFailure::LimitReached | CallFailure::CoachUnavailable
    ) && p.live_since.get_untracked().is_some();
    // Seconds until the server takes another attempt, counted down in the browser.
    let wait = RwSignal::new(match failure {
        CallFailure::TooManyAttempts { retry_after_secs } => retry_after_secs,
        _ => 0,
    });
    if wait.get_untracked() > 0 {
        Effect::new(move |_| {
            let handle = StoredValue::new(None::<IntervalHandle>);
            let tick = move || {
                wait.update(|left| *left = left.saturating_sub(1));
                if wait.get_untracked() == 0
                    && let Some(Some(done)) = handle.try_get_value()
                {
                    done.clear();
                }
            };
            if let Ok(ticking) = set_interval_with_handle(tick, std::time::Duration::from_secs(1)) {
                handle.set_value(Some(ticking));
                on_cleanup(move || ticking.clear());
            }
        });
    }
    let waiting = matches!(failure, CallFailure::TooManyAttempts { .. }).then_some(move || {
        match wait.get() {
            0 => "You can try again now.".to_owned(),
            1 => "Please wait 1 second, then try again.".to_owned(),
            secs => format!("Please wait {secs} seconds, then try again."),
        }
    });
    // Trying again cannot help a browser without what calls need, or a page served insecurely.
    let retry = !lost
        && !matches!(
            failure,
            CallFailure::Unsupported | CallFailure::InsecureContext
        );
    // What became of the session a lost call leaves behind: saving, saved, or a problem saving.
    let kept = move || {
        lost.then(|| match (p.kept.get(), p.trouble.get()) {
            (Some(_), _) => view! {
                <p class="mt-2 text-lg leading-relaxed text-stone-700">
                    "Everything said and recorded until then is saved in your summary, and you can start a new conversation whenever you're ready."
                </p>
            }
            .into_any(),
            (None, Some(trouble)) => view! {
                <div class="mt-2 text-lg leading-relaxed text-stone-700">
                    <TroubleNote trouble />
                </div>
            }
            .into_any(),
            (None, None) => view! {
                <p role="status" class="mt-2 text-lg leading-relaxed text-stone-700">
                    "Saving everything said and recorded until then…"
                </p>
            }
            .into_any(),
        })
    };
    view! {
        <section
            role="alert"
            class="mt-8 max-w-2xl rounded-2xl border border-red-200 bg-white p-6 shadow-sm"
        >
            <h2 class="text-xl font-semibold text-stone-900">{title}</h2>
            <p class="mt-2 text-lg leading-relaxed text-stone-700 empty:hidden">{body}</p>
            {waiting
                .map(|waiting| {
                    view! {
                        <p class="mt-2 text-lg leading-relaxed text-stone-700" aria-live="polite">
                            {waiting}
                        </p>
                    }
                })}
            {kept}
            <div class="mt-6 flex flex-wrap gap-3">
                {retry
                    .then(|| {
                        view! {
                            <button
                                type="button"
                                on:click=move |_| p.send(Command::Check)
                                disabled=move || { wait.get() > 0 }
                                class="btn btn-primary"
                            >
                                {move || match wait.get() {
                                    0 => "Try again".to_owned(),
                                    secs => format!("Try again in {secs} s"),
                                }}
                            </button>
                        }
                    })}
                {move || {
                    p.kept
                        .get()
                        .map(|id| {
                            view! {
                                <a
                                    href=format!("/practice/{id}")
                                    class="btn btn-primary"
                                >
                                    "See your summary"
                                </a>
                            }
                        })
                }}
                <a
                    href=format!("/topics/{slug}")
                    class="btn btn-secondary"
                >
                    "Back to the topic"
                </a>
            </div>
        </section>
    }
}

/// Why part of the session is not saved yet. Signed out, it offers a sign-in in a new tab: this
/// page (and its call) must stay open meanwhile.
#[component]
pub(super) fn TroubleNote(trouble: SaveTrouble) -> impl IntoView {
    view! {
        <p>{trouble.message()}</p>
        {(trouble == SaveTrouble::SignedOut)
            .then(|| {
                view! {
                    <a
                        href="/sign-in?next=/history"
                        target="_blank"
                        rel="noopener"
                        data-testid="sign-in-again"
                        class="btn btn-primary mt-2"
                    >
                        "Sign in again"
                        <span aria-hidden="true" class="ml-1.5">"↗"</span>
                        <span class="sr-only">" (opens a new tab)"</span>
                    </a>
                }
            })}
    }
}
