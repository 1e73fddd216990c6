//! The practice call's specification: what the page does, input by input, with nothing of the
//! browser involved.

use realtime_protocol::{ClientEvent, ServerEvent};
use serde_json::json;

use super::*;
use crate::domain::{
    call::{CallFailure, CallNote, CallState, DropCause},
    saving::{Backoff, Retry, SaveTrouble},
    transcript::{Speaker, TurnState},
};

/// A page driven by hand: inputs in at a chosen time, the effects they asked for out.
struct Page {
    session: Session,
    now: Now,
}

const KEY: &str = "attempt-1";
const SESSION: &str = "session-1";
/// The wall clock when the page opened (unix seconds).
const OPENED: f64 = 1_800_000_000.0;

fn secret(expires_in_secs: f64) -> VoiceCallSecret {
    VoiceCallSecret {
        client_secret: "ek_test".into(),
        expires_at: (OPENED + expires_in_secs) as u64,
        calls_url: "https://coach.invalid/v1/realtime/calls".into(),
    }
}

/// Read as the browser reads it.
fn event(json: serde_json::Value) -> ServerEvent {
    ServerEvent::from_value(&json).expect("a valid server event")
}

impl Page {
    fn new() -> Self {
        Page {
            session: Session::new(vec!["croissant".into(), "receipt".into()]),
            now: Now {
                ms: 1_000.0,
                unix_secs: OPENED,
            },
        }
    }

    /// Moves the clocks on by `ms`.
    fn wait(&mut self, ms: u32) -> &mut Self {
        self.now.ms += f64::from(ms);
        self.now.unix_secs += f64::from(ms) / 1000.0;
        self
    }

    fn input(&mut self, input: Input) -> Vec<Effect> {
        self.session.handle(self.now, input);
        std::iter::from_fn(|| self.session.poll()).collect()
    }

    fn command(&mut self, command: Command) -> Vec<Effect> {
        self.input(Input::Command(command))
    }

    fn generation(&self) -> u32 {
        self.session.generation
    }

    fn server(&mut self, json: serde_json::Value) -> Vec<Effect> {
        let generation = self.generation();
        self.input(Input::Event {
            generation,
            event: event(json),
        })
    }

    fn state(&self) -> &CallState {
        self.session.state()
    }

    fn trouble(&self) -> Option<SaveTrouble> {
        self.session.saves().trouble()
    }

    /// Checked and ready: the microphone open, a secret valid for `valid_secs`, and the warm
    /// call (no microphone sent yet) being dialled with it.
    fn ready_with(valid_secs: f64) -> Self {
        let mut page = Page::new();
        let effects = page.input(Input::CheckStarted { supported: true });
        assert_eq!(
            effects,
            [
                Effect::OpenOutbox,
                Effect::OpenMic,
                Effect::Mint { generation: 0 }
            ]
        );
        page.input(Input::MicOpened);
        let effects = page.input(Input::Minted {
            generation: 0,
            result: Ok(secret(valid_secs)),
        });
        assert_eq!(
            effects,
            [
                Effect::MakePeer {
                    generation: 0,
                    mic: false
                },
                Effect::Connect {
                    generation: 0,
                    secret: secret(valid_secs)
                },
                Effect::Timer {
                    timer: Timer::WarmExpiry { generation: 0 },
                    after_ms: ((valid_secs - Session::SECRET_MARGIN_SECS) * 1000.0) as u32
                },
            ]
        );
        assert_eq!(page.state(), &CallState::Ready);
        assert_eq!(page.session.warm(), Warm::Dialing);
        page
    }

    /// Ready, and the warm call is up.
    fn warm() -> Self {
        let mut page = Page::ready();
        page.input(Input::Answered {
            generation: 0,
            result: Ok(()),
        });
        let effects = page.wait(120).input(Input::Opened { generation: 0 });
        assert_eq!(effects, [], "nothing is said before Start");
        assert_eq!(page.session.warm(), Warm::Open);
        page
    }

    /// Ready without a warm call: it could not be made (its offer was refused).
    fn cold(mut self) -> Self {
        let generation = self.generation();
        let effects = self.input(Input::Answered {
            generation,
            result: Err(ConnectError::Refused),
        });
        assert_eq!(effects, [Effect::DropPeer]);
        assert_eq!(self.state(), &CallState::Ready, "the page does not fail");
        assert_eq!(self.session.warm(), Warm::Cold);
        self
    }

    fn ready() -> Self {
        Page::ready_with(600.0)
    }

    /// Live, with its session row made.
    fn live() -> Self {
        let mut page = Page::ready();
        page.input(Input::Started { key: KEY.into() });
        page.input(Input::Answered {
            generation: 0,
            result: Ok(()),
        });
        let effects = page.wait(120).input(Input::Opened { generation: 0 });
        assert!(effects.contains(&Effect::Register { key: KEY.into() }));
        let effects = page.input(Input::Registered {
            key: KEY.into(),
            result: Ok(SESSION.into()),
        });
        assert!(effects.contains(&Effect::NoteSession {
            session: SESSION.into()
        }));
        page
    }

    /// The coach says `words` (one delta each) as item `item`, without finishing.
    fn coach_says(&mut self, item: &str, words: &[&str]) -> Vec<Effect> {
        let mut effects = self.server(json!({"type": "conversation.item.added",
            "item": {"id": item, "type": "message", "role": "assistant", "content": []}}));
        for word in words {
            effects.extend(
                self.server(json!({"type": "response.output_audio_transcript.delta",
                "response_id": "resp_1", "item_id": item, "delta": word})),
            );
        }
        effects
    }

    /// The reply's whole text arrives and its audio plays out.
    fn coach_done(&mut self, item: &str, text: &str) -> Vec<Effect> {
        let mut effects = self.server(json!({"type": "response.output_audio_transcript.done",
            "response_id": "resp_1", "item_id": item, "transcript": text}));
        effects.extend(
            self.server(json!({"type": "output_audio_buffer.stopped", "response_id": "resp_1"})),
        );
        effects
    }

    /// The learner says `text` as item `item`, transcribed.
    fn learner_says(&mut self, item: &str, text: &str) -> Vec<Effect> {
        let mut effects = self.server(json!({"type": "input_audio_buffer.speech_started",
            "item_id": item, "audio_start_ms": 2_000}));
        effects.extend(
            self.wait(1_500)
                .server(json!({"type": "input_audio_buffer.speech_stopped",
            "item_id": item, "audio_end_ms": 3_500})),
        );
        effects.extend(self.server(json!({
            "type": "conversation.item.input_audio_transcription.completed",
            "item_id": item, "transcript": text})));
        effects
    }

    /// Runs the outbox's part of saving: each stored turn and chunk is reported kept.
    fn store(&mut self, effects: &[Effect]) -> Vec<Effect> {
        let mut out = Vec::new();
        for effect in effects {
            if let Effect::StoreTurn(turn) = effect {
                out.extend(self.input(Input::TurnStored {
                    item_id: turn.item_id.clone(),
                }));
            }
        }
        out
    }

    fn chunk(&mut self, sequence: u32) -> Vec<Effect> {
        self.input(Input::ChunkMade);
        self.input(Input::ChunkStored { sequence })
    }
}

fn saved_turns(effects: &[Effect]) -> Vec<(&str, &str, TurnState)> {
    effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::SaveTurn { turn, .. } => {
                Some((turn.item_id.as_str(), turn.text.as_str(), turn.state))
            }
            _ => None,
        })
        .collect()
}

fn stored_turns(effects: &[Effect]) -> Vec<(&str, &str, TurnState)> {
    effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::StoreTurn(turn) => {
                Some((turn.item_id.as_str(), turn.text.as_str(), turn.state))
            }
            _ => None,
        })
        .collect()
}

fn timers(effects: &[Effect]) -> Vec<(Timer, u32)> {
    effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::Timer { timer, after_ms } => Some((timer.clone(), *after_ms)),
            _ => None,
        })
        .collect()
}

fn notes(effects: &[Effect]) -> Vec<(CallNote, Option<DropCause>, u32)> {
    effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::Note {
                what,
                cause,
                attempt,
                ..
            } => Some((*what, *cause, *attempt)),
            _ => None,
        })
        .collect()
}

mod calls;
mod drops;
mod replies;
mod saves;
