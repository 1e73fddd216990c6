//! How the learner spoke, measured without any model: from the stored turns, their times in the
//! recording, and (measured on the server from the audio) the silent pauses inside the
//! learner's turns. See `specs/001-speaking-practice/research.md` for the measures and their
//! sources.
//!
//! Learner turn times come from the Realtime API's voice detection: `audio_start_ms` includes
//! the configured prefix padding and `audio_end_ms` the end-of-speech silence. The page takes
//! both off before saving a turn (issue 17; a migration did the same to older turns), so stored
//! spans are measured as they are (`Padding::STORED`); `Padding` takes off what a source still
//! carries. The figures stay approximate.

mod pauses;
#[cfg(test)]
mod tests;
mod words;

use std::collections::HashSet;

use self::words::{fillers_in, is_vocal_filler, repetitions_in};
pub use self::{
    pauses::pauses_in,
    words::{content_words, mattr},
};
use super::{
    feedback::{
        AnswerGaps, Fillers, MATTR_WINDOW, MAX_NEW_WORDS, Pauses, Repetitions, SpeechMetrics,
        TurnFigure,
    },
    practice::words_said,
    transcript::{SavedTurn, Speaker, TurnState},
};

/// What the voice detection adds around the learner's speech.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Padding {
    /// Audio kept before speech was detected (`prefix_padding_ms`).
    pub prefix_ms: u64,
    /// Silence that had to pass before speech counted as stopped (`silence_duration_ms`).
    pub silence_ms: u64,
}

impl Padding {
    /// OpenAI's server VAD with the silence the app configures (`prefix_padding_ms` 300 is the
    /// API's default; `silence_duration_ms` 500 is set in every session).
    pub const REALTIME: Padding = Padding {
        prefix_ms: 300,
        silence_ms: 500,
    };

    /// Stored learner turns: the page took the voice detection's padding off already.
    pub const STORED: Padding = Padding {
        prefix_ms: 0,
        silence_ms: 0,
    };

    /// The stretch of a learner turn (in recording milliseconds) where the learner spoke.
    pub fn speech(self, turn: &SavedTurn) -> Option<(u64, u64)> {
        let (start, end) = (turn.start_ms?, turn.end_ms?);
        let from = start + self.prefix_ms;
        let to = end.saturating_sub(self.silence_ms);
        (to > from).then_some((from, to))
    }
}

/// Turns shorter than this (after padding) or with fewer words give no pace of their own.
const MIN_PACE_MS: u64 = 1_000;
const MIN_PACE_WORDS: u32 = 3;

/// One word of a turn, with what surrounds it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Token {
    /// Lowercase, straight apostrophes, no surrounding punctuation.
    word: String,
    /// As written.
    raw: String,
    /// Punctuation (or the start of the turn) comes right before it.
    after_break: bool,
    /// A comma comes right after it.
    comma_after: bool,
    /// Any punctuation (or the end of the turn) comes right after it.
    before_break: bool,
}

fn tokens(text: &str) -> Vec<Token> {
    let text = text.replace(['’', '‘'], "'");
    let mut out: Vec<Token> = Vec::new();
    let mut after_break = true;
    for piece in text.split_whitespace() {
        let lead_break = piece.starts_with(|c: char| !c.is_alphanumeric() && c != '\'');
        let word = piece.trim_matches(|c: char| !c.is_alphanumeric() && c != '\'');
        let word = word.trim_matches('\'');
        let trailing: String = piece
            .chars()
            .rev()
            .take_while(|c| !c.is_alphanumeric())
            .collect();
        if word.is_empty() {
            // A lone dash or ellipsis is a break.
            after_break = true;
            if let Some(last) = out.last_mut() {
                last.before_break = true;
            }
            continue;
        }
        let trailing_break = trailing.chars().any(|c| c != '\'');
        out.push(Token {
            word: word.to_lowercase(),
            raw: word.to_owned(),
            after_break: after_break || lead_break,
            comma_after: trailing.contains(','),
            before_break: trailing_break,
        });
        after_break = trailing_break;
    }
    if let Some(last) = out.last_mut() {
        last.before_break = true;
    }
    out
}

/// The number of words in `text`, as the measures count them.
pub fn word_count(text: &str) -> u32 {
    u32::try_from(tokens(text).len()).unwrap_or(u32::MAX)
}

/// The median of `values` (the lower middle one for an even count).
fn median(values: &mut [u64]) -> Option<u64> {
    values.sort_unstable();
    values.get(values.len().saturating_sub(1) / 2).copied()
}

/// What `measure` needs besides the turns.
#[derive(Debug, Clone, Default)]
pub struct Context<'a> {
    /// The topic's target words.
    pub vocabulary: &'a [String],
    /// Content words of the learner's earlier sessions; `None` when there are none.
    pub earlier_words: Option<&'a HashSet<String>>,
    /// Long pauses measured on the recording, when there is one.
    pub pauses: Option<Pauses>,
}

/// Every measure of a session, from its turns in spoken order.
pub fn measure(turns: &[SavedTurn], padding: Padding, context: &Context<'_>) -> SpeechMetrics {
    let learner: Vec<&SavedTurn> = turns
        .iter()
        .filter(|turn| turn.speaker == Speaker::Learner)
        .collect();
    let spoken: Vec<&SavedTurn> = learner
        .iter()
        .copied()
        .filter(|turn| turn.state == TurnState::Final && !turn.text.trim().is_empty())
        .collect();

    let mut figures = Vec::new();
    let mut learner_words = 0u32;
    let mut all_words: Vec<String> = Vec::new();
    let mut filler_counts: Vec<(&'static str, u32)> = Vec::new();
    let mut filler_total = 0u32;
    let mut repeats = Vec::new();
    let mut longest: Option<TurnFigure> = None;
    for turn in &spoken {
        let tokens = tokens(&turn.text);
        let words = u32::try_from(tokens.len()).unwrap_or(u32::MAX);
        learner_words = learner_words.saturating_add(words);
        all_words.extend(
            tokens
                .iter()
                .filter(|t| !is_vocal_filler(&t.word))
                .map(|t| t.word.clone()),
        );
        for filler in fillers_in(&tokens) {
            filler_total += 1;
            match filler_counts.iter_mut().find(|(f, _)| *f == filler) {
                Some((_, n)) => *n += 1,
                None => filler_counts.push((filler, 1)),
            }
        }
        repeats.extend(repetitions_in(&tokens));
        let ms = padding.speech(turn).map_or(0, |(from, to)| to - from);
        let wpm = (ms >= MIN_PACE_MS && words >= MIN_PACE_WORDS)
            .then(|| f64::from(words) * 60_000.0 / ms as f64);
        let figure = TurnFigure {
            item_id: turn.item_id.clone(),
            words,
            ms,
            wpm,
        };
        if longest.as_ref().is_none_or(|l| words > l.words) {
            longest = Some(figure.clone());
        }
        figures.push(figure);
    }

    let learner_speaking_ms: u64 = learner
        .iter()
        .filter_map(|turn| padding.speech(turn))
        .map(|(from, to)| to - from)
        .sum();
    let coach_speaking_ms: u64 = turns
        .iter()
        .filter(|turn| turn.speaker == Speaker::Coach)
        .filter_map(|turn| Some(turn.end_ms?.saturating_sub(turn.start_ms?)))
        .sum();
    let talk = learner_speaking_ms + coach_speaking_ms;
    let learner_share = (talk > 0).then(|| learner_speaking_ms as f64 / talk as f64);

    let (paced_words, paced_ms) = figures
        .iter()
        .filter(|f| f.wpm.is_some())
        .fold((0u64, 0u64), |(w, ms), f| {
            (w + u64::from(f.words), ms + f.ms)
        });
    let pace_wpm = (paced_ms > 0).then(|| paced_words as f64 * 60_000.0 / paced_ms as f64);

    // The gap before each learner turn that follows a coach turn.
    let mut gaps: Vec<u64> = turns
        .windows(2)
        .filter_map(|pair| {
            let (coach, answer) = (&pair[0], &pair[1]);
            if coach.speaker != Speaker::Coach || answer.speaker != Speaker::Learner {
                return None;
            }
            let (start, _) = padding.speech(answer)?;
            Some(start.saturating_sub(coach.end_ms?))
        })
        .collect();
    let answer_gaps = (!gaps.is_empty()).then(|| AnswerGaps {
        count: u32::try_from(gaps.len()).unwrap_or(u32::MAX),
        longest_ms: gaps.iter().copied().max().unwrap_or(0),
        median_ms: median(&mut gaps).unwrap_or(0),
    });

    filler_counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let fillers = Fillers {
        count: filler_total,
        per_100_words: (learner_words > 0)
            .then(|| f64::from(filler_total) * 100.0 / f64::from(learner_words)),
        top: filler_counts
            .into_iter()
            .take(3)
            .map(|(f, n)| (f.to_owned(), n))
            .collect(),
    };
    let repetitions = Repetitions {
        count: u32::try_from(repeats.len()).unwrap_or(u32::MAX),
        examples: repeats.into_iter().take(3).collect(),
    };

    let distinct: HashSet<&str> = all_words.iter().map(String::as_str).collect();
    let texts: Vec<&str> = spoken.iter().map(|turn| turn.text.as_str()).collect();
    let used = words_said(context.vocabulary, texts.iter().copied());
    let (topic_words_used, topic_words_unused) = context.vocabulary.iter().zip(used).fold(
        (Vec::new(), Vec::new()),
        |(mut yes, mut no), (word, used)| {
            if used { &mut yes } else { &mut no }.push(word.clone());
            (yes, no)
        },
    );
    let content = content_words(texts.iter().copied());
    let (new_words, new_word_count) = match context.earlier_words {
        None => (None, 0),
        Some(earlier) => {
            let new: Vec<String> = content
                .into_iter()
                .filter(|word| !earlier.contains(word))
                .collect();
            let count = u32::try_from(new.len()).unwrap_or(u32::MAX);
            (Some(new.into_iter().take(MAX_NEW_WORDS).collect()), count)
        }
    };

    SpeechMetrics {
        learner_turns: u32::try_from(learner.len()).unwrap_or(u32::MAX),
        learner_words,
        learner_speaking_ms,
        coach_speaking_ms,
        learner_share,
        longest_turn: longest,
        pace_wpm,
        turns: figures,
        answer_gaps,
        fillers,
        repetitions,
        mattr: mattr(&all_words, MATTR_WINDOW),
        distinct_words: u32::try_from(distinct.len()).unwrap_or(u32::MAX),
        topic_words_used,
        topic_words_unused,
        new_words,
        new_word_count,
        pauses: context.pauses.clone(),
    }
}

/// The learner's spans (corrected for padding) in which to look for pauses.
pub fn learner_spans(turns: &[SavedTurn], padding: Padding) -> Vec<(u64, u64)> {
    turns
        .iter()
        .filter(|turn| turn.speaker == Speaker::Learner)
        .filter_map(|turn| padding.speech(turn))
        .collect()
}
