//! The microphone (with its level meter), the recorder, the call's clock, and letting go of
//! all of them.

use wasm_bindgen_futures::spawn_local;
use web_sys::Blob;

use super::{Practice, dispatch, later, saves};
use crate::{
    browser::{
        Interval, JsError,
        mic::{self, LevelMeter, Microphone},
        outbox::{self, Attempt},
        recorder::Recorder,
        timing,
    },
    domain::session::Input,
};

/// The recorder hands out a chunk this often.
const CHUNK_MS: i32 = 4_000;
/// The coach counts as audible above this RMS level.
const AUDIBLE: f32 = 0.005;
/// How often the coach's level is read until it is first audible (from Start to the greeting):
/// the moment is known to within this. Web Audio renders every 2.7 ms; browsers clamp repeating
/// timers to 4 ms.
const AUDIBLE_POLL_MS: u32 = 4;

pub(super) fn open_mic(p: Practice) {
    spawn_local(async move {
        match Microphone::open().await {
            Ok(mut mic) => {
                mic.on_ended(move || later(p, Input::MicEnded));
                let meter = mic.meter().ok();
                p.gear.update(|gear| {
                    gear.mic = Some(mic);
                    gear.meter = meter;
                });
                timing::mark(timing::MIC_READY);
                watch_meter(p);
                dispatch(p, Input::MicOpened);
            }
            Err(error) => dispatch(p, Input::MicFailed(error.into())),
        }
    });
}

fn watch_meter(p: Practice) {
    let timer = Interval::new(60, move || {
        let level = p
            .gear
            .update(|gear| gear.meter.as_mut().map(LevelMeter::level))
            .flatten();
        if let Some(level) = level {
            p.mic_level.set(level);
        }
    });
    p.gear.update(|gear| gear.meter_timer = Some(timer));
}

/// Lists the microphones to choose from.
pub(super) fn list_inputs(p: Practice) {
    spawn_local(async move {
        let inputs = mic::inputs()
            .await
            .into_iter()
            .map(|input| (input.id, input.label))
            .collect();
        p.inputs.set(inputs);
    });
}

/// Goes on with the microphone `device`: the call sends it and the recording mixes it in from
/// now on. It starts shut; the model says whether to let it through.
pub(super) fn switch_mic(p: Practice, device: String) {
    spawn_local(async move {
        let mut mic = match Microphone::open_device(Some(&device)).await {
            Ok(mic) => mic,
            Err(error) => {
                crate::console_warn!("microphone not opened: {error:?}");
                dispatch(p, Input::MicSwitched { ok: false });
                return;
            }
        };
        mic.set_muted(true);
        mic.on_ended(move || later(p, Input::MicEnded));
        // A warm call sends no microphone before Start: it takes this one then.
        let replacing = p
            .gear
            .with(|gear| {
                let peer = gear.peer.as_ref().filter(|peer| peer.sends_mic())?;
                Some(peer.replace_mic(&mic))
            })
            .flatten();
        let replaced = match replacing {
            Some(Ok(replacing)) => replacing.await.map(|_| ()).map_err(JsError::from),
            Some(Err(error)) => Err(error),
            None => Ok(()), // between calls: the next one is made with this microphone
        };
        if let Err(error) = replaced {
            crate::console_warn!("microphone not switched in the call: {}", error.message);
        }
        let meter = mic.meter().ok();
        let old = p.gear.update(|gear| {
            if let Some(recorder) = gear.recorder.as_mut()
                && let Err(error) = recorder.add_mic(mic.stream())
            {
                crate::console_warn!("new microphone not recorded: {}", error.message);
            }
            gear.meter = meter;
            gear.mic.replace(mic)
        });
        drop(old);
        dispatch(p, Input::MicSwitched { ok: true });
    });
}

/// Starts recording this attempt (inside the Start click, so its audio context may run) and
/// notes it in the outbox, with the lock that tells recovery it is live.
pub(super) fn start_recorder(p: Practice, key: String) {
    let topic = super::slug(p);
    let owner = p.owner.clone();
    let started = p.gear.update(|gear| {
        gear.chunks.clear();
        gear.next_sequence = 0;
        let attempt = Attempt {
            key: key.clone(),
            topic,
            owner,
            session: None,
            started_ms: js_sys::Date::now(),
            live_ms: None,
        };
        gear.lock = outbox::hold(&attempt.key).ok();
        saves::remember(gear.outbox.clone(), attempt.clone());
        gear.attempt = Some(attempt);
        let stream = Clone::clone(gear.mic.as_ref()?.stream());
        let mut recorder = Recorder::start(&stream, CHUNK_MS, move |chunk| keep(p, chunk)).ok()?;
        // The warm call's voice is there already.
        let coach = gear
            .coach_stream
            .as_ref()
            .map(|coach| recorder.add_coach(coach));
        gear.recorder = Some(recorder);
        Some(coach.is_some())
    });
    match started.flatten() {
        Some(true) => watch_coach_audio(p),
        Some(false) => {}
        None => later(p, Input::RecorderUnavailable),
    }
}

/// A chunk from the recorder: counted at once, then written to the outbox and queued.
fn keep(p: Practice, chunk: Blob) {
    let Some((sequence, key, outbox)) = p.gear.update(|gear| {
        let sequence = gear.next_sequence;
        gear.next_sequence += 1;
        gear.chunks.insert(sequence, chunk.clone());
        let key = gear
            .attempt
            .as_ref()
            .map(|a| a.key.clone())
            .unwrap_or_default();
        (sequence, key, gear.outbox.clone())
    }) else {
        return;
    };
    dispatch(p, Input::ChunkMade);
    spawn_local(async move {
        if let Some(outbox) = outbox
            && let Err(error) = outbox.put(&key, sequence, &chunk).await
        {
            crate::console_warn!("chunk {sequence} kept in memory only: {}", error.message);
        }
        dispatch(p, Input::ChunkStored { sequence });
    });
}

/// The call came up: the clock ticks from now, and the outbox notes the attempt live (from now
/// on there is a session to keep, made by the server or, failing that, by recovery).
pub(super) fn live(p: Practice) {
    timing::mark(timing::CONNECTED);
    p.clock.set(timing::now());
    let clock = Interval::new(1_000, move || {
        p.clock.set(timing::now());
    });
    let noted = p.gear.update(|gear| {
        gear.clock_timer = Some(clock);
        let attempt = gear.attempt.as_mut()?;
        attempt.live_ms = Some(js_sys::Date::now());
        Some((gear.outbox.clone(), attempt.clone()))
    });
    if let Some(Some((outbox, attempt))) = noted {
        saves::remember(outbox, attempt);
    }
}

/// Marks the moment the coach's voice is first actually audible on the remote track.
pub(super) fn watch_coach_audio(p: Practice) {
    let watch = Interval::new(AUDIBLE_POLL_MS, move || {
        if p.coach_heard.get() {
            return;
        }
        let level = p
            .gear
            .update(|gear| gear.recorder.as_mut().map(Recorder::coach_level))
            .flatten()
            .unwrap_or(0.0);
        if level > AUDIBLE {
            timing::mark(timing::FIRST_AUDIO);
            p.coach_heard.set(true);
            spawn_local(async move {
                p.gear.update(|gear| gear.audio_watch = None);
            });
        }
    });
    p.gear.update(|gear| gear.audio_watch = Some(watch));
}

/// Lets go of every browser object; the recorder delivers its last chunk first. They are
/// dropped in a task of their own (this may run inside one of their callbacks).
pub(super) fn release(p: Practice) {
    let held = p.gear.update(|gear| {
        (
            gear.recorder.take(),
            gear.mic.take(),
            gear.peer.take(),
            gear.meter.take(),
            gear.coach_stream.take(),
            [
                gear.meter_timer.take(),
                gear.clock_timer.take(),
                gear.audio_watch.take(),
            ],
        )
    });
    spawn_local(async move {
        if let Some((recorder, mic, peer, meter, coach, timers)) = held {
            drop((timers, meter, peer, coach));
            if let Some(recorder) = recorder {
                recorder.finish().await;
            }
            drop(mic);
        }
        p.mic_level.set(0.0);
        dispatch(p, Input::Released);
    });
}
