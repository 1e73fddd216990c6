//! The model's answer as the schema has it, and the check that keeps only what the learner
//! really said.

use serde::Deserialize;

use super::{LearnerLine, Line};
use crate::domain::feedback::{
    CoachReview, Correction, LevelEstimate, MAX_CORRECTIONS, MAX_REWRITES, MIN_WORDS_FOR_LEVEL,
    Rewrite,
};

/// The model's answer, as the schema has it.
#[derive(Debug, Deserialize)]
pub(super) struct ModelAnswer {
    corrections: Vec<ModelCorrection>,
    rewrites: Vec<ModelRewrite>,
    strengths: Vec<String>,
    focus: String,
    cefr: ModelLevel,
}

#[derive(Debug, Deserialize)]
struct ModelCorrection {
    turn: u32,
    original: String,
    corrected: String,
    kind: String,
    explanation: String,
}

#[derive(Debug, Deserialize)]
struct ModelRewrite {
    turn: u32,
    original: String,
    better: String,
    why: String,
}

#[derive(Debug, Deserialize)]
struct ModelLevel {
    level: Option<String>,
    reason: String,
}

const LEVELS: [&str; 6] = ["A1", "A2", "B1", "B2", "C1", "C2"];

/// Keeps what the learner really said: a correction or rewrite whose `original` is not in the
/// learner turn it names is dropped (and counted). No level under `MIN_WORDS_FOR_LEVEL` words.
pub(super) fn checked(answer: ModelAnswer, lines: &[Line], model: &str) -> CoachReview {
    let learner: Vec<&LearnerLine> = learner_lines(lines).collect();
    let turn = |n: u32| {
        let index = usize::try_from(n).ok()?.checked_sub(1)?;
        learner.get(index).copied()
    };
    let mut dropped = 0u32;
    let mut corrections = Vec::new();
    for c in answer.corrections {
        match turn(c.turn).filter(|line| quotes(&line.text, &c.original)) {
            Some(line) if corrections.len() < MAX_CORRECTIONS => corrections.push(Correction {
                item_id: line.item_id.clone(),
                original: c.original.trim().to_owned(),
                corrected: c.corrected.trim().to_owned(),
                kind: c.kind,
                explanation: c.explanation.trim().to_owned(),
            }),
            Some(_) => {}
            None => dropped += 1,
        }
    }
    let mut rewrites = Vec::new();
    for r in answer.rewrites {
        match turn(r.turn).filter(|line| quotes(&line.text, &r.original)) {
            Some(line) if rewrites.len() < MAX_REWRITES => rewrites.push(Rewrite {
                item_id: line.item_id.clone(),
                original: r.original.trim().to_owned(),
                better: r.better.trim().to_owned(),
                why: r.why.trim().to_owned(),
            }),
            Some(_) => {}
            None => dropped += 1,
        }
    }
    let words: u32 = learner
        .iter()
        .map(|line| crate::domain::fluency::word_count(&line.text))
        .sum();
    let level = match answer.cefr.level {
        Some(level) if words >= MIN_WORDS_FOR_LEVEL && LEVELS.contains(&level.as_str()) => {
            LevelEstimate::Estimated {
                level,
                reason: answer.cefr.reason.trim().to_owned(),
            }
        }
        _ => LevelEstimate::NotEnoughSpeech { words },
    };
    if dropped > 0 {
        tracing::info!(dropped, "responses: quotes not in the named turn dropped");
    }
    CoachReview {
        model: model.to_owned(),
        corrections,
        rewrites,
        strengths: answer
            .strengths
            .into_iter()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .take(2)
            .collect(),
        focus: answer.focus.trim().to_owned(),
        level,
        dropped,
    }
}

fn learner_lines(lines: &[Line]) -> impl Iterator<Item = &LearnerLine> {
    lines.iter().filter_map(|line| match line {
        Line::Learner(learner) => Some(learner),
        Line::Coach(_) => None,
    })
}

/// Lowercase words separated by single spaces: what two quotes are compared as (the model may
/// change punctuation, case or curly quotes, never words).
fn comparable(text: &str) -> String {
    text.replace(['’', '‘'], "'")
        .to_lowercase()
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether `quote` is words the learner said in `turn` (whole words, in order).
pub fn quotes(turn: &str, quote: &str) -> bool {
    let quote = comparable(quote);
    !quote.is_empty() && format!(" {} ", comparable(turn)).contains(&format!(" {quote} "))
}
