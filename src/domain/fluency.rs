//! How the learner spoke, measured without any model: from the stored turns, their times in the
//! recording, and (measured on the server from the audio) the silent pauses inside the
//! learner's turns. See `specs/001-speaking-practice/research.md` for the measures and their
//! sources.
//!
//! Learner turn times come from the Realtime API's voice detection: `audio_start_ms` includes
//! the configured prefix padding and `audio_end_ms` the end-of-speech silence, so both are taken
//! off (`Padding`) before anything is timed. The figures stay approximate.

use std::collections::{HashMap, HashSet};

use super::{
    feedback::{
        AnswerGaps, Fillers, LONG_PAUSE_MS, MATTR_WINDOW, MAX_NEW_WORDS, Pauses, Repetitions,
        SpeechMetrics, TurnFigure,
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

/// Sounds that are only ever fillers.
const VOCAL_FILLERS: &[&str] = &[
    "um", "umm", "uh", "uhh", "uhm", "er", "erm", "hmm", "mm", "ah", "eh",
];

/// Adverbs that learners lean on as fillers; counted wherever they occur.
const FILLER_ADVERBS: &[&str] = &["basically", "actually", "literally"];

/// Words whose doubling is ordinary speech ("had had", "very very", "bye bye").
const ORDINARY_DOUBLES: &[&str] = &[
    "had", "that", "very", "really", "bye", "no", "yes", "ha", "hey", "now", "well", "so",
];

/// Short words that say little about vocabulary: left out of "new words".
const FUNCTION_WORDS: &[&str] = &[
    "the", "and", "but", "for", "you", "your", "yours", "she", "her", "him", "his", "they", "them",
    "their", "our", "ours", "its", "it's", "was", "were", "are", "is", "been", "being", "have",
    "has", "had", "this", "that", "these", "those", "with", "from", "into", "onto", "about",
    "there", "here", "then", "than", "what", "which", "who", "whom", "when", "where", "why", "how",
    "not", "can", "could", "would", "should", "will", "shall", "may", "might", "must", "did",
    "does", "done", "doing", "yes", "yeah", "okay", "also", "too", "very", "just", "some", "any",
    "all", "one", "two", "out", "off", "over", "under", "again", "because", "so", "if", "or", "of",
    "to", "in", "on", "at", "by", "an", "a", "i", "me", "my", "mine", "we", "us", "he", "it", "be",
    "do", "am", "i'm", "i'd", "i've", "i'll", "don't", "didn't", "can't", "won't", "isn't",
    "aren't", "wasn't", "that's", "there's", "let's", "you're", "we're", "they're", "like", "well",
    "really", "much", "more", "most", "many",
];

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

fn is_vocal_filler(word: &str) -> bool {
    VOCAL_FILLERS.contains(&word)
}

/// The fillers in one turn, each named as it is counted ("um", "like", "you know").
fn fillers_in(tokens: &[Token]) -> Vec<&'static str> {
    const VERB_LIKE_BEFORE: &[&str] = &[
        "i", "you", "we", "they", "would", "i'd", "you'd", "we'd", "they'd", "do", "don't", "did",
        "didn't", "really", "also", "to", "will", "might", "could", "should", "not",
    ];
    const YOU_KNOW_BEFORE: &[&str] = &[
        "do", "did", "don't", "didn't", "if", "as", "would", "to", "what", "how", "you",
    ];
    const YOU_KNOW_AFTER: &[&str] = &[
        "what",
        "how",
        "that",
        "where",
        "why",
        "who",
        "when",
        "if",
        "whether",
        "him",
        "her",
        "them",
        "it",
        "me",
        "about",
        "the",
        "a",
        "an",
        "anything",
        "something",
        "anyone",
        "someone",
        "everything",
        "nothing",
        "my",
        "your",
        "his",
        "their",
        "our",
        "this",
    ];
    const I_MEAN_AFTER: &[&str] = &["it", "that", "what", "to", "you", "him", "her", "them"];
    const KIND_OF_BEFORE: &[&str] = &[
        "a",
        "the",
        "this",
        "that",
        "what",
        "some",
        "any",
        "one",
        "every",
        "which",
        "these",
        "those",
        "same",
        "different",
        "another",
        "each",
        "no",
    ];
    let mut found = Vec::new();
    let word = |i: usize| tokens.get(i).map(|t| t.word.as_str());
    let mut i = 0;
    while i < tokens.len() {
        let token = &tokens[i];
        let previous = i.checked_sub(1).and_then(word);
        let pair = (token.word.as_str(), word(i + 1));
        // Two-word fillers first.
        let two = match pair {
            ("you", Some("know"))
                if previous.is_none_or(|p| !YOU_KNOW_BEFORE.contains(&p))
                    && (tokens[i + 1].before_break
                        || word(i + 2).is_none_or(|n| !YOU_KNOW_AFTER.contains(&n))) =>
            {
                Some("you know")
            }
            ("i", Some("mean"))
                if token.after_break
                    && (tokens[i + 1].before_break
                        || word(i + 2).is_none_or(|n| !I_MEAN_AFTER.contains(&n))) =>
            {
                Some("I mean")
            }
            ("kind", Some("of")) | ("sort", Some("of"))
                if previous.is_none_or(|p| !KIND_OF_BEFORE.contains(&p)) && !token.after_break =>
            {
                Some(if token.word == "kind" {
                    "kind of"
                } else {
                    "sort of"
                })
            }
            _ => None,
        };
        if let Some(filler) = two {
            found.push(filler);
            i += 2;
            continue;
        }
        let one = match token.word.as_str() {
            w if is_vocal_filler(w) => VOCAL_FILLERS.iter().find(|f| **f == w).copied(),
            w if FILLER_ADVERBS.contains(&w) => FILLER_ADVERBS.iter().find(|f| **f == w).copied(),
            // "like" as a filler is set off by a comma after it ("it was, like, great";
            // "like, I don't know"), never a verb after a subject ("I like it").
            "like"
                if token.comma_after
                    && !previous.is_some_and(|p| VERB_LIKE_BEFORE.contains(&p)) =>
            {
                Some("like")
            }
            _ => None,
        };
        if let Some(filler) = one {
            found.push(filler);
        }
        i += 1;
    }
    found
}

/// Immediate repetitions in one turn: a word ("I I") or a two- or three-word phrase ("I went I
/// went"), as said. Vocal fillers and ordinary doubles do not count.
fn repetitions_in(tokens: &[Token]) -> Vec<String> {
    let words: Vec<&str> = tokens.iter().map(|t| t.word.as_str()).collect();
    let mut found = Vec::new();
    let mut i = 0;
    'scan: while i < words.len() {
        for n in [3usize, 2] {
            if i + 2 * n <= words.len() && words[i..i + n] == words[i + n..i + 2 * n] {
                let raw: Vec<&str> = tokens[i..i + 2 * n]
                    .iter()
                    .map(|t| t.raw.as_str())
                    .collect();
                found.push(raw.join(" "));
                i += 2 * n;
                continue 'scan;
            }
        }
        if i + 1 < words.len()
            && words[i] == words[i + 1]
            && !is_vocal_filler(words[i])
            && !ORDINARY_DOUBLES.contains(&words[i])
        {
            found.push(format!("{} {}", tokens[i].raw, tokens[i + 1].raw));
            i += 2;
            continue;
        }
        i += 1;
    }
    found
}

/// The moving-average type-token ratio (Covington & McFall 2010): the mean, over every window of
/// `window` consecutive words, of distinct words / `window`. `None` with fewer words than one
/// window.
pub fn mattr(words: &[String], window: usize) -> Option<f64> {
    if window == 0 || words.len() < window {
        return None;
    }
    let mut counts: HashMap<&str, u32> = HashMap::new();
    for word in &words[..window] {
        *counts.entry(word).or_default() += 1;
    }
    let mut total = counts.len() as f64;
    for end in window..words.len() {
        let leaving = words[end - window].as_str();
        if let Some(count) = counts.get_mut(leaving) {
            *count -= 1;
            if *count == 0 {
                counts.remove(leaving);
            }
        }
        *counts.entry(words[end].as_str()).or_default() += 1;
        total += counts.len() as f64;
    }
    let windows = (words.len() - window + 1) as f64;
    Some(total / windows / window as f64)
}

/// The median of `values` (the lower middle one for an even count).
fn median(values: &mut [u64]) -> Option<u64> {
    values.sort_unstable();
    values.get(values.len().saturating_sub(1) / 2).copied()
}

/// Content words of the learner's turns, in the order first said (lowercase, no numbers, no
/// function words, at least three letters): what "new words" compares across sessions.
pub fn content_words<'a>(texts: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for text in texts {
        for token in tokens(text) {
            let word = token.word;
            if word.chars().count() >= 3
                && word
                    .chars()
                    .all(|c| c.is_alphabetic() || c == '\'' || c == '-')
                && !FUNCTION_WORDS.contains(&word.as_str())
                && !is_vocal_filler(&word)
                && !FILLER_ADVERBS.contains(&word.as_str())
                && seen.insert(word.clone())
            {
                out.push(word);
            }
        }
    }
    out
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

/// Long silent pauses inside `spans`, from the recording's loudness: `levels` holds one value in
/// dBFS per `frame_ms` of audio from the start. A frame is silent when it is nearer the
/// recording's noise floor than the span's speech level; only pauses between speech count (not
/// silence at a span's edges). Spans with no clear speech in them are skipped.
pub fn pauses_in(levels: &[f32], frame_ms: u64, spans: &[(u64, u64)]) -> Pauses {
    let mut sorted: Vec<f32> = levels.iter().copied().filter(|l| l.is_finite()).collect();
    sorted.sort_by(f32::total_cmp);
    let floor = percentile(&sorted, 0.10).unwrap_or(-90.0).max(-90.0);
    let mut pauses = Pauses {
        count: 0,
        longest_ms: 0,
        measured_ms: 0,
    };
    if frame_ms == 0 {
        return pauses;
    }
    for &(from, to) in spans {
        let first = usize::try_from(from / frame_ms).unwrap_or(usize::MAX);
        let last = usize::try_from(to.div_ceil(frame_ms))
            .unwrap_or(usize::MAX)
            .min(levels.len());
        if first >= last {
            continue;
        }
        let span = &levels[first..last];
        let mut in_span: Vec<f32> = span.iter().copied().filter(|l| l.is_finite()).collect();
        in_span.sort_by(f32::total_cmp);
        let Some(speech) = percentile(&in_span, 0.90) else {
            continue;
        };
        pauses.measured_ms += (last - first) as u64 * frame_ms;
        if speech - floor < 12.0 {
            continue;
        }
        let threshold = floor + 0.4 * (speech - floor);
        let mut run = 0u64;
        let mut spoke = false;
        for level in span {
            if *level < threshold || !level.is_finite() {
                run += 1;
                continue;
            }
            // Speech again: the silence just ended was a pause if speech came before it too.
            let ms = run * frame_ms;
            if spoke && ms >= LONG_PAUSE_MS {
                pauses.count += 1;
                pauses.longest_ms = pauses.longest_ms.max(ms);
            }
            run = 0;
            spoke = true;
        }
    }
    pauses
}

fn percentile(sorted: &[f32], at: f64) -> Option<f32> {
    if sorted.is_empty() {
        return None;
    }
    let index = ((sorted.len() - 1) as f64 * at).round() as usize;
    sorted.get(index).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(id: &str, speaker: Speaker, text: &str, span: Option<(u64, u64)>) -> SavedTurn {
        SavedTurn {
            item_id: id.into(),
            speaker,
            text: text.into(),
            state: TurnState::Final,
            start_ms: span.map(|s| s.0),
            end_ms: span.map(|s| s.1),
            position: 0,
        }
    }

    fn learner(id: &str, text: &str, span: (u64, u64)) -> SavedTurn {
        turn(id, Speaker::Learner, text, Some(span))
    }

    fn coach(id: &str, text: &str, span: (u64, u64)) -> SavedTurn {
        turn(id, Speaker::Coach, text, Some(span))
    }

    const NONE: Padding = Padding {
        prefix_ms: 0,
        silence_ms: 0,
    };

    fn measured(turns: &[SavedTurn]) -> SpeechMetrics {
        measure(turns, Padding::REALTIME, &Context::default())
    }

    #[test]
    fn no_turns_measure_nothing() {
        let m = measured(&[]);
        assert_eq!(m.learner_words, 0);
        assert_eq!(m.learner_turns, 0);
        assert_eq!(m.pace_wpm, None);
        assert_eq!(m.learner_share, None);
        assert_eq!(m.fillers.per_100_words, None);
        assert_eq!(m.mattr, None);
        assert_eq!(m.answer_gaps, None);
        assert!(m.longest_turn.is_none());
    }

    #[test]
    fn padding_comes_off_both_ends_of_a_learner_turn() {
        let t = learner("a", "hello there", (1_000, 3_000));
        assert_eq!(Padding::REALTIME.speech(&t), Some((1_300, 2_500)));
        // Shorter than its padding: nothing is left to time.
        let t = learner("b", "yes", (1_000, 1_700));
        assert_eq!(Padding::REALTIME.speech(&t), None);
        let t = turn("c", Speaker::Learner, "untimed", None);
        assert_eq!(Padding::REALTIME.speech(&t), None);
    }

    #[test]
    fn pace_is_words_over_corrected_speaking_time() {
        // 10 words in 4 s of speech (4.8 s with padding): 150 words a minute.
        let turns = [learner(
            "a",
            "I would like a small cup of coffee to go",
            (2_000, 6_800),
        )];
        let m = measured(&turns);
        assert_eq!(m.learner_words, 10);
        assert_eq!(m.learner_speaking_ms, 4_000);
        assert_eq!(m.pace_wpm, Some(150.0));
        assert_eq!(m.turns[0].wpm, Some(150.0));
        assert_eq!(m.longest_turn.as_ref().unwrap().item_id, "a");
    }

    #[test]
    fn a_one_word_turn_counts_its_word_but_gives_no_pace() {
        let turns = [learner("a", "Yes.", (0, 1_500))];
        let m = measured(&turns);
        assert_eq!(m.learner_words, 1);
        assert_eq!(m.learner_turns, 1);
        assert_eq!(m.turns[0].wpm, None);
        assert_eq!(m.pace_wpm, None);
    }

    #[test]
    fn session_pace_weighs_turns_by_their_length() {
        // 6 words in 2 s and 12 words in 6 s: 18 words in 8 s = 135 wpm (not the mean of 180 and
        // 120).
        let turns = [
            learner("a", "one two three four five six", (0, 2_000)),
            learner(
                "b",
                "one two three four five six seven eight nine ten eleven twelve",
                (10_000, 16_000),
            ),
        ];
        let m = measure(&turns, NONE, &Context::default());
        assert_eq!(m.turns[0].wpm, Some(180.0));
        assert_eq!(m.turns[1].wpm, Some(120.0));
        assert_eq!(m.pace_wpm, Some(135.0));
        assert_eq!(m.longest_turn.unwrap().item_id, "b");
    }

    #[test]
    fn speaking_share_and_answer_gaps_come_from_the_turn_times() {
        let turns = [
            coach("c1", "What would you like?", (0, 3_000)),
            // Speech from 3_800 to 5_500: answered 800 ms after the coach stopped.
            learner("l1", "A coffee, please.", (3_500, 6_000)),
            coach("c2", "Small or large?", (6_500, 8_500)),
            // Speech from 10_800: a 2.3 s gap.
            learner("l2", "Large.", (10_500, 12_000)),
        ];
        let m = measured(&turns);
        assert_eq!(m.learner_speaking_ms, 1_700 + 700);
        assert_eq!(m.coach_speaking_ms, 5_000);
        let share = m.learner_share.unwrap();
        assert!((share - 2_400.0 / 7_400.0).abs() < 1e-9, "{share}");
        let gaps = m.answer_gaps.unwrap();
        assert_eq!(gaps.count, 2);
        assert_eq!(gaps.median_ms, 800);
        assert_eq!(gaps.longest_ms, 2_300);
    }

    #[test]
    fn a_learner_who_talks_over_the_coach_answered_at_once() {
        let turns = [
            coach("c1", "Tell me about", (0, 3_000)),
            learner("l1", "Sorry, I mean the station", (2_000, 5_000)),
        ];
        assert_eq!(measured(&turns).answer_gaps.unwrap().median_ms, 0);
    }

    #[test]
    fn untranscribed_and_coach_turns_have_no_words() {
        let mut failed = learner("a", "", (0, 3_000));
        failed.state = TurnState::TranscriptionFailed;
        let turns = [
            failed,
            coach("c", "Could you say that again?", (3_000, 5_000)),
        ];
        let m = measured(&turns);
        assert_eq!(m.learner_turns, 1);
        assert_eq!(m.learner_words, 0);
        // They spoke, though.
        assert_eq!(m.learner_speaking_ms, 2_200);
    }

    #[test]
    fn fillers_are_counted_per_hundred_words_with_the_top_ones() {
        // 20 words, 4 fillers (um x2, uh, you know).
        let text = "Um, I think the, um, station is uh near the park, you know, \
                    next to the big old bank here";
        let turns = [learner("a", text, (0, 9_000))];
        let m = measured(&turns);
        assert_eq!(m.learner_words, 20);
        assert_eq!(m.fillers.count, 4);
        assert_eq!(m.fillers.per_100_words, Some(20.0));
        assert_eq!(
            m.fillers.top,
            vec![
                ("um".to_owned(), 2),
                ("uh".to_owned(), 1),
                ("you know".to_owned(), 1)
            ]
        );
    }

    #[test]
    fn a_filler_only_turn_is_all_fillers() {
        let turns = [learner("a", "Um... uh, hmm.", (0, 2_000))];
        let m = measured(&turns);
        assert_eq!(m.learner_words, 3);
        assert_eq!(m.fillers.count, 3);
        assert_eq!(m.fillers.per_100_words, Some(100.0));
        // Fillers are not vocabulary.
        assert_eq!(m.distinct_words, 0);
    }

    #[test]
    fn like_you_know_and_i_mean_count_only_as_fillers() {
        let count = |text: &str| fillers_in(&tokens(text));
        assert_eq!(count("I like coffee."), Vec::<&str>::new());
        assert_eq!(
            count("I'd like a cup of tea, like, a big one."),
            vec!["like"]
        );
        assert_eq!(count("It was, like, amazing."), vec!["like"]);
        assert_eq!(count("Things like apples, and pears."), Vec::<&str>::new());
        assert_eq!(
            count("Do you know where the station is?"),
            Vec::<&str>::new()
        );
        assert_eq!(count("You know what I think?"), Vec::<&str>::new());
        assert_eq!(count("It's, you know, far."), vec!["you know"]);
        assert_eq!(count("I mean, it's fine."), vec!["I mean"]);
        assert_eq!(count("I mean it."), Vec::<&str>::new());
        assert_eq!(count("It's a kind of bread."), Vec::<&str>::new());
        assert_eq!(count("It's kind of far."), vec!["kind of"]);
        assert_eq!(
            count("Basically I actually agree."),
            vec!["basically", "actually"]
        );
    }

    #[test]
    fn immediate_repetitions_of_words_and_phrases_are_found() {
        let found = |text: &str| repetitions_in(&tokens(text));
        assert_eq!(found("I I went there."), vec!["I I"]);
        assert_eq!(found("I went I went to the shop."), vec!["I went I went"]);
        assert_eq!(
            found("We can we can go by by bus."),
            vec!["We can we can", "by by"]
        );
        // Ordinary doubles and fillers are not repetitions.
        assert_eq!(
            found("He had had enough, very very much. Um um."),
            Vec::<String>::new()
        );
        assert_eq!(found("the theatre"), Vec::<String>::new());
        let m = measured(&[learner("a", "The the bus is late.", (0, 3_000))]);
        assert_eq!(m.repetitions.count, 1);
        assert_eq!(m.repetitions.examples, vec!["The the"]);
    }

    #[test]
    fn mattr_averages_windows_and_needs_one_full_window() {
        let words = |list: &[&str]| list.iter().map(|w| (*w).to_owned()).collect::<Vec<_>>();
        // Windows of 3 over a b a c: {a,b,a} = 2/3, {b,a,c} = 3/3: mean 5/6.
        let value = mattr(&words(&["a", "b", "a", "c"]), 3).unwrap();
        assert!((value - 5.0 / 6.0).abs() < 1e-12, "{value}");
        assert_eq!(mattr(&words(&["a", "b"]), 3), None);
        // One window: plain TTR.
        assert_eq!(mattr(&words(&["a", "a", "b"]), 3), Some(2.0 / 3.0));
        // 50 different words then the same 50 again: every window holds 50 different words.
        let many: Vec<String> = (0..100).map(|n| format!("w{}", n % 50)).collect();
        assert_eq!(mattr(&many, 50), Some(1.0));
        // The same word over and over.
        let same: Vec<String> = (0..60).map(|_| "go".to_owned()).collect();
        assert_eq!(mattr(&same, 50), Some(1.0 / 50.0));
    }

    #[test]
    fn mattr_is_measured_once_a_session_has_fifty_words() {
        let text = (0..49)
            .map(|n| format!("w{n}"))
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(measured(&[learner("a", &text, (0, 20_000))]).mattr, None);
        let text = format!("{text} w0");
        let m = measured(&[learner("a", &text, (0, 20_000))]);
        assert_eq!(m.mattr, Some(0.98));
        assert_eq!(m.distinct_words, 49);
    }

    #[test]
    fn topic_words_and_new_words_are_listed() {
        let vocabulary = vec![
            "small".to_owned(),
            "the bill".to_owned(),
            "large".to_owned(),
        ];
        let earlier: HashSet<String> = ["coffee".to_owned()].into();
        let turns = [learner(
            "a",
            "A small coffee and a croissant, and the bill please.",
            (0, 5_000),
        )];
        let first = measure(
            &turns,
            Padding::REALTIME,
            &Context {
                vocabulary: &vocabulary,
                earlier_words: None,
                pauses: None,
            },
        );
        assert_eq!(first.topic_words_used, vec!["small", "the bill"]);
        assert_eq!(first.topic_words_unused, vec!["large"]);
        assert_eq!(first.new_words, None);
        let later = measure(
            &turns,
            Padding::REALTIME,
            &Context {
                vocabulary: &vocabulary,
                earlier_words: Some(&earlier),
                pauses: None,
            },
        );
        assert_eq!(
            later.new_words,
            Some(vec![
                "small".to_owned(),
                "croissant".to_owned(),
                "bill".to_owned(),
                "please".to_owned()
            ])
        );
        assert_eq!(later.new_word_count, 4);
    }

    #[test]
    fn content_words_leave_out_function_words_numbers_and_fillers() {
        assert_eq!(
            content_words(["Um, I'd like the 2 croissants and the croissants, basically."]),
            vec!["croissants"]
        );
    }

    #[test]
    fn pauses_are_silences_of_a_second_or_more_between_speech() {
        // 20 ms frames: noise at -70 dB, speech at -20 dB.
        let mut levels = vec![-70.0f32; 50]; // 1 s of silence before the turn
        levels.extend([-20.0; 25]); // speech 0.5 s
        levels.extend([-70.0; 60]); // a 1.2 s pause
        levels.extend([-20.0; 25]); // speech
        levels.extend([-68.0; 30]); // 0.6 s: too short to count
        levels.extend([-22.0; 25]); // speech
        levels.extend([-70.0; 40]); // trailing silence inside the span: not a pause
        let span = (1_000, levels.len() as u64 * 20);
        let pauses = pauses_in(&levels, 20, &[span]);
        assert_eq!(pauses.count, 1);
        assert_eq!(pauses.longest_ms, 1_200);
        assert_eq!(pauses.measured_ms, span.1 - span.0);
        // A span with no speech in it (noise only) finds nothing.
        let quiet = pauses_in(&vec![-70.0; 200], 20, &[(0, 4_000)]);
        assert_eq!(quiet.count, 0);
        // Nothing to measure.
        assert_eq!(pauses_in(&[], 20, &[(0, 1_000)]).measured_ms, 0);
    }
}
