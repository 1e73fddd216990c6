//! The coach's feedback on a session: what was measured from the stored turns and recording
//! (`SpeechMetrics`, see `fluency`), what a language model added (`Review`), and where the
//! learner's feedback stands while the server prepares it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where a session's feedback stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FeedbackStatus {
    /// The job is queued or running (or waiting to try again after a passing failure).
    Preparing,
    Ready,
    /// Given up after the last attempt; `failure` says why. What was measured is kept.
    Failed,
}

impl FeedbackStatus {
    pub fn code(self) -> &'static str {
        match self {
            FeedbackStatus::Preparing => "preparing",
            FeedbackStatus::Ready => "ready",
            FeedbackStatus::Failed => "failed",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "preparing" => Some(FeedbackStatus::Preparing),
            "ready" => Some(FeedbackStatus::Ready),
            "failed" => Some(FeedbackStatus::Failed),
            _ => None,
        }
    }
}

/// A session's feedback as its learner (or a share link the learner chose to include it in)
/// reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Feedback {
    pub status: FeedbackStatus,
    /// The measurements, and the model's review when there is one. Present when ready, and kept
    /// from the last attempt when it failed after measuring.
    pub report: Option<FeedbackReport>,
    /// Why it failed, in words a learner can read.
    pub failure: Option<String>,
    #[serde(default, with = "crate::domain::time::maybe_utc")]
    pub made_at: Option<DateTime<Utc>>,
    /// The learner's usual figures, from their earlier sessions (filled in when the learner
    /// reads it): what the figures are compared with first.
    #[serde(default)]
    pub baseline: Option<Baseline>,
}

/// The learner's average over their latest earlier sessions with feedback.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    /// How many sessions it averages (at most `BASELINE_SESSIONS`).
    pub sessions: u32,
    pub pace_wpm: Option<f64>,
    pub fillers_per_100_words: Option<f64>,
    pub learner_share: Option<f64>,
    pub distinct_words: Option<f64>,
}

/// Earlier sessions a baseline averages.
pub const BASELINE_SESSIONS: i64 = 5;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedbackReport {
    pub metrics: SpeechMetrics,
    pub review: Review,
}

/// What a language model said about the learner's speech.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Review {
    /// The model reviewed the conversation; quotes it invented were dropped.
    Done(CoachReview),
    /// The learner said nothing that was transcribed: no model was asked.
    NotEnoughSpeech,
    /// The model declined, or the review could not be made; the measurements stand alone.
    Unavailable { reason: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoachReview {
    /// The model that wrote it (as configured; the API may answer with a dated snapshot name).
    pub model: String,
    /// At most five, each quoting the learner's own words from the turn it names.
    pub corrections: Vec<Correction>,
    /// One to three "try saying it this way".
    pub rewrites: Vec<Rewrite>,
    pub strengths: Vec<String>,
    /// One thing to work on next.
    pub focus: String,
    pub level: LevelEstimate,
    /// Corrections and rewrites dropped because their quote is not in the turn they name.
    pub dropped: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum LevelEstimate {
    /// A CEFR level (`A1` to `C2`) with a one-line reason.
    Estimated { level: String, reason: String },
    /// Under `MIN_WORDS_FOR_LEVEL` learner words: no estimate.
    NotEnoughSpeech { words: u32 },
}

/// Learner words below which no CEFR estimate is made.
pub const MIN_WORDS_FOR_LEVEL: u32 = 75;

/// The most corrections a review keeps.
pub const MAX_CORRECTIONS: usize = 5;
/// The most rewrites a review keeps.
pub const MAX_REWRITES: usize = 3;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Correction {
    /// The learner turn it quotes (its Realtime item id), so the replay can play it.
    pub item_id: String,
    /// The learner's own words, exactly as transcribed.
    pub original: String,
    pub corrected: String,
    /// What kind of error (`grammar`, `vocabulary`, `preposition`, ...).
    pub kind: String,
    pub explanation: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rewrite {
    pub item_id: String,
    pub original: String,
    pub better: String,
    pub why: String,
}

/// What is measured without any model, from the stored turns, their times and the recording.
/// Times of learner speech are corrected for the voice detection's padding (see `fluency`), so
/// pace and speaking time are approximate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SpeechMetrics {
    /// Learner turns (transcribed or not).
    pub learner_turns: u32,
    /// Words in the learner's transcribed turns (vocal fillers such as "um" included).
    pub learner_words: u32,
    pub learner_speaking_ms: u64,
    pub coach_speaking_ms: u64,
    /// The learner's part of all speaking time, 0 to 1.
    pub learner_share: Option<f64>,
    pub longest_turn: Option<TurnFigure>,
    /// Words per minute over the learner's timed turns (approximate).
    pub pace_wpm: Option<f64>,
    /// Each timed learner turn long enough to measure.
    pub turns: Vec<TurnFigure>,
    /// How quickly the learner answered the coach.
    pub answer_gaps: Option<AnswerGaps>,
    pub fillers: Fillers,
    pub repetitions: Repetitions,
    /// Moving-average type-token ratio over windows of `MATTR_WINDOW` words; `None` under one
    /// window of words.
    pub mattr: Option<f64>,
    /// Different words the learner used.
    pub distinct_words: u32,
    /// The topic's target words, used and not.
    pub topic_words_used: Vec<String>,
    pub topic_words_unused: Vec<String>,
    /// Content words new compared with the learner's earlier sessions (`None` for a first
    /// session: everything would be new), in the order first said, at most `MAX_NEW_WORDS`.
    pub new_words: Option<Vec<String>>,
    pub new_word_count: u32,
    /// Silent pauses of a second or more inside the learner's turns, measured on the recording;
    /// `None` without a playable recording.
    pub pauses: Option<Pauses>,
}

pub const MATTR_WINDOW: usize = 50;
pub const MAX_NEW_WORDS: usize = 12;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TurnFigure {
    pub item_id: String,
    pub words: u32,
    /// Speaking time of the turn, corrected for padding.
    pub ms: u64,
    pub wpm: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnswerGaps {
    /// Learner turns that answered a coach turn with known times.
    pub count: u32,
    pub median_ms: u64,
    pub longest_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Fillers {
    pub count: u32,
    pub per_100_words: Option<f64>,
    /// The most frequent, most first: (filler, times).
    pub top: Vec<(String, u32)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Repetitions {
    /// Immediate repetitions of a word ("I I") or a short phrase ("I went I went").
    pub count: u32,
    /// A few of them, as said.
    pub examples: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pauses {
    /// Pauses of `LONG_PAUSE_MS` or more inside learner turns.
    pub count: u32,
    pub longest_ms: u64,
    /// Learner speaking time the measurement covered.
    pub measured_ms: u64,
}

pub const LONG_PAUSE_MS: u64 = 1_000;

/// One ended session on the learner's progress page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProgressPoint {
    pub session_id: String,
    #[serde(with = "crate::domain::time::utc")]
    pub started_at: DateTime<Utc>,
    pub topic_title: String,
    pub pace_wpm: Option<f64>,
    pub fillers_per_100_words: Option<f64>,
    pub learner_share: Option<f64>,
    pub distinct_words: u32,
    /// A CEFR level code, when estimated.
    pub level: Option<String>,
}

/// The learner's sessions with feedback, oldest first, and how many sessions have feedback
/// still to come.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    pub points: Vec<ProgressPoint>,
    pub preparing: u32,
}

/// The feedback line of a session in history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FeedbackLine {
    Preparing,
    Failed,
    Ready(String),
}

impl Feedback {
    /// One line for history: pace, fillers and corrections, or what stands in their way.
    pub fn headline(report: &FeedbackReport) -> String {
        let metrics = &report.metrics;
        if metrics.learner_words == 0 {
            return "Not enough speech to assess".to_owned();
        }
        let mut parts = Vec::new();
        if let Some(wpm) = metrics.pace_wpm {
            parts.push(format!("{} words a minute", wpm.round()));
        }
        if let Some(per_100) = metrics.fillers.per_100_words {
            parts.push(format!("{} fillers per 100 words", one_decimal(per_100)));
        }
        if let Review::Done(review) = &report.review {
            let n = review.corrections.len();
            parts.push(match n {
                0 => "no corrections".to_owned(),
                1 => "1 correction".to_owned(),
                n => format!("{n} corrections"),
            });
        }
        if parts.is_empty() {
            format!("{} words", metrics.learner_words)
        } else {
            parts.join(" · ")
        }
    }
}

/// `3.25` → `"3.3"`, `4.0` → `"4"`.
pub fn one_decimal(value: f64) -> String {
    let rounded = (value * 10.0).round() / 10.0;
    if rounded.fract() == 0.0 {
        format!("{rounded:.0}")
    } else {
        format!("{rounded:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_their_codes() {
        for status in [
            FeedbackStatus::Preparing,
            FeedbackStatus::Ready,
            FeedbackStatus::Failed,
        ] {
            assert_eq!(FeedbackStatus::parse(status.code()), Some(status));
        }
        assert_eq!(FeedbackStatus::parse("done"), None);
    }

    #[test]
    fn numbers_show_one_decimal_at_most() {
        assert_eq!(one_decimal(3.25), "3.3");
        assert_eq!(one_decimal(4.0), "4");
        assert_eq!(one_decimal(0.04), "0");
    }

    #[test]
    fn the_headline_names_pace_fillers_and_corrections() {
        let mut metrics = SpeechMetrics {
            learner_words: 120,
            pace_wpm: Some(112.4),
            ..SpeechMetrics::default()
        };
        metrics.fillers.per_100_words = Some(2.5);
        let review = Review::Done(CoachReview {
            model: "m".into(),
            corrections: vec![Correction {
                item_id: "i".into(),
                original: "I am agree".into(),
                corrected: "I agree".into(),
                kind: "grammar".into(),
                explanation: "e".into(),
            }],
            rewrites: vec![],
            strengths: vec![],
            focus: String::new(),
            level: LevelEstimate::NotEnoughSpeech { words: 12 },
            dropped: 0,
        });
        let report = FeedbackReport { metrics, review };
        assert_eq!(
            Feedback::headline(&report),
            "112 words a minute · 2.5 fillers per 100 words · 1 correction"
        );
        let silent = FeedbackReport {
            metrics: SpeechMetrics::default(),
            review: Review::NotEnoughSpeech,
        };
        assert_eq!(Feedback::headline(&silent), "Not enough speech to assess");
    }
}
