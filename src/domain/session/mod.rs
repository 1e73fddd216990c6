//! One practice call, sans IO: the whole of what the practice page decides, with nothing of the
//! browser in it. The browser shell (`pages/practice/controller`) feeds it [`Input`]s (the
//! learner's commands, the microphone, the call's signals and events, what saving reported,
//! timers firing) with the time they happened, and runs the [`Effect`]s it asks for (open the
//! microphone, mint a secret, connect, send an event, save a turn, upload a chunk, set a timer…),
//! the way str0m is driven (`handle_input` / `poll_output`).
//!
//! It owns the call's state (`domain::call`, the one transition table), the transcript and when
//! each turn was spoken, the reconnect policy, and what is saved and what still waits
//! (`saving.rs`). Its tests (`tests.rs`) read as the call's specification.

mod call;
mod ending;
mod io;
mod reconnect;
mod saving;
mod talk;
#[cfg(test)]
mod tests;
mod warm;

use std::collections::{HashMap, HashSet, VecDeque};

use realtime_protocol::ClientEvent;

pub use self::{
    io::{Command, ConnectError, Effect, Input, MintError, Now, Problem, Talk, Timer},
    saving::Saves,
    talk::{PREFIX_PADDING_MS, SILENCE_MS, turn_detection},
    warm::Warm,
};
use crate::domain::{
    call::{CallEvent, CallNote, CallState, DropCause},
    saving::SaveTrouble,
    transcript::Transcript,
    voice::VoiceCallSecret,
};

/// The practice page's call.
#[derive(Debug)]
pub struct Session {
    vocabulary: Vec<String>,
    now: Now,
    state: CallState,
    /// Counts the page's calls: signals from an older call are ignored.
    generation: u32,
    secret: Option<VoiceCallSecret>,
    /// The secret was already replaced once for this connection.
    renewed: bool,
    /// The call opened ahead of Start, and how many this check has opened.
    warm: Warm,
    warm_calls: u32,
    talk: Talk,
    /// The coach's reply being made now (`response.created` until its `response.done`), audible
    /// or not yet: what push-to-talk must cancel.
    active_response: Option<String>,
    /// When each response's audio started and stopped playing, in recording milliseconds: a
    /// coach turn's time in the recording, and how much of a reply cut off was heard.
    coach_audio: HashMap<String, (u64, Option<u64>)>,
    /// Responses that will not finish whose audio still plays out: settled when it stops.
    cut_short: HashSet<String>,
    /// The coach's reply failed once and was asked for again (once per learner turn).
    reply_retried: bool,
    /// This attempt's key (idempotent start of its session row).
    key: String,
    /// When the recording started, when the call (or its latest replacement) came up, and when
    /// the session first went live: `Now::ms`.
    recording_since: f64,
    connected_at: f64,
    live_since: Option<f64>,
    transcript: Transcript,
    /// Counts the transcript's changes (the view copies it only when this moved).
    transcript_version: u32,
    /// When each turn was first seen and when it settled, in recording milliseconds.
    stamps: HashMap<String, (u64, Option<u64>)>,
    /// Why the call is being reconnected.
    dropped: Option<DropCause>,
    reconnects: u32,
    back: bool,
    problem: Option<Problem>,
    saves: Saves,
    /// Events the state machine turned down (the shell logs them in development).
    ignored: u32,
    gone: bool,
    effects: VecDeque<Effect>,
}

impl Session {
    /// How long the calls URL may take to answer, then the call to come up.
    pub const CONNECT_TIMEOUT_MS: u32 = 10_000;
    /// A secret closer than this to its expiry is replaced before connecting.
    pub const SECRET_MARGIN_SECS: f64 = 30.0;
    /// How long the page says "You're back" after a reconnection.
    pub const BACK_NOTICE_MS: u32 = 4_000;

    /// A page about a topic with these vocabulary words.
    pub fn new(vocabulary: Vec<String>) -> Self {
        Session {
            vocabulary,
            now: Now::default(),
            state: CallState::Idle,
            generation: 0,
            secret: None,
            renewed: false,
            warm: Warm::Cold,
            warm_calls: 0,
            talk: Talk::default(),
            active_response: None,
            coach_audio: HashMap::new(),
            cut_short: HashSet::new(),
            reply_retried: false,
            key: String::new(),
            recording_since: 0.0,
            connected_at: 0.0,
            live_since: None,
            transcript: Transcript::default(),
            transcript_version: 0,
            stamps: HashMap::new(),
            dropped: None,
            reconnects: 0,
            back: false,
            problem: None,
            saves: Saves::default(),
            ignored: 0,
            gone: false,
            effects: VecDeque::new(),
        }
    }

    /// Takes in what happened at `now`; what to do about it comes out of `poll`.
    pub fn handle(&mut self, now: Now, input: Input) {
        if self.gone {
            return;
        }
        self.now = now;
        match input {
            Input::Command(command) => self.command(command),
            Input::Left => {
                self.gone = true;
                self.effects.clear();
                self.push(Effect::Teardown);
            }
            Input::ChunkMade
            | Input::ChunkStored { .. }
            | Input::TurnStored { .. }
            | Input::Registered { .. }
            | Input::TurnSaved { .. }
            | Input::Uploaded { .. }
            | Input::EndSaved { .. }
            | Input::Released
            | Input::Timer(
                Timer::RetryRegister
                | Timer::RetryTurn { .. }
                | Timer::RetryChunk
                | Timer::RetryEnd
                | Timer::SlowSaving,
            ) => self.saving_input(input),
            input => self.call_input(input),
        }
    }

    /// The next thing to do, in order.
    pub fn poll(&mut self) -> Option<Effect> {
        self.effects.pop_front()
    }

    pub fn state(&self) -> &CallState {
        &self.state
    }

    pub fn transcript(&self) -> &Transcript {
        &self.transcript
    }

    /// Moves on every change of the transcript.
    pub fn transcript_version(&self) -> u32 {
        self.transcript_version
    }

    pub fn talk(&self) -> Talk {
        self.talk
    }

    pub fn problem(&self) -> Option<&Problem> {
        self.problem.as_ref()
    }

    /// `Now::ms` when the session first went live.
    pub fn live_since(&self) -> Option<f64> {
        self.live_since
    }

    pub fn reconnects(&self) -> u32 {
        self.reconnects
    }

    /// A reconnection just happened (the page says so for a moment).
    pub fn back(&self) -> bool {
        self.back
    }

    /// The current call: signals tagged with an older one are ignored.
    pub fn generation(&self) -> u32 {
        self.generation
    }

    pub fn ignored(&self) -> u32 {
        self.ignored
    }

    pub fn saves(&self) -> &Saves {
        &self.saves
    }

    /// The key of the practice session the call belongs to, once Start was pressed: a secret
    /// minted for it is counted against that session (its call time) on the server.
    pub fn session_key(&self) -> Option<&str> {
        let in_call = matches!(
            self.state,
            CallState::Connecting | CallState::Live { .. } | CallState::Reconnecting { .. }
        );
        (in_call && !self.key.is_empty()).then_some(self.key.as_str())
    }

    fn push(&mut self, effect: Effect) {
        self.effects.push_back(effect);
    }

    fn send(&mut self, event: ClientEvent) {
        self.push(Effect::Send(event));
    }

    fn timer(&mut self, timer: Timer, after_ms: u32) {
        self.push(Effect::Timer { timer, after_ms });
    }

    /// Feeds the state machine; false (and no change) when the event does not apply now.
    fn transition(&mut self, event: CallEvent) -> bool {
        match self.state.clone().on(event) {
            Ok(next) => {
                self.state = next;
                true
            }
            Err(_) => {
                self.ignored += 1;
                false
            }
        }
    }

    /// Tells the server's log, once there is a session to tell it about.
    fn note(&mut self, what: CallNote, cause: Option<DropCause>, attempt: u32) {
        if let Some(session) = self.saves.session().map(str::to_owned) {
            self.push(Effect::Note {
                session,
                what,
                cause,
                attempt,
            });
        }
    }

    fn raise(&mut self, trouble: SaveTrouble) {
        self.saves.raise(trouble);
    }
}
