//! What the model is asked: its instructions, the conversation as it reads it, and the schema
//! its answer must follow.

use serde_json::json;

use super::Line;
use crate::domain::{
    Topic,
    feedback::{MAX_CORRECTIONS, MAX_REWRITES},
};

/// The most of the conversation sent to the model (characters of turn text).
const MAX_INPUT_CHARS: usize = 60_000;

pub(super) const INSTRUCTIONS: &str = "You are an experienced, encouraging English speaking coach. You review \
the learner's side of a spoken practice conversation with an AI coach. The learner's turns were \
transcribed by speech recognition and are numbered [1], [2], ...; the coach's turns are given only \
for context.\n\
Rules:\n\
- Corrections: at most five, the most useful first. Each quotes the learner's exact words from the \
turn it names (copy them; never paraphrase), gives the corrected sentence, the kind of error, and \
one short explanation in simple English. Only real language errors: ignore punctuation, \
capitalisation and spelling, which come from the transcription.\n\
- Rewrites: one to three learner sentences said in a more natural or more precise way (\"try \
saying it this way\"), each quoting the learner's exact words and saying why in one line.\n\
- Strengths: exactly two, specific to what the learner said.\n\
- Focus: one thing to practise next, in one or two sentences.\n\
- CEFR: estimate the learner's speaking level (A1 to C2) with a one-line reason only when the \
learner said at least 75 words; otherwise set level to null and say there is not enough speech.\n\
- Speak to the learner as \"you\". Be kind and concrete.";

/// The conversation as the model reads it.
pub(super) fn conversation(topic: &Topic, lines: &[Line]) -> String {
    let mut text = format!(
        "Topic: {} (level {}). Goal: {}\n\nConversation:\n",
        topic.title,
        topic.level.code(),
        topic.goal
    );
    let budget = text.len() + MAX_INPUT_CHARS;
    let mut n = 0;
    for line in lines {
        let entry = match line {
            Line::Coach(said) => format!("Coach: {}\n", one_line(said)),
            Line::Learner(learner) => {
                n += 1;
                format!("[{n}] {}\n", one_line(&learner.text))
            }
        };
        if text.len() + entry.len() > budget {
            break;
        }
        text.push_str(&entry);
    }
    text
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The JSON schema of the answer (strict: every property required, no others).
pub fn schema() -> serde_json::Value {
    let quote_item = |fields: serde_json::Value, required: &[&str]| {
        json!({
            "type": "object",
            "additionalProperties": false,
            "required": required,
            "properties": fields,
        })
    };
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["corrections", "rewrites", "strengths", "focus", "cefr"],
        "properties": {
            "corrections": {
                "type": "array",
                "maxItems": MAX_CORRECTIONS,
                "items": quote_item(json!({
                    "turn": {"type": "integer", "description": "The learner turn's number."},
                    "original": {"type": "string", "description": "The learner's exact words."},
                    "corrected": {"type": "string"},
                    "kind": {"type": "string", "enum": [
                        "grammar", "vocabulary", "word_order", "tense", "agreement",
                        "preposition", "article", "other"
                    ]},
                    "explanation": {"type": "string"}
                }), &["turn", "original", "corrected", "kind", "explanation"]),
            },
            "rewrites": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_REWRITES,
                "items": quote_item(json!({
                    "turn": {"type": "integer"},
                    "original": {"type": "string"},
                    "better": {"type": "string"},
                    "why": {"type": "string"}
                }), &["turn", "original", "better", "why"]),
            },
            "strengths": {
                "type": "array",
                "minItems": 2,
                "maxItems": 2,
                "items": {"type": "string"}
            },
            "focus": {"type": "string"},
            "cefr": {
                "type": "object",
                "additionalProperties": false,
                "required": ["level", "reason"],
                "properties": {
                    "level": {
                        "type": ["string", "null"],
                        "enum": ["A1", "A2", "B1", "B2", "C1", "C2", null]
                    },
                    "reason": {"type": "string"}
                }
            }
        }
    })
}
