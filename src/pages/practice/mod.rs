//! `/topics/{slug}/practice`: the pre-call check, then the live conversation with the coach.
//! Everything slow (the microphone, the call secret, the offer) happens during the check, out of
//! sight, so Start only has to connect.

#[cfg(feature = "hydrate")]
mod controller;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{
    components::Redirect,
    hooks::{use_navigate, use_params_map},
};

use crate::{
    api::{auth::my_account, topics::get_topic},
    components::feedback::ErrorPanel,
    contexts::recovery::Recoveries,
    domain::{
        Topic,
        call::{CallFailure, CallState},
        practice::{clock, words_used},
        saving::SaveTrouble,
        transcript::{Speaker, Transcript, Turn, TurnState},
    },
    error::AppError,
};

/// The page's state: signals the view reads, plus (in the browser) the media objects behind them.
#[derive(Clone, Copy)]
pub struct Practice {
    topic: StoredValue<Topic>,
    /// The signed-in learner's email: recordings left in this browser are recovered only by them.
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
    problem: RwSignal<Option<String>>,
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
    pending_turns: RwSignal<u32>,
    /// How many times a lost call was replaced by a new one, and whether that just happened (the
    /// page says so for a few seconds).
    reconnects: RwSignal<u32>,
    back: RwSignal<bool>,
    /// The microphone stopped mid-call: the call is paused until another one is chosen.
    mic_lost: RwSignal<bool>,
    /// The microphones to choose from then: (device id, name).
    inputs: RwSignal<Vec<(String, String)>>,
    #[cfg(feature = "hydrate")]
    gear: StoredValue<controller::Gear, LocalStorage>,
}

impl Practice {
    fn new(topic: Topic, owner: String) -> Self {
        Practice {
            topic: StoredValue::new(topic),
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
            gear: StoredValue::new_local(Default::default()),
        }
    }

    fn elapsed_secs(&self) -> u64 {
        match self.live_since.get() {
            Some(since) => ((self.clock.get() - since).max(0.0) / 1000.0) as u64,
            None => 0,
        }
    }
}

/// The learner's actions. In the server render they do nothing (the page hydrates first).
mod actions {
    use super::Practice;

    macro_rules! action {
        ($name:ident $(, $arg:ident: $ty:ty)*) => {
            pub fn $name(p: Practice $(, $arg: $ty)*) {
                #[cfg(feature = "hydrate")]
                super::controller::$name(p $(, $arg)*);
                #[cfg(not(feature = "hydrate"))]
                let _ = (p $(, $arg)*);
            }
        };
    }

    action!(check);
    action!(start);
    action!(end);
    action!(hold);
    action!(release_hold);
    action!(teardown);
    action!(set_muted, muted: bool);
    action!(set_push_to_talk, on: bool);
    action!(list_inputs);
    action!(use_input, device: String);
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
                    Ok((topic, owner)) => view! { <PracticeRoom topic owner /> }.into_any(),
                    Err(AppError::Unauthorized) => {
                        let next = format!("/sign-in?next=/topics/{}/practice", slug());
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

#[component]
fn PracticeRoom(topic: Topic, owner: String) -> impl IntoView {
    let p = Practice::new(topic.clone(), owner);
    // The check starts as soon as the page is in the browser.
    Effect::new(move |_| untrack(|| actions::check(p)));
    // Leaving mid-call: what was recorded and not yet sent is recovered at once.
    let recoveries = use_context::<Recoveries>();
    let owner = p.owner.get_value();
    on_cleanup(move || {
        actions::teardown(p);
        if let Some(recoveries) = recoveries {
            recoveries.run(owner);
        }
    });

    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(id) = p.finished.get() {
            navigate(&format!("/practice/{id}"), Default::default());
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
        <Title text=format!("Practise: {}", topic.title) />
        <div class="flex flex-wrap items-center justify-between gap-3">
            <a
                href=format!("/topics/{slug}")
                class="focus-ring -ml-2 inline-flex min-h-11 items-center gap-1 rounded-lg px-2 text-sm font-medium text-stone-600 hover:text-stone-900"
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

/// Microphone permission, a live level meter, the headphone hint, and Start once all is ready.
#[component]
fn PreCallCheck(p: Practice) -> impl IntoView {
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
                class="h-fit rounded-2xl border border-stone-200 bg-white p-6 shadow-sm"
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
                    on:click=move |_| actions::start(p)
                    disabled=move || !ready()
                    class="focus-ring mt-8 flex min-h-12 w-full items-center justify-center rounded-xl bg-teal-700 px-5 text-lg font-semibold text-white hover:bg-teal-800 disabled:cursor-not-allowed disabled:opacity-60 sm:w-auto sm:min-w-56"
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
fn CheckRow(done: Signal<bool>, waiting: &'static str, finished: &'static str) -> impl IntoView {
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
fn VocabularyList(p: Practice) -> impl IntoView {
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

/// The conversation: the transcript, the words, and the controls.
#[component]
fn LiveCall(p: Practice) -> impl IntoView {
    let reconnecting = move || match p.state.get() {
        CallState::Reconnecting { attempt } => Some(attempt),
        _ => None,
    };
    view! {
        {move || {
            if let Some(attempt) = reconnecting() {
                view! {
                    <div
                        role="status"
                        data-testid="reconnecting"
                        class="mt-6 flex items-start gap-3 rounded-2xl border border-amber-300 bg-amber-50 p-4 text-amber-950"
                    >
                        <span class="mt-1.5 h-2.5 w-2.5 shrink-0 rounded-full bg-amber-500 motion-safe:animate-pulse" aria-hidden="true"></span>
                        <div>
                            <p class="font-semibold">
                                {format!(
                                    "The connection dropped. Reconnecting… (attempt {attempt} of {})",
                                    CallState::MAX_RECONNECTS,
                                )}
                            </p>
                            <p class="mt-1 text-sm">
                                "Keep talking if you like: you are still being recorded, and the conversation goes on where it stopped."
                            </p>
                        </div>
                    </div>
                }
                    .into_any()
            } else if p.back.get() {
                view! {
                    <div
                        role="status"
                        data-testid="reconnected"
                        class="mt-6 flex items-center gap-3 rounded-2xl border border-teal-200 bg-teal-50 p-4 font-semibold text-teal-900"
                    >
                        <span class="h-2.5 w-2.5 shrink-0 rounded-full bg-teal-600" aria-hidden="true"></span>
                        "You're back. The conversation goes on where it stopped."
                    </div>
                }
                    .into_any()
            } else {
                ().into_any()
            }
        }}
        <Show when=move || p.mic_lost.get()>
            <MicLostPanel p />
        </Show>
        <div
            class="mt-6 grid gap-6 lg:grid-cols-[minmax(0,1fr)_20rem]"
            data-testid="live-call"
            data-coach-heard=move || p.coach_heard.get().to_string()
            data-reconnects=move || p.reconnects.get().to_string()
        >
            <TranscriptLog p />
            <aside class="h-fit space-y-6 lg:sticky lg:top-6">
                <CallControls p />
                <div class="rounded-2xl border border-stone-200 bg-white p-5 shadow-sm">
                    <VocabularyList p />
                </div>
            </aside>
        </div>
    }
}

/// The microphone stopped mid-call: what happened, that nothing is lost, and a way to go on with
/// another input (or the same one plugged back in).
#[component]
fn MicLostPanel(p: Practice) -> impl IntoView {
    let chosen = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some((id, _)) = p.inputs.with(|inputs| inputs.first().cloned())
            && chosen.get_untracked().is_empty()
        {
            chosen.set(id);
        }
    });
    let choose = move |_| {
        busy.set(true);
        actions::use_input(p, chosen.get_untracked());
    };
    Effect::new(move |_| {
        if !p.mic_lost.get() || p.problem.get().is_some() {
            busy.set(false);
        }
    });
    view! {
        <section
            role="alert"
            data-testid="mic-lost"
            class="mt-6 rounded-2xl border border-amber-300 bg-amber-50 p-5 text-amber-950"
        >
            <h2 class="text-lg font-semibold">"Your microphone stopped"</h2>
            <p class="mt-1">
                "Your coach can't hear you, so the conversation is paused. Everything so far is saved. Plug your microphone back in, or choose another one:"
            </p>
            <div class="mt-4 flex flex-wrap items-end gap-3">
                <label class="flex min-w-[16rem] flex-1 flex-col gap-1 text-sm font-medium">
                    "Microphone"
                    <select
                        class="focus-ring min-h-11 rounded-xl border border-stone-300 bg-white px-3 text-base"
                        on:change=move |event| chosen.set(event_target_value(&event))
                        prop:value=move || chosen.get()
                    >
                        {move || {
                            p.inputs
                                .get()
                                .into_iter()
                                .map(|(id, label)| view! { <option value=id>{label}</option> })
                                .collect_view()
                        }}
                    </select>
                </label>
                <button
                    type="button"
                    class="focus-ring min-h-11 rounded-xl bg-teal-700 px-5 font-semibold text-white hover:bg-teal-800 disabled:opacity-60"
                    disabled=move || busy.get()
                    on:click=choose
                >
                    {move || if busy.get() { "Connecting…" } else { "Use this microphone" }}
                </button>
                <button
                    type="button"
                    class="focus-ring min-h-11 rounded-xl border border-stone-300 bg-white px-4 font-medium text-stone-800 hover:bg-stone-50"
                    on:click=move |_| actions::list_inputs(p)
                >
                    "Look again"
                </button>
            </div>
        </section>
    }
}

/// The transcript as a chat: coach on the left, learner on the right, in spoken order. It follows
/// new turns unless the learner has scrolled up to reread.
#[component]
fn TranscriptLog(p: Practice) -> impl IntoView {
    let log = NodeRef::<leptos::html::Div>::new();
    let following = RwSignal::new(true);
    Effect::new(move |_| {
        p.transcript.track();
        if following.get_untracked()
            && let Some(log) = log.get_untracked()
        {
            log.set_scroll_top(log.scroll_height());
        }
    });
    let on_scroll = move |_| {
        if let Some(log) = log.get_untracked() {
            let bottom = log.scroll_top() + log.client_height();
            following.set(bottom >= log.scroll_height() - 48);
        }
    };
    view! {
        <section
            aria-labelledby="transcript-heading"
            class="flex min-h-[16rem] flex-col rounded-2xl lg:min-h-[24rem] border border-stone-200 bg-white shadow-sm"
        >
            <h2 id="transcript-heading" class="sr-only">"Transcript"</h2>
            <div
                node_ref=log
                on:scroll=on_scroll
                role="log"
                aria-live="polite"
                aria-label="Conversation transcript"
                data-testid="transcript"
                class="max-h-[45vh] flex-1 space-y-4 overflow-y-auto p-4 sm:p-5 lg:max-h-[60vh]"
            >
                <Show when=move || p.transcript.with(|t| t.turns().is_empty())>
                    <p class="py-12 text-center text-lg text-stone-500">
                        {move || {
                            if p.state.get() == CallState::Connecting {
                                "Connecting you to your coach…"
                            } else {
                                "Your coach is about to say hello."
                            }
                        }}
                    </p>
                </Show>
                <For
                    each=move || {
                        p.transcript.with(|t| t.turns().iter().map(|turn| turn.item_id.clone()).collect::<Vec<_>>())
                    }
                    key=|id| id.clone()
                    let:id
                >
                    <TurnBubble p id />
                </For>
            </div>
        </section>
    }
}

#[component]
fn TurnBubble(p: Practice, id: String) -> impl IntoView {
    let turn = Memo::new(move |_| {
        p.transcript
            .with(|t| t.turns().iter().find(|turn| turn.item_id == id).cloned())
    });
    move || {
        turn.get().map(|turn: Turn| {
            let learner = turn.speaker == Speaker::Learner;
            let (who, row, bubble) = if learner {
                ("You", "justify-end", "bg-teal-700 text-white")
            } else {
                ("Coach", "justify-start", "bg-stone-100 text-stone-900")
            };
            let tone = match turn.state {
                TurnState::InProgress => "opacity-70",
                _ => "",
            };
            let text = match (turn.state, turn.text.is_empty()) {
                (TurnState::TranscriptionFailed, _) => "We couldn't catch the words of this turn; the audio is kept.".to_owned(),
                (TurnState::InProgress, true) => "…".to_owned(),
                _ => turn.text.clone(),
            };
            let note = match turn.state {
                TurnState::Interrupted => Some("Interrupted"),
                TurnState::TranscriptionFailed => Some("Not transcribed"),
                _ => None,
            };
            view! {
                <div class=format!("flex {row}")>
                    <div
                        data-speaker=if learner { "learner" } else { "coach" }
                        data-state=format!("{:?}", turn.state)
                        class=format!("max-w-[85%] rounded-2xl px-4 py-3 {bubble} {tone}")
                    >
                        <p class="text-xs font-semibold uppercase tracking-wide opacity-80">
                            {who}
                            {note.map(|note| view! { <span class="ml-2 normal-case">{format!("· {note}")}</span> })}
                        </p>
                        <p data-turn-text class=move || {
                            if turn.state == TurnState::TranscriptionFailed {
                                "mt-1 text-lg italic leading-relaxed"
                            } else {
                                "mt-1 text-lg leading-relaxed"
                            }
                        }>{text}</p>
                    </div>
                </div>
            }
        })
    }
}

/// Mute, push-to-talk and End.
#[component]
fn CallControls(p: Practice) -> impl IntoView {
    let live = move || matches!(p.state.get(), CallState::Live { .. });
    #[cfg(feature = "hydrate")]
    {
        use leptos::ev;
        let typing = |event: &web_sys::KeyboardEvent| {
            use wasm_bindgen::JsCast;
            event
                .target()
                .and_then(|target| target.dyn_into::<web_sys::Element>().ok())
                .is_some_and(|element| {
                    matches!(element.tag_name().as_str(), "INPUT" | "TEXTAREA" | "BUTTON")
                })
        };
        let down = window_event_listener(ev::keydown, move |event| {
            if event.code() == "Space" && p.push_to_talk.get_untracked() && !typing(&event) {
                event.prevent_default();
                if !event.repeat() {
                    actions::hold(p);
                }
            }
        });
        let up = window_event_listener(ev::keyup, move |event| {
            if event.code() == "Space" && p.push_to_talk.get_untracked() {
                actions::release_hold(p);
            }
        });
        on_cleanup(move || {
            down.remove();
            up.remove();
        });
    }
    view! {
        <div class="space-y-4 rounded-2xl border border-stone-200 bg-white p-5 shadow-sm">
            <p class="flex items-center gap-2 text-sm text-stone-600">
                <span class="relative flex h-2.5 w-2.5" aria-hidden="true">
                    <span class="h-2.5 w-2.5 rounded-full bg-red-500"></span>
                </span>
                "Recording this conversation"
                <span class="whitespace-nowrap text-stone-500" data-testid="saving">
                    {move || {
                        let saving = p.session_id.get().is_none() || p.saving.get()
                            || p.pending_turns.get() > 0;
                        if saving { " · saving…" } else { " · saved" }
                    }}
                </span>
            </p>
            // Saving trouble that lasts, or another problem (the mic-lost panel says its own).
            {move || match (p.trouble.get(), p.problem.get().filter(|_| !p.mic_lost.get())) {
                (Some(trouble), _) => {
                    view! {
                        <div
                            role="status"
                            data-testid="saving-problem"
                            class="rounded-lg bg-amber-50 px-3 py-2 text-sm text-amber-900"
                        >
                            <TroubleNote trouble />
                        </div>
                    }
                        .into_any()
                }
                (None, Some(problem)) => {
                    view! {
                        <p
                            role="status"
                            data-testid="saving-problem"
                            class="rounded-lg bg-amber-50 px-3 py-2 text-sm text-amber-900"
                        >
                            {problem}
                        </p>
                    }
                        .into_any()
                }
                (None, None) => ().into_any(),
            }}
            <div class="flex flex-wrap gap-3">
                <button
                    type="button"
                    aria-pressed=move || p.muted.get().to_string()
                    disabled=move || p.push_to_talk.get()
                    on:click=move |_| actions::set_muted(p, !p.muted.get_untracked())
                    class=move || {
                        format!(
                            "focus-ring inline-flex min-h-11 flex-1 items-center justify-center rounded-xl border px-4 text-base font-medium disabled:opacity-50 {}",
                            if p.muted.get() {
                                "border-amber-400 bg-amber-50 text-amber-900"
                            } else {
                                "border-stone-300 bg-white text-stone-800 hover:bg-stone-50"
                            },
                        )
                    }
                >
                    {move || if p.muted.get() { "Unmute" } else { "Mute" }}
                </button>
                <button
                    type="button"
                    on:click=move |_| actions::end(p)
                    class="focus-ring inline-flex min-h-11 flex-1 items-center justify-center whitespace-nowrap rounded-xl bg-stone-900 px-3 text-base font-semibold text-white hover:bg-stone-700"
                >
                    "End session"
                </button>
            </div>
            <label class="flex min-h-11 cursor-pointer items-center justify-between gap-3">
                <span>
                    <span class="block text-base font-medium text-stone-900">"Push to talk"</span>
                    <span class="block text-sm text-stone-600">
                        "Hold the button (or Space) while you speak: take all the time you need."
                    </span>
                </span>
                <input
                    type="checkbox"
                    role="switch"
                    prop:checked=move || p.push_to_talk.get()
                    on:change=move |event| actions::set_push_to_talk(p, event_target_checked(&event))
                    class="focus-ring h-6 w-6 accent-teal-700"
                />
            </label>
            <Show when=move || p.push_to_talk.get()>
                <button
                    type="button"
                    disabled=move || !live()
                    aria-pressed=move || p.holding.get().to_string()
                    on:pointerdown=move |_| actions::hold(p)
                    on:pointerup=move |_| actions::release_hold(p)
                    on:pointerleave=move |_| actions::release_hold(p)
                    on:pointercancel=move |_| actions::release_hold(p)
                    class=move || {
                        format!(
                            "focus-ring flex min-h-16 w-full select-none items-center justify-center rounded-xl text-lg font-semibold touch-none disabled:opacity-50 {}",
                            if p.holding.get() { "bg-teal-800 text-white" } else { "bg-teal-700 text-white hover:bg-teal-800" },
                        )
                    }
                >
                    {move || if p.holding.get() { "Listening… release to send" } else { "Hold to talk" }}
                </button>
            </Show>
        </div>
    }
}

/// After End, while the session is saved (then the summary opens).
#[component]
fn EndedPanel(p: Practice) -> impl IntoView {
    let slug = p.topic.with_value(|topic| topic.slug.as_str().to_owned());
    view! {
        <section class="mt-8 rounded-2xl border border-stone-200 bg-white p-8 text-center shadow-sm">
            {move || match p.trouble.get().map(Err).or(p.problem.get().map(Ok)) {
                Some(problem) => {
                    view! {
                        <h2 class="text-xl font-semibold text-stone-900">"Your session has ended"</h2>
                        <div class="mt-2 text-lg text-stone-700" data-testid="saving-problem">
                            {match problem {
                                Ok(problem) => view! { <p>{problem}</p> }.into_any(),
                                Err(trouble) => view! { <TroubleNote trouble /> }.into_any(),
                            }}
                        </div>
                        <a
                            href=format!("/topics/{slug}")
                            class="focus-ring mt-6 inline-flex min-h-11 items-center rounded-xl border border-stone-300 px-5 font-medium"
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
                            class="focus-ring mt-6 inline-flex min-h-11 items-center rounded-xl bg-teal-700 px-5 font-semibold text-white"
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
fn FailurePanel(p: Practice, failure: CallFailure) -> impl IntoView {
    let slug = p.topic.with_value(|topic| topic.slug.as_str().to_owned());
    let (title, body): (&str, String) = match &failure {
        CallFailure::MicDenied => (
            "Speaking Coach can't hear you",
            "Your browser blocked the microphone. Click the microphone or lock icon in the address bar, allow the microphone for this site, then try again.".into(),
        ),
        CallFailure::NoMic => (
            "No microphone found",
            "Connect a headset or a microphone, then try again.".into(),
        ),
        CallFailure::MicBusy => (
            "Your microphone is busy",
            "Another app or browser tab is using it. Close that, then try again.".into(),
        ),
        CallFailure::InsecureContext => (
            "Voice practice needs a secure connection",
            "Open Speaking Coach with an https:// address to use your microphone.".into(),
        ),
        CallFailure::Unsupported => (
            "This browser can't run voice practice",
            "Please use a recent Chrome, Edge, Firefox or Safari.".into(),
        ),
        CallFailure::CoachUnavailable => (
            "We couldn't reach your coach",
            p.problem
                .get_untracked()
                .unwrap_or_else(|| "The coach is unavailable right now. Please try again in a moment.".into()),
        ),
        // Counted down below.
        CallFailure::TooManyAttempts { .. } => ("Too many attempts", String::new()),
        CallFailure::ConnectionLost if p.live_since.get_untracked().is_none() => (
            "The connection to your coach dropped",
            "It dropped while the call was starting, before anything was recorded. Please try again."
                .into(),
        ),
        CallFailure::ConnectionLost => (
            "The connection to your coach dropped",
            "We tried to reconnect several times and could not reach your coach.".into(),
        ),
    };
    // A session that was going on: it is saved, and there is no trying again.
    let lost = failure == CallFailure::ConnectionLost && p.live_since.get_untracked().is_some();
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
                                on:click=move |_| actions::check(p)
                                disabled=move || { wait.get() > 0 }
                                class="focus-ring inline-flex min-h-11 items-center rounded-xl bg-teal-700 px-5 text-base font-semibold text-white hover:bg-teal-800 disabled:cursor-not-allowed disabled:opacity-50 disabled:hover:bg-teal-700"
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
                                    class="focus-ring inline-flex min-h-11 items-center rounded-xl bg-teal-700 px-5 text-base font-semibold text-white hover:bg-teal-800"
                                >
                                    "See your summary"
                                </a>
                            }
                        })
                }}
                <a
                    href=format!("/topics/{slug}")
                    class="focus-ring inline-flex min-h-11 items-center rounded-xl border border-stone-300 px-5 text-base font-medium text-stone-800 hover:bg-stone-50"
                >
                    "Back to the topic"
                </a>
            </div>
        </section>
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

/// Why part of the session is not saved yet. Signed out, it offers a sign-in in a new tab: this
/// page (and its call) must stay open meanwhile.
#[component]
fn TroubleNote(trouble: SaveTrouble) -> impl IntoView {
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
                        class="focus-ring mt-2 inline-flex min-h-11 items-center rounded-xl bg-teal-700 px-4 font-semibold text-white hover:bg-teal-800"
                    >
                        "Sign in again (opens a new tab)"
                    </a>
                }
            })}
    }
}
