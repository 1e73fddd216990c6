//! The reviewer's checks and requests: quotes, levels, errors, the conversation and the schema.

use serde_json::json;

use super::*;
use crate::domain::feedback::LevelEstimate;

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
