//! Talking in the call: mute, push-to-talk, and a microphone that stops mid-call.

use realtime_protocol::{
    ClientEvent, SessionConfig,
    session::{AudioConfig, AudioInput, TurnDetection},
};

use super::{Effect, Session};
use crate::domain::call::{CallFailure, CallNote, CallState};

/// Audio the coach's voice detection keeps before detected speech: a learner turn's
/// `audio_start_ms` includes it.
pub const PREFIX_PADDING_MS: u32 = 300;
/// Silence that ends a learner's turn: its `audio_end_ms` includes it.
pub const SILENCE_MS: u32 = 500;

/// `session.update` switching between push-to-talk (`turn_detection: null`) and the server's
/// voice activity detection.
pub fn turn_detection(push_to_talk: bool) -> ClientEvent {
    let detection = (!push_to_talk).then(|| TurnDetection {
        kind: "server_vad".into(),
        prefix_padding_ms: Some(PREFIX_PADDING_MS),
        silence_duration_ms: Some(SILENCE_MS),
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

impl Session {
    /// Push-to-talk pressed: the learner has the floor. A reply being made is cancelled, audible
    /// or not yet (else the learner's own `response.create` would meet an active response), and
    /// audio still playing is cleared.
    pub(super) fn hold(&mut self) {
        if !self.talk.push_to_talk || self.talk.holding {
            return;
        }
        let CallState::Live { coach_speaking } = self.state else {
            return;
        };
        self.talk.holding = true;
        // Only while one is active: OpenAI answers an error to a cancel with nothing to cancel.
        if self.active_response.take().is_some() {
            self.send(ClientEvent::ResponseCancel);
        }
        if coach_speaking {
            self.send(ClientEvent::OutputAudioClear);
        }
        self.send(ClientEvent::InputAudioClear);
        self.push(Effect::MicOpen(true));
    }

    /// Push-to-talk let go: what was said is committed and the coach answers.
    pub(super) fn let_go(&mut self) {
        if !self.talk.holding {
            return;
        }
        self.talk.holding = false;
        self.push(Effect::MicOpen(false));
        self.send(ClientEvent::InputAudioCommit);
        self.send(ClientEvent::ResponseCreate { response: None });
    }

    /// Before a call a microphone that stops is a failure like no microphone; during one the
    /// call pauses (the coach hears silence, the recording goes on) until the learner picks one.
    pub(super) fn mic_ended(&mut self) {
        match self.state {
            CallState::Connecting | CallState::Live { .. } | CallState::Reconnecting { .. }
                if !self.talk.mic_lost =>
            {
                self.talk.mic_lost = true;
                self.note(CallNote::MicLost, None, 0);
                self.push(Effect::ListInputs);
            }
            CallState::Checking { .. } | CallState::Ready => self.fail(CallFailure::NoMic),
            _ => {}
        }
    }
}
