//! What the call says: the peer's signals and the coach's events, fed to the state machine and
//! the transcript; each settled turn stamped in recording time and saved.

use super::*;

pub(super) fn on_signal(p: Practice, generation: u32, signal: PeerSignal) {
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

pub(super) fn on_event(p: Practice, event: ServerEvent) {
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
pub(super) fn stamp_and_save(p: Practice, index: usize) {
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
pub(super) fn watch_coach_audio(p: Practice) {
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

/// Settles every turn still open (a coach reply as interrupted, a learner turn as not
/// transcribed) and saves them: the call they belonged to is over.
pub(super) fn settle_open_turns(p: Practice) {
    let open = p
        .transcript
        .try_update(|transcript| transcript.settle_open())
        .unwrap_or_default();
    for index in open {
        stamp_and_save(p, index);
    }
}
