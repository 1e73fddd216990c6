//! The simulator's events against OpenAI's published schema: every event a call can send, in
//! every situation the tests and the soak run use (a greeting, learner turns by voice detection
//! and push-to-talk, a barge-in while the reply plays and while it is made, a cancel, a cleared
//! buffer, late and failed transcriptions, failed and incomplete responses, refused client
//! events, the session's expiry) must follow the schema for its type: field names, required
//! fields, enums, nullability. A drift from OpenAI fails here.
//!
//! `openai/realtime-server-events.schema.json` is generated from the GA models in
//! `openai/openai-python` (`src/openai/types/realtime/`, Aug 2026), one JSON Schema per server
//! event type; see `contracts/realtime.md`.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::{control::Fault, conversation::conversation_tests::Harness, schema};

const SCHEMA: &str = include_str!("../openai/realtime-server-events.schema.json");

fn schemas() -> Value {
    serde_json::from_str(SCHEMA).expect("the schema file is JSON")
}

/// Every event `harness` sent so far, checked and forgotten; the types seen.
fn check_all(harness: &mut Harness, schemas: &Value) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    harness.events.clear();
    for event in std::mem::take(&mut harness.sent) {
        let event = &event;
        let kind = event["type"].as_str().unwrap_or_default();
        let schema = schemas
            .get(kind)
            .unwrap_or_else(|| panic!("OpenAI has no server event {kind:?}: {event}"));
        if let Err(problem) = schema::validate(event, schema) {
            panic!("{kind} does not follow OpenAI's schema: {problem}\n{event:#}");
        }
        seen.insert(kind.to_owned());
    }
    seen
}

#[tokio::test]
async fn every_event_of_every_situation_follows_openais_schema() {
    let schemas = schemas();
    let mut seen = BTreeSet::new();

    // Server voice detection: a greeting, a learner turn, its reply, a barge-in while the reply
    // plays, one while it is made, a late transcription.
    let mut h = Harness::new(false);
    h.client(json!({"type": "response.create"}));
    h.run_until("output_audio_buffer.stopped").await;
    seen.extend(check_all(&mut h, &schemas));
    h.sim.queue_transcript("We could go hiking.");
    h.sim.queue_fault(Fault::TranscriptionLate);
    h.hear(600, 0.3);
    h.hear(600, 0.0);
    h.run_until("response.done").await;
    seen.extend(check_all(&mut h, &schemas));
    h.run(30);
    h.hear(400, 0.3);
    h.hear(600, 0.0);
    assert!(h.types().contains(&"conversation.item.truncated"));
    h.run_until("response.output_audio_transcript.delta").await;
    seen.extend(check_all(&mut h, &schemas));
    h.hear(300, 0.3);
    h.hear(600, 0.0);
    h.run_until("output_audio_buffer.stopped").await;
    h.conversation.session_expired();
    h.drain();
    seen.extend(check_all(&mut h, &schemas));

    // Push-to-talk: refused events, a failed transcription, a cancel, a cleared buffer,
    // failed and incomplete responses, replayed items, a session update.
    let mut h = Harness::new(true);
    h.client(json!({"type": "input_audio_buffer.commit"}));
    h.client(json!({"type": "response.cancel"}));
    h.client(json!({"type": "session.update", "session": {"type": "realtime", "colour": "blue"}}));
    h.client(json!({"type": "session.update", "session": {"instructions": "x"}}));
    h.client(json!({"type": "no.such.event"}));
    h.client(
        json!({"type": "conversation.item.create", "item": {"id": "x".repeat(40),
        "type": "message", "role": "user", "content": [{"type": "input_text", "text": "Hi"}]}}),
    );
    h.client(
        json!({"type": "conversation.item.create", "item": {"type": "message",
        "role": "assistant", "content": [{"type": "output_text", "text": "Hello again."}]}}),
    );
    h.client(
        json!({"type": "session.update", "session": {"type": "realtime",
        "instructions": "Coach.", "audio": {"input": {"turn_detection": null}}}}),
    );
    h.sim.queue_fault(Fault::TranscriptionFails);
    h.hear(600, 0.3);
    h.hear(400, 0.0);
    h.client(json!({"type": "input_audio_buffer.commit"}));
    h.client(json!({"type": "response.create"}));
    h.client(json!({"type": "response.create"}));
    h.client(json!({"type": "response.cancel"}));
    h.run(20);
    h.client(json!({"type": "output_audio_buffer.clear"}));
    h.sim.queue_fault(Fault::ResponseFails {
        code: "insufficient_quota".into(),
    });
    h.client(json!({"type": "response.create"}));
    h.sim.queue_fault(Fault::ResponseFails {
        code: "server_error".into(),
    });
    h.client(json!({"type": "response.create"}));
    h.sim.queue_fault(Fault::ResponseIncomplete);
    h.client(json!({"type": "response.create"}));
    h.run_until("output_audio_buffer.stopped").await;
    seen.extend(check_all(&mut h, &schemas));

    // Every event the client acts on was sent, and checked, in some situation.
    for kind in [
        "session.created",
        "session.updated",
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed",
        "conversation.item.added",
        "conversation.item.done",
        "conversation.item.truncated",
        "conversation.item.input_audio_transcription.delta",
        "conversation.item.input_audio_transcription.completed",
        "conversation.item.input_audio_transcription.failed",
        "response.created",
        "response.output_item.added",
        "response.output_item.done",
        "response.content_part.added",
        "response.content_part.done",
        "response.output_audio_transcript.delta",
        "response.output_audio_transcript.done",
        "response.output_audio.done",
        "output_audio_buffer.started",
        "output_audio_buffer.stopped",
        "output_audio_buffer.cleared",
        "response.done",
        "rate_limits.updated",
        "error",
    ] {
        assert!(seen.contains(kind), "no situation sent {kind}: {seen:?}");
    }
}

#[test]
fn the_check_catches_a_drift_from_openai() {
    let schemas = schemas();
    let fine = json!({"type": "conversation.item.truncated", "event_id": "event_1",
        "item_id": "item_1", "content_index": 0, "audio_end_ms": 1200});
    let schema = &schemas["conversation.item.truncated"];
    assert_eq!(schema::validate(&fine, schema), Ok(()));
    let mut missing = fine.clone();
    missing.as_object_mut().unwrap().remove("content_index");
    assert!(schema::validate(&missing, schema).is_err());
    let mut renamed = fine.clone();
    renamed["audio_end_ms"] = json!("1200");
    assert!(schema::validate(&renamed, schema).is_err());
    let status = json!({"type": "response.done", "event_id": "e",
        "response": {"id": "resp_1", "status": "finished"}});
    assert!(schema::validate(&status, &schemas["response.done"]).is_err());
}
