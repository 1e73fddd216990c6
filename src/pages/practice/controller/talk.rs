//! Talking in the call: events to the coach, the microphone open or shut, mute and
//! push-to-talk.

use super::*;

pub(super) fn send(p: Practice, event: &ClientEvent) -> bool {
    p.gear
        .try_with_value(|gear| gear.peer.as_ref().is_some_and(|peer| peer.send(event)))
        .unwrap_or(false)
}

pub(super) fn set_mic_open(p: Practice, open: bool) {
    p.gear.try_with_value(|gear| {
        if let Some(mic) = gear.mic.as_ref() {
            mic.set_muted(!open);
        }
    });
}

/// `session.update` switching between push-to-talk (`turn_detection: null`) and the server's
/// voice activity detection.
pub(super) fn turn_detection(push_to_talk: bool) -> ClientEvent {
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
