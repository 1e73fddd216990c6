//! The live transcript: both sides' turns, built from the Realtime events as they arrive and kept
//! in the order they were spoken — never in the order events happened to arrive. (A learner's
//! transcription often lands after the coach has already answered.)

use realtime_protocol::{
    ServerEvent,
    events::{Item, ResponseStatus},
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Speaker {
    Learner,
    Coach,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TurnState {
    /// Still being spoken or transcribed: the text may change.
    InProgress,
    /// The final text. Nothing overwrites it.
    Final,
    /// A coach reply cut off by the learner: the text is what was heard.
    Interrupted,
    /// The learner spoke but could not be transcribed; the turn (and its audio) is kept.
    TranscriptionFailed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Turn {
    /// The Realtime item id: the key that makes saving a turn idempotent.
    pub item_id: String,
    pub speaker: Speaker,
    pub text: String,
    pub state: TurnState,
    /// Where the learner's speech starts and ends in the call's input audio, when known.
    pub audio_start_ms: Option<u64>,
    pub audio_end_ms: Option<u64>,
}

impl Turn {
    pub fn is_settled(&self) -> bool {
        self.state != TurnState::InProgress
    }
}

/// A settled turn as stored with its session: where it sits in the session's recording.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedTurn {
    pub item_id: String,
    pub speaker: Speaker,
    pub text: String,
    /// Never `InProgress`: only settled turns are saved.
    pub state: TurnState,
    /// Milliseconds from the start of the session's recording.
    pub start_ms: Option<u64>,
    pub end_ms: Option<u64>,
    /// The turn's place in the conversation as the page knew it (breaks ties in spoken order).
    pub position: u32,
}

impl SavedTurn {
    /// The longest text a turn may have.
    pub const MAX_TEXT: usize = 20_000;

    /// Why this turn cannot be stored, if it cannot.
    pub fn problem(&self) -> Option<&'static str> {
        let id_ok = (1..=128).contains(&self.item_id.len())
            && self
                .item_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !id_ok {
            Some("A turn's item id must be 1 to 128 letters, digits, '_' or '-'.")
        } else if self.state == TurnState::InProgress {
            Some("Only settled turns are saved.")
        } else if self.text.chars().count() > Self::MAX_TEXT {
            Some("A turn's text is too long.")
        } else if matches!((self.start_ms, self.end_ms), (Some(start), Some(end)) if end < start) {
            Some("A turn cannot end before it starts.")
        } else if self
            .start_ms
            .max(self.end_ms)
            .is_some_and(|ms| ms > i32::MAX as u64)
        {
            Some("A turn's time is out of range.")
        } else {
            None
        }
    }
}

/// A change worth telling the rest of the app about (the screen, and storage for settled turns).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Added(usize),
    Updated(usize),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transcript {
    turns: Vec<Turn>,
}

impl Transcript {
    pub fn turns(&self) -> &[Turn] {
        &self.turns
    }

    fn index_of(&self, item_id: &str) -> Option<usize> {
        self.turns.iter().position(|turn| turn.item_id == item_id)
    }

    /// The turn for `item_id`, created (after `previous`, or last) when it is new.
    fn turn_mut(
        &mut self,
        item_id: &str,
        speaker: Speaker,
        previous: Option<&str>,
    ) -> (usize, bool) {
        if let Some(index) = self.index_of(item_id) {
            return (index, false);
        }
        let at = previous
            .and_then(|previous| self.index_of(previous))
            .map_or(self.turns.len(), |index| index + 1);
        self.turns.insert(
            at,
            Turn {
                item_id: item_id.to_owned(),
                speaker,
                text: String::new(),
                state: TurnState::InProgress,
                audio_start_ms: None,
                audio_end_ms: None,
            },
        );
        (at, true)
    }

    fn changed(index: usize, created: bool) -> Option<Change> {
        Some(if created {
            Change::Added(index)
        } else {
            Change::Updated(index)
        })
    }

    /// The call carrying these turns is gone, so turns still open will never finish: a coach
    /// reply keeps what was heard (interrupted); a learner turn whose transcript never came is
    /// marked not transcribed (its audio is in the recording). The indexes of the turns changed.
    pub fn settle_open(&mut self) -> Vec<usize> {
        let mut changed = Vec::new();
        for (index, turn) in self.turns.iter_mut().enumerate() {
            if turn.state == TurnState::InProgress {
                turn.state = match turn.speaker {
                    Speaker::Coach => TurnState::Interrupted,
                    Speaker::Learner => TurnState::TranscriptionFailed,
                };
                changed.push(index);
            }
        }
        changed
    }

    /// The conversation so far as text items for a new call to continue from, each under its
    /// turn's item id (so the new call's echo of it is recognised, not added again). Turns without
    /// text are left out: there is nothing to tell the coach.
    pub fn replay(&self) -> Vec<Item> {
        self.turns
            .iter()
            .filter(|turn| turn.is_settled() && !turn.text.trim().is_empty())
            .map(|turn| {
                let role = match turn.speaker {
                    Speaker::Learner => "user",
                    Speaker::Coach => "assistant",
                };
                Item {
                    id: Some(turn.item_id.clone()),
                    ..Item::text(role, turn.text.clone())
                }
            })
            .collect()
    }

    /// Folds one server event into the transcript.
    pub fn apply(&mut self, event: &ServerEvent) -> Option<Change> {
        match event {
            ServerEvent::SpeechStarted {
                item_id,
                audio_start_ms,
                ..
            } => {
                let (index, created) = self.turn_mut(item_id, Speaker::Learner, None);
                self.turns[index].audio_start_ms = Some(*audio_start_ms);
                Self::changed(index, created)
            }
            ServerEvent::SpeechStopped {
                item_id,
                audio_end_ms,
                ..
            } => {
                let (index, created) = self.turn_mut(item_id, Speaker::Learner, None);
                self.turns[index].audio_end_ms = Some(*audio_end_ms);
                Self::changed(index, created)
            }
            ServerEvent::ItemAdded {
                item,
                previous_item_id,
                ..
            } => {
                let id = item.id.as_deref()?;
                let speaker = match item.role.as_str() {
                    "user" => Speaker::Learner,
                    "assistant" => Speaker::Coach,
                    _ => return None,
                };
                let (index, created) = self.turn_mut(id, speaker, previous_item_id.as_deref());
                // Replayed text items arrive complete.
                let text = item
                    .content
                    .iter()
                    .find_map(|c| c.text.clone().or_else(|| c.transcript.clone()))
                    .filter(|text| !text.is_empty());
                if let Some(text) = text
                    && !self.turns[index].is_settled()
                {
                    self.turns[index].text = text;
                    self.turns[index].state = TurnState::Final;
                }
                created.then_some(Change::Added(index))
            }
            ServerEvent::InputTranscriptDelta { item_id, delta, .. } => {
                let (index, created) = self.turn_mut(item_id, Speaker::Learner, None);
                let turn = &mut self.turns[index];
                if turn.is_settled() {
                    return None;
                }
                turn.text.push_str(delta);
                Self::changed(index, created)
            }
            ServerEvent::InputTranscriptCompleted {
                item_id,
                transcript,
                ..
            } => {
                let (index, created) = self.turn_mut(item_id, Speaker::Learner, None);
                let turn = &mut self.turns[index];
                if turn.state == TurnState::Final {
                    return None;
                }
                turn.text = transcript.trim().to_owned();
                turn.state = TurnState::Final;
                Self::changed(index, created)
            }
            ServerEvent::InputTranscriptFailed { item_id, .. } => {
                let (index, created) = self.turn_mut(item_id, Speaker::Learner, None);
                let turn = &mut self.turns[index];
                if turn.state == TurnState::Final {
                    return None;
                }
                turn.state = TurnState::TranscriptionFailed;
                Self::changed(index, created)
            }
            ServerEvent::OutputTranscriptDelta { item_id, delta, .. } => {
                let (index, created) = self.turn_mut(item_id, Speaker::Coach, None);
                let turn = &mut self.turns[index];
                if turn.is_settled() {
                    return None;
                }
                turn.text.push_str(delta);
                Self::changed(index, created)
            }
            ServerEvent::OutputTranscriptDone {
                item_id,
                transcript,
                ..
            } => {
                let (index, created) = self.turn_mut(item_id, Speaker::Coach, None);
                let turn = &mut self.turns[index];
                if turn.is_settled() {
                    return None;
                }
                turn.text = transcript.trim().to_owned();
                turn.state = TurnState::Final;
                Self::changed(index, created)
            }
            ServerEvent::ItemDone { item, .. }
                if item.role == "assistant" && item.status.as_deref() == Some("incomplete") =>
            {
                let index = self.index_of(item.id.as_deref()?)?;
                let turn = &mut self.turns[index];
                if turn.is_settled() {
                    return None;
                }
                turn.state = TurnState::Interrupted;
                Some(Change::Updated(index))
            }
            ServerEvent::ResponseDone { response, .. }
                if response.status == Some(ResponseStatus::Cancelled) =>
            {
                // A cut-off reply whose item-done was not sent: settle every open coach turn.
                let mut last = None;
                for (index, turn) in self.turns.iter_mut().enumerate() {
                    if turn.speaker == Speaker::Coach && turn.state == TurnState::InProgress {
                        turn.state = TurnState::Interrupted;
                        last = Some(Change::Updated(index));
                    }
                }
                last
            }
            _ => None,
        }
    }
}

/// The saved turn being heard `position_ms` into the recording: the last one that has started
/// and not yet ended.
pub fn turn_at(turns: &[SavedTurn], position_ms: f64) -> Option<usize> {
    turns
        .iter()
        .rposition(|turn| match (turn.start_ms, turn.end_ms) {
            (Some(start), Some(end)) => (start as f64) <= position_ms && position_ms < end as f64,
            _ => false,
        })
}

/// How long each side spoke, in milliseconds: (learner, coach).
pub fn talk_times(turns: &[SavedTurn]) -> (u64, u64) {
    turns.iter().fold((0, 0), |(learner, coach), turn| {
        let spoke = match (turn.start_ms, turn.end_ms) {
            (Some(start), Some(end)) => end.saturating_sub(start),
            _ => 0,
        };
        match turn.speaker {
            Speaker::Learner => (learner + spoke, coach),
            Speaker::Coach => (learner, coach + spoke),
        }
    })
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    fn event(json: serde_json::Value) -> ServerEvent {
        serde_json::from_value(json).unwrap()
    }

    fn apply_all(events: &[serde_json::Value]) -> Transcript {
        let mut transcript = Transcript::default();
        for json in events {
            transcript.apply(&event(json.clone()));
        }
        transcript
    }

    fn summary(transcript: &Transcript) -> Vec<(Speaker, &str, TurnState)> {
        transcript
            .turns()
            .iter()
            .map(|t| (t.speaker, t.text.as_str(), t.state))
            .collect()
    }

    use serde_json::json;

    fn coach_reply(item: &str, previous: Option<&str>, words: &[&str]) -> Vec<serde_json::Value> {
        let mut events = vec![
            json!({"type": "conversation.item.added", "previous_item_id": previous,
            "item": {"id": item, "type": "message", "role": "assistant", "content": []}}),
        ];
        for (i, word) in words.iter().enumerate() {
            let delta = if i == 0 {
                word.to_string()
            } else {
                format!(" {word}")
            };
            events.push(json!({"type": "response.output_audio_transcript.delta", "response_id": "r", "item_id": item, "delta": delta}));
        }
        events
    }

    #[test]
    fn a_late_learner_transcript_stays_where_the_learner_spoke() {
        let mut events = coach_reply("c1", None, &["Hello!", "Ready?"]);
        events.push(json!({"type": "response.output_audio_transcript.done", "response_id": "r", "item_id": "c1", "transcript": "Hello! Ready?"}));
        events.push(json!({"type": "input_audio_buffer.speech_started", "item_id": "u1", "audio_start_ms": 4000}));
        events.push(json!({"type": "input_audio_buffer.speech_stopped", "item_id": "u1", "audio_end_ms": 5200}));
        events.push(json!({"type": "conversation.item.added", "previous_item_id": "c1",
            "item": {"id": "u1", "type": "message", "role": "user", "content": [{"type": "input_audio"}]}}));
        // The coach answers before the learner's transcription arrives.
        events.extend(coach_reply("c2", Some("u1"), &["Great."]));
        events.push(json!({"type": "response.output_audio_transcript.done", "response_id": "r", "item_id": "c2", "transcript": "Great."}));
        events.push(json!({"type": "conversation.item.input_audio_transcription.completed", "item_id": "u1", "transcript": " Yes, I am. "}));
        let transcript = apply_all(&events);
        assert_eq!(
            summary(&transcript),
            [
                (Speaker::Coach, "Hello! Ready?", TurnState::Final),
                (Speaker::Learner, "Yes, I am.", TurnState::Final),
                (Speaker::Coach, "Great.", TurnState::Final),
            ]
        );
        let learner = &transcript.turns()[1];
        assert_eq!(
            (learner.audio_start_ms, learner.audio_end_ms),
            (Some(4000), Some(5200))
        );
    }

    #[test]
    fn partial_text_grows_and_a_final_text_is_never_overwritten() {
        let mut transcript = Transcript::default();
        let delta = |d: &str| {
            event(
                json!({"type": "conversation.item.input_audio_transcription.delta", "item_id": "u1", "delta": d}),
            )
        };
        transcript.apply(&delta("I would"));
        transcript.apply(&delta(" like"));
        assert_eq!(
            summary(&transcript),
            [(Speaker::Learner, "I would like", TurnState::InProgress)]
        );
        let done = event(
            json!({"type": "conversation.item.input_audio_transcription.completed", "item_id": "u1", "transcript": "I would like tea."}),
        );
        assert_eq!(transcript.apply(&done), Some(Change::Updated(0)));
        // Late or repeated events change nothing.
        assert_eq!(transcript.apply(&delta(" coffee")), None);
        assert_eq!(transcript.apply(&done), None);
        let failed = event(
            json!({"type": "conversation.item.input_audio_transcription.failed", "item_id": "u1", "error": {"type": "x", "message": "y"}}),
        );
        assert_eq!(transcript.apply(&failed), None);
        assert_eq!(
            summary(&transcript),
            [(Speaker::Learner, "I would like tea.", TurnState::Final)]
        );
    }

    #[test]
    fn an_interrupted_reply_keeps_what_was_heard() {
        let mut events = coach_reply("c1", None, &["Let", "me", "explain"]);
        events.push(json!({"type": "input_audio_buffer.speech_started", "item_id": "u1", "audio_start_ms": 2000}));
        events.push(json!({"type": "output_audio_buffer.cleared", "response_id": "r"}));
        events.push(json!({"type": "conversation.item.done",
            "item": {"id": "c1", "type": "message", "role": "assistant", "status": "incomplete", "content": []}}));
        events
            .push(json!({"type": "response.done", "response": {"id": "r", "status": "cancelled"}}));
        let transcript = apply_all(&events);
        assert_eq!(
            summary(&transcript),
            [
                (Speaker::Coach, "Let me explain", TurnState::Interrupted),
                (Speaker::Learner, "", TurnState::InProgress),
            ]
        );
    }

    #[test]
    fn a_cancelled_response_without_item_done_still_settles_the_reply() {
        let mut events = coach_reply("c1", None, &["Well"]);
        events
            .push(json!({"type": "response.done", "response": {"id": "r", "status": "cancelled"}}));
        assert_eq!(
            summary(&apply_all(&events)),
            [(Speaker::Coach, "Well", TurnState::Interrupted)]
        );
    }

    #[test]
    fn a_failed_transcription_keeps_the_turn_and_its_timing() {
        let transcript = apply_all(&[
            json!({"type": "input_audio_buffer.speech_started", "item_id": "u1", "audio_start_ms": 100}),
            json!({"type": "input_audio_buffer.speech_stopped", "item_id": "u1", "audio_end_ms": 900}),
            json!({"type": "conversation.item.input_audio_transcription.failed", "item_id": "u1", "error": {"type": "x", "message": "y"}}),
        ]);
        let turn = &transcript.turns()[0];
        assert_eq!(turn.state, TurnState::TranscriptionFailed);
        assert_eq!(
            (turn.audio_start_ms, turn.audio_end_ms),
            (Some(100), Some(900))
        );
    }

    #[test]
    fn replayed_items_are_final_and_chain_by_previous_item() {
        let transcript = apply_all(&[
            json!({"type": "conversation.item.added", "previous_item_id": null,
                "item": {"id": "a", "type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Hi!"}]}}),
            json!({"type": "conversation.item.added", "previous_item_id": "a",
                "item": {"id": "c", "type": "message", "role": "user", "content": [{"type": "input_text", "text": "Third"}]}}),
            json!({"type": "conversation.item.added", "previous_item_id": "a",
                "item": {"id": "b", "type": "message", "role": "user", "content": [{"type": "input_text", "text": "Second"}]}}),
        ]);
        let texts: Vec<&str> = transcript.turns().iter().map(|t| t.text.as_str()).collect();
        assert_eq!(texts, ["Hi!", "Second", "Third"]);
        assert!(
            transcript
                .turns()
                .iter()
                .all(|t| t.state == TurnState::Final)
        );
    }

    #[test]
    fn a_lost_call_settles_open_turns_and_replays_the_rest_under_their_ids() {
        let mut events = coach_reply("c1", None, &["Hello!", "Ready?"]);
        events.push(json!({"type": "response.output_audio_transcript.done", "response_id": "r", "item_id": "c1", "transcript": "Hello! Ready?"}));
        events.push(json!({"type": "conversation.item.input_audio_transcription.completed", "item_id": "u1", "transcript": "Yes."}));
        events.push(json!({"type": "input_audio_buffer.speech_started", "item_id": "u2", "audio_start_ms": 9000}));
        events.extend(coach_reply("c2", Some("u2"), &["Lovely,", "so"]));
        let mut transcript = apply_all(&events);
        assert_eq!(transcript.settle_open(), vec![2, 3]);
        assert_eq!(
            summary(&transcript),
            vec![
                (Speaker::Coach, "Hello! Ready?", TurnState::Final),
                (Speaker::Learner, "Yes.", TurnState::Final),
                (Speaker::Learner, "", TurnState::TranscriptionFailed),
                (Speaker::Coach, "Lovely, so", TurnState::Interrupted),
            ]
        );
        assert!(transcript.settle_open().is_empty(), "settled once");
        let items = transcript.replay();
        let replay: Vec<(Option<&str>, &str, Option<&str>)> = items
            .iter()
            .map(|item| {
                let text = item.content[0].text.as_deref();
                (item.id.as_deref(), item.role.as_str(), text)
            })
            .collect();
        assert_eq!(
            replay,
            vec![
                (Some("c1"), "assistant", Some("Hello! Ready?")),
                (Some("u1"), "user", Some("Yes.")),
                (Some("c2"), "assistant", Some("Lovely, so")),
            ]
        );
        // The new call echoes a replayed item: recognised, not added again.
        let echo = event(
            json!({"type": "conversation.item.added", "previous_item_id": null,
            "item": {"id": "c1", "type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Hello! Ready?"}]}}),
        );
        assert_eq!(transcript.apply(&echo), None);
        assert_eq!(transcript.turns().len(), 4);
    }
}

#[cfg(test)]
mod saved_turn_tests {
    use super::*;

    fn spoken(speaker: Speaker, start: u64, end: u64) -> SavedTurn {
        SavedTurn {
            item_id: format!("item_{start}"),
            speaker,
            text: "words".into(),
            state: TurnState::Final,
            start_ms: Some(start),
            end_ms: Some(end),
            position: 0,
        }
    }

    #[test]
    fn the_turn_being_heard_is_the_last_one_started_and_not_ended() {
        let turns = [
            spoken(Speaker::Coach, 0, 3_000),
            spoken(Speaker::Learner, 4_000, 6_000),
            spoken(Speaker::Coach, 5_500, 9_000),
        ];
        assert_eq!(turn_at(&turns, 1_000.0), Some(0));
        assert_eq!(turn_at(&turns, 3_500.0), None, "between turns");
        assert_eq!(turn_at(&turns, 4_000.0), Some(1));
        assert_eq!(
            turn_at(&turns, 5_800.0),
            Some(2),
            "the later of two overlapping"
        );
        assert_eq!(turn_at(&turns, 9_000.0), None, "after the end");
        assert_eq!(talk_times(&turns), (2_000, 6_500));
    }

    fn turn() -> SavedTurn {
        SavedTurn {
            item_id: "item_abc-1".into(),
            speaker: Speaker::Learner,
            text: "Hello".into(),
            state: TurnState::Final,
            start_ms: Some(100),
            end_ms: Some(900),
            position: 0,
        }
    }

    #[test]
    fn a_settled_turn_with_sane_fields_can_be_saved() {
        assert_eq!(turn().problem(), None);
        let unknown_times = SavedTurn {
            start_ms: None,
            end_ms: None,
            ..turn()
        };
        assert_eq!(unknown_times.problem(), None);
    }

    #[test]
    fn partial_oversized_and_odd_turns_are_refused() {
        let cases = [
            SavedTurn {
                state: TurnState::InProgress,
                ..turn()
            },
            SavedTurn {
                item_id: String::new(),
                ..turn()
            },
            SavedTurn {
                item_id: "../x".into(),
                ..turn()
            },
            SavedTurn {
                text: "a".repeat(SavedTurn::MAX_TEXT + 1),
                ..turn()
            },
            SavedTurn {
                start_ms: Some(10),
                end_ms: Some(5),
                ..turn()
            },
            SavedTurn {
                end_ms: Some(u64::MAX),
                ..turn()
            },
        ];
        for case in cases {
            assert!(case.problem().is_some(), "{case:?}");
        }
    }
}
