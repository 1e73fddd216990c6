//! Fault injection, queued transcripts and counters: what tests and demos steer and observe.

use std::{
    collections::VecDeque,
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering},
    },
};

use axum::{Json, extract::State, http::StatusCode};
use serde::{Deserialize, Serialize};

use crate::{
    Simulator, lock,
    responses::{MAX_QUEUED, ResponseOutcome},
};

/// A fault for the next mint or call. Each is used once, in the order queued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// The next mint answers this status (500, 429, ...) with the API's error body.
    MintError { status: u16 },
    /// The next minted key stops opening calls after `seconds` (whatever `expires_at` says).
    KeyTtl { seconds: u64 },
    /// The next call's SDP answer is sent `ms` late.
    AnswerDelay { ms: u64 },
    /// The next call stops (media and data channel go silent, as a network loss) after `seconds`.
    DropCallAfter { seconds: u64 },
    /// The next call gets `error` `session_expired` after `seconds`, then ends.
    SessionExpiredAfter { seconds: u64 },
    /// The next learner transcription fails.
    TranscriptionFails,
}

/// What crossed the wire, for tests to assert on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    pub mints: u64,
    pub calls_started: u64,
    pub calls_active: u64,
    pub audio_frames_received: u64,
    pub audio_frames_sent: u64,
    pub events_sent: u64,
    /// Requests to `POST /v1/responses` that passed the API's checks.
    pub responses: u64,
}

#[derive(Default)]
pub(crate) struct Control {
    faults: Mutex<VecDeque<Fault>>,
    transcripts: Mutex<VecDeque<String>>,
    responses: Mutex<VecDeque<ResponseOutcome>>,
    responses_answered: AtomicU64,
    mints: AtomicU64,
    pub(crate) calls_started: AtomicU64,
    pub(crate) calls_active: AtomicU64,
    pub(crate) audio_frames_received: AtomicU64,
    pub(crate) audio_frames_sent: AtomicU64,
    pub(crate) events_sent: AtomicU64,
}

impl Control {
    /// Removes and returns the first queued fault that `wanted` accepts.
    pub(crate) fn take_fault(&self, wanted: impl Fn(&Fault) -> bool) -> Option<Fault> {
        let mut faults = lock(&self.faults);
        let index = faults.iter().position(wanted)?;
        faults.remove(index)
    }

    /// The text of the next learner utterance, if a test queued one.
    pub(crate) fn next_transcript(&self) -> Option<String> {
        lock(&self.transcripts).pop_front()
    }

    pub(crate) fn queue_fault(&self, fault: Fault) {
        lock(&self.faults).push_back(fault);
    }

    pub(crate) fn queue_transcript(&self, text: String) {
        lock(&self.transcripts).push_back(text);
    }

    /// Queues outcomes for the next Responses requests; refused (with how many wait) past
    /// `MAX_QUEUED`.
    pub(crate) fn queue_responses(&self, outcomes: Vec<ResponseOutcome>) -> Result<(), usize> {
        let mut queue = lock(&self.responses);
        if queue.len() + outcomes.len() > MAX_QUEUED {
            return Err(queue.len());
        }
        queue.extend(outcomes);
        Ok(())
    }

    pub(crate) fn next_response(&self) -> Option<ResponseOutcome> {
        lock(&self.responses).pop_front()
    }

    pub(crate) fn count_response(&self) {
        self.responses_answered.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count_mint(&self) {
        self.mints.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn counters(&self) -> Counters {
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        Counters {
            mints: get(&self.mints),
            calls_started: get(&self.calls_started),
            calls_active: get(&self.calls_active),
            audio_frames_received: get(&self.audio_frames_received),
            audio_frames_sent: get(&self.audio_frames_sent),
            events_sent: get(&self.events_sent),
            responses: get(&self.responses_answered),
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct QueueFaults {
    faults: Vec<Fault>,
}

/// `POST /control/faults` `{"faults":[{"kind":"mint_error","status":500}, ...]}`.
pub(crate) async fn queue_faults(
    State(sim): State<Simulator>,
    Json(body): Json<QueueFaults>,
) -> StatusCode {
    lock(&sim.inner.control.faults).extend(body.faults);
    StatusCode::NO_CONTENT
}

#[derive(Debug, Deserialize)]
pub(crate) struct QueueTranscripts {
    texts: Vec<String>,
}

/// `POST /control/transcripts` `{"texts":["I'd like a coffee", ...]}`: what the learner's next
/// utterances "said", since the simulator cannot understand speech.
pub(crate) async fn queue_transcripts(
    State(sim): State<Simulator>,
    Json(body): Json<QueueTranscripts>,
) -> StatusCode {
    lock(&sim.inner.control.transcripts).extend(body.texts);
    StatusCode::NO_CONTENT
}

/// What to do to the calls going on now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum CallAction {
    /// Stop them as a network loss looks: media and data go silent.
    Drop,
    /// Send `session_expired` (the call's time limit), then end them.
    Expire,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ActOnCalls {
    action: CallAction,
}

#[derive(Debug, Serialize)]
pub(crate) struct ActedOn {
    calls: usize,
}

/// `POST /control/calls` `{"action":"drop"}` or `{"action":"expire"}`: a fault at this very
/// moment (mid-reply, mid-sentence), for every call going on; answers how many there were.
pub(crate) async fn act_on_calls(
    State(sim): State<Simulator>,
    Json(body): Json<ActOnCalls>,
) -> Json<ActedOn> {
    let senders: Vec<_> = lock(&sim.inner.calls).values().cloned().collect();
    let command = || match body.action {
        CallAction::Drop => crate::calls::CallCommand::Drop,
        CallAction::Expire => crate::calls::CallCommand::Expire,
    };
    let mut calls = 0;
    for sender in senders {
        if sender.send(command()).await.is_ok() {
            calls += 1;
        }
    }
    Json(ActedOn { calls })
}

/// `GET /control/counters`.
pub(crate) async fn counters(State(sim): State<Simulator>) -> Json<Counters> {
    Json(sim.inner.control.counters())
}

/// `POST /control/reset`: forget queued faults, transcripts and Responses outcomes.
pub(crate) async fn reset(State(sim): State<Simulator>) -> StatusCode {
    lock(&sim.inner.control.faults).clear();
    lock(&sim.inner.control.transcripts).clear();
    lock(&sim.inner.control.responses).clear();
    StatusCode::NO_CONTENT
}
