//! What a language model adds to the measurements: corrections quoting the learner, better ways
//! to say things, strengths, one focus and a CEFR estimate. Asked of OpenAI's Responses API with
//! a strict JSON schema, so the answer has exactly the fields below; against the local simulator
//! the same client code is used, only the base URL differs. Every quote the model makes is
//! checked in code against the learner turn it names, and dropped when it is not there.

use std::time::Duration;

use realtime_protocol::{
    http::ApiError,
    responses::{Answer, Reasoning, ResponseObject, ResponseRequest, TextConfig, TextFormat},
};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;

use crate::domain::{
    Topic,
    feedback::{
        CoachReview, Correction, LevelEstimate, MAX_CORRECTIONS, MAX_REWRITES, MIN_WORDS_FOR_LEVEL,
        Rewrite,
    },
};

/// One learner turn as the model sees it: numbered from 1 in spoken order.
#[derive(Debug, Clone)]
pub struct LearnerLine {
    pub item_id: String,
    pub text: String,
}

/// A line of the conversation, for context.
#[derive(Debug, Clone)]
pub enum Line {
    Coach(String),
    Learner(LearnerLine),
}

/// Why no review came back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviewError {
    /// Worth another attempt later: rate limited, the API failing or out of reach, a timeout,
    /// or an answer that does not follow the schema.
    #[error("{0}")]
    Retry(String),
    /// Another attempt would be refused the same way: a configuration problem (key, model) or no
    /// quota left.
    #[error("{0}")]
    Fatal(String),
    /// The model declined to review the conversation.
    #[error("{0}")]
    Refused(String),
}

/// The most of the conversation sent to the model (characters of turn text).
const MAX_INPUT_CHARS: usize = 60_000;

/// Output tokens allowed, reasoning included.
const MAX_OUTPUT_TOKENS: u32 = 6_000;

pub struct Reviewer {
    http: reqwest::Client,
    base_url: String,
    api_key: SecretString,
    model: String,
}

impl Reviewer {
    pub fn new(
        base_url: &str,
        api_key: SecretString,
        model: &str,
        timeout: Duration,
    ) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(timeout)
            .build()?;
        Ok(Reviewer {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
            api_key,
            model: model.to_owned(),
        })
    }

    pub fn model(&self) -> &str {
        &self.model
    }

    /// The request for a conversation about `topic`.
    pub fn request(&self, topic: &Topic, lines: &[Line]) -> ResponseRequest {
        // Reasoning models think before answering; a little is enough for this.
        let reasoning =
            (self.model.starts_with("gpt-5") || self.model.starts_with('o')).then(|| Reasoning {
                effort: "low".to_owned(),
            });
        ResponseRequest {
            model: self.model.clone(),
            instructions: Some(INSTRUCTIONS.to_owned()),
            input: serde_json::Value::String(conversation(topic, lines)),
            text: Some(TextConfig {
                format: TextFormat {
                    kind: "json_schema".to_owned(),
                    name: Some("speaking_feedback".to_owned()),
                    schema: Some(schema()),
                    strict: Some(true),
                },
            }),
            store: Some(false),
            max_output_tokens: Some(MAX_OUTPUT_TOKENS),
            reasoning,
        }
    }

    /// Asks the model once. The caller retries (the feedback job, with backoff).
    #[tracing::instrument(skip_all, fields(model = %self.model))]
    pub async fn review(&self, topic: &Topic, lines: &[Line]) -> Result<CoachReview, ReviewError> {
        let request = self.request(topic, lines);
        let url = format!("{}/responses", self.base_url);
        let sent = self
            .http
            .post(&url)
            .bearer_auth(self.api_key.expose_secret())
            .json(&request)
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(error) if error.is_timeout() => {
                tracing::warn!("responses: timed out");
                return Err(ReviewError::Retry(
                    "The coach took too long to review this conversation.".into(),
                ));
            }
            Err(error) => {
                // `without_url`: nothing of the request beyond what is needed reaches the log.
                tracing::warn!(error = %error.without_url(), "responses: not reached");
                return Err(ReviewError::Retry(
                    "The coach's reviewer could not be reached.".into(),
                ));
            }
        };
        let status = response.status();
        if !status.is_success() {
            let error = response.json::<ApiError>().await.ok();
            let code = error.as_ref().and_then(|e| e.error.code.clone());
            tracing::warn!(status = status.as_u16(), code = ?code, "responses: refused");
            return Err(classify(status.as_u16(), code.as_deref()));
        }
        let body = match response.json::<ResponseObject>().await {
            Ok(body) => body,
            Err(error) => {
                tracing::warn!(error = %error.without_url(), "responses: unreadable answer");
                return Err(ReviewError::Retry(
                    "The coach's review came back unreadable.".into(),
                ));
            }
        };
        read_answer(&body, lines, &self.model)
    }
}

/// What an HTTP error from the API means for another attempt.
fn classify(status: u16, code: Option<&str>) -> ReviewError {
    match (status, code) {
        (429, Some("insufficient_quota")) => ReviewError::Fatal(
            "Feedback is unavailable: the service has no quota left. Try again later.".into(),
        ),
        (429, _) => ReviewError::Retry("The coach's reviewer was busy.".into()),
        (500..=599, _) => ReviewError::Retry("The coach's reviewer had a problem.".into()),
        _ => ReviewError::Fatal(
            "Feedback is not available on this server right now (the reviewer refused the \
             request)."
                .into(),
        ),
    }
}

/// The review in a response, with invented quotes dropped.
fn read_answer(
    body: &ResponseObject,
    lines: &[Line],
    model: &str,
) -> Result<CoachReview, ReviewError> {
    if body.status == "failed" {
        let code = body.error.as_ref().map(|e| e.code.as_str());
        tracing::warn!(?code, "responses: failed");
        return Err(match code {
            Some("insufficient_quota") => classify(429, code),
            _ => ReviewError::Retry("The coach's reviewer had a problem.".into()),
        });
    }
    let text = match body.answer() {
        Answer::Refusal(_) => {
            return Err(ReviewError::Refused(
                "The coach declined to review this conversation.".into(),
            ));
        }
        Answer::Nothing => {
            return Err(ReviewError::Retry(
                "The coach's review came back empty.".into(),
            ));
        }
        Answer::Text(text) => text,
    };
    if body.status == "incomplete" {
        let reason = body.incomplete_details.as_ref().map(|d| d.reason.as_str());
        tracing::warn!(?reason, "responses: incomplete");
        return Err(ReviewError::Retry(
            "The coach's review was cut short.".into(),
        ));
    }
    let answer: ModelAnswer = serde_json::from_str(text).map_err(|error| {
        tracing::warn!(%error, "responses: answer does not follow the schema");
        ReviewError::Retry("The coach's review came back unreadable.".into())
    })?;
    Ok(checked(answer, lines, model))
}

/// The model's answer, as the schema has it.
#[derive(Debug, Deserialize)]
struct ModelAnswer {
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
fn checked(answer: ModelAnswer, lines: &[Line], model: &str) -> CoachReview {
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

const INSTRUCTIONS: &str = "You are an experienced, encouraging English speaking coach. You review \
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
fn conversation(topic: &Topic, lines: &[Line]) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn lines() -> Vec<Line> {
        vec![
            Line::Coach("Do you like coffee?".into()),
            Line::Learner(LearnerLine {
                item_id: "item_a".into(),
                text: "Yes, I am agree, coffee is more better than tea.".into(),
            }),
            Line::Learner(LearnerLine {
                item_id: "item_b".into(),
                text: "She don't like it.".into(),
            }),
        ]
    }

    fn answer(json: serde_json::Value) -> ModelAnswer {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn quotes_must_be_the_learners_own_words_in_order() {
        let turn = "Yes, I am agree, coffee is more better than tea.";
        assert!(quotes(turn, "I am agree"));
        assert!(quotes(turn, "i am AGREE,"));
        assert!(quotes(turn, "coffee is more better"));
        assert!(!quotes(turn, "I agree"));
        assert!(!quotes(turn, "am agree coffee tea"));
        assert!(!quotes(turn, "more bet"));
        assert!(!quotes(turn, "  "));
        assert!(quotes("I don’t know", "I don't know"));
    }

    #[test]
    fn invented_quotes_are_dropped_and_real_ones_kept_with_their_turn() {
        let review = checked(
            answer(json!({
                "corrections": [
                    {"turn": 1, "original": "I am agree", "corrected": "I agree", "kind": "grammar", "explanation": "x"},
                    // In turn 2, not turn 1.
                    {"turn": 1, "original": "She don't", "corrected": "She doesn't", "kind": "agreement", "explanation": "x"},
                    // Never said.
                    {"turn": 2, "original": "He go there", "corrected": "He goes there", "kind": "agreement", "explanation": "x"},
                    // No such turn.
                    {"turn": 9, "original": "tea", "corrected": "tea", "kind": "other", "explanation": "x"},
                    {"turn": 2, "original": "She don't like it", "corrected": "She doesn't like it.", "kind": "agreement", "explanation": "x"}
                ],
                "rewrites": [{"turn": 1, "original": "coffee is more better than tea", "better": "I prefer coffee to tea.", "why": "x"}],
                "strengths": ["a", "b"],
                "focus": "f",
                "cefr": {"level": "B1", "reason": "r"}
            })),
            &lines(),
            "m",
        );
        assert_eq!(review.corrections.len(), 2);
        assert_eq!(review.corrections[0].item_id, "item_a");
        assert_eq!(review.corrections[1].item_id, "item_b");
        assert_eq!(review.rewrites.len(), 1);
        assert_eq!(review.dropped, 3);
        // 14 learner words: too few for a level.
        assert_eq!(review.level, LevelEstimate::NotEnoughSpeech { words: 14 });
    }

    #[test]
    fn a_level_needs_enough_words_and_a_real_level() {
        let long = "word ".repeat(80);
        let lines = vec![Line::Learner(LearnerLine {
            item_id: "i".into(),
            text: long,
        })];
        let with = |level: serde_json::Value| {
            checked(
                answer(
                    json!({"corrections": [], "rewrites": [], "strengths": [], "focus": "",
                              "cefr": {"level": level, "reason": " Clear answers. "}}),
                ),
                &lines,
                "m",
            )
            .level
        };
        assert_eq!(
            with(json!("B2")),
            LevelEstimate::Estimated {
                level: "B2".into(),
                reason: "Clear answers.".into()
            }
        );
        assert_eq!(
            with(json!("Z9")),
            LevelEstimate::NotEnoughSpeech { words: 80 }
        );
        assert_eq!(
            with(json!(null)),
            LevelEstimate::NotEnoughSpeech { words: 80 }
        );
    }

    #[test]
    fn http_errors_are_classified_for_retrying() {
        assert!(matches!(
            classify(429, Some("rate_limit_exceeded")),
            ReviewError::Retry(_)
        ));
        assert!(matches!(
            classify(429, Some("insufficient_quota")),
            ReviewError::Fatal(_)
        ));
        assert!(matches!(classify(500, None), ReviewError::Retry(_)));
        assert!(matches!(classify(503, None), ReviewError::Retry(_)));
        assert!(matches!(
            classify(401, Some("invalid_api_key")),
            ReviewError::Fatal(_)
        ));
        assert!(matches!(
            classify(400, Some("unknown_parameter")),
            ReviewError::Fatal(_)
        ));
    }

    #[test]
    fn the_conversation_numbers_learner_turns_and_keeps_the_coach_for_context() {
        let topic = crate::domain::Topic {
            slug: crate::domain::TopicSlug::parse("t").unwrap(),
            title: "Ordering at a café".into(),
            summary: "s".into(),
            level: crate::domain::CefrLevel::A2,
            goal: "Order a drink.".into(),
            vocabulary: vec![],
            suggested_minutes: 2,
        };
        let text = conversation(&topic, &lines());
        assert!(text.starts_with("Topic: Ordering at a café (level A2). Goal: Order a drink."));
        assert!(text.contains(
            "Coach: Do you like coffee?\n[1] Yes, I am agree, coffee is more better than tea.\n[2] She don't like it.\n"
        ), "{text}");
    }

    #[test]
    fn the_schema_is_strict() {
        fn strict(schema: &serde_json::Value) {
            if schema["type"] == "object" {
                assert_eq!(schema["additionalProperties"], false);
                let properties: Vec<&String> =
                    schema["properties"].as_object().unwrap().keys().collect();
                let required: Vec<&str> = schema["required"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().unwrap())
                    .collect();
                assert_eq!(properties.len(), required.len());
                for (_, property) in schema["properties"].as_object().unwrap() {
                    strict(property);
                }
            }
            if schema["type"] == "array" {
                strict(&schema["items"]);
            }
        }
        strict(&schema());
    }
}
