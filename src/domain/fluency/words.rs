//! The words of a learner turn: the fillers and repetitions in it, and the measures of
//! vocabulary (MATTR, content words) over many turns.

use std::collections::{HashMap, HashSet};

use super::{Token, tokens};

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

pub(super) fn is_vocal_filler(word: &str) -> bool {
    VOCAL_FILLERS.contains(&word)
}

/// The fillers in one turn, each named as it is counted ("um", "like", "you know").
pub(super) fn fillers_in(tokens: &[Token]) -> Vec<&'static str> {
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
pub(super) fn repetitions_in(tokens: &[Token]) -> Vec<String> {
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
