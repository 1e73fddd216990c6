//! The browser side of a practice call: it owns the microphone, the call, the recorder and the
//! timers, feeds what happens into the pure state machine (`domain::call`) and the transcript
//! (`domain::transcript`), and the view renders those signals. Browser only.
//!
//! Rules that keep it sound: browser callbacks never drop the object that fired them (teardown is
//! deferred with `spawn_local`), signals are never set while `Gear` is borrowed, and a task that
//! waits reads the page only through `try_` accessors afterwards (the page may be gone by then:
//! nothing that outlives it may touch its signals).

mod saving;

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

use self::saving::{discard, keep, keep_lost, persist_turn, register, remember, wrap_up};
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

/// The pre-call check: the browser, the microphone and the call secret, all at once.
pub fn check(p: Practice) {
    let event = if matches!(p.state.get_untracked(), CallState::Failed(_)) {
        CallEvent::Retry
    } else {
        CallEvent::CheckStarted
    };
    if !transition(p, event) {
        return;
    }
    p.problem.try_set(None);
    if !calls_supported() {
        fail(p, CallFailure::Unsupported);
        return;
    }
    timing::mark(timing::CHECK);
    spawn_local(async move {
        match Outbox::open().await {
            Ok(outbox) => p
                .gear
                .update_value(|gear| gear.outbox = Some(Rc::new(outbox))),
            Err(error) => leptos::logging::warn!(
                "recording kept in page memory only ({}: {})",
                error.name,
                error.message
            ),
        }
    });
    spawn_local(async move {
        match Microphone::open().await {
            Ok(mut mic) => {
                mic.on_ended(move || mic_lost(p));
                let meter = mic.meter().ok();
                p.gear.try_update_value(|gear| {
                    gear.mic = Some(mic);
                    gear.meter = meter;
                });
                timing::mark(timing::MIC_READY);
                watch_meter(p);
                if transition(p, CallEvent::MicReady) {
                    prepare_peer(p);
                }
            }
            Err(error) => fail(p, error.into()),
        }
    });
    spawn_local(async move {
        if let Some(secret) = mint(p).await {
            p.gear.try_update_value(|gear| gear.secret = Some(secret));
            if transition(p, CallEvent::SecretReady) {
                prepare_peer(p);
            }
        }
    });
}

/// A fresh call secret, or `None` after failing the page with the reason.
async fn mint(p: Practice) -> Option<VoiceCallSecret> {
    let slug = p
        .topic
        .try_with_value(|topic| topic.slug.as_str().to_owned())?;
    match start_voice_call(slug).await {
        Ok(secret) => {
            timing::mark(timing::MINTED);
            Some(secret)
        }
        Err(AppError::TooManyRequests { retry_after_secs }) => {
            fail(p, CallFailure::TooManyAttempts { retry_after_secs });
            None
        }
        Err(error) => {
            p.problem.try_set(Some(error.to_string()));
            fail(p, CallFailure::CoachUnavailable);
            None
        }
    }
}

fn watch_meter(p: Practice) {
    let timer = Interval::new(60, move || {
        let level = p
            .gear
            .try_update_value(|gear| gear.meter.as_mut().map(LevelMeter::level))
            .flatten();
        if let Some(level) = level {
            p.mic_level.try_set(level);
        }
    });
    p.gear
        .try_update_value(|gear| gear.meter_timer = timer.ok());
}

/// Once ready, make the call's offer ahead of Start.
fn prepare_peer(p: Practice) {
    if p.state.try_get_untracked() != Some(CallState::Ready) {
        return;
    }
    let made = p.gear.try_update_value(|gear| {
        if gear.peer.is_some() {
            return Ok::<(), crate::browser::JsError>(());
        }
        let Some(mic) = gear.mic.as_ref() else {
            return Ok(());
        };
        let generation = gear.generation;
        gear.peer = Some(Peer::new(mic, move |signal| {
            on_signal(p, generation, signal)
        })?);
        Ok(())
    });
    if let Some(Err(error)) = made {
        leptos::logging::warn!("call setup failed: {}", error.name);
        fail(p, CallFailure::Unsupported);
    }
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

fn on_signal(p: Practice, generation: u32, signal: PeerSignal) {
    if p.gear.try_with_value(|gear| gear.generation) != Some(generation) {
        return;
    }
    match signal {
        PeerSignal::Opened if matches!(p.state.get_untracked(), CallState::Reconnecting { .. }) => {
            resume(p);
        }
        PeerSignal::Opened => {
            timing::mark(timing::CONNECTED);
            // The coach greets first, the moment the channel opens.
            send(p, &ClientEvent::ResponseCreate { response: None });
            if p.push_to_talk.get_untracked() {
                send(p, &turn_detection(true));
                set_mic_open(p, false);
            }
            if transition(p, CallEvent::Connected) {
                p.gear
                    .update_value(|gear| gear.connected_at = timing::now());
                p.live_since.try_set(Some(timing::now()));
                p.clock.try_set(timing::now());
                let clock = Interval::new(1_000, move || {
                    p.clock.try_set(timing::now());
                });
                p.gear
                    .try_update_value(|gear| gear.clock_timer = clock.ok());
                // From now on there is a session to keep, made by the server or, if it cannot be
                // reached before the page goes, by recovery.
                let noted = p.gear.try_update_value(|gear| {
                    let attempt = gear.attempt.as_mut()?;
                    attempt.live_ms = Some(js_sys::Date::now());
                    Some((gear.outbox.clone(), attempt.clone()))
                });
                if let Some(Some((outbox, attempt))) = noted {
                    remember(outbox, attempt);
                }
                spawn_local(register(p));
            }
        }
        PeerSignal::Event(event) => on_event(p, event),
        PeerSignal::CoachStream(stream) => {
            p.gear.try_update_value(|gear| {
                if let Some(recorder) = gear.recorder.as_mut() {
                    let _ = recorder.add_coach(&stream);
                }
            });
            watch_coach_audio(p);
        }
        PeerSignal::Lost(how) => {
            let cause = match how {
                Lost::Network => DropCause::Network,
                Lost::ChannelClosed => DropCause::ChannelClosed,
            };
            spawn_local(async move { lost(p, cause) });
        }
    }
}

fn on_event(p: Practice, event: ServerEvent) {
    // Once the learner ended (or the call failed for good), what the old call still says is moot.
    let over = p
        .state
        .try_with_untracked(|state| matches!(state, CallState::Ended | CallState::Failed(_)));
    if over != Some(false) {
        return;
    }
    let change = p
        .transcript
        .try_update(|transcript| transcript.apply(&event))
        .flatten();
    if let Some(Change::Added(index) | Change::Updated(index)) = change {
        stamp_and_save(p, index);
    }
    match &event {
        ServerEvent::OutputAudioStarted { .. } => {
            transition(p, CallEvent::CoachStartedSpeaking);
        }
        ServerEvent::OutputAudioStopped { .. } | ServerEvent::OutputAudioCleared { .. } => {
            transition(p, CallEvent::CoachStoppedSpeaking);
        }
        ServerEvent::Error { error, .. } => {
            if error.code.as_deref() == Some("session_expired") {
                lost(p, DropCause::SessionExpired);
            } else {
                leptos::logging::warn!("coach error: {:?}", error.code);
            }
        }
        _ => {}
    }
}

/// Notes when a turn was first seen and when it settled (in recording time), and saves it once
/// it has settled.
fn stamp_and_save(p: Practice, index: usize) {
    let Some(turn) = p
        .transcript
        .try_with_untracked(|t| t.turns().get(index).cloned())
        .flatten()
    else {
        return;
    };
    let saved = p.gear.try_update_value(|gear| {
        let now = (timing::now() - gear.recording_since).max(0.0) as u64;
        let stamp = gear
            .stamps
            .entry(turn.item_id.clone())
            .or_insert((now, None));
        if turn.is_settled() && stamp.1.is_none() {
            stamp.1 = Some(now.max(stamp.0));
        }
        let (seen, settled) = *stamp;
        let settled = settled?;
        // The learner's speech times come from the coach's own voice detection, measured from
        // when the call came up.
        let call_offset = (gear.connected_at - gear.recording_since).max(0.0) as u64;
        let (start_ms, end_ms) = match (turn.speaker, turn.audio_start_ms, turn.audio_end_ms) {
            (Speaker::Learner, Some(start), end) => (
                call_offset + start,
                end.map_or(settled, |end| call_offset + end)
                    .max(call_offset + start),
            ),
            _ => (seen, settled),
        };
        Some(SavedTurn {
            item_id: turn.item_id.clone(),
            speaker: turn.speaker,
            text: turn.text.clone(),
            state: turn.state,
            start_ms: Some(start_ms),
            end_ms: Some(end_ms),
            position: u32::try_from(index).unwrap_or(u32::MAX),
        })
    });
    if let Some(Some(saved)) = saved {
        persist_turn(p, saved);
    }
}

/// Marks the moment the coach's voice is first actually audible on the remote track.
fn watch_coach_audio(p: Practice) {
    let watch = Interval::new(10, move || {
        if p.coach_heard.get_untracked() {
            return;
        }
        let level = p
            .gear
            .try_update_value(|gear| gear.recorder.as_mut().map(Recorder::coach_level))
            .flatten()
            .unwrap_or(0.0);
        if level > AUDIBLE {
            timing::mark(timing::FIRST_AUDIO);
            p.coach_heard.try_set(true);
            spawn_local(async move {
                p.gear.try_update_value(|gear| gear.audio_watch = None);
            });
        }
    });
    p.gear
        .try_update_value(|gear| gear.audio_watch = watch.ok());
}

fn send(p: Practice, event: &ClientEvent) -> bool {
    p.gear
        .try_with_value(|gear| gear.peer.as_ref().is_some_and(|peer| peer.send(event)))
        .unwrap_or(false)
}

fn set_mic_open(p: Practice, open: bool) {
    p.gear.try_with_value(|gear| {
        if let Some(mic) = gear.mic.as_ref() {
            mic.set_muted(!open);
        }
    });
}

/// `session.update` switching between push-to-talk (`turn_detection: null`) and the server's
/// voice activity detection.
fn turn_detection(push_to_talk: bool) -> ClientEvent {
    let detection = (!push_to_talk).then(|| TurnDetection {
        kind: "server_vad".into(),
        silence_duration_ms: Some(500),
        create_response: Some(true),
        interrupt_response: Some(true),
    });
    ClientEvent::SessionUpdate {
        session: SessionConfig {
            kind: SessionConfig::KIND.into(),
            audio: Some(AudioConfig {
                input: Some(AudioInput {
                    turn_detection: Some(detection),
                    ..Default::default()
                }),
                output: None,
            }),
            ..Default::default()
        },
    }
}

pub fn set_muted(p: Practice, muted: bool) {
    p.muted.try_set(muted);
    if !p.push_to_talk.get_untracked() {
        set_mic_open(p, !muted);
    }
}

pub fn set_push_to_talk(p: Practice, on: bool) {
    p.push_to_talk.try_set(on);
    p.holding.try_set(false);
    if matches!(p.state.get_untracked(), CallState::Live { .. }) {
        send(p, &turn_detection(on));
    }
    set_mic_open(p, !on && !p.muted.get_untracked());
}

/// Push-to-talk pressed: the learner has the floor (cutting the coach off if it is speaking).
pub fn hold(p: Practice) {
    if !p.push_to_talk.get_untracked() || p.holding.get_untracked() {
        return;
    }
    let CallState::Live { coach_speaking } = p.state.get_untracked() else {
        return;
    };
    p.holding.try_set(true);
    if coach_speaking {
        send(p, &ClientEvent::ResponseCancel);
        send(p, &ClientEvent::OutputAudioClear);
    }
    send(p, &ClientEvent::InputAudioClear);
    set_mic_open(p, true);
}

/// Push-to-talk released: what was said is committed and the coach answers.
pub fn release_hold(p: Practice) {
    if !p.holding.get_untracked() {
        return;
    }
    p.holding.try_set(false);
    set_mic_open(p, false);
    send(p, &ClientEvent::InputAudioCommit);
    send(p, &ClientEvent::ResponseCreate { response: None });
}

/// The call dropped (the network, or the call's time limit). A live session goes on: the
/// recorder keeps recording the microphone while a new call is opened (`reconnect`). A call that
/// never came up fails like any other start that did not work: it has no session to keep.
fn lost(p: Practice, cause: DropCause) {
    let Some(state) = p.state.try_get_untracked() else {
        return; // the page is gone
    };
    match state {
        CallState::Live { .. } if transition(p, CallEvent::ConnectionLost) => {
            spawn_local(reconnect(p, cause));
        }
        // A reconnection attempt's own call was lost: `reconnect` moves on to the next one.
        CallState::Reconnecting { .. } => {
            p.gear.try_update_value(|gear| gear.attempt_lost = true);
        }
        CallState::Connecting => fail(p, CallFailure::ConnectionLost),
        _ => {}
    }
}

/// How long to wait before each reconnection attempt.
fn reconnect_delay(attempt: u32) -> i32 {
    match attempt {
        0 | 1 => 250,
        n => 1_000 * (1 << (n - 2).min(4)),
    }
}

/// Opens new calls (with backoff, up to `CallState::MAX_RECONNECTS`) until one carries the
/// session on; after the last, the session is saved as it is. The learner can end at any time.
async fn reconnect(p: Practice, cause: DropCause) {
    note(p, CallNote::Dropped, Some(cause), 0);
    // Whatever the lost call left open will never finish.
    let open = p
        .transcript
        .try_update(|transcript| transcript.settle_open())
        .unwrap_or_default();
    for index in open {
        stamp_and_save(p, index);
    }
    p.gear.try_update_value(|gear| {
        gear.generation += 1;
        gear.peer = None;
    });
    loop {
        let Some(CallState::Reconnecting { attempt }) = p.state.try_get_untracked() else {
            return;
        };
        sleep(reconnect_delay(attempt)).await;
        match call_again(p).await {
            Ok(()) => {
                note(p, CallNote::Reconnected, Some(cause), attempt);
                return;
            }
            Err(why) => leptos::logging::warn!("reconnection attempt {attempt} failed: {why}"),
        }
        if !matches!(
            p.state.try_get_untracked(),
            Some(CallState::Reconnecting { .. })
        ) {
            return; // the learner ended the session meanwhile
        }
        transition(p, CallEvent::ConnectionLost);
        if let Some(CallState::Failed(_)) = p.state.try_get_untracked() {
            note(p, CallNote::GaveUp, Some(cause), attempt);
            keep_lost(p).await;
            return;
        }
    }
}

/// One attempt at a new call for the session: a fresh secret, a new peer, the offer, and the
/// channel opening (then `resume` carries the conversation over).
async fn call_again(p: Practice) -> Result<(), String> {
    let slug = p
        .topic
        .try_with_value(|topic| topic.slug.as_str().to_owned())
        .ok_or("the page is gone")?;
    let secret = start_voice_call(slug)
        .await
        .map_err(|error| format!("no secret: {error}"))?;
    let made = p.gear.try_update_value(|gear| {
        gear.generation += 1;
        gear.attempt_lost = false;
        gear.peer = None;
        let generation = gear.generation;
        let mic = gear.mic.as_ref()?;
        let peer = Peer::new(mic, move |signal| on_signal(p, generation, signal));
        gear.peer = peer.ok();
        gear.secret = Some(secret.clone());
        gear.peer
            .as_ref()
            .map(|peer| peer.connect(&secret, ANSWER_TIMEOUT_MS))
    });
    let Some(Some(connecting)) = made else {
        return Err("no microphone or peer".into());
    };
    connecting
        .await
        .map_err(|error| format!("not connected: {error:?}"))?;
    let mut waited = 0;
    while waited < CONNECT_TIMEOUT_MS {
        match p.state.try_get_untracked() {
            Some(CallState::Live { .. }) => return Ok(()),
            Some(CallState::Reconnecting { .. }) => {}
            _ => return Err("the session ended".into()),
        }
        if p.gear.try_with_value(|gear| gear.attempt_lost) != Some(false) {
            return Err("lost while opening".into());
        }
        sleep(100).await;
        waited += 100;
    }
    Err("the call did not open in time".into())
}

/// The new call is open: it is told the conversation so far (and to continue it, not start
/// again), and the session goes on.
fn resume(p: Practice) {
    let items = p
        .transcript
        .with_untracked(|transcript| transcript.replay());
    for item in items {
        send(
            p,
            &ClientEvent::ItemCreate {
                previous_item_id: None,
                item,
            },
        );
    }
    send(
        p,
        &ClientEvent::ItemCreate {
            previous_item_id: None,
            item: Item::text(
                "system",
                "The call dropped for a moment and is back. Continue the conversation from where \
                 it stopped: do not greet the learner or start over. If the learner was \
                 speaking, ask them to finish what they were saying.",
            ),
        },
    );
    if p.push_to_talk.get_untracked() {
        send(p, &turn_detection(true));
    } else {
        send(p, &ClientEvent::ResponseCreate { response: None });
    }
    if transition(p, CallEvent::Reconnected) {
        p.gear
            .update_value(|gear| gear.connected_at = timing::now());
        p.reconnects.try_update(|n| *n += 1);
        p.back.try_set(true);
        spawn_local(async move {
            sleep(BACK_NOTICE_MS).await;
            p.back.try_set(false);
        });
    }
}

/// The microphone stopped by itself. Before a call that is a failure like no microphone; during
/// one the call pauses (the coach hears silence, the recording goes on) until the learner picks
/// an input.
fn mic_lost(p: Practice) {
    let Some(state) = p.state.try_get_untracked() else {
        return;
    };
    match state {
        CallState::Connecting | CallState::Live { .. } | CallState::Reconnecting { .. } => {
            if p.mic_lost.try_get_untracked() != Some(false) {
                return;
            }
            p.mic_lost.try_set(true);
            note(p, CallNote::MicLost, None, 0);
            list_inputs(p);
        }
        CallState::Checking { .. } | CallState::Ready => fail(p, CallFailure::NoMic),
        _ => {}
    }
}

/// Lists the microphones to choose from.
pub fn list_inputs(p: Practice) {
    spawn_local(async move {
        let inputs = mic::inputs()
            .await
            .into_iter()
            .map(|input| (input.id, input.label))
            .collect();
        p.inputs.try_set(inputs);
    });
}

/// Goes on with the microphone `device` (an id from `list_inputs`): the call sends it and the
/// recording mixes it in from now on.
pub fn use_input(p: Practice, device: String) {
    spawn_local(async move {
        let mic = match Microphone::open_device(Some(&device)).await {
            Ok(mic) => mic,
            Err(error) => {
                leptos::logging::warn!("microphone not opened: {error:?}");
                p.problem.try_set(Some(
                    "That microphone could not be opened. Check it is plugged in, or choose another one."
                        .into(),
                ));
                list_inputs(p);
                return;
            }
        };
        let mut mic = mic;
        mic.on_ended(move || mic_lost(p));
        let replacing = p
            .gear
            .try_with_value(|gear| gear.peer.as_ref().map(|peer| peer.replace_mic(&mic)))
            .flatten();
        let replaced = match replacing {
            Some(Ok(replacing)) => replacing.await.map(|_| ()).map_err(JsError::from),
            Some(Err(error)) => Err(error),
            None => Ok(()), // between calls: the next one is made with this microphone
        };
        if let Err(error) = replaced {
            leptos::logging::warn!("microphone not switched in the call: {}", error.message);
        }
        let open = if p.push_to_talk.try_get_untracked() == Some(true) {
            p.holding.try_get_untracked() == Some(true)
        } else {
            p.muted.try_get_untracked() == Some(false)
        };
        mic.set_muted(!open);
        let meter = mic.meter().ok();
        p.gear.try_update_value(|gear| {
            if let Some(recorder) = gear.recorder.as_mut()
                && let Err(error) = recorder.add_mic(mic.stream())
            {
                leptos::logging::warn!("new microphone not recorded: {}", error.message);
            }
            gear.meter = meter;
            gear.mic = Some(mic);
        });
        p.problem.try_set(None);
        p.mic_lost.try_set(false);
        note(p, CallNote::MicBack, None, 0);
    });
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
    let open = p
        .transcript
        .try_update(|transcript| transcript.settle_open())
        .unwrap_or_default();
    for index in open {
        stamp_and_save(p, index);
    }
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
