//! The transcript built from Realtime events: spoken order, growing and final text, interrupted
//! replies, failed transcriptions and replays after a lost call.

use super::*;

/// Read as the browser reads it.
fn event(json: serde_json::Value) -> ServerEvent {
    ServerEvent::from_value(&json).unwrap()
}

fn apply_all(events: &[serde_json::Value]) -> Transcript {
    let mut transcript = Transcript::default();
    for json in events {
        transcript.apply(&event(json.clone()));
    }
    transcript
}

fn summary(transcript: &Transcript) -> Vec<(Speaker, &str, TurnState)> {
    transcript
        .turns()
        .iter()
        .map(|t| (t.speaker, t.text.as_str(), t.state))
        .collect()
}

use serde_json::json;

fn coach_reply(item: &str, previous: Option<&str>, words: &[&str]) -> Vec<serde_json::Value> {
    let mut events = vec![
        json!({"type": "conversation.item.added", "previous_item_id": previous,
        "item": {"id": item, "type": "message", "role": "assistant", "content": []}}),
    ];
    for (i, word) in words.iter().enumerate() {
        let delta = if i == 0 {
            word.to_string()
        } else {
            format!(" {word}")
        };
        events.push(json!({"type": "response.output_audio_transcript.delta", "response_id": format!("r_{item}"), "item_id": item, "delta": delta}));
    }
    events
}

#[test]
fn a_late_learner_transcript_stays_where_the_learner_spoke() {
    let mut events = coach_reply("c1", None, &["Hello!", "Ready?"]);
    events.push(json!({"type": "response.output_audio_transcript.done", "response_id": "r_c1", "item_id": "c1", "transcript": "Hello! Ready?"}));
    events.push(json!({"type": "input_audio_buffer.speech_started", "item_id": "u1", "audio_start_ms": 4000}));
    events.push(
        json!({"type": "input_audio_buffer.speech_stopped", "item_id": "u1", "audio_end_ms": 5200}),
    );
    events.push(json!({"type": "conversation.item.added", "previous_item_id": "c1",
        "item": {"id": "u1", "type": "message", "role": "user", "content": [{"type": "input_audio"}]}}));
    // The coach answers before the learner's transcription arrives.
    events.extend(coach_reply("c2", Some("u1"), &["Great."]));
    events.push(json!({"type": "response.output_audio_transcript.done", "response_id": "r_c2", "item_id": "c2", "transcript": "Great."}));
    events.push(json!({"type": "conversation.item.input_audio_transcription.completed", "item_id": "u1", "transcript": " Yes, I am. "}));
    let mut transcript = apply_all(&events);
    assert_eq!(transcript.finish_reply("r_c1"), [0]);
    assert_eq!(transcript.finish_reply("r_c2"), [2]);
    assert_eq!(
        summary(&transcript),
        [
            (Speaker::Coach, "Hello! Ready?", TurnState::Final),
            (Speaker::Learner, "Yes, I am.", TurnState::Final),
            (Speaker::Coach, "Great.", TurnState::Final),
        ]
    );
    let learner = &transcript.turns()[1];
    assert_eq!(
        (learner.audio_start_ms, learner.audio_end_ms),
        (Some(4000), Some(5200))
    );
}

#[test]
fn partial_text_grows_and_a_final_text_is_never_overwritten() {
    let mut transcript = Transcript::default();
    let delta = |d: &str| {
        event(
            json!({"type": "conversation.item.input_audio_transcription.delta", "item_id": "u1", "delta": d}),
        )
    };
    transcript.apply(&delta("I would"));
    transcript.apply(&delta(" like"));
    assert_eq!(
        summary(&transcript),
        [(Speaker::Learner, "I would like", TurnState::InProgress)]
    );
    let done = event(
        json!({"type": "conversation.item.input_audio_transcription.completed", "item_id": "u1", "transcript": "I would like tea."}),
    );
    assert_eq!(transcript.apply(&done), Some(Change::Updated(0)));
    // Late or repeated events change nothing.
    assert_eq!(transcript.apply(&delta(" coffee")), None);
    assert_eq!(transcript.apply(&done), None);
    let failed = event(
        json!({"type": "conversation.item.input_audio_transcription.failed", "item_id": "u1", "error": {"type": "x", "message": "y"}}),
    );
    assert_eq!(transcript.apply(&failed), None);
    assert_eq!(
        summary(&transcript),
        [(Speaker::Learner, "I would like tea.", TurnState::Final)]
    );
}

#[test]
fn the_whole_text_arriving_does_not_settle_a_reply_its_audio_does() {
    // OpenAI sends a reply's whole text well before its audio has played.
    let mut events = coach_reply("c1", None, &["Let", "me", "explain"]);
    events.push(json!({"type": "response.output_audio_transcript.done", "response_id": "r_c1", "item_id": "c1", "transcript": "Let me explain how this works."}));
    let mut transcript = apply_all(&events);
    assert_eq!(
        summary(&transcript),
        [(
            Speaker::Coach,
            "Let me explain how this works.",
            TurnState::InProgress
        )]
    );
    assert_eq!(transcript.response_of("c1"), Some("r_c1"));
    assert!(transcript.finish_reply("r_other").is_empty());
    assert_eq!(transcript.finish_reply("r_c1"), [0]);
    assert_eq!(
        summary(&transcript),
        [(
            Speaker::Coach,
            "Let me explain how this works.",
            TurnState::Final
        )]
    );
    assert!(
        transcript.cut_off_reply("r_c1", 100).is_empty(),
        "settled once"
    );
}

#[test]
fn a_reply_cut_off_keeps_the_words_heard_before_the_cut() {
    let mut events = coach_reply("c1", None, &["Let"]);
    events.push(json!({"type": "response.output_audio_transcript.done", "response_id": "r_c1", "item_id": "c1", "transcript": "Let me explain how this works."}));
    let mut transcript = apply_all(&events);
    // One second at 15 characters a second: "Let me explain " and a word begun.
    assert_eq!(transcript.cut_off_reply("r_c1", 1_000), [0]);
    assert_eq!(
        summary(&transcript),
        [(Speaker::Coach, "Let me explain", TurnState::Interrupted)]
    );
    // The final text coming late changes nothing.
    let late = event(
        json!({"type": "response.output_audio_transcript.done", "response_id": "r_c1", "item_id": "c1", "transcript": "Let me explain how this works."}),
    );
    assert_eq!(transcript.apply(&late), None);
    // An item cut by the server's own measure.
    let mut transcript = apply_all(&coach_reply("c2", None, &["Well,", "maybe", "not"]));
    assert_eq!(transcript.cut_off_item("c2", 400), Some(0));
    assert_eq!(
        summary(&transcript),
        [(Speaker::Coach, "Well,", TurnState::Interrupted)]
    );
    assert_eq!(transcript.cut_off_item("c2", 9_000), None);
}

#[test]
fn what_was_heard_is_whole_words_at_the_coachs_pace() {
    let text = "Hi! I'm your speaking coach.";
    assert_eq!(heard_part(text, 0), "");
    assert_eq!(heard_part(text, 100), "", "a word begun is not heard");
    assert_eq!(heard_part(text, 200), "Hi!");
    assert_eq!(heard_part(text, 500), "Hi! I'm");
    assert_eq!(heard_part(text, 1_600), "Hi! I'm your speaking");
    assert_eq!(heard_part(text, 60_000), text);
    assert_eq!(heard_part(text, u64::MAX), text);
    assert_eq!(heard_part("Ça va très bien", 600), "Ça va");
    assert_eq!(heard_part("Ça va très bien", 700), "Ça va très");
    assert_eq!(heard_part("", 1_000), "");
}

#[test]
fn a_failed_transcription_keeps_the_turn_and_its_timing() {
    let transcript = apply_all(&[
        json!({"type": "input_audio_buffer.speech_started", "item_id": "u1", "audio_start_ms": 100}),
        json!({"type": "input_audio_buffer.speech_stopped", "item_id": "u1", "audio_end_ms": 900}),
        json!({"type": "conversation.item.input_audio_transcription.failed", "item_id": "u1", "error": {"type": "x", "message": "y"}}),
    ]);
    let turn = &transcript.turns()[0];
    assert_eq!(turn.state, TurnState::TranscriptionFailed);
    assert_eq!(
        (turn.audio_start_ms, turn.audio_end_ms),
        (Some(100), Some(900))
    );
}

#[test]
fn replayed_items_are_final_and_chain_by_previous_item() {
    let transcript = apply_all(&[
        json!({"type": "conversation.item.added", "previous_item_id": null,
            "item": {"id": "a", "type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Hi!"}]}}),
        json!({"type": "conversation.item.added", "previous_item_id": "a",
            "item": {"id": "c", "type": "message", "role": "user", "content": [{"type": "input_text", "text": "Third"}]}}),
        json!({"type": "conversation.item.added", "previous_item_id": "a",
            "item": {"id": "b", "type": "message", "role": "user", "content": [{"type": "input_text", "text": "Second"}]}}),
    ]);
    let texts: Vec<&str> = transcript.turns().iter().map(|t| t.text.as_str()).collect();
    assert_eq!(texts, ["Hi!", "Second", "Third"]);
    assert!(
        transcript
            .turns()
            .iter()
            .all(|t| t.state == TurnState::Final)
    );
}

#[test]
fn a_lost_call_settles_open_turns_and_replays_the_rest_under_their_ids() {
    let mut events = coach_reply("c1", None, &["Hello!", "Ready?"]);
    events.push(json!({"type": "response.output_audio_transcript.done", "response_id": "r_c1", "item_id": "c1", "transcript": "Hello! Ready?"}));
    events.push(json!({"type": "conversation.item.input_audio_transcription.completed", "item_id": "u1", "transcript": "Yes."}));
    events.push(json!({"type": "input_audio_buffer.speech_started", "item_id": "u2", "audio_start_ms": 9000}));
    events.extend(coach_reply("c2", Some("u2"), &["Lovely,", "so"]));
    let mut transcript = apply_all(&events);
    transcript.finish_reply("r_c1");
    // The coach's second reply played for a second before the call was lost.
    let played = |item: &str| (item == "c2").then_some(1_000);
    assert_eq!(transcript.settle_open(played), vec![2, 3]);
    assert_eq!(
        summary(&transcript),
        vec![
            (Speaker::Coach, "Hello! Ready?", TurnState::Final),
            (Speaker::Learner, "Yes.", TurnState::Final),
            (Speaker::Learner, "", TurnState::TranscriptionFailed),
            (Speaker::Coach, "Lovely, so", TurnState::Interrupted),
        ]
    );
    assert!(transcript.settle_open(played).is_empty(), "settled once");
    let items = transcript.replay();
    let replay: Vec<(Option<&str>, &str, Option<&str>)> = items
        .iter()
        .map(|item| {
            let text = item.content[0].text.as_deref();
            (item.id.as_deref(), item.role.as_str(), text)
        })
        .collect();
    assert_eq!(
        replay,
        vec![
            (Some("c1"), "assistant", Some("Hello! Ready?")),
            (Some("u1"), "user", Some("Yes.")),
            (Some("c2"), "assistant", Some("Lovely, so")),
        ]
    );
    // The new call echoes a replayed item: recognised, not added again.
    let echo = event(
        json!({"type": "conversation.item.added", "previous_item_id": null,
        "item": {"id": "c1", "type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Hello! Ready?"}]}}),
    );
    assert_eq!(transcript.apply(&echo), None);
    assert_eq!(transcript.turns().len(), 4);
}
