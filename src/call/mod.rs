//! The live call page's code in the browser, outside the Leptos runtime: its own small wasm
//! bundle (feature `call`, built by `script/lib.sh`'s `build_call`), so the call page loads
//! neither Leptos' reactive system nor its views. The server renders every panel of the page
//! (`pages::practice`); this code shows, hides and fills them (`view`) from the session model
//! (`domain::session`), whose effects the controller runs with the browser's objects.

mod api;
mod controller;
mod state;
mod view;

use std::ops::Deref;

use crate::domain::{
    Topic, call::CallState, saving::SaveTrouble, session::Problem, transcript::Transcript,
};
use state::{Held, Shown};

/// The page's call: what the view shows, and the model and browser objects behind it. One per
/// page load, kept for the page's life (a `&'static`, so every callback can hold a copy).
#[derive(Clone, Copy)]
pub struct Practice(&'static Page);

impl Deref for Practice {
    type Target = Page;

    fn deref(&self) -> &Page {
        self.0
    }
}

pub struct Page {
    topic: Topic,
    /// The signed-in learner's email: recordings left in this browser are recovered only by them.
    owner: String,
    state: Shown<CallState>,
    transcript: Shown<Transcript>,
    muted: Shown<bool>,
    push_to_talk: Shown<bool>,
    holding: Shown<bool>,
    /// The microphone's input level (RMS, 0..1).
    mic_level: Shown<f32>,
    /// The coach's voice has actually been heard on the remote track.
    coach_heard: Shown<bool>,
    /// `performance.now()` when the call came up, and the clock ticking from it.
    live_since: Shown<Option<f64>>,
    clock: Shown<f64>,
    session_id: Shown<Option<String>>,
    /// A detail for the learner about the latest failure.
    problem: Shown<Option<Problem>>,
    /// Why part of the session is not saved yet, while that lasts.
    trouble: Shown<Option<SaveTrouble>>,
    /// Set when the session is saved after End: the page moves to its summary.
    finished: Shown<Option<String>>,
    /// Set when a session whose call could not be brought back is saved.
    kept: Shown<Option<String>>,
    /// Recording chunks are on their way to the server.
    saving: Shown<bool>,
    /// Settled turns being saved (retried until the server has them).
    pending_turns: Shown<usize>,
    /// How many times a lost call was replaced by a new one, and whether that just happened.
    reconnects: Shown<u32>,
    back: Shown<bool>,
    /// The microphone stopped mid-call: the call is paused until another one is chosen.
    mic_lost: Shown<bool>,
    /// The microphones to choose from then: (device id, name).
    inputs: Shown<Vec<(String, String)>>,
    model: Held<controller::Model>,
    gear: Held<controller::Gear>,
}

impl Practice {
    fn new(topic: Topic, owner: String) -> Self {
        Practice(Box::leak(Box::new(Page {
            owner,
            state: Shown::new(CallState::Idle),
            transcript: Shown::new(Transcript::default()),
            muted: Shown::new(false),
            push_to_talk: Shown::new(false),
            holding: Shown::new(false),
            mic_level: Shown::new(0.0),
            coach_heard: Shown::new(false),
            live_since: Shown::new(None),
            clock: Shown::new(0.0),
            session_id: Shown::new(None),
            problem: Shown::new(None),
            trouble: Shown::new(None),
            finished: Shown::new(None),
            kept: Shown::new(None),
            saving: Shown::new(false),
            pending_turns: Shown::new(0),
            reconnects: Shown::new(0),
            back: Shown::new(false),
            mic_lost: Shown::new(false),
            inputs: Shown::new(Vec::new()),
            model: Held::new(controller::Model::new(topic.vocabulary.clone())),
            gear: Held::new(Default::default()),
            topic,
        })))
    }
}

/// Starts the call page (the page's loader calls it once the bundle is in): reads the topic the
/// server put in the page, wires the controls, and begins the pre-call check.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn start_call() {
    console_error_panic_hook::set_once();
    view::mount();
}
