//! The replay of a saved session: the recording's player beside the transcript (stacked on narrow
//! screens). While it plays, the turn being heard is highlighted and kept in view; clicking a turn
//! plays from its start; Space plays and pauses, the arrow keys move from turn to turn. A button
//! anywhere on the page with `data-play-turn="{item id}"` (a correction in the feedback) plays
//! that turn. The replay is an island: the rest of its page is server-rendered HTML.

use leptos::{html::Audio, prelude::*};

use crate::domain::{
    practice::clock,
    transcript::{SavedTurn, Speaker, TurnState, talk_times, turn_at},
};

/// How a saved turn reads: who spoke ("You" to the learner, "Learner" to anyone else), a note on
/// how it ended, and its words.
pub fn turn_label(turn: &SavedTurn, own: bool) -> (&'static str, Option<&'static str>, String) {
    let who = match (turn.speaker, own) {
        (Speaker::Learner, true) => "You",
        (Speaker::Learner, false) => "Learner",
        (Speaker::Coach, _) => "Coach",
    };
    let note = match turn.state {
        TurnState::Interrupted => Some(" · Interrupted"),
        TurnState::TranscriptionFailed => Some(" · Not transcribed"),
        _ => None,
    };
    let text = match turn.state {
        TurnState::TranscriptionFailed => "We couldn't catch the words of this turn.".to_owned(),
        TurnState::Interrupted if turn.text.is_empty() => {
            "Cut off before any of it was heard.".to_owned()
        }
        // A turn the transcription found no words in (a cough, a breath).
        TurnState::Final if turn.text.trim().is_empty() => "No words in this turn.".to_owned(),
        _ => turn.text.clone(),
    };
    (who, note, text)
}

/// The player's state as the page follows it.
#[derive(Clone, Copy)]
struct Player {
    audio: NodeRef<Audio>,
    /// Where playback is, in milliseconds.
    position: RwSignal<f64>,
    playing: RwSignal<bool>,
    /// The turn last chosen with a click or an arrow key.
    chosen: RwSignal<Option<usize>>,
}

impl Player {
    /// Reads the element's position and state into the signals.
    fn follow(self) {
        #[cfg(feature = "hydrate")]
        if let Some(audio) = self.audio.get_untracked() {
            self.position.set(audio.current_time() * 1000.0);
            self.playing.set(!audio.paused());
        }
    }

    /// Moves playback to `ms`, and plays from there when `play`.
    fn seek(self, ms: u64, play: bool) {
        #[cfg(feature = "hydrate")]
        if let Some(audio) = self.audio.get_untracked() {
            audio.set_current_time(ms as f64 / 1000.0);
            self.position.set(ms as f64);
            if play {
                let _ = audio.play();
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (ms, play);
    }

    #[cfg(feature = "hydrate")]
    fn toggle(self) {
        if let Some(audio) = self.audio.get_untracked() {
            if audio.paused() {
                let _ = audio.play();
            } else {
                let _ = audio.pause();
            }
        }
    }
}

/// The item id a click asks to play: that of the `data-play-turn` button it landed in.
#[cfg(feature = "hydrate")]
fn asked_turn(event: &web_sys::MouseEvent) -> Option<String> {
    use wasm_bindgen::JsCast;
    event
        .target()?
        .dyn_into::<web_sys::Element>()
        .ok()?
        .closest("[data-play-turn]")
        .ok()??
        .get_attribute("data-play-turn")
}

/// The button of turn `index`, for focus and scrolling.
#[cfg(feature = "hydrate")]
fn turn_button(index: usize) -> Option<web_sys::HtmlElement> {
    use wasm_bindgen::JsCast;
    web_sys::window()?
        .document()?
        .get_element_by_id(&format!("turn-{index}"))?
        .dyn_into()
        .ok()
}

#[island]
pub fn Replay(
    /// The recording's URL.
    src: String,
    turns: Vec<SavedTurn>,
    /// The learner is looking at their own session (not a shared link).
    own: bool,
) -> impl IntoView {
    let player = Player {
        audio: NodeRef::new(),
        position: RwSignal::new(0.0),
        playing: RwSignal::new(false),
        chosen: RwSignal::new(None),
    };
    let (learner_ms, coach_ms) = talk_times(&turns);
    let count = turns.len();
    let starts: Vec<u64> = turns
        .iter()
        .map(|turn| turn.start_ms.unwrap_or(0))
        .collect();
    let starts = StoredValue::new(starts);
    let spans = StoredValue::new(turns.clone());
    let heard = Memo::new(move |_| {
        let position = player.position.get();
        spans.with_value(|turns| turn_at(turns, position))
    });
    // Keep the turn being heard in view while playing.
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(index) = heard.get()
            && player.playing.get_untracked()
            && let Some(button) = turn_button(index)
        {
            let options = web_sys::ScrollIntoViewOptions::new();
            options.set_block(web_sys::ScrollLogicalPosition::Nearest);
            button.scroll_into_view_with_scroll_into_view_options(&options);
        }
    });
    // A turn chosen from outside the replay (a correction's "Hear it in the recording").
    #[cfg(feature = "hydrate")]
    {
        let items: Vec<String> = turns.iter().map(|turn| turn.item_id.clone()).collect();
        let listener = window_event_listener(leptos::ev::click, move |event| {
            let Some(item) = asked_turn(&event) else {
                return;
            };
            let Some(index) = items.iter().position(|id| *id == item) else {
                return;
            };
            let start = starts.with_value(|starts| starts[index]);
            player.chosen.set(Some(index));
            player.seek(start, true);
            if let Some(button) = turn_button(index) {
                let options = web_sys::ScrollIntoViewOptions::new();
                options.set_block(web_sys::ScrollLogicalPosition::Center);
                button.scroll_into_view_with_scroll_into_view_options(&options);
                let _ = button.focus();
            }
        });
        on_cleanup(move || listener.remove());
    }
    let step = move |by: isize| {
        let from = player.chosen.get_untracked().or(heard.get_untracked());
        let next = match from {
            Some(index) => index.saturating_add_signed(by).min(count.saturating_sub(1)),
            None => 0,
        };
        if count == 0 {
            return;
        }
        player.chosen.set(Some(next));
        let playing = player.playing.get_untracked();
        player.seek(starts.with_value(|starts| starts[next]), playing);
        #[cfg(feature = "hydrate")]
        if let Some(button) = turn_button(next) {
            let _ = button.focus();
        }
    };
    let on_key = move |event: leptos::ev::KeyboardEvent| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            // The player's own controls keep their keys.
            let on_player = event
                .target()
                .is_some_and(|target| target.dyn_into::<web_sys::HtmlMediaElement>().is_ok());
            if on_player || event.alt_key() || event.ctrl_key() || event.meta_key() {
                return;
            }
            match event.key().as_str() {
                " " => {
                    event.prevent_default();
                    player.toggle();
                }
                "ArrowDown" | "ArrowRight" => {
                    event.prevent_default();
                    step(1);
                }
                "ArrowUp" | "ArrowLeft" => {
                    event.prevent_default();
                    step(-1);
                }
                _ => {}
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (event, step);
    };

    view! {
        <div on:keydown=on_key class="mt-6 grid gap-6 lg:grid-cols-[minmax(0,2fr)_minmax(0,3fr)] lg:items-start">
            <section
                aria-labelledby="replay-heading"
                class="card p-6 lg:sticky lg:top-6"
            >
                <h2 id="replay-heading" class="text-lg font-semibold">"Listen again"</h2>
                <audio
                    node_ref=player.audio
                    controls
                    preload="metadata"
                    src=src
                    data-testid="summary-audio"
                    class="mt-4 w-full"
                    on:timeupdate=move |_| player.follow()
                    on:seeked=move |_| player.follow()
                    on:play=move |_| player.follow()
                    on:pause=move |_| player.follow()
                    on:ended=move |_| player.follow()
                ></audio>
                <p class="mt-3 text-sm text-stone-600">
                    "Choose a turn to hear it. Space plays or pauses; the arrow keys move between turns."
                </p>
                <dl class="mt-4 grid grid-cols-2 gap-3 text-sm">
                    <div class="rounded-xl bg-teal-50 p-3">
                        <dt class="text-teal-900">{if own { "You spoke" } else { "The learner spoke" }}</dt>
                        <dd class="mt-0.5 text-xl font-semibold tabular-nums text-stone-900" data-testid="talk-learner">
                            {clock(learner_ms / 1000)}
                        </dd>
                    </div>
                    <div class="rounded-xl bg-stone-100 p-3">
                        <dt class="text-stone-700">{if own { "Your coach spoke" } else { "The coach spoke" }}</dt>
                        <dd class="mt-0.5 text-xl font-semibold tabular-nums text-stone-900" data-testid="talk-coach">
                            {clock(coach_ms / 1000)}
                        </dd>
                    </div>
                </dl>
            </section>
            <section
                aria-labelledby="conversation-heading"
                class="card p-6"
            >
                <h2 id="conversation-heading" class="text-lg font-semibold">"The conversation"</h2>
                {(count == 0).then(|| view! { <p class="mt-3 text-stone-600">"No words were saved for this session."</p> })}
                <ol class="mt-4 space-y-3" data-testid="saved-transcript">
                    {turns
                        .iter()
                        .enumerate()
                        .map(|(index, turn)| {
                            let learner = turn.speaker == Speaker::Learner;
                            let (who, note, text) = turn_label(turn, own);
                            let start = turn.start_ms.unwrap_or(0);
                            let current = move || heard.get() == Some(index);
                            let tone = if learner {
                                "bg-teal-50 border-teal-200"
                            } else {
                                "bg-stone-50 border-stone-200"
                            };
                            view! {
                                <li data-speaker=if learner { "learner" } else { "coach" }>
                                    <button
                                        type="button"
                                        id=format!("turn-{index}")
                                        aria-current=move || current().then_some("true")
                                        on:click=move |_| {
                                            player.chosen.set(Some(index));
                                            player.seek(start, true);
                                        }
                                        class=move || {
                                            format!(
                                                "focus-ring block w-full rounded-xl border px-4 py-3 text-left transition-shadow {tone} {}",
                                                if current() { "ring-2 ring-teal-600 shadow-md" } else { "hover:border-stone-400" },
                                            )
                                        }
                                    >
                                        <span class="flex items-baseline justify-between gap-3 text-xs font-semibold uppercase tracking-wide text-stone-600">
                                            <span>{who} {note}</span>
                                            <span class="font-normal tabular-nums normal-case">{clock(start / 1000)}</span>
                                        </span>
                                        <span data-turn-text class="mt-1 block text-lg leading-relaxed text-stone-900">{text}</span>
                                    </button>
                                </li>
                            }
                        })
                        .collect_view()}
                </ol>
            </section>
        </div>
    }
}

/// The saved transcript, as it was spoken (without a recording to play).
#[component]
pub fn Conversation(
    turns: Vec<SavedTurn>,
    /// The learner is looking at their own session (not a shared link).
    own: bool,
) -> impl IntoView {
    let empty = turns.is_empty();
    view! {
        <section
            aria-labelledby="conversation-heading"
            class="card mt-6 p-6"
        >
            <h2 id="conversation-heading" class="text-lg font-semibold">"The conversation"</h2>
            {empty.then(|| view! { <p class="mt-3 text-stone-600">"No words were saved for this session."</p> })}
            <ol class="mt-4 space-y-3" data-testid="saved-transcript">
                {turns
                    .iter()
                    .map(|turn| {
                        let learner = turn.speaker == Speaker::Learner;
                        let (who, note, text) = turn_label(turn, own);
                        let tone = if learner {
                            "bg-teal-50 border-teal-200"
                        } else {
                            "bg-stone-50 border-stone-200"
                        };
                        view! {
                            <li
                                class=format!("rounded-xl border px-4 py-3 {tone}")
                                data-speaker=if learner { "learner" } else { "coach" }
                            >
                                <p class="text-xs font-semibold uppercase tracking-wide text-stone-600">
                                    {who}
                                    {note}
                                </p>
                                <p data-turn-text class="mt-1 text-lg leading-relaxed text-stone-900">{text}</p>
                            </li>
                        }
                    })
                    .collect_view()}
            </ol>
        </section>
    }
}
