//! The live transcript: both sides' turns, built from the Realtime events as they arrive and kept
//! in the order they were spoken — never in the order events happened to arrive. (A learner's
//! transcription often lands after the coach has already answered.)

#[cfg(test)]
mod saved_turn_tests;
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;

use realtime_protocol::{ServerEvent, events::Item};
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

    /// Where the turn is in the recording, (start, end) in milliseconds, when both are known.
    pub fn span(&self) -> Option<(u64, u64)> {
        self.start_ms.zip(self.end_ms)
    }

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

/// How fast the coach speaks, in characters a second: OpenAI sends a reply's text well ahead of
/// its audio, so what was heard of a reply cut off is estimated from how long it played.
pub const COACH_CHARS_PER_SECOND: u64 = 15;

/// The words of `text` spoken in its first `played_ms`, at the coach's pace: a word counts once
/// it was spoken to its end.
pub fn heard_part(text: &str, played_ms: u64) -> String {
    let text = text.trim();
    let spoken = usize::try_from(played_ms.saturating_mul(COACH_CHARS_PER_SECOND) / 1000)
        .unwrap_or(usize::MAX);
    let Some((cut, _)) = text.char_indices().nth(spoken) else {
        return text.to_owned();
    };
    let (head, rest) = text.split_at(cut);
    let whole = if rest.starts_with(char::is_whitespace) {
        head
    } else {
        head.rfind(char::is_whitespace).map_or("", |at| &head[..at])
    };
    whole.trim_end().to_owned()
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transcript {
    turns: Vec<Turn>,
    /// Which response each coach item belongs to: a reply is settled by its response's audio.
    replies: Vec<(String, String)>,
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

    /// The response a coach item belongs to, once known.
    pub fn response_of(&self, item_id: &str) -> Option<&str> {
        self.replies
            .iter()
            .find(|(_, item)| item == item_id)
            .map(|(response, _)| response.as_str())
    }

    fn note_reply(&mut self, response_id: &str, item_id: &str) {
        if self.response_of(item_id).is_none() {
            self.replies
                .push((response_id.to_owned(), item_id.to_owned()));
        }
    }

    /// The open coach turns of `response_id`.
    fn open_replies(&self, response_id: &str) -> Vec<usize> {
        self.turns
            .iter()
            .enumerate()
            .filter(|(_, turn)| {
                turn.speaker == Speaker::Coach
                    && turn.state == TurnState::InProgress
                    && self.response_of(&turn.item_id) == Some(response_id)
            })
            .map(|(index, _)| index)
            .collect()
    }

    /// The response's audio played to its end: its reply is final, all of its text heard.
    pub fn finish_reply(&mut self, response_id: &str) -> Vec<usize> {
        let open = self.open_replies(response_id);
        for &index in &open {
            self.turns[index].state = TurnState::Final;
        }
        open
    }

    /// The response was cut off after `played_ms` of its audio (the learner spoke over it, it
    /// was cancelled, it failed): its reply is interrupted and keeps only what was heard.
    pub fn cut_off_reply(&mut self, response_id: &str, played_ms: u64) -> Vec<usize> {
        let open = self.open_replies(response_id);
        for &index in &open {
            self.cut_off(index, played_ms);
        }
        open
    }

    /// One coach item cut off after `played_ms` of its audio (`conversation.item.truncated`, or
    /// the item done as incomplete).
    pub fn cut_off_item(&mut self, item_id: &str, played_ms: u64) -> Option<usize> {
        let index = self.index_of(item_id)?;
        let turn = &self.turns[index];
        if turn.speaker != Speaker::Coach || turn.is_settled() {
            return None;
        }
        self.cut_off(index, played_ms);
        Some(index)
    }

    fn cut_off(&mut self, index: usize, played_ms: u64) {
        let turn = &mut self.turns[index];
        turn.text = heard_part(&turn.text, played_ms);
        turn.state = TurnState::Interrupted;
    }

    /// The call carrying these turns is gone, so turns still open will never finish: a coach
    /// reply keeps what was heard of it (`played_ms` of its item's audio; nothing when it never
    /// played) as interrupted; a learner turn whose transcript never came is marked not
    /// transcribed (its audio is in the recording). The indexes of the turns changed.
    pub fn settle_open(&mut self, played_ms: impl Fn(&str) -> Option<u64>) -> Vec<usize> {
        let open: Vec<usize> = (0..self.turns.len())
            .filter(|&index| self.turns[index].state == TurnState::InProgress)
            .collect();
        for &index in &open {
            match self.turns[index].speaker {
                Speaker::Coach => {
                    let played = played_ms(&self.turns[index].item_id).unwrap_or(0);
                    self.cut_off(index, played);
                }
                Speaker::Learner => self.turns[index].state = TurnState::TranscriptionFailed,
            }
        }
        open
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
            ServerEvent::OutputItemAdded {
                response_id, item, ..
            } if item.role == "assistant" => {
                self.note_reply(response_id, item.id.as_deref()?);
                None
            }
            ServerEvent::OutputTranscriptDelta {
                response_id,
                item_id,
                delta,
                ..
            } => {
                self.note_reply(response_id, item_id);
                let (index, created) = self.turn_mut(item_id, Speaker::Coach, None);
                let turn = &mut self.turns[index];
                if turn.is_settled() {
                    return None;
                }
                turn.text.push_str(delta);
                Self::changed(index, created)
            }
            // The whole text of the reply, generated: OpenAI sends it also for a reply cut off,
            // and well before its audio has played. The reply settles by its audio (see
            // `finish_reply`, `cut_off_reply`).
            ServerEvent::OutputTranscriptDone {
                response_id,
                item_id,
                transcript,
                ..
            } => {
                self.note_reply(response_id, item_id);
                let (index, created) = self.turn_mut(item_id, Speaker::Coach, None);
                let turn = &mut self.turns[index];
                if turn.is_settled() {
                    return None;
                }
                turn.text = transcript.trim().to_owned();
                Self::changed(index, created)
            }
            _ => None,
        }
    }
}

/// The turn being heard `position_ms` into the recording, given each turn's `SavedTurn::span`:
/// the last one that has started and not yet ended.
pub fn span_at(spans: &[Option<(u64, u64)>], position_ms: f64) -> Option<usize> {
    spans.iter().rposition(|span| {
        span.is_some_and(|(start, end)| (start as f64) <= position_ms && position_ms < end as f64)
    })
}

/// How long each side spoke, in milliseconds: (learner, coach).
pub fn talk_times(turns: &[SavedTurn]) -> (u64, u64) {
    turns.iter().fold((0, 0), |(learner, coach), turn| {
        let spoke = turn
            .span()
            .map_or(0, |(start, end)| end.saturating_sub(start));
        match turn.speaker {
            Speaker::Learner => (learner + spoke, coach),
            Speaker::Coach => (learner, coach + spoke),
        }
    })
}
