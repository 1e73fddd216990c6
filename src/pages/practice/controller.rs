//! The browser side of a practice call: it owns the microphone, the call, the recorder and the
//! timers, feeds what happens into the pure state machine (`domain::call`) and the transcript
//! (`domain::transcript`), and the view renders those signals. Browser only.
//!
//! Rules that keep it sound: browser callbacks never drop the object that fired them (teardown is
//! deferred with `spawn_local`), and signals are never set while `Gear` is borrowed.

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

use super::Practice;
use crate::{
    api::{
        practice::{end_practice, note_call, save_turn, start_practice},
        voice::start_voice_call,
    },
    browser::{
        Interval, JsError,
        call::{ConnectError, Lost, Peer, PeerSignal},
        calls_supported,
        mic::{self, LevelMeter, Microphone},
        outbox::{self, Attempt, Held, Outbox},
        random_uuid,
        recorder::Recorder,
        sleep, timing,
        upload::put_chunk,
    },
    domain::{
        call::{CallEvent, CallFailure, CallNote, CallState, DropCause},
        practice::words_used,
        transcript::{Change, SavedTurn, Speaker, TurnState},
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

/// Feeds an event to the state machine; false (and no change) when it does not apply now.
fn transition(p: Practice, event: CallEvent) -> bool {
    let next = p.state.with_untracked(|state| state.clone().on(event).ok());
    match next {
        Some(next) => {
            p.state.set(next);
            true
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
            if p.session_id.get_untracked().is_none() {
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

/// Forgets this page's recording: the outbox copy, the queue and the lock.
async fn discard(p: Practice) {
    let Some((outbox, key, lock)) = p.gear.try_update_value(|gear| {
        gear.unsent.clear();
        (gear.outbox.clone(), gear.key.clone(), gear.lock.take())
    }) else {
        return;
    };
    if let Some(outbox) = outbox
        && let Err(error) = outbox.forget(&key).await
    {
        leptos::logging::warn!("recording left in the outbox: {}", error.message);
    }
    drop(lock);
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
    p.mic_level.set(0.0);
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
    p.problem.set(None);
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
                p.gear.update_value(|gear| {
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
            p.gear.update_value(|gear| gear.secret = Some(secret));
            if transition(p, CallEvent::SecretReady) {
                prepare_peer(p);
            }
        }
    });
}

/// A fresh call secret, or `None` after failing the page with the reason.
async fn mint(p: Practice) -> Option<VoiceCallSecret> {
    let slug = p.topic.with_value(|topic| topic.slug.as_str().to_owned());
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
            p.problem.set(Some(error.to_string()));
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
            p.mic_level.set(level);
        }
    });
    p.gear.update_value(|gear| gear.meter_timer = timer.ok());
}

/// Once ready, make the call's offer ahead of Start.
fn prepare_peer(p: Practice) {
    if p.state.get_untracked() != CallState::Ready {
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
    p.problem.set(None);
    p.transcript.set(Default::default());
    p.session_id.set(None);
    p.live_since.set(None);
    p.coach_heard.set(false);
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
        Some(Ok(recorder)) => p.gear.update_value(|gear| {
            gear.recorder = Some(recorder);
            gear.recording_since = timing::now();
            gear.stamps.clear();
            gear.unsaved.clear();
        }),
        _ => {
            fail(p, CallFailure::Unsupported);
            return;
        }
    }
    spawn_local(async move {
        if let Err(message) = connect(p).await {
            p.problem.set(Some(message.to_owned()));
            fail(p, CallFailure::CoachUnavailable);
            return;
        }
        timing::mark(timing::ANSWERED);
        sleep(CONNECT_TIMEOUT_MS).await;
        if p.state.get_untracked() == CallState::Connecting {
            p.problem.set(Some(
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
        let secret = p.gear.with_value(|gear| gear.secret.clone());
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
        let Some(connecting) = p.gear.with_value(|gear| {
            gear.peer
                .as_ref()
                .map(|peer| peer.connect(&secret, ANSWER_TIMEOUT_MS))
        }) else {
            return Err("The call could not be set up in this browser.");
        };
        match connecting.await {
            Ok(_) => return Ok(()),
            Err(ConnectError::Unauthorized) if !renewed => {
                p.gear.update_value(|gear| gear.secret = None);
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
                p.live_since.set(Some(timing::now()));
                p.clock.set(timing::now());
                let clock = Interval::new(1_000, move || p.clock.set(timing::now()));
                p.gear.update_value(|gear| gear.clock_timer = clock.ok());
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
            p.gear.update_value(|gear| {
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
        .with_untracked(|t| t.turns().get(index).cloned())
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

/// What the page says while a turn has been waiting long to be saved.
const TURNS_WAITING: &str =
    "Part of this conversation is not saved yet. We keep trying: check your connection.";

/// Saves a settled turn now, or once the session row exists. The turn waits in the outbox until
/// the server has it, so a tab that goes away first leaves it to recovery. A failing save is
/// retried with backoff for as long as the page lives (End waits for it); only a refusal gives up.
fn persist_turn(p: Practice, turn: SavedTurn) {
    let (key, outbox) = p
        .gear
        .with_value(|gear| (gear.key.clone(), gear.outbox.clone()));
    let Some(session) = p.session_id.get_untracked() else {
        // Kept in the outbox too, for recovery to send should the page go before the session
        // row is made.
        if let Some(outbox) = outbox {
            let (key, turn) = (key, turn.clone());
            spawn_local(async move {
                if let Err(error) = outbox.put_turn(&key, &turn).await {
                    leptos::logging::warn!("turn kept in memory only: {}", error.message);
                }
            });
        }
        p.gear.update_value(|gear| gear.unsaved.push(turn));
        return;
    };
    p.pending_turns.update(|pending| *pending += 1);
    spawn_local(async move {
        if let Some(outbox) = &outbox
            && let Err(error) = outbox.put_turn(&key, &turn).await
        {
            leptos::logging::warn!("turn kept in memory only: {}", error.message);
        }
        let mut wait = 500;
        let mut failures = 0;
        loop {
            match save_turn(session.clone(), turn.clone()).await {
                Ok(_) => break,
                Err(AppError::InvalidInput { message }) => {
                    leptos::logging::warn!("turn not saved: {message}");
                    break;
                }
                Err(error) => {
                    leptos::logging::warn!("turn not saved yet: {error}");
                    failures += 1;
                    if failures == 4 {
                        p.problem.try_set(Some(TURNS_WAITING.into()));
                    }
                    sleep(wait).await;
                    wait = (wait * 2).min(15_000);
                    // The page is gone (its signals with it): recovery sends the turn.
                    if p.pending_turns.try_get_untracked().is_none() {
                        return;
                    }
                }
            }
        }
        if let Some(outbox) = &outbox
            && let Err(error) = outbox.remove_turn(&key, &turn.item_id).await
        {
            leptos::logging::warn!("saved turn left in the outbox: {}", error.message);
        }
        p.pending_turns.try_update(|pending| *pending -= 1);
        if p.pending_turns.try_get_untracked() == Some(0)
            && p.problem.try_get_untracked().flatten().as_deref() == Some(TURNS_WAITING)
        {
            p.problem.try_set(None);
        }
    });
}

/// Saves the attempt in the outbox (in the background: a failure only costs the crash copy).
fn remember(outbox: Option<Rc<Outbox>>, attempt: Attempt) {
    let Some(outbox) = outbox else {
        return;
    };
    spawn_local(async move {
        if let Err(error) = outbox.save(&attempt).await {
            leptos::logging::warn!("recording not noted in the outbox: {}", error.message);
        }
    });
}

/// A chunk from the recorder: written to the outbox first, then queued for upload.
fn keep(p: Practice, chunk: Blob) {
    let Some((sequence, key, outbox)) = p.gear.try_update_value(|gear| {
        let sequence = gear.next_sequence;
        gear.next_sequence += 1;
        gear.writing += 1;
        (sequence, gear.key.clone(), gear.outbox.clone())
    }) else {
        return;
    };
    spawn_local(async move {
        if let Some(outbox) = outbox
            && let Err(error) = outbox.put(&key, sequence, &chunk).await
        {
            leptos::logging::warn!("chunk {sequence} kept in memory only: {}", error.message);
        }
        p.gear.update_value(|gear| {
            gear.writing -= 1;
            let at = gear.unsent.partition_point(|(n, _)| *n < sequence);
            gear.unsent.insert(at, (sequence, chunk));
        });
        upload(p);
    });
}

/// Uploads the recorded chunks in order while the learner speaks, each retried with backoff until
/// the server has it, then dropped from the outbox. One upload loop at a time; it starts once the
/// session row exists.
fn upload(p: Practice) {
    let Some(session) = p.session_id.get_untracked() else {
        return;
    };
    let start = p
        .gear
        .try_update_value(|gear| !std::mem::replace(&mut gear.uploading, true))
        .unwrap_or(false);
    if !start {
        return;
    }
    spawn_local(async move {
        let mut backoff = 500;
        loop {
            let next = p
                .gear
                .try_update_value(|gear| {
                    let next = gear.unsent.front().cloned();
                    gear.uploading = next.is_some();
                    next
                })
                .flatten();
            let Some((sequence, blob)) = next else {
                p.saving.set(false);
                return;
            };
            p.saving.set(true);
            match put_chunk(&session, sequence, &blob).await {
                // Stored, or already there. A refusal (4xx) will not change on retry: give up on
                // that piece rather than block the rest.
                Ok(status) if status < 500 && status != 408 && status != 429 => {
                    if !(200..300).contains(&status) {
                        leptos::logging::warn!("recording chunk {sequence} refused ({status})");
                    }
                    let acknowledged = p.gear.try_update_value(|gear| {
                        gear.unsent.pop_front();
                        (gear.key.clone(), gear.outbox.clone())
                    });
                    if let Some((key, Some(outbox))) = acknowledged
                        && let Err(error) = outbox.remove(&key, sequence).await
                    {
                        leptos::logging::warn!(
                            "chunk {sequence} left in the outbox: {}",
                            error.message
                        );
                    }
                    backoff = 500;
                }
                other => {
                    leptos::logging::warn!(
                        "recording chunk {sequence} not uploaded yet: {other:?}"
                    );
                    sleep(backoff).await;
                    backoff = (backoff * 2).min(15_000);
                }
            }
        }
    });
}

/// Waits (up to `limit_ms`) until every recorded chunk and every settled turn is on the server.
async fn uploaded(p: Practice, limit_ms: i32) -> bool {
    let mut waited = 0;
    loop {
        let done = p
            .gear
            .try_with_value(|gear| gear.unsent.is_empty() && gear.writing == 0)
            .unwrap_or(true)
            && p.pending_turns.try_get_untracked().unwrap_or(0) == 0;
        if done {
            return true;
        }
        if waited >= limit_ms {
            return false;
        }
        sleep(100).await;
        waited += 100;
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
            p.coach_heard.set(true);
            spawn_local(async move { p.gear.update_value(|gear| gear.audio_watch = None) });
        }
    });
    p.gear.update_value(|gear| gear.audio_watch = watch.ok());
}

/// What the page says while the session row could not be made yet.
const NOT_STARTED: &str =
    "This session isn't saved yet: we keep trying. You can keep talking; check your connection.";

/// Creates the session row once the call is up, retrying with backoff for as long as the page
/// lives (what is said and recorded meanwhile waits in the outbox).
async fn register(p: Practice) {
    let slug = p.topic.with_value(|topic| topic.slug.as_str().to_owned());
    let key = p.gear.with_value(|gear| gear.key.clone());
    let mut wait = 500;
    let mut failures = 0;
    // `None`: the page is gone (recovery makes the session from the outbox); `Some(false)`: the
    // learner started another call since.
    let current = {
        let key = key.clone();
        move || p.gear.try_with_value(|gear| gear.key == key)
    };
    loop {
        match start_practice(slug.clone(), key.clone(), None).await {
            Ok(_) if current() != Some(true) => return,
            Ok(session) => {
                let noted = p.gear.try_update_value(|gear| {
                    let attempt = gear.attempt.as_mut()?;
                    attempt.session = Some(session.id.clone());
                    Some((gear.outbox.clone(), attempt.clone()))
                });
                if let Some(Some((outbox, attempt))) = noted {
                    remember(outbox, attempt);
                }
                p.session_id.set(Some(session.id));
                upload(p);
                let unsaved = p
                    .gear
                    .try_update_value(|gear| std::mem::take(&mut gear.unsaved))
                    .unwrap_or_default();
                for turn in unsaved {
                    persist_turn(p, turn);
                }
                if p.problem.try_get_untracked().flatten().as_deref() == Some(NOT_STARTED) {
                    p.problem.try_set(None);
                }
                return;
            }
            // Refused for good (an unknown topic, a key used for another one): retrying is no use.
            Err(error @ (AppError::InvalidInput { .. } | AppError::NotFound { .. })) => {
                leptos::logging::warn!("session not started: {error}");
                p.problem.try_set(Some(error.to_string()));
                return;
            }
            Err(error) => {
                leptos::logging::warn!("session not started yet: {error}");
                failures += 1;
                if failures == 4 {
                    p.problem.try_set(Some(NOT_STARTED.into()));
                }
                sleep(wait).await;
                wait = (wait * 2).min(15_000);
                if current() != Some(true) {
                    return;
                }
            }
        }
    }
}

fn send(p: Practice, event: &ClientEvent) -> bool {
    p.gear
        .with_value(|gear| gear.peer.as_ref().is_some_and(|peer| peer.send(event)))
}

fn set_mic_open(p: Practice, open: bool) {
    p.gear.with_value(|gear| {
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
    p.muted.set(muted);
    if !p.push_to_talk.get_untracked() {
        set_mic_open(p, !muted);
    }
}

pub fn set_push_to_talk(p: Practice, on: bool) {
    p.push_to_talk.set(on);
    p.holding.set(false);
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
    p.holding.set(true);
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
    p.holding.set(false);
    set_mic_open(p, false);
    send(p, &ClientEvent::InputAudioCommit);
    send(p, &ClientEvent::ResponseCreate { response: None });
}

/// The call dropped (the network, or the call's time limit). A live session goes on: the
/// recorder keeps recording the microphone while a new call is opened (`reconnect`). A call that
/// never came up fails like any other start that did not work: it has no session to keep.
fn lost(p: Practice, cause: DropCause) {
    match p.state.get_untracked() {
        CallState::Live { .. } if transition(p, CallEvent::ConnectionLost) => {
            spawn_local(reconnect(p, cause));
        }
        // A reconnection attempt's own call was lost: `reconnect` moves on to the next one.
        CallState::Reconnecting { .. } => p.gear.update_value(|gear| gear.attempt_lost = true),
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
    p.gear.update_value(|gear| {
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
        if let CallState::Failed(_) = p.state.get_untracked() {
            note(p, CallNote::GaveUp, Some(cause), attempt);
            keep_lost(p).await;
            return;
        }
    }
}

/// One attempt at a new call for the session: a fresh secret, a new peer, the offer, and the
/// channel opening (then `resume` carries the conversation over).
async fn call_again(p: Practice) -> Result<(), String> {
    let slug = p.topic.with_value(|topic| topic.slug.as_str().to_owned());
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
        p.reconnects.update(|n| *n += 1);
        p.back.set(true);
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
    match p.state.get_untracked() {
        CallState::Connecting | CallState::Live { .. } | CallState::Reconnecting { .. } => {
            if p.mic_lost.get_untracked() {
                return;
            }
            p.mic_lost.set(true);
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
                p.problem.set(Some(
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
            .with_value(|gear| gear.peer.as_ref().map(|peer| peer.replace_mic(&mic)));
        let replaced = match replacing {
            Some(Ok(replacing)) => replacing.await.map(|_| ()).map_err(JsError::from),
            Some(Err(error)) => Err(error),
            None => Ok(()), // between calls: the next one is made with this microphone
        };
        if let Err(error) = replaced {
            leptos::logging::warn!("microphone not switched in the call: {}", error.message);
        }
        let open = if p.push_to_talk.get_untracked() {
            p.holding.get_untracked()
        } else {
            !p.muted.get_untracked()
        };
        mic.set_muted(!open);
        let meter = mic.meter().ok();
        p.gear.update_value(|gear| {
            if let Some(recorder) = gear.recorder.as_mut()
                && let Err(error) = recorder.add_mic(mic.stream())
            {
                leptos::logging::warn!("new microphone not recorded: {}", error.message);
            }
            gear.meter = meter;
            gear.mic = Some(mic);
        });
        p.problem.set(None);
        p.mic_lost.set(false);
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
    spawn_local(async move {
        if let Some(id) = wrap_up(p).await {
            p.finished.set(Some(id));
        }
    });
}

/// Stops the call and the recorder, sends every chunk, then ends the session (which makes its
/// recording for good) and forgets the browser's copy. Until the chunks are up the session is not
/// ended: if the learner leaves first, recovery sends them next time.
async fn wrap_up(p: Practice) -> Option<String> {
    release(p).await;
    wait_for_session(p).await;
    upload(p);
    if !uploaded(p, 20_000).await {
        p.problem.set(Some(
            "Part of this conversation is still being saved. Keep this page open for a moment; if \
             you leave, the recording is sent the next time you open Speaking Coach."
                .into(),
        ));
        while !uploaded(p, 60_000).await {}
        p.problem.set(None);
    }
    let id = save(p).await?;
    discard(p).await;
    Some(id)
}

/// Saves the session a call that could not be brought back leaves behind; the failure panel
/// links to its summary once it is saved, or says why not.
async fn keep_lost(p: Practice) {
    match wrap_up(p).await {
        Some(id) => {
            p.kept.try_set(Some(id));
        }
        // `save` says what went wrong, except when the session row was never made.
        None if p.problem.try_get_untracked() == Some(None) => {
            p.problem.try_set(Some(
                "We couldn't save this session. Check your connection.".into(),
            ));
        }
        None => {}
    }
}

/// The session row is made when the call comes up; give a start still in flight a moment.
async fn wait_for_session(p: Practice) {
    for _ in 0..20 {
        // `None`: the page is gone (its signals disposed).
        let (Some(session), Some(live_since)) = (
            p.session_id.try_get_untracked(),
            p.live_since.try_get_untracked(),
        ) else {
            return;
        };
        if session.is_some() || live_since.is_none() {
            return;
        }
        sleep(250).await;
    }
}

/// Marks the session ended with its counts. `None` when there is no session (the call never
/// came up) or it could not be saved (then `problem` says so).
async fn save(p: Practice) -> Option<String> {
    wait_for_session(p).await;
    // A page left while saving has no signals any more: its outbox copy is recovered instead.
    let id = p.session_id.try_get_untracked().flatten()?;
    let vocabulary = p.topic.try_with_value(|topic| topic.vocabulary.clone())?;
    let (turns, words) = p.transcript.try_with_untracked(|transcript| {
        let turns = transcript
            .turns()
            .iter()
            .filter(|turn| turn.state != TurnState::InProgress)
            .count();
        let words = vocabulary
            .iter()
            .zip(words_used(&vocabulary, transcript))
            .filter(|(_, used)| *used)
            .map(|(word, _)| word.clone())
            .collect::<Vec<_>>();
        (turns, words)
    })?;
    for wait in [500, 1_000, 2_000, 4_000, 0] {
        match end_practice(id.clone(), turns as u32, words.clone()).await {
            Ok(_) => return Some(id),
            Err(error) => {
                leptos::logging::warn!("session not ended yet: {error}");
                if wait == 0 {
                    break;
                }
                sleep(wait).await;
            }
        }
    }
    p.problem.set(Some(
        "We couldn't save the end of this session. Check your connection.".into(),
    ));
    None
}

/// Leaving the page: everything stops now (the page's signals are about to go).
pub fn teardown(p: Practice) {
    let gear = p.gear.try_update_value(std::mem::take);
    drop(gear);
}
