//! The live call: the transcript as it builds, and the paused state when the microphone stops.

use leptos::prelude::*;

use super::Practice;
use super::{check::VocabularyList, controls::CallControls};
use crate::domain::session::Command;
use crate::domain::{
    call::CallState,
    transcript::{Speaker, Turn, TurnState},
};

/// The conversation: the transcript, the words, and the controls.
#[component]
pub(super) fn LiveCall(p: Practice) -> impl IntoView {
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
                <div class="card p-5">
                    <VocabularyList p />
                </div>
            </aside>
        </div>
    }
}

/// The microphone stopped mid-call: what happened, that nothing is lost, and a way to go on with
/// another input (or the same one plugged back in).
#[component]
pub(super) fn MicLostPanel(p: Practice) -> impl IntoView {
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
        p.send(Command::UseInput(chosen.get_untracked()));
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
                    class="btn btn-primary"
                    disabled=move || busy.get()
                    on:click=choose
                >
                    {move || if busy.get() { "Connecting…" } else { "Use this microphone" }}
                </button>
                <button
                    type="button"
                    class="btn btn-secondary"
                    on:click=move |_| p.send(Command::ListInputs)
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
pub(super) fn TranscriptLog(p: Practice) -> impl IntoView {
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
            class="card flex min-h-[16rem] flex-col lg:min-h-[24rem]"
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
pub(super) fn TurnBubble(p: Practice, id: String) -> impl IntoView {
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
                (TurnState::Interrupted, true) => "Cut off before you heard any of it.".to_owned(),
                (TurnState::Final, true) => "No words in this turn.".to_owned(),
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
                            if turn.state == TurnState::TranscriptionFailed
                                || (turn.state != TurnState::InProgress && turn.text.is_empty())
                            {
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
