//! The coach's replies as OpenAI sends them over WebRTC: the whole text well ahead of the audio,
//! `response.done` before the audio has played, `output_audio_buffer.stopped` when it has; a
//! learner talking over the coach (`cleared`, `conversation.item.truncated`), responses
//! cancelled, incomplete or failed.

use super::*;

const REPLY: &str = "Lovely. Would you like it with milk, or would you rather try something new?";

/// A reply made in full (its text, its `response.done`) whose audio starts playing: what the
/// page sees before the learner has heard more than its first moment.
fn reply_made(page: &mut Page, response: &str, item: &str) -> Vec<Effect> {
    let mut effects = page.server(json!({"type": "response.created",
        "response": {"object": "realtime.response", "id": response, "status": "in_progress",
                     "status_details": null, "output": [], "conversation_id": "conv_1",
                     "output_modalities": ["audio"], "usage": null, "metadata": null}}));
    effects.extend(page.server(json!({"type": "response.output_item.added",
        "response_id": response, "output_index": 0,
        "item": {"id": item, "type": "message", "role": "assistant", "status": "in_progress", "content": []}})));
    effects.extend(page.server(json!({"type": "conversation.item.added", "previous_item_id": null,
        "item": {"id": item, "type": "message", "role": "assistant", "status": "in_progress", "content": []}})));
    effects.extend(
        page.server(json!({"type": "output_audio_buffer.started", "response_id": response})),
    );
    effects.extend(
        page.server(json!({"type": "response.output_audio_transcript.delta",
        "response_id": response, "item_id": item, "output_index": 0, "content_index": 0,
        "delta": "Lovely."})),
    );
    effects.extend(
        page.server(json!({"type": "response.output_audio_transcript.done",
        "response_id": response, "item_id": item, "output_index": 0, "content_index": 0,
        "transcript": REPLY})),
    );
    effects.extend(page.server(
        json!({"type": "conversation.item.done", "previous_item_id": null,
        "item": {"id": item, "type": "message", "role": "assistant", "status": "completed",
                 "content": [{"type": "output_audio", "transcript": REPLY}]}}),
    ));
    effects.extend(page.server(json!({"type": "response.done",
        "response": {"id": response, "status": "completed", "status_details": null}})));
    effects
}

fn shown(page: &Page) -> Vec<(Speaker, String, TurnState)> {
    page.session
        .transcript()
        .turns()
        .iter()
        .map(|turn| (turn.speaker, turn.text.clone(), turn.state))
        .collect()
}

#[test]
fn a_reply_heard_to_its_end_is_final_only_once_its_audio_stopped() {
    let mut page = Page::live();
    let effects = reply_made(&mut page, "resp_1", "item_c1");
    assert!(
        stored_turns(&effects).is_empty(),
        "the text and response.done come before the audio has played: {effects:?}"
    );
    assert_eq!(
        shown(&page),
        [(Speaker::Coach, REPLY.to_owned(), TurnState::InProgress)]
    );
    let effects = page
        .wait(5_000)
        .server(json!({"type": "output_audio_buffer.stopped", "response_id": "resp_1"}));
    assert_eq!(
        stored_turns(&effects),
        [("item_c1", REPLY, TurnState::Final)]
    );
}

#[test]
fn a_reply_the_learner_talks_over_is_interrupted_and_keeps_what_was_heard() {
    // As OpenAI over WebRTC: the reply was made in full, the learner speaks 1.2 s into its
    // audio; the server clears the audio and truncates the item where it was cut.
    let mut page = Page::live();
    reply_made(&mut page, "resp_1", "item_c1");
    page.wait(1_200);
    page.server(json!({"type": "input_audio_buffer.speech_started",
        "item_id": "item_u1", "audio_start_ms": 4_000}));
    let effects =
        page.server(json!({"type": "output_audio_buffer.cleared", "response_id": "resp_1"}));
    // 1.2 s at 15 characters a second: 18 characters, whole words.
    let heard = "Lovely. Would you";
    assert_eq!(
        stored_turns(&effects),
        [("item_c1", heard, TurnState::Interrupted)]
    );
    let Some(Effect::StoreTurn(turn)) = effects.first() else {
        unreachable!()
    };
    assert_eq!(
        turn.end_ms
            .zip(turn.start_ms)
            .map(|(end, start)| end - start),
        Some(1_200),
        "the turn lasts as long as it played"
    );
    // The server's truncation (and any late event about the reply) changes nothing more.
    assert!(
        stored_turns(&page.server(json!({"type": "conversation.item.truncated",
            "item_id": "item_c1", "content_index": 0, "audio_end_ms": 1_200})))
        .is_empty()
    );
    assert!(
        stored_turns(
            &page.server(json!({"type": "output_audio_buffer.stopped", "response_id": "resp_1"}))
        )
        .is_empty()
    );
    assert_eq!(
        shown(&page)[0],
        (Speaker::Coach, heard.to_owned(), TurnState::Interrupted)
    );
}

#[test]
fn the_servers_truncation_alone_settles_a_reply_at_its_measure() {
    let mut page = Page::live();
    reply_made(&mut page, "resp_1", "item_c1");
    let effects = page
        .wait(3_000)
        .server(json!({"type": "conversation.item.truncated",
        "item_id": "item_c1", "content_index": 0, "audio_end_ms": 500}));
    assert_eq!(
        stored_turns(&effects),
        [("item_c1", "Lovely.", TurnState::Interrupted)]
    );
}

#[test]
fn a_reply_cancelled_while_made_plays_out_what_was_made_and_is_interrupted() {
    let mut page = Page::live();
    page.server(json!({"type": "response.created", "response": {"id": "resp_1"}}));
    page.server(json!({"type": "output_audio_buffer.started", "response_id": "resp_1"}));
    page.server(json!({"type": "response.output_audio_transcript.delta",
        "response_id": "resp_1", "item_id": "item_c1", "delta": "Lovely. Would"}));
    page.server(json!({"type": "conversation.item.done",
        "item": {"id": "item_c1", "type": "message", "role": "assistant", "status": "incomplete", "content": []}}));
    let effects = page.server(json!({"type": "response.done", "response": {"id": "resp_1",
        "status": "cancelled", "status_details": {"type": "cancelled", "reason": "client_cancelled"}}}));
    assert!(
        stored_turns(&effects).is_empty(),
        "what was made still plays"
    );
    let effects = page
        .wait(1_500)
        .server(json!({"type": "output_audio_buffer.stopped", "response_id": "resp_1"}));
    assert_eq!(
        stored_turns(&effects),
        [("item_c1", "Lovely. Would", TurnState::Interrupted)]
    );

    // Cancelled before any of it played: nothing was heard.
    page.server(json!({"type": "response.created", "response": {"id": "resp_2"}}));
    page.server(json!({"type": "response.output_audio_transcript.delta",
        "response_id": "resp_2", "item_id": "item_c2", "delta": "Right,"}));
    let effects = page.server(json!({"type": "response.done",
        "response": {"id": "resp_2", "status": "cancelled"}}));
    assert_eq!(
        stored_turns(&effects),
        [("item_c2", "", TurnState::Interrupted)]
    );
}

#[test]
fn a_failed_reply_tells_the_learner_and_is_asked_for_once_more() {
    let mut page = Page::live();
    page.server(json!({"type": "response.created", "response": {"id": "resp_1"}}));
    let failed = |id: &str, code: &str| {
        json!({"type": "response.done", "response": {"id": id, "status": "failed",
            "status_details": {"type": "failed",
                "error": {"type": "server_error", "code": code, "message": "The server had an error."}}}})
    };
    let effects = page.server(failed("resp_1", "server_error"));
    assert_eq!(page.session.problem(), Some(&Problem::ReplyFailed));
    assert_eq!(
        effects,
        [Effect::Send(ClientEvent::ResponseCreate { response: None })]
    );
    assert!(matches!(page.state(), CallState::Live { .. }));
    // A second failure in a row is not retried: the learner can say it again.
    page.server(json!({"type": "response.created", "response": {"id": "resp_2"}}));
    let effects = page.server(failed("resp_2", "server_error"));
    assert!(effects.is_empty(), "{effects:?}");
    assert_eq!(page.session.problem(), Some(&Problem::ReplyFailed));
    // The next reply that works clears the message.
    reply_made(&mut page, "resp_3", "item_c3");
    assert_eq!(page.session.problem(), None);
}

#[test]
fn out_of_quota_the_call_ends_keeping_everything() {
    let mut page = Page::live();
    page.learner_says("item_u1", "I'd like a coffee.");
    page.server(json!({"type": "response.created", "response": {"id": "resp_1"}}));
    let effects = page.server(json!({"type": "response.done", "response": {"id": "resp_1",
        "status": "failed", "status_details": {"type": "failed", "error": {
            "type": "insufficient_quota", "code": "insufficient_quota",
            "message": "You exceeded your current quota."}}}}));
    assert_eq!(
        page.state(),
        &CallState::Failed(CallFailure::CoachUnavailable)
    );
    assert_eq!(page.session.problem(), Some(&Problem::CoachOutOfCredit));
    assert!(
        !effects.contains(&Effect::Send(ClientEvent::ResponseCreate {
            response: None
        })),
        "not retried: more quota will not come by asking again"
    );
    assert!(effects.contains(&Effect::Release));
    assert!(
        CallFailure::CoachUnavailable
            .advice(true, page.session.problem())
            .contains("run out of credit")
    );
}
