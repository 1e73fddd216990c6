//! Events on the `oai-events` data channel: one JSON object per message, tagged by `type`.

use serde::{Deserialize, Serialize};

use crate::session::SessionConfig;

mod read;

pub use read::Unreadable;

/// Server -> client: the events a speaking coach needs. Anything else parses as `Unknown`.
///
/// Read with [`ServerEvent::from_json`] (by hand: see `read.rs`); the derived `Deserialize` is
/// the reference that reader is tested against.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ServerEvent {
    #[serde(rename = "session.created")]
    SessionCreated {
        #[serde(default)]
        event_id: Option<String>,
        session: serde_json::Value,
    },
    #[serde(rename = "session.updated")]
    SessionUpdated {
        #[serde(default)]
        event_id: Option<String>,
        session: serde_json::Value,
    },
    #[serde(rename = "input_audio_buffer.speech_started")]
    SpeechStarted {
        #[serde(default)]
        event_id: Option<String>,
        item_id: String,
        audio_start_ms: u64,
    },
    #[serde(rename = "input_audio_buffer.speech_stopped")]
    SpeechStopped {
        #[serde(default)]
        event_id: Option<String>,
        item_id: String,
        audio_end_ms: u64,
    },
    #[serde(rename = "input_audio_buffer.committed")]
    Committed {
        #[serde(default)]
        event_id: Option<String>,
        item_id: String,
        #[serde(default)]
        previous_item_id: Option<String>,
    },
    /// GA name; older servers send `conversation.item.created`.
    #[serde(
        rename = "conversation.item.added",
        alias = "conversation.item.created"
    )]
    ItemAdded {
        #[serde(default)]
        event_id: Option<String>,
        item: Item,
        #[serde(default)]
        previous_item_id: Option<String>,
    },
    #[serde(rename = "conversation.item.done")]
    ItemDone {
        #[serde(default)]
        event_id: Option<String>,
        item: Item,
        #[serde(default)]
        previous_item_id: Option<String>,
    },
    #[serde(rename = "conversation.item.input_audio_transcription.delta")]
    InputTranscriptDelta {
        #[serde(default)]
        event_id: Option<String>,
        item_id: String,
        #[serde(default)]
        content_index: u32,
        #[serde(default, deserialize_with = "crate::lenient::null_as_default")]
        delta: String,
    },
    #[serde(rename = "conversation.item.input_audio_transcription.completed")]
    InputTranscriptCompleted {
        #[serde(default)]
        event_id: Option<String>,
        item_id: String,
        #[serde(default)]
        content_index: u32,
        transcript: String,
        /// What the transcription cost (tokens, or seconds of audio).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        usage: Option<serde_json::Value>,
    },
    #[serde(rename = "conversation.item.input_audio_transcription.failed")]
    InputTranscriptFailed {
        #[serde(default)]
        event_id: Option<String>,
        item_id: String,
        #[serde(default)]
        content_index: u32,
        error: ErrorDetail,
    },
    #[serde(rename = "response.created")]
    ResponseCreated {
        #[serde(default)]
        event_id: Option<String>,
        response: Response,
    },
    /// GA name; beta servers send `response.audio_transcript.delta`.
    #[serde(
        rename = "response.output_audio_transcript.delta",
        alias = "response.audio_transcript.delta"
    )]
    OutputTranscriptDelta {
        #[serde(default)]
        event_id: Option<String>,
        response_id: String,
        item_id: String,
        #[serde(default)]
        output_index: u32,
        #[serde(default)]
        content_index: u32,
        #[serde(default, deserialize_with = "crate::lenient::null_as_default")]
        delta: String,
    },
    #[serde(
        rename = "response.output_audio_transcript.done",
        alias = "response.audio_transcript.done"
    )]
    OutputTranscriptDone {
        #[serde(default)]
        event_id: Option<String>,
        response_id: String,
        item_id: String,
        #[serde(default)]
        output_index: u32,
        #[serde(default)]
        content_index: u32,
        transcript: String,
    },
    /// An item of a response: the coach's reply starts (`added`) and ends (`done`).
    #[serde(rename = "response.output_item.added")]
    OutputItemAdded {
        #[serde(default)]
        event_id: Option<String>,
        response_id: String,
        #[serde(default)]
        output_index: u32,
        item: Item,
    },
    #[serde(rename = "response.output_item.done")]
    OutputItemDone {
        #[serde(default)]
        event_id: Option<String>,
        response_id: String,
        #[serde(default)]
        output_index: u32,
        item: Item,
    },
    #[serde(rename = "response.content_part.added")]
    ContentPartAdded {
        #[serde(default)]
        event_id: Option<String>,
        response_id: String,
        item_id: String,
        #[serde(default)]
        output_index: u32,
        #[serde(default)]
        content_index: u32,
        part: serde_json::Value,
    },
    #[serde(rename = "response.content_part.done")]
    ContentPartDone {
        #[serde(default)]
        event_id: Option<String>,
        response_id: String,
        item_id: String,
        #[serde(default)]
        output_index: u32,
        #[serde(default)]
        content_index: u32,
        part: serde_json::Value,
    },
    /// All of a reply's audio was generated (not yet played: see `output_audio_buffer.stopped`).
    #[serde(rename = "response.output_audio.done", alias = "response.audio.done")]
    OutputAudioDone {
        #[serde(default)]
        event_id: Option<String>,
        response_id: String,
        item_id: String,
        #[serde(default)]
        output_index: u32,
        #[serde(default)]
        content_index: u32,
    },
    /// The server cut an assistant item's audio at `audio_end_ms` (what had played when the
    /// learner interrupted); its transcript is cut to match.
    #[serde(rename = "conversation.item.truncated")]
    ItemTruncated {
        #[serde(default)]
        event_id: Option<String>,
        item_id: String,
        #[serde(default)]
        content_index: u32,
        audio_end_ms: u64,
    },
    #[serde(rename = "output_audio_buffer.started")]
    OutputAudioStarted {
        #[serde(default)]
        event_id: Option<String>,
        response_id: String,
    },
    #[serde(rename = "output_audio_buffer.stopped")]
    OutputAudioStopped {
        #[serde(default)]
        event_id: Option<String>,
        response_id: String,
    },
    /// The coach's audio was cut off (barge-in or `output_audio_buffer.clear`).
    #[serde(rename = "output_audio_buffer.cleared")]
    OutputAudioCleared {
        #[serde(default)]
        event_id: Option<String>,
        response_id: String,
    },
    #[serde(rename = "response.done")]
    ResponseDone {
        #[serde(default)]
        event_id: Option<String>,
        response: Response,
    },
    #[serde(rename = "rate_limits.updated")]
    RateLimitsUpdated {
        #[serde(default)]
        event_id: Option<String>,
        #[serde(default)]
        rate_limits: Vec<serde_json::Value>,
    },
    /// Most errors leave the session open; `session_expired` ends it.
    #[serde(rename = "error")]
    Error {
        #[serde(default)]
        event_id: Option<String>,
        error: ErrorDetail,
    },
    /// Any event this client does not need.
    #[serde(other)]
    Unknown,
}

/// Client -> server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ClientEvent {
    #[serde(rename = "session.update")]
    SessionUpdate { session: SessionConfig },
    /// Ask for a reply now (e.g. the coach's greeting, or after a push-to-talk commit).
    #[serde(rename = "response.create")]
    ResponseCreate {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        response: Option<serde_json::Value>,
    },
    #[serde(rename = "response.cancel")]
    ResponseCancel,
    /// Adds an item, e.g. an earlier turn replayed into a new call after a reconnect.
    #[serde(rename = "conversation.item.create")]
    ItemCreate {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        previous_item_id: Option<String>,
        item: Item,
    },
    #[serde(rename = "input_audio_buffer.commit")]
    InputAudioCommit,
    #[serde(rename = "input_audio_buffer.clear")]
    InputAudioClear,
    #[serde(rename = "output_audio_buffer.clear")]
    OutputAudioClear,
}

/// A conversation item: here always a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `"message"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `"user"`, `"assistant"` or `"system"`.
    pub role: String,
    #[serde(default)]
    pub content: Vec<Content>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

impl Item {
    /// A text message, as replayed into a new call.
    pub fn text(role: &str, text: impl Into<String>) -> Self {
        let kind = if role == "assistant" {
            "output_text"
        } else {
            "input_text"
        };
        Item {
            id: None,
            kind: "message".to_owned(),
            role: role.to_owned(),
            content: vec![Content {
                kind: kind.to_owned(),
                text: Some(text.into()),
                transcript: None,
            }],
            status: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Content {
    /// `input_text`, `input_audio`, `output_text`, `output_audio`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcript: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Response {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ResponseStatus>,
    /// `null` while in progress and when completed, as OpenAI sends it.
    #[serde(default)]
    pub status_details: Option<serde_json::Value>,
    /// `"realtime.response"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::lenient::optional_part"
    )]
    pub output: Option<Vec<Item>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_modalities: Option<Vec<String>>,
}

impl Response {
    /// A response known by its id and status only.
    pub fn new(id: impl Into<String>, status: ResponseStatus) -> Self {
        Response {
            id: id.into(),
            status: Some(status),
            status_details: None,
            object: None,
            output: None,
            conversation_id: None,
            output_modalities: None,
        }
    }
}

impl Response {
    /// Why a response failed, as OpenAI codes it (`status_details.error.code`), e.g.
    /// `insufficient_quota`.
    pub fn error_code(&self) -> Option<&str> {
        self.status_details
            .as_ref()?
            .get("error")?
            .get("code")?
            .as_str()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseStatus {
    InProgress,
    Completed,
    Cancelled,
    Failed,
    Incomplete,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorDetail {
    #[serde(
        rename = "type",
        default,
        deserialize_with = "crate::lenient::null_as_default"
    )]
    pub kind: String,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default, deserialize_with = "crate::lenient::null_as_default")]
    pub message: String,
    /// The parameter at fault, when there is one.
    #[serde(default)]
    pub param: Option<String>,
}

/// The `type` of an event that did not parse, to log (never its content); `None` when the text
/// is not a JSON object with a string `type`.
pub fn event_type(text: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    value.get("type")?.as_str().map(str::to_owned)
}

impl ClientEvent {
    pub fn to_json(&self) -> String {
        // A derived Serialize of these plain types cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Nulls where OpenAI's schema allows them: the event still arrives.
    #[test]
    fn nullable_fields_do_not_drop_an_event() {
        let failed = ServerEvent::from_json(
            r#"{"type":"conversation.item.input_audio_transcription.failed","event_id":"e","item_id":"item_1","content_index":0,"error":{"type":null,"code":null,"message":null,"param":null}}"#,
        )
        .expect("a failed transcription with a null error type and message");
        assert!(matches!(
            failed,
            ServerEvent::InputTranscriptFailed { ref item_id, ref error, .. }
                if item_id == "item_1" && error.message.is_empty()
        ));
        let delta = ServerEvent::from_json(
            r#"{"type":"conversation.item.input_audio_transcription.delta","item_id":"item_1","content_index":0,"delta":null}"#,
        )
        .expect("a null delta");
        assert!(
            matches!(delta, ServerEvent::InputTranscriptDelta { ref delta, .. } if delta.is_empty())
        );
        let coach = ServerEvent::from_json(
            r#"{"type":"response.output_audio_transcript.delta","response_id":"r","item_id":"i","delta":null}"#,
        )
        .expect("a null coach delta");
        assert!(
            matches!(coach, ServerEvent::OutputTranscriptDelta { ref delta, .. } if delta.is_empty())
        );
    }

    #[test]
    fn an_unreadable_event_still_names_its_type() {
        assert_eq!(
            event_type(r#"{"type":"response.done","response":42}"#).as_deref(),
            Some("response.done")
        );
        assert!(ServerEvent::from_json(r#"{"type":"response.done","response":42}"#).is_err());
        assert_eq!(event_type("not json"), None);
        assert_eq!(event_type(r#"{"type":7}"#), None);
    }

    #[test]
    fn parses_the_turn_events_in_their_documented_shapes() {
        let events = [
            r#"{"type":"input_audio_buffer.speech_started","event_id":"e1","item_id":"item_1","audio_start_ms":1200}"#,
            r#"{"type":"input_audio_buffer.speech_stopped","item_id":"item_1","audio_end_ms":3400}"#,
            r#"{"type":"input_audio_buffer.committed","item_id":"item_1","previous_item_id":null}"#,
            r#"{"type":"conversation.item.added","item":{"id":"item_1","type":"message","role":"user","content":[{"type":"input_audio","transcript":null}]},"previous_item_id":null}"#,
            r#"{"type":"conversation.item.input_audio_transcription.completed","item_id":"item_1","content_index":0,"transcript":"I'd like a coffee"}"#,
            r#"{"type":"response.created","response":{"id":"resp_1","status":"in_progress"}}"#,
            r#"{"type":"response.output_audio_transcript.delta","response_id":"resp_1","item_id":"item_2","output_index":0,"content_index":0,"delta":"Sure"}"#,
            r#"{"type":"response.done","response":{"id":"resp_1","status":"cancelled","status_details":{"type":"cancelled","reason":"turn_detected"}}}"#,
            r#"{"type":"error","error":{"type":"invalid_request_error","code":"session_expired","message":"Your session hit the maximum duration of 60 minutes."}}"#,
        ];
        let parsed: Vec<ServerEvent> = events
            .iter()
            .map(|text| ServerEvent::from_json(text).unwrap_or_else(|e| panic!("{text}: {e}")))
            .collect();
        assert!(
            matches!(&parsed[0], ServerEvent::SpeechStarted { audio_start_ms: 1200, item_id, .. } if item_id == "item_1")
        );
        assert!(
            matches!(&parsed[4], ServerEvent::InputTranscriptCompleted { transcript, .. } if transcript == "I'd like a coffee")
        );
        assert!(
            matches!(&parsed[7], ServerEvent::ResponseDone { response, .. } if response.status == Some(ResponseStatus::Cancelled))
        );
        assert!(
            matches!(&parsed[8], ServerEvent::Error { error, .. } if error.code.as_deref() == Some("session_expired"))
        );
    }

    #[test]
    fn accepts_beta_names_and_unknown_events() {
        let beta = r#"{"type":"response.audio_transcript.delta","response_id":"r","item_id":"i","delta":"Hi"}"#;
        assert!(matches!(
            ServerEvent::from_json(beta).unwrap(),
            ServerEvent::OutputTranscriptDelta { .. }
        ));
        let old = r#"{"type":"conversation.item.created","item":{"type":"message","role":"assistant","content":[]}}"#;
        assert!(matches!(
            ServerEvent::from_json(old).unwrap(),
            ServerEvent::ItemAdded { .. }
        ));
        let unknown = r#"{"type":"response.output_text.delta","delta":"x"}"#;
        assert_eq!(
            ServerEvent::from_json(unknown).unwrap(),
            ServerEvent::Unknown
        );
    }

    #[test]
    fn a_known_event_missing_a_required_field_is_an_error() {
        assert!(ServerEvent::from_json(r#"{"type":"input_audio_buffer.speech_started"}"#).is_err());
    }

    #[test]
    fn client_events_serialise_as_the_api_expects() {
        assert_eq!(
            ClientEvent::ResponseCreate { response: None }.to_json(),
            r#"{"type":"response.create"}"#
        );
        assert_eq!(
            ClientEvent::InputAudioCommit.to_json(),
            r#"{"type":"input_audio_buffer.commit"}"#
        );
        let replay = ClientEvent::ItemCreate {
            previous_item_id: None,
            item: Item::text("user", "I'd like a coffee"),
        };
        assert_eq!(
            replay.to_json(),
            r#"{"type":"conversation.item.create","item":{"type":"message","role":"user","content":[{"type":"input_text","text":"I'd like a coffee"}]}}"#
        );
        let parsed: ClientEvent = serde_json::from_str(&replay.to_json()).unwrap();
        assert_eq!(parsed, replay);
    }
}
