//! The browser side of a practice call: it owns the microphone, the call, the recorder and the
//! timers, feeds what happens into the pure state machine (`domain::call`) and the transcript
//! (`domain::transcript`), and the view renders those signals. Browser only.
//!
//! Rules that keep it sound: browser callbacks never drop the object that fired them (teardown is
//! deferred with `spawn_local`), signals are never set while `Gear` is borrowed, and a task that
//! waits reads the page only through `try_` accessors afterwards (the page may be gone by then:
//! nothing that outlives it may touch its signals).

// One controller split by concern: each part sees the whole of it (`use super::*`).
mod check;
mod events;
mod inputs;
mod reconnect;
mod saving;
mod talk;

use std::{
    collections::{HashMap, VecDeque},
    rc::Rc,
};

use leptos::{prelude::*, task::spawn_local};
use realtime_protocol::{
    ClientEvent, ServerEvent, SessionConfig,
    events::Item,
    session::{AudioConfig, AudioInput, TurnDetection},
};
use web_sys::Blob;

pub use self::{
    check::check,
    inputs::{list_inputs, use_input},
    talk::{hold, release_hold, set_muted, set_push_to_talk},
};
use self::{
    check::{mint, prepare_peer},
    events::{on_signal, settle_open_turns},
    inputs::mic_lost,
    reconnect::{lost, resume},
    saving::{discard, keep, keep_lost, persist_turn, register, remember, wrap_up},
    talk::{send, set_mic_open, turn_detection},
};
use super::Practice;
use crate::{
    api::{practice::note_call, voice::start_voice_call},
    browser::{
        Interval, JsError,
        call::{ConnectError, Lost, Peer, PeerSignal},
        calls_supported,
        mic::{self, LevelMeter, Microphone},
        outbox::{self, Attempt, Held, Outbox},
        random_uuid,
        recorder::Recorder,
        sleep, timing,
    },
    domain::{
        call::{CallEvent, CallFailure, CallNote, CallState, DropCause},
        transcript::{Change, SavedTurn, Speaker},
        voice::VoiceCallSecret,
    },
    error::AppError,
};

/// How long the calls URL may take to answer the offer.
const ANSWER_TIMEOUT_MS: i32 = 10_000;
/// How long the connection may take to come up once answered.
const CONNECT_TIMEOUT_MS: i32 = 10_000;
/// A secret closer than this to its expiry is replaced before connecting.
const SECRET_MARGIN_SECS: f64 = 30.0;
/// The recorder hands out a chunk this often.
const CHUNK_MS: i32 = 4_000;
/// How long the page says "You're back" after a reconnection.
const BACK_NOTICE_MS: i32 = 4_000;
/// The coach counts as audible above this RMS level.
const AUDIBLE: f32 = 0.005;

/// The browser objects of one practice page.
#[derive(Default)]
pub struct Gear {
    mic: Option<Microphone>,
    meter: Option<LevelMeter>,
    secret: Option<VoiceCallSecret>,
    peer: Option<Peer>,
    /// Counts the calls of this page: signals from an older call's peer are ignored.
    generation: u32,
    /// The current call was lost while it was being opened (a reconnection attempt failed).
    attempt_lost: bool,
    recorder: Option<Recorder>,
    /// The browser's durable copy of unsent chunks (`None` where IndexedDB is unavailable: then
    /// they live in page memory only).
    outbox: Option<Rc<Outbox>>,
    /// This recording, as the outbox remembers it, and the lock that tells recovery it is live.
    attempt: Option<Attempt>,
    lock: Option<Held>,
    /// Recorded chunks (written to the outbox) not yet acknowledged by the server, in order.
    unsent: VecDeque<(u32, Blob)>,
    /// Chunks made but still being written to the outbox.
    writing: u32,
    next_sequence: u32,
    uploading: bool,
    meter_timer: Option<Interval>,
    clock_timer: Option<Interval>,
    audio_watch: Option<Interval>,
    /// Identifies this attempt's session row (idempotent start).
    key: String,
    /// `performance.now()` when the recording started, and when the call came up.
    recording_since: f64,
    connected_at: f64,
    /// When each turn was first seen and when it settled, in recording milliseconds.
    stamps: HashMap<String, (u64, Option<u64>)>,
    /// Settled turns waiting for the session row to exist.
    unsaved: Vec<SavedTurn>,
}

fn now_secs() -> f64 {
    js_sys::Date::now() / 1000.0
}

/// Feeds an event to the state machine; false (and no change) when it does not apply now or the
/// page is gone.
fn transition(p: Practice, event: CallEvent) -> bool {
    match p.state.try_with_untracked(|state| state.clone().on(event)) {
        Some(Ok(next)) => p.state.try_set(next).is_none(),
        Some(Err(rejected)) => {
            leptos::logging::debug_warn!("call event ignored: {rejected}");
            false
        }
        None => false,
    }
}

/// Stops everything the page holds (microphone included) and fails with `failure`. A call that
/// never came up has no session: what was recorded for it is dropped.
fn fail(p: Practice, failure: CallFailure) {
    if transition(p, CallEvent::Failed(failure)) {
        spawn_local(async move {
            release(p).await;
            if p.session_id.try_get_untracked() == Some(None) {
                // Let the recorder's last chunk land in the outbox, so it goes with the rest.
                for _ in 0..20 {
                    if p.gear
                        .try_with_value(|gear| gear.writing == 0)
                        .unwrap_or(true)
                    {
                        break;
                    }
                    sleep(100).await;
                }
                discard(p).await;
            }
        });
    }
}

/// Releases every browser object; the recorder delivers its last chunk first.
async fn release(p: Practice) {
    let (recorder, mic) = p
        .gear
        .try_update_value(|gear| {
            gear.meter_timer = None;
            gear.clock_timer = None;
            gear.audio_watch = None;
            gear.meter = None;
            gear.peer = None;
            (gear.recorder.take(), gear.mic.take())
        })
        .unwrap_or_default();
    if let Some(recorder) = recorder {
        recorder.finish().await;
    }
    drop(mic);
    p.mic_level.try_set(0.0);
}

/// Start: open the call with the secret minted during the check.
pub fn start(p: Practice) {
    prepare_peer(p);
    if !transition(p, CallEvent::StartPressed) {
        return;
    }
    timing::mark(timing::START);
    p.problem.try_set(None);
    p.transcript.try_set(Default::default());
    p.session_id.try_set(None);
    p.live_since.try_set(None);
    p.coach_heard.try_set(false);
    // The recorder's audio context is made here, inside the click, so it is allowed to run.
    let topic = p.topic.with_value(|topic| topic.slug.as_str().to_owned());
    let owner = p.owner.get_value();
    let recorder = p.gear.try_update_value(|gear| {
        gear.key = random_uuid().unwrap_or_default();
        gear.unsent.clear();
        gear.writing = 0;
        gear.next_sequence = 0;
        let attempt = Attempt {
            key: gear.key.clone(),
            topic,
            owner,
            session: None,
            started_ms: js_sys::Date::now(),
            live_ms: None,
        };
        gear.lock = outbox::hold(&attempt.key).ok();
        remember(gear.outbox.clone(), attempt.clone());
        gear.attempt = Some(attempt);
        let mic = gear.mic.as_ref()?;
        let stream = Clone::clone(mic.stream());
        Some(Recorder::start(&stream, CHUNK_MS, move |chunk| {
            keep(p, chunk)
        }))
    });
    match recorder.flatten() {
        Some(Ok(recorder)) => {
            p.gear.try_update_value(|gear| {
                gear.recorder = Some(recorder);
                gear.recording_since = timing::now();
                gear.stamps.clear();
                gear.unsaved.clear();
            });
        }
        _ => {
            fail(p, CallFailure::Unsupported);
            return;
        }
    }
    spawn_local(async move {
        if let Err(message) = connect(p).await {
            p.problem.try_set(Some(message.to_owned()));
            fail(p, CallFailure::CoachUnavailable);
            return;
        }
        timing::mark(timing::ANSWERED);
        sleep(CONNECT_TIMEOUT_MS).await;
        // The page may be gone by now (ended and left): then there is nothing to time out.
        if p.state.try_get_untracked() == Some(CallState::Connecting) {
            p.problem.try_set(Some(
                "The call could not be completed. Check your connection and try again.".into(),
            ));
            fail(p, CallFailure::CoachUnavailable);
        }
    });
}

/// Posts the offer (with a fresh secret when needed, and once more after a 401).
async fn connect(p: Practice) -> Result<(), &'static str> {
    let mut renewed = false;
    loop {
        let secret = p.gear.try_with_value(|gear| gear.secret.clone()).flatten();
        let secret = match secret {
            Some(secret) if (secret.expires_at as f64) - now_secs() > SECRET_MARGIN_SECS => secret,
            _ => {
                renewed = true;
                let Some(secret) = mint(p).await else {
                    return Ok(()); // `mint` has failed the page with the reason
                };
                p.gear
                    .update_value(|gear| gear.secret = Some(secret.clone()));
                secret
            }
        };
        let Some(connecting) = p
            .gear
            .try_with_value(|gear| {
                gear.peer
                    .as_ref()
                    .map(|peer| peer.connect(&secret, ANSWER_TIMEOUT_MS))
            })
            .flatten()
        else {
            return Err("The call could not be set up in this browser.");
        };
        match connecting.await {
            Ok(_) => return Ok(()),
            Err(ConnectError::Unauthorized) if !renewed => {
                p.gear.try_update_value(|gear| gear.secret = None);
            }
            Err(ConnectError::Unauthorized) => {
                return Err("Your call pass expired and could not be renewed. Please try again.");
            }
            Err(ConnectError::Timeout) => {
                return Err(
                    "Your coach didn't answer in time. Check your connection and try again.",
                );
            }
            Err(ConnectError::Refused { status: 429, .. }) => {
                return Err("The coach is very busy right now. Please try again in a minute.");
            }
            Err(ConnectError::Refused { status, message }) => {
                leptos::logging::warn!("call refused ({status}): {message}");
                return Err("The coach is unavailable right now. Please try again in a moment.");
            }
            Err(ConnectError::Failed(error)) => {
                leptos::logging::warn!("call failed: {} {}", error.name, error.message);
                return Err("We couldn't connect the call. Check your connection and try again.");
            }
        }
    }
}

/// Tells the server's log what happened to the call (in the background; only for the log).
fn note(p: Practice, what: CallNote, cause: Option<DropCause>, attempt: u32) {
    let Some(Some(session)) = p.session_id.try_get_untracked() else {
        return;
    };
    spawn_local(async move {
        if let Err(error) = note_call(session, what, cause, attempt).await {
            leptos::logging::warn!("call event not logged: {error}");
        }
    });
}

/// End: hang up, stop the microphone, save the session and show its summary.
pub fn end(p: Practice) {
    if !transition(p, CallEvent::EndPressed) {
        return;
    }
    // A sentence the coach (or the learner) was in the middle of is kept as far as it got, marked
    // interrupted, as when the call drops.
    settle_open_turns(p);
    spawn_local(async move {
        if let Some(id) = wrap_up(p).await {
            p.finished.try_set(Some(id));
        }
    });
}

/// Leaving the page: everything stops now (the page's signals are about to go).
pub fn teardown(p: Practice) {
    let gear = p.gear.try_update_value(std::mem::take);
    drop(gear);
}
