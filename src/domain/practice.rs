//! A practice session: one conversation of a learner about a topic, and what the learner
//! achieved in it (the words of the topic they used).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{
    Topic,
    transcript::{Speaker, Transcript, TurnState},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PracticeStatus {
    /// The call is (or was last seen) going on.
    Live,
    /// The learner pressed End.
    Ended,
}

impl PracticeStatus {
    pub fn code(self) -> &'static str {
        match self {
            PracticeStatus::Live => "live",
            PracticeStatus::Ended => "ended",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "live" => Some(PracticeStatus::Live),
            "ended" => Some(PracticeStatus::Ended),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PracticeSession {
    /// A UUID.
    pub id: String,
    pub topic: Topic,
    pub status: PracticeStatus,
    #[serde(with = "crate::domain::time::utc")]
    pub started_at: DateTime<Utc>,
    #[serde(default, with = "crate::domain::time::maybe_utc")]
    pub ended_at: Option<DateTime<Utc>>,
    /// Settled turns of both speakers.
    pub turn_count: u32,
    /// The topic's words the learner used, in the topic's order.
    pub words_used: Vec<String>,
    /// Recording pieces the server has received, and their total size.
    pub recording_chunks: u32,
    pub recording_bytes: u64,
    /// The finished recording, once the session has been finalized.
    pub recording: Option<Recording>,
    /// Where it stands, as history would say (filled in when the learner reads the session).
    pub state: Option<SessionState>,
    /// The session's share link (a full URL) when the learner chose to share it (filled in when
    /// the learner reads the session).
    pub share_url: Option<String>,
    /// The share link shows the session's feedback (the learner's choice).
    #[serde(default)]
    pub share_includes_feedback: bool,
}

/// What a share link shows: the conversation and its recording, nothing of the account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SharedSession {
    pub topic_title: String,
    #[serde(with = "crate::domain::time::utc")]
    pub started_at: DateTime<Utc>,
    pub duration_secs: Option<u64>,
    pub turns: Vec<super::transcript::SavedTurn>,
    /// The recording can be played (at `/api/shared/{token}/recording`).
    pub playable: bool,
    /// The session's feedback, when the learner chose to show it on the link.
    pub feedback: Option<super::feedback::Feedback>,
}

impl PracticeSession {
    /// How long the conversation lasted, in whole seconds; `None` while it goes on.
    pub fn duration_secs(&self) -> Option<u64> {
        let end = self.ended_at?;
        Some(u64::try_from((end - self.started_at).num_seconds()).unwrap_or(0))
    }
}

/// A session's finished recording, or why it could not be made.
///
/// `provisional`: the server made it on its own from what had arrived when the learner's tab went
/// quiet; the chunks are kept and it is made again when the rest arrives (recovery).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Recording {
    Ready {
        mime_type: String,
        size_bytes: u64,
        /// Read from the media itself.
        duration_ms: u64,
        /// Chunk numbers that never arrived: the recording stops at the first of them.
        missing_chunks: Vec<u32>,
        provisional: bool,
    },
    /// The chunks and the transcript are kept.
    Failed {
        reason: String,
        missing_chunks: Vec<u32>,
        provisional: bool,
    },
}

impl Recording {
    pub fn is_provisional(&self) -> bool {
        match self {
            Recording::Ready { provisional, .. } | Recording::Failed { provisional, .. } => {
                *provisional
            }
        }
    }
}

/// Where a session stands, as the learner's history shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SessionState {
    /// The call is going on (the session showed a sign of life moments ago).
    InProgress,
    /// Its recording and transcript are saved for good.
    Saved,
    /// It stopped before everything was saved (the tab closed or crashed): it can be recovered.
    NeedsRecovery,
    /// The recording could not be made; the transcript is kept.
    Failed,
}

impl SessionState {
    /// `recording`: `None` before finalization, else whether it is ready (not failed) and
    /// whether it is provisional. A live session silent for `quiet_secs` (no chunk, no turn:
    /// chunks arrive every few seconds while a call goes on) has lost its tab.
    pub fn of(
        status: PracticeStatus,
        recording: Option<(bool, bool)>,
        idle_secs: i64,
        quiet_secs: i64,
    ) -> Self {
        match (status, recording) {
            (PracticeStatus::Live, _) if idle_secs < quiet_secs => SessionState::InProgress,
            (PracticeStatus::Live, _) | (PracticeStatus::Ended, None | Some((_, true))) => {
                SessionState::NeedsRecovery
            }
            (PracticeStatus::Ended, Some((true, false))) => SessionState::Saved,
            (PracticeStatus::Ended, Some((false, false))) => SessionState::Failed,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SessionState::InProgress => "In progress",
            SessionState::Saved => "Saved",
            SessionState::NeedsRecovery => "Needs recovery",
            SessionState::Failed => "Recording failed",
        }
    }
}

/// One session in the learner's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub id: String,
    pub topic_slug: String,
    pub topic_title: String,
    #[serde(with = "crate::domain::time::utc")]
    pub started_at: DateTime<Utc>,
    /// Whole seconds from start to end; `None` while it goes on.
    pub duration_secs: Option<u64>,
    pub turn_count: u32,
    pub state: SessionState,
    /// The line about its feedback, once asked for.
    pub feedback: Option<super::feedback::FeedbackLine>,
}

/// A page of history, newest first; `next` continues after its last entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryPage {
    pub entries: Vec<HistoryEntry>,
    pub next: Option<String>,
}

/// `m:ss`, as timers and summaries show durations.
pub fn clock(secs: u64) -> String {
    format!("{}:{:02}", secs / 60, secs % 60)
}

/// Which of `vocabulary` the learner said in their final turns. Matching ignores case and
/// punctuation, needs whole words, and reads common contractions both ways ("I'd like" is used by
/// "I would like" and the other way round).
pub fn words_used(vocabulary: &[String], transcript: &Transcript) -> Vec<bool> {
    let said = transcript
        .turns()
        .iter()
        .filter(|turn| turn.speaker == Speaker::Learner && turn.state == TurnState::Final)
        .map(|turn| turn.text.as_str());
    words_said(vocabulary, said)
}

/// Which of `vocabulary` occur in `said` (the learner's final turns), matched as `words_used`
/// does.
pub fn words_said<'a>(vocabulary: &[String], said: impl IntoIterator<Item = &'a str>) -> Vec<bool> {
    let spoken: Vec<Vec<String>> = said.into_iter().map(normalise).collect();
    vocabulary
        .iter()
        .map(|word| {
            let wanted = normalise(word);
            !wanted.is_empty()
                && spoken
                    .iter()
                    .any(|said| said.windows(wanted.len()).any(|window| window == wanted))
        })
        .collect()
}

/// Lowercase words without punctuation, contractions expanded.
fn normalise(text: &str) -> Vec<String> {
    let lower = text.to_lowercase().replace(['’', '‘'], "'");
    let mut words = Vec::new();
    for raw in lower.split(|c: char| !(c.is_alphanumeric() || c == '\'')) {
        let word = raw.trim_matches('\'');
        if word.is_empty() {
            continue;
        }
        match expand(word) {
            Some((head, tail)) => {
                words.push(head.to_owned());
                words.push(tail.to_owned());
            }
            None => words.push(word.to_owned()),
        }
    }
    words
}

/// `"i'd"` → `("i", "would")`, `"don't"` → `("do", "not")`: the common English contractions.
fn expand(word: &str) -> Option<(&str, &'static str)> {
    match word {
        "can't" => return Some(("can", "not")),
        "won't" => return Some(("will", "not")),
        _ => {}
    }
    const ENDINGS: [(&str, &str); 6] = [
        ("n't", "not"),
        ("'d", "would"),
        ("'ll", "will"),
        ("'re", "are"),
        ("'ve", "have"),
        ("'m", "am"),
    ];
    ENDINGS.iter().find_map(|(ending, full)| {
        word.strip_suffix(ending)
            .filter(|head| !head.is_empty())
            .map(|head| (head, *full))
    })
}

#[cfg(test)]
mod tests {
    use realtime_protocol::ServerEvent;

    use super::*;

    #[test]
    fn history_states_follow_the_session_and_its_recording() {
        use PracticeStatus::{Ended, Live};
        use SessionState::*;
        let quiet = 60;
        let of = |status, recording, idle| SessionState::of(status, recording, idle, quiet);
        assert_eq!(of(Live, None, 3), InProgress);
        assert_eq!(of(Live, None, quiet), NeedsRecovery);
        assert_eq!(of(Ended, None, 0), NeedsRecovery);
        assert_eq!(of(Ended, Some((true, true)), 0), NeedsRecovery);
        assert_eq!(of(Ended, Some((false, true)), 0), NeedsRecovery);
        assert_eq!(of(Ended, Some((true, false)), 0), Saved);
        assert_eq!(of(Ended, Some((false, false)), 0), Failed);
    }

    fn learner_said(texts: &[&str]) -> Transcript {
        let mut transcript = Transcript::default();
        for (n, text) in texts.iter().enumerate() {
            transcript.apply(&ServerEvent::InputTranscriptCompleted {
                event_id: None,
                item_id: format!("item_{n}"),
                content_index: 0,
                transcript: (*text).to_owned(),
                usage: None,
            });
        }
        transcript
    }

    fn vocabulary(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn a_word_counts_once_said_in_any_case_with_punctuation_around_it() {
        let words = vocabulary(&["small", "the bill", "how much"]);
        let transcript = learner_said(&["A SMALL one, please.", "Could I have the bill?"]);
        assert_eq!(words_used(&words, &transcript), [true, true, false]);
    }

    #[test]
    fn contractions_match_their_long_form_both_ways() {
        let words = vocabulary(&["I'd like", "thank you", "don't"]);
        assert_eq!(
            words_used(&words, &learner_said(&["I would like a tea."])),
            [true, false, false]
        );
        assert_eq!(
            words_used(&words, &learner_said(&["I’d like it. I do not know."])),
            [true, false, true]
        );
    }

    #[test]
    fn parts_of_words_and_phrases_split_across_turns_do_not_count() {
        let words = vocabulary(&["small", "a cup of"]);
        let transcript = learner_said(&["smallest thing", "a cup", "of tea"]);
        assert_eq!(words_used(&words, &transcript), [false, false]);
    }

    #[test]
    fn only_the_learners_final_words_count() {
        let words = vocabulary(&["large"]);
        let mut transcript = Transcript::default();
        transcript.apply(&ServerEvent::OutputTranscriptDone {
            event_id: None,
            response_id: "resp_1".into(),
            item_id: "coach_1".into(),
            output_index: 0,
            content_index: 0,
            transcript: "Small or large?".into(),
        });
        transcript.finish_reply("resp_1");
        transcript.apply(&ServerEvent::InputTranscriptDelta {
            event_id: None,
            item_id: "item_1".into(),
            content_index: 0,
            delta: "large".into(),
        });
        assert_eq!(words_used(&words, &transcript), [false]);
    }

    #[test]
    fn clock_shows_minutes_and_padded_seconds() {
        assert_eq!(clock(0), "0:00");
        assert_eq!(clock(65), "1:05");
        assert_eq!(clock(600), "10:00");
    }
}
