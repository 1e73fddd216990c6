//! `/topics/{slug}/practice`: the pre-call check, then the live conversation with the coach.
//! Everything slow (the microphone, the call secret, the offer) happens during the check, out of
//! sight, so Start only has to connect.

mod check;
#[cfg(feature = "hydrate")]
mod controller;
mod controls;
mod live;
mod outcome;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::Redirect, hooks::use_params_map};

use self::{
    check::PreCallCheck,
    live::LiveCall,
    outcome::{EndedPanel, FailurePanel},
};
use crate::{
    api::{auth::my_account, topics::get_topic},
    components::feedback::ErrorPanel,
    domain::{
        Topic,
        call::CallState,
        practice::clock,
        saving::SaveTrouble,
        session::{Command, Problem},
        transcript::Transcript,
    },
    error::AppError,
};

/// The call handle: signals the view reads, and `send` for what the learner asks. In the browser
/// the session model (`domain::session`) and the media objects stand behind them.
#[derive(Clone, Copy)]
pub struct Practice {
    topic: StoredValue<Topic>,
    /// The signed-in learner's email: recordings left in this browser are recovered only by them.
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    owner: StoredValue<String>,
    state: RwSignal<CallState>,
    transcript: RwSignal<Transcript>,
    muted: RwSignal<bool>,
    push_to_talk: RwSignal<bool>,
    holding: RwSignal<bool>,
    /// The microphone's input level (RMS, 0..1).
    mic_level: RwSignal<f32>,
    /// The coach's voice has actually been heard on the remote track.
    coach_heard: RwSignal<bool>,
    /// `performance.now()` when the call came up, and the clock ticking from it.
    live_since: RwSignal<Option<f64>>,
    clock: RwSignal<f64>,
    session_id: RwSignal<Option<String>>,
    /// A detail for the learner about the latest failure (why the coach could not be reached, a
    /// microphone that would not open).
    problem: RwSignal<Option<Problem>>,
    /// Why part of the session is not saved yet, while that lasts.
    trouble: RwSignal<Option<SaveTrouble>>,
    /// Set when the session is saved after End: the page moves to its summary.
    finished: RwSignal<Option<String>>,
    /// Set when a session whose call could not be brought back is saved: the failure panel links
    /// to its summary from then on (not before: the summary would still find it going on).
    kept: RwSignal<Option<String>>,
    /// Recording chunks are on their way to the server.
    saving: RwSignal<bool>,
    /// Settled turns being saved (retried until the server has them).
    pending_turns: RwSignal<usize>,
    /// How many times a lost call was replaced by a new one, and whether that just happened (the
    /// page says so for a few seconds).
    reconnects: RwSignal<u32>,
    back: RwSignal<bool>,
    /// The microphone stopped mid-call: the call is paused until another one is chosen.
    mic_lost: RwSignal<bool>,
    /// The microphones to choose from then: (device id, name).
    inputs: RwSignal<Vec<(String, String)>>,
    #[cfg(feature = "hydrate")]
    model: StoredValue<controller::Model, LocalStorage>,
    #[cfg(feature = "hydrate")]
    gear: StoredValue<controller::Gear, LocalStorage>,
}

impl Practice {
    fn new(topic: Topic, owner: String) -> Self {
        Practice {
            owner: StoredValue::new(owner),
            state: RwSignal::new(CallState::Idle),
            transcript: RwSignal::new(Transcript::default()),
            muted: RwSignal::new(false),
            push_to_talk: RwSignal::new(false),
            holding: RwSignal::new(false),
            mic_level: RwSignal::new(0.0),
            coach_heard: RwSignal::new(false),
            live_since: RwSignal::new(None),
            clock: RwSignal::new(0.0),
            session_id: RwSignal::new(None),
            problem: RwSignal::new(None),
            trouble: RwSignal::new(None),
            finished: RwSignal::new(None),
            kept: RwSignal::new(None),
            saving: RwSignal::new(false),
            pending_turns: RwSignal::new(0),
            reconnects: RwSignal::new(0),
            back: RwSignal::new(false),
            mic_lost: RwSignal::new(false),
            inputs: RwSignal::new(Vec::new()),
            #[cfg(feature = "hydrate")]
            model: StoredValue::new_local(controller::Model::new(topic.vocabulary.clone())),
            #[cfg(feature = "hydrate")]
            gear: StoredValue::new_local(Default::default()),
            topic: StoredValue::new(topic),
        }
    }

    /// What the learner asks of the call. In the server render it does nothing (the page
    /// hydrates first).
    fn send(&self, command: Command) {
        #[cfg(feature = "hydrate")]
        controller::command(*self, command);
        #[cfg(not(feature = "hydrate"))]
        let _ = command;
    }

    fn elapsed_secs(&self) -> u64 {
        match self.live_since.get() {
            Some(since) => ((self.clock.get() - since).max(0.0) / 1000.0) as u64,
            None => 0,
        }
    }
}

#[component]
pub fn PracticePage() -> impl IntoView {
    let params = use_params_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let topic = Resource::new(slug, |slug| async move {
        let account = my_account().await?;
        Ok::<_, AppError>((get_topic(slug).await?, account.email))
    });
    view! {
        <Suspense fallback=|| view! { <PracticeSkeleton /> }>
            {move || Suspend::new(async move {
                match topic.await {
                    Ok((topic, owner)) => {
                        view! {
                            <Title text=format!("Practise: {}", topic.title) />
                            <PracticeRoom topic owner />
                        }
                            .into_any()
                    }
                    Err(AppError::Unauthorized) => {
                        let next = crate::domain::account::sign_in_then(&format!(
                            "/topics/{}/practice",
                            slug()
                        ));
                        view! { <Redirect path=next /> }.into_any()
                    }
                    Err(error) => {
                        view! {
                            <Title text="Practice" />
                            <ErrorPanel error />
                        }
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// The page's call: the check starts as soon as the page is in the browser. Leaving (a page
/// load, as every navigation here is) stops everything; what was recorded and not yet sent waits
/// in the browser's outbox for the next page to recover (`contexts::recovery`).
fn use_call(topic: Topic, owner: String) -> Practice {
    let p = Practice::new(topic, owner);
    Effect::new(move |_| untrack(|| p.send(Command::Check)));
    #[cfg(feature = "hydrate")]
    {
        // A page kept in the back-forward cache is only frozen: it takes up where it was.
        let leaving = window_event_listener(leptos::ev::pagehide, move |event| {
            if !event.persisted() {
                controller::dispatch(p, crate::domain::session::Input::Left)
            }
        });
        on_cleanup(move || leaving.remove());
    }
    p
}

/// The live call, an island: everything around it on the page is server-rendered HTML.
// Lazy in the split build: its code loads in files of its own (`server::bundle`).
#[cfg_attr(feature = "split", island(lazy))]
#[cfg_attr(not(feature = "split"), island)]
fn PracticeRoom(topic: Topic, owner: String) -> impl IntoView {
    let p = use_call(topic.clone(), owner);

    // Saved after End: on to the summary (a page load, as every navigation here is).
    Effect::new(move |_| {
        if let Some(id) = p.finished.get() {
            #[cfg(feature = "hydrate")]
            let _ = window().location().assign(&format!("/practice/{id}"));
            #[cfg(not(feature = "hydrate"))]
            let _ = id;
        }
    });

    let in_call = move || {
        matches!(
            p.state.get(),
            CallState::Connecting | CallState::Live { .. } | CallState::Reconnecting { .. }
        )
    };
    let slug = topic.slug.as_str().to_owned();

    view! {
        <div class="flex flex-wrap items-center justify-between gap-3">
            <a
                href=format!("/topics/{slug}")
                class="link-back"
            >
                <span aria-hidden="true">"←"</span>
                {topic.title.clone()}
            </a>
            <StatusBar p />
        </div>
        <h1 class="mt-2 text-2xl font-semibold tracking-tight text-stone-900 sm:text-3xl">
            {topic.title.clone()}
        </h1>
        {move || match p.state.get() {
            CallState::Failed(failure) => view! { <FailurePanel p failure /> }.into_any(),
            CallState::Ended => view! { <EndedPanel p /> }.into_any(),
            _ if in_call() => view! { <LiveCall p /> }.into_any(),
            _ => view! { <PreCallCheck p /> }.into_any(),
        }}
    }
}

/// The status pill and the elapsed time against the topic's suggested length.
#[component]
fn StatusBar(p: Practice) -> impl IntoView {
    let suggested = p
        .topic
        .with_value(|topic| u64::from(topic.suggested_minutes) * 60);
    let tone = move || match p.state.get() {
        _ if p.mic_lost.get() => "border-amber-300 bg-amber-50 text-amber-900",
        CallState::Live { .. } => "border-teal-200 bg-teal-50 text-teal-900",
        CallState::Reconnecting { .. } => "border-amber-300 bg-amber-50 text-amber-900",
        CallState::Failed(_) => "border-red-200 bg-red-50 text-red-800",
        _ => "border-stone-200 bg-white text-stone-700",
    };
    let dot = move || match p.state.get() {
        _ if p.mic_lost.get() => "bg-amber-500",
        CallState::Live { .. } => "bg-teal-600 motion-safe:animate-pulse",
        CallState::Reconnecting { .. } | CallState::Connecting => "bg-amber-500",
        CallState::Failed(_) => "bg-red-600",
        _ => "bg-stone-400",
    };
    view! {
        <div class="flex items-center gap-3">
            <p
                role="status"
                data-testid="call-status"
                class=move || {
                    format!(
                        "inline-flex min-h-9 items-center gap-2 rounded-full border px-3 text-sm font-medium {}",
                        tone(),
                    )
                }
            >
                <span class=move || format!("h-2.5 w-2.5 rounded-full {}", dot()) aria-hidden="true"></span>
                {move || {
                    if p.mic_lost.get() && p.state.with(|state| matches!(state, CallState::Live { .. })) {
                        "Paused — no microphone"
                    } else {
                        p.state.get().label()
                    }
                }}
            </p>
            <Show when=move || p.live_since.get().is_some()>
                <p class="text-sm tabular-nums text-stone-600" data-testid="elapsed">
                    <span class="sr-only">"Elapsed time "</span>
                    {move || clock(p.elapsed_secs())}
                    <span class="text-stone-400">{format!(" / {}", clock(suggested))}</span>
                </p>
            </Show>
        </div>
    }
}

#[component]
fn PracticeSkeleton() -> impl IntoView {
    view! {
        <div role="status" aria-label="Loading" class="motion-safe:animate-pulse">
            <div class="h-6 w-40 rounded bg-stone-200"></div>
            <div class="mt-4 h-8 w-2/3 rounded bg-stone-200"></div>
            <div class="mt-8 h-64 rounded-2xl bg-stone-100"></div>
        </div>
    }
}
