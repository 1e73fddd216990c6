//! The live transcript: both sides' turns, built from the Realtime events as they arrive and kept
//! in the order they were spoken — never in the order events happened to arrive. (A learner's
//! transcription often lands after the coach has already answered.)

#[cfg(test)]
mod saved_turn_tests;
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;

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
        } else if self.text.contains('\0') {
            Some("A turn's text cannot contain NUL characters.")
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
