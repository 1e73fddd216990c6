//! The replay of a saved session: the recording's player beside the transcript (stacked on narrow
//! screens). While it plays, the turn being heard is highlighted and kept in view; clicking a turn
//! plays from its start; Space plays and pauses, the arrow keys move from turn to turn. A button
//! anywhere on the page with `data-play-turn="{item id}"` (a correction in the feedback) plays
//! that turn.
//!
//! The replay is server-rendered HTML like the rest of its page. What it does in the browser is
//! a small island (`ReplayPlayer`) that renders nothing and follows the markup: the audio element,
//! and each turn's button with its times (`data-start-ms`, `data-end-ms`) and item id. It needs
//! no data of its own, so it carries no view code, no props and no JSON: the replay page loads
//! little more than the bundle's main module.

use leptos::prelude::*;

use crate::domain::{
    practice::clock,
    transcript::{SavedTurn, Speaker, TurnState, talk_times},
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

/// A turn's button, not highlighted: `ReplayPlayer` swaps `NOT_HEARD` for `player::HEARD` on the
/// turn being heard.
const TURN_BUTTON: &str =
    "focus-ring block w-full rounded-xl border px-4 py-3 text-left transition-shadow";
const NOT_HEARD: &str = "hover:border-stone-400";

/// The player and the transcript of a session with a recording.
#[component]
pub fn Replay(
    /// The recording's URL.
    src: String,
    turns: Vec<SavedTurn>,
    /// The learner is looking at their own session (not a shared link).
    own: bool,
) -> impl IntoView {
    let (learner_ms, coach_ms) = talk_times(&turns);
    let count = turns.len();
    view! {
        <div data-replay class="mt-6 grid gap-6 lg:grid-cols-[minmax(0,2fr)_minmax(0,3fr)] lg:items-start">
            <section
                aria-labelledby="replay-heading"
                class="card p-6 lg:sticky lg:top-6"
            >
                <h2 id="replay-heading" class="text-lg font-semibold">"Listen again"</h2>
                <audio
                    controls
                    preload="metadata"
                    src=src
                    data-testid="summary-audio"
                    class="mt-4 w-full"
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
                <ReplayPlayer />
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
                                        data-turn=turn.item_id.clone()
                                        data-start-ms=turn.start_ms
                                        data-end-ms=turn.end_ms
                                        class=format!("{TURN_BUTTON} {tone} {NOT_HEARD}")
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

/// The replay in the browser: follows the server-rendered `[data-replay]` markup (see the module
/// documentation). Renders nothing itself.
// Lazy in the split build: its code loads in files of its own (`server::bundle`).
#[cfg_attr(feature = "split", island(lazy))]
#[cfg_attr(not(feature = "split"), island)]
fn ReplayPlayer() -> impl IntoView {
    #[cfg(feature = "hydrate")]
    player::start();
}

#[cfg(feature = "hydrate")]
mod player {
    use std::{cell::Cell, rc::Rc};

    use wasm_bindgen::{JsCast, closure::Closure};
    use web_sys::{
        Element, Event, EventTarget, HtmlElement, HtmlMediaElement, KeyboardEvent,
        ScrollIntoViewOptions, ScrollLogicalPosition,
    };

    use super::NOT_HEARD;
    use crate::domain::transcript::span_at;

    /// The turn being heard stands out with a ring.
    const HEARD: [&str; 3] = ["ring-2", "ring-teal-600", "shadow-md"];

    struct Turn {
        button: HtmlElement,
        item: String,
        start_ms: u64,
        /// (start, end) in milliseconds, when the turn has both.
        span: Option<(u64, u64)>,
    }

    struct Player {
        audio: HtmlMediaElement,
        turns: Vec<Turn>,
        /// The turn being heard, as highlighted.
        heard: Cell<Option<usize>>,
        /// The turn last chosen with a click or an arrow key.
        chosen: Cell<Option<usize>>,
    }

    /// Finds the replay on the page and brings it alive; a page without one is left as it is.
    pub fn start() {
        let Some(root) = web_sys::window()
            .and_then(|window| window.document())
            .and_then(|document| document.query_selector("[data-replay]").ok().flatten())
        else {
            return;
        };
        let Some(audio) = root
            .query_selector("audio")
            .ok()
            .flatten()
            .and_then(|audio| audio.dyn_into::<HtmlMediaElement>().ok())
        else {
            return;
        };
        let mut turns = Vec::new();
        if let Ok(buttons) = root.query_selector_all("[data-turn]") {
            for index in 0..buttons.length() {
                let Some(button) = buttons
                    .item(index)
                    .and_then(|node| node.dyn_into::<HtmlElement>().ok())
                else {
                    continue;
                };
                let ms = |name| button.get_attribute(name)?.parse::<u64>().ok();
                let (start, end) = (ms("data-start-ms"), ms("data-end-ms"));
                turns.push(Turn {
                    item: button.get_attribute("data-turn").unwrap_or_default(),
                    start_ms: start.unwrap_or(0),
                    span: start.zip(end),
                    button,
                });
            }
        }
        let player = Rc::new(Player {
            audio,
            turns,
            heard: Cell::new(None),
            chosen: Cell::new(None),
        });
        for name in ["timeupdate", "seeked", "play", "pause", "ended"] {
            let follow = player.clone();
            listen(&player.audio, name, move |_| follow.follow());
        }
        let on_key = player.clone();
        listen(&root, "keydown", move |event| {
            if let Some(event) = event.dyn_ref::<KeyboardEvent>() {
                on_key.key(event);
            }
        });
        // A click on a turn, or on a `data-play-turn` button anywhere on the page.
        let on_click = player.clone();
        if let Some(window) = web_sys::window() {
            listen(&window, "click", move |event| on_click.click(&event));
        }
    }

    /// Adds a listener for the page's lifetime.
    fn listen(target: &EventTarget, name: &str, handler: impl FnMut(Event) + 'static) {
        let handler = Closure::<dyn FnMut(Event)>::new(handler);
        let _ = target.add_event_listener_with_callback(name, handler.as_ref().unchecked_ref());
        handler.forget();
    }

    impl Player {
        /// Reads where playback is and highlights the turn being heard.
        fn follow(&self) {
            self.show(self.audio.current_time() * 1000.0);
        }

        /// Highlights the turn heard at `position_ms`, kept in view while playing.
        fn show(&self, position_ms: f64) {
            let spans: Vec<_> = self.turns.iter().map(|turn| turn.span).collect();
            let heard = span_at(&spans, position_ms);
            let was = self.heard.replace(heard);
            if was == heard {
                return;
            }
            if let Some(turn) = was.and_then(|index| self.turns.get(index)) {
                let _ = turn.button.remove_attribute("aria-current");
                let classes = turn.button.class_list();
                for class in HEARD {
                    let _ = classes.remove_1(class);
                }
                let _ = classes.add_1(NOT_HEARD);
            }
            if let Some(turn) = heard.and_then(|index| self.turns.get(index)) {
                let _ = turn.button.set_attribute("aria-current", "true");
                let classes = turn.button.class_list();
                let _ = classes.remove_1(NOT_HEARD);
                for class in HEARD {
                    let _ = classes.add_1(class);
                }
                if !self.audio.paused() {
                    scroll_to(&turn.button, ScrollLogicalPosition::Nearest);
                }
            }
        }

        /// Moves playback to the start of turn `index`, and plays from there when `play`.
        fn seek(&self, index: usize, play: bool) {
            let Some(turn) = self.turns.get(index) else {
                return;
            };
            self.chosen.set(Some(index));
            self.audio.set_current_time(turn.start_ms as f64 / 1000.0);
            if play {
                let _ = self.audio.play();
            }
            self.show(turn.start_ms as f64);
        }

        fn click(&self, event: &Event) {
            let Some(target) = event
                .target()
                .and_then(|target| target.dyn_into::<Element>().ok())
            else {
                return;
            };
            // A turn of the transcript.
            if let Some(index) = self
                .turns
                .iter()
                .position(|turn| turn.button.contains(Some(&target)))
            {
                self.seek(index, true);
                return;
            }
            // A correction's "Hear it in the recording".
            let Some(item) = target
                .closest("[data-play-turn]")
                .ok()
                .flatten()
                .and_then(|button| button.get_attribute("data-play-turn"))
            else {
                return;
            };
            let Some(index) = self.turns.iter().position(|turn| turn.item == item) else {
                return;
            };
            self.seek(index, true);
            let button = &self.turns[index].button;
            scroll_to(button, ScrollLogicalPosition::Center);
            let _ = button.focus();
        }

        /// Space plays and pauses; the arrow keys move from turn to turn. The player's own
        /// controls keep their keys.
        fn key(&self, event: &KeyboardEvent) {
            let on_player = event
                .target()
                .is_some_and(|target| target.dyn_into::<HtmlMediaElement>().is_ok());
            if on_player || event.alt_key() || event.ctrl_key() || event.meta_key() {
                return;
            }
            let by = match event.key().as_str() {
                " " => {
                    event.prevent_default();
                    if self.audio.paused() {
                        let _ = self.audio.play();
                    } else {
                        let _ = self.audio.pause();
                    }
                    return;
                }
                "ArrowDown" | "ArrowRight" => 1,
                "ArrowUp" | "ArrowLeft" => -1,
                _ => return,
            };
            event.prevent_default();
            if self.turns.is_empty() {
                return;
            }
            let next = match self.chosen.get().or(self.heard.get()) {
                Some(index) => index.saturating_add_signed(by).min(self.turns.len() - 1),
                None => 0,
            };
            self.seek(next, !self.audio.paused());
            let _ = self.turns[next].button.focus();
        }
    }

    fn scroll_to(button: &HtmlElement, block: ScrollLogicalPosition) {
        let options = ScrollIntoViewOptions::new();
        options.set_block(block);
        button.scroll_into_view_with_scroll_into_view_options(&options);
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
