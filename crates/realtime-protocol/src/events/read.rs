//! Server events read by hand, field by field, from a parsed JSON value.
//!
//! `ServerEvent`'s derived `Deserialize` (an internally tagged enum: serde buffers each event,
//! then runs a visitor of its own for every variant and nested struct) was about 20 KB of the
//! call page's compressed wasm. The browser parses events into a `serde_json::Value` anyway (to
//! name the type of one it cannot read), so it reads them from that value here instead. The
//! rules are the derive's, field for field: a required field that is missing, `null` or of the
//! wrong type makes the event unreadable; `#[serde(default)]` fields may be absent; the
//! `null_as_default` ones may also be `null`; `Option` fields may be `null`. One difference: serde
//! also reads a struct from a JSON list, field by field in order, which OpenAI never sends; here
//! an object must be an object. The derive stays, and the tests hold this reader to it on every
//! event and on every field of each removed, nulled or given the wrong type.

use serde_json::{Map, Value};

use super::{Content, ErrorDetail, Item, Response, ResponseStatus, ServerEvent};

/// An event that could not be read, and the field that made it so (`"json"`: not a JSON
/// object; `"type"`: no string `type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unreadable(pub &'static str);

impl std::fmt::Display for Unreadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unreadable Realtime event: `{}`", self.0)
    }
}

impl std::error::Error for Unreadable {}

type Read<T> = Result<T, Unreadable>;

/// The fields of one JSON object.
#[derive(Clone, Copy)]
struct Fields<'a>(&'a Map<String, Value>);

impl<'a> Fields<'a> {
    fn of(value: &'a Value, name: &'static str) -> Read<Self> {
        match value {
            Value::Object(map) => Ok(Fields(map)),
            _ => Err(Unreadable(name)),
        }
    }

    fn get(self, name: &str) -> Option<&'a Value> {
        self.0.get(name)
    }

    /// A required string.
    fn string(self, name: &'static str) -> Read<String> {
        match self.get(name) {
            Some(Value::String(text)) => Ok(text.clone()),
            _ => Err(Unreadable(name)),
        }
    }

    /// An `Option<String>`: absent or `null` is `None`.
    fn optional_string(self, name: &'static str) -> Read<Option<String>> {
        match self.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(_) => Err(Unreadable(name)),
        }
    }

    /// A `null_as_default` string: absent or `null` is empty.
    fn text(self, name: &'static str) -> Read<String> {
        Ok(self.optional_string(name)?.unwrap_or_default())
    }

    /// A required count of milliseconds.
    fn millis(self, name: &'static str) -> Read<u64> {
        self.get(name)
            .and_then(Value::as_u64)
            .ok_or(Unreadable(name))
    }

    /// A `#[serde(default)]` index: absent is 0, `null` is an error (as for any `u32`).
    fn index(self, name: &'static str) -> Read<u32> {
        match self.get(name) {
            None => Ok(0),
            Some(value) => value
                .as_u64()
                .and_then(|index| u32::try_from(index).ok())
                .ok_or(Unreadable(name)),
        }
    }

    /// A required JSON value of any kind, `null` included.
    fn value(self, name: &'static str) -> Read<Value> {
        self.get(name).cloned().ok_or(Unreadable(name))
    }

    /// An `Option<Value>`: absent or `null` is `None`.
    fn optional_value(self, name: &str) -> Option<Value> {
        self.get(name).filter(|value| !value.is_null()).cloned()
    }

    /// A `#[serde(default)]` list: absent is empty, anything but an array is an error.
    fn list(self, name: &'static str) -> Read<&'a [Value]> {
        match self.get(name) {
            None => Ok(&[]),
            Some(Value::Array(values)) => Ok(values),
            Some(_) => Err(Unreadable(name)),
        }
    }

    fn event_id(self) -> Read<Option<String>> {
        self.optional_string("event_id")
    }
}

impl ServerEvent {
    /// Reads one data-channel message. Unknown event types read as `Unknown`.
    pub fn from_json(text: &str) -> Result<Self, Unreadable> {
        let value: Value = serde_json::from_str(text).map_err(|_| Unreadable("json"))?;
        Self::from_value(&value)
    }

    /// Reads an event already parsed as JSON.
    pub fn from_value(value: &Value) -> Result<Self, Unreadable> {
        let fields = Fields::of(value, "json")?;
        let Some(Value::String(kind)) = fields.get("type") else {
            return Err(Unreadable("type"));
        };
        let f = fields;
        Ok(match kind.as_str() {
            "session.created" | "session.updated" => {
                let (event_id, session) = (f.event_id()?, f.value("session")?);
                if kind == "session.created" {
                    ServerEvent::SessionCreated { event_id, session }
                } else {
                    ServerEvent::SessionUpdated { event_id, session }
                }
            }
            "input_audio_buffer.speech_started" => ServerEvent::SpeechStarted {
                event_id: f.event_id()?,
                item_id: f.string("item_id")?,
                audio_start_ms: f.millis("audio_start_ms")?,
            },
            "input_audio_buffer.speech_stopped" => ServerEvent::SpeechStopped {
                event_id: f.event_id()?,
                item_id: f.string("item_id")?,
                audio_end_ms: f.millis("audio_end_ms")?,
            },
            "input_audio_buffer.committed" => ServerEvent::Committed {
                event_id: f.event_id()?,
                item_id: f.string("item_id")?,
                previous_item_id: f.optional_string("previous_item_id")?,
            },
            "conversation.item.added" | "conversation.item.created" | "conversation.item.done" => {
                let event_id = f.event_id()?;
                let item = item(f, "item")?;
                let previous_item_id = f.optional_string("previous_item_id")?;
                if kind == "conversation.item.done" {
                    ServerEvent::ItemDone {
                        event_id,
                        item,
                        previous_item_id,
                    }
                } else {
                    ServerEvent::ItemAdded {
                        event_id,
                        item,
                        previous_item_id,
                    }
                }
            }
            "conversation.item.input_audio_transcription.delta"
            | "conversation.item.input_audio_transcription.completed"
            | "conversation.item.input_audio_transcription.failed" => {
                let event_id = f.event_id()?;
                let item_id = f.string("item_id")?;
                let content_index = f.index("content_index")?;
                match &kind["conversation.item.input_audio_transcription.".len()..] {
                    "delta" => ServerEvent::InputTranscriptDelta {
                        event_id,
                        item_id,
                        content_index,
                        delta: f.text("delta")?,
                    },
                    "completed" => ServerEvent::InputTranscriptCompleted {
                        event_id,
                        item_id,
                        content_index,
                        transcript: f.string("transcript")?,
                        usage: f.optional_value("usage"),
                    },
                    _ => ServerEvent::InputTranscriptFailed {
                        event_id,
                        item_id,
                        content_index,
                        error: error(f)?,
                    },
                }
            }
            "response.created" => ServerEvent::ResponseCreated {
                event_id: f.event_id()?,
                response: response(f)?,
            },
            "response.output_audio_transcript.delta"
            | "response.audio_transcript.delta"
            | "response.output_audio_transcript.done"
            | "response.audio_transcript.done" => {
                let event_id = f.event_id()?;
                let response_id = f.string("response_id")?;
                let item_id = f.string("item_id")?;
                let output_index = f.index("output_index")?;
                let content_index = f.index("content_index")?;
                if kind.ends_with(".delta") {
                    ServerEvent::OutputTranscriptDelta {
                        event_id,
                        response_id,
                        item_id,
                        output_index,
                        content_index,
                        delta: f.text("delta")?,
                    }
                } else {
                    ServerEvent::OutputTranscriptDone {
                        event_id,
                        response_id,
                        item_id,
                        output_index,
                        content_index,
                        transcript: f.string("transcript")?,
                    }
                }
            }
            "response.output_item.added" | "response.output_item.done" => {
                let event_id = f.event_id()?;
                let response_id = f.string("response_id")?;
                let output_index = f.index("output_index")?;
                let item = item(f, "item")?;
                if kind == "response.output_item.added" {
                    ServerEvent::OutputItemAdded {
                        event_id,
                        response_id,
                        output_index,
                        item,
                    }
                } else {
                    ServerEvent::OutputItemDone {
                        event_id,
                        response_id,
                        output_index,
                        item,
                    }
                }
            }
            "response.content_part.added" | "response.content_part.done" => {
                let event_id = f.event_id()?;
                let response_id = f.string("response_id")?;
                let item_id = f.string("item_id")?;
                let output_index = f.index("output_index")?;
                let content_index = f.index("content_index")?;
                let part = f.value("part")?;
                if kind == "response.content_part.added" {
                    ServerEvent::ContentPartAdded {
                        event_id,
                        response_id,
                        item_id,
                        output_index,
                        content_index,
                        part,
                    }
                } else {
                    ServerEvent::ContentPartDone {
                        event_id,
                        response_id,
                        item_id,
                        output_index,
                        content_index,
                        part,
                    }
                }
            }
            "response.output_audio.done" | "response.audio.done" => ServerEvent::OutputAudioDone {
                event_id: f.event_id()?,
                response_id: f.string("response_id")?,
                item_id: f.string("item_id")?,
                output_index: f.index("output_index")?,
                content_index: f.index("content_index")?,
            },
            "conversation.item.truncated" => ServerEvent::ItemTruncated {
                event_id: f.event_id()?,
                item_id: f.string("item_id")?,
                content_index: f.index("content_index")?,
                audio_end_ms: f.millis("audio_end_ms")?,
            },
            "output_audio_buffer.started"
            | "output_audio_buffer.stopped"
            | "output_audio_buffer.cleared" => {
                let (event_id, response_id) = (f.event_id()?, f.string("response_id")?);
                match kind.as_str() {
                    "output_audio_buffer.started" => ServerEvent::OutputAudioStarted {
                        event_id,
                        response_id,
                    },
                    "output_audio_buffer.stopped" => ServerEvent::OutputAudioStopped {
                        event_id,
                        response_id,
                    },
                    _ => ServerEvent::OutputAudioCleared {
                        event_id,
                        response_id,
                    },
                }
            }
            "response.done" => ServerEvent::ResponseDone {
                event_id: f.event_id()?,
                response: response(f)?,
            },
            "rate_limits.updated" => ServerEvent::RateLimitsUpdated {
                event_id: f.event_id()?,
                rate_limits: f.list("rate_limits")?.to_vec(),
            },
            "error" => ServerEvent::Error {
                event_id: f.event_id()?,
                error: error(f)?,
            },
            _ => ServerEvent::Unknown,
        })
    }
}

fn item(parent: Fields<'_>, name: &'static str) -> Read<Item> {
    read_item(parent.get(name).ok_or(Unreadable(name))?)
}

fn read_item(value: &Value) -> Read<Item> {
    let f = Fields::of(value, "item")?;
    Ok(Item {
        id: f.optional_string("id")?,
        kind: f.string("type")?,
        role: f.string("role")?,
        content: f
            .list("content")?
            .iter()
            .map(content)
            .collect::<Read<_>>()?,
        status: f.optional_string("status")?,
    })
}

fn content(value: &Value) -> Read<Content> {
    let f = Fields::of(value, "content")?;
    Ok(Content {
        kind: f.string("type")?,
        text: f.optional_string("text")?,
        transcript: f.optional_string("transcript")?,
    })
}

fn response(parent: Fields<'_>) -> Read<Response> {
    let f = Fields::of(
        parent.get("response").ok_or(Unreadable("response"))?,
        "response",
    )?;
    let status = match f.get("status") {
        None | Some(Value::Null) => None,
        Some(Value::String(status)) => Some(match status.as_str() {
            "in_progress" => ResponseStatus::InProgress,
            "completed" => ResponseStatus::Completed,
            "cancelled" => ResponseStatus::Cancelled,
            "failed" => ResponseStatus::Failed,
            "incomplete" => ResponseStatus::Incomplete,
            _ => return Err(Unreadable("status")),
        }),
        Some(_) => return Err(Unreadable("status")),
    };
    // A part the client can do without (`lenient::optional_part`): unreadable is `None`.
    let output = match f.get("output") {
        Some(Value::Array(items)) => items.iter().map(read_item).collect::<Read<_>>().ok(),
        _ => None,
    };
    let output_modalities = match f.get("output_modalities") {
        None | Some(Value::Null) => None,
        Some(Value::Array(values)) => Some(
            values
                .iter()
                .map(|value| value.as_str().map(str::to_owned))
                .collect::<Option<_>>()
                .ok_or(Unreadable("output_modalities"))?,
        ),
        Some(_) => return Err(Unreadable("output_modalities")),
    };
    Ok(Response {
        id: f.string("id")?,
        status,
        status_details: f.optional_value("status_details"),
        object: f.optional_string("object")?,
        output,
        conversation_id: f.optional_string("conversation_id")?,
        output_modalities,
    })
}

fn error(parent: Fields<'_>) -> Read<ErrorDetail> {
    let f = Fields::of(parent.get("error").ok_or(Unreadable("error"))?, "error")?;
    Ok(ErrorDetail {
        kind: f.text("type")?,
        code: f.optional_string("code")?,
        message: f.text("message")?,
        param: f.optional_string("param")?,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    /// One event of each kind the client reads, with every field it knows filled in.
    fn events() -> Vec<Value> {
        let item = json!({
            "id": "item_2", "type": "message", "role": "assistant", "status": "completed",
            "content": [{"type": "output_audio", "transcript": "Hello", "text": "Hello"}],
        });
        let response = json!({
            "id": "resp_1", "status": "failed", "object": "realtime.response",
            "status_details": {"type": "failed", "error": {"code": "insufficient_quota"}},
            "output": [item.clone()], "conversation_id": "conv_1",
            "output_modalities": ["audio"],
        });
        let error = json!({"type": "invalid_request_error", "code": "session_expired",
            "message": "Your session hit the maximum duration.", "param": "session"});
        let ids = json!({"event_id": "event_1", "response_id": "resp_1", "item_id": "item_2",
            "output_index": 0, "content_index": 1});
        let with = |kind: &str, fields: Value| {
            let mut event = ids.clone();
            event["type"] = json!(kind);
            for (name, value) in fields.as_object().expect("an object") {
                event[name] = value.clone();
            }
            event
        };
        vec![
            with(
                "session.created",
                json!({"session": {"model": "gpt-realtime-mini"}}),
            ),
            with(
                "session.updated",
                json!({"session": {"model": "gpt-realtime-mini"}}),
            ),
            with(
                "input_audio_buffer.speech_started",
                json!({"audio_start_ms": 1200}),
            ),
            with(
                "input_audio_buffer.speech_stopped",
                json!({"audio_end_ms": 3400}),
            ),
            with(
                "input_audio_buffer.committed",
                json!({"previous_item_id": "item_0"}),
            ),
            with(
                "conversation.item.added",
                json!({"item": item, "previous_item_id": "item_1"}),
            ),
            with("conversation.item.created", json!({"item": item})),
            with(
                "conversation.item.done",
                json!({"item": item, "previous_item_id": "item_1"}),
            ),
            with(
                "conversation.item.input_audio_transcription.delta",
                json!({"delta": "I'd"}),
            ),
            with(
                "conversation.item.input_audio_transcription.completed",
                json!({"transcript": "I'd like a coffee", "usage": {"type": "duration", "seconds": 2}}),
            ),
            with(
                "conversation.item.input_audio_transcription.failed",
                json!({"error": error}),
            ),
            with("response.created", json!({"response": response})),
            with(
                "response.output_audio_transcript.delta",
                json!({"delta": "Sure"}),
            ),
            with("response.audio_transcript.delta", json!({"delta": "Sure"})),
            with(
                "response.output_audio_transcript.done",
                json!({"transcript": "Sure."}),
            ),
            with(
                "response.audio_transcript.done",
                json!({"transcript": "Sure."}),
            ),
            with("response.output_item.added", json!({"item": item})),
            with("response.output_item.done", json!({"item": item})),
            with(
                "response.content_part.added",
                json!({"part": {"type": "audio"}}),
            ),
            with(
                "response.content_part.done",
                json!({"part": {"type": "audio"}}),
            ),
            with("response.output_audio.done", json!({})),
            with("response.audio.done", json!({})),
            with("conversation.item.truncated", json!({"audio_end_ms": 1500})),
            with("output_audio_buffer.started", json!({})),
            with("output_audio_buffer.stopped", json!({})),
            with("output_audio_buffer.cleared", json!({})),
            with("response.done", json!({"response": response})),
            with(
                "rate_limits.updated",
                json!({"rate_limits": [{"name": "tokens"}]}),
            ),
            with("error", json!({"error": error})),
            with("response.output_text.delta", json!({"delta": "x"})),
        ]
    }

    /// The JSON pointer of every field of `value`, nested objects and list elements included.
    fn fields(value: &Value, at: &str, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (name, field) in map {
                    let pointer = format!("{at}/{name}");
                    fields(field, &pointer, out);
                    out.push(pointer);
                }
            }
            Value::Array(values) => {
                for (index, element) in values.iter().enumerate() {
                    fields(element, &format!("{at}/{index}"), out);
                }
            }
            _ => {}
        }
    }

    /// `event` with the field at `pointer` removed, and with it replaced by each of `values`;
    /// each marked when it puts a list where the event has a struct (not a free JSON value).
    fn variants(event: &Value, pointer: &str, values: &[Value]) -> Vec<(Value, bool)> {
        let (parent, name) = pointer.rsplit_once('/').expect("a field's pointer");
        let mut removed = event.clone();
        if let Some(Value::Object(map)) = removed.pointer_mut(parent) {
            map.remove(name);
        }
        let mut out = vec![(removed, false)];
        let object = ["/item", "/response", "/error"].contains(&pointer)
            || pointer.ends_with("/content/0")
            || pointer.ends_with("/output/0");
        for value in values {
            let mut replaced = event.clone();
            *replaced.pointer_mut(pointer).expect("the field") = value.clone();
            out.push((replaced, object && value.is_array()));
        }
        out
    }

    fn derived(event: &Value) -> Option<ServerEvent> {
        serde_json::from_value(event.clone()).ok()
    }

    #[test]
    fn reads_every_event_exactly_as_the_derive_does() {
        let wrong = [
            json!(null),
            json!("text"),
            json!(""),
            json!(7),
            json!(1_u64 << 40),
            json!(-1),
            json!(1.5),
            json!(true),
            json!([]),
            json!({}),
            json!("in_progress"),
            json!("cancelled"),
        ];
        let mut cases = 0;
        let mut unreadable = 0;
        for event in events() {
            assert!(
                derived(&event).is_some(),
                "the sample itself reads: {event}"
            );
            let mut pointers = Vec::new();
            fields(&event, "", &mut pointers);
            let changed = pointers
                .iter()
                .flat_map(|pointer| variants(&event, pointer, &wrong));
            for (case, list) in std::iter::once((event.clone(), false)).chain(changed) {
                let by_hand = ServerEvent::from_value(&case);
                if list {
                    // serde reads a struct from a list too, field by field in order (an empty
                    // list is an `error` of defaults); OpenAI sends objects, and so must a server.
                    assert!(by_hand.is_err(), "{case}");
                } else {
                    assert_eq!(by_hand.clone().ok(), derived(&case), "{case}");
                }
                assert_eq!(
                    ServerEvent::from_json(&case.to_string()).ok(),
                    by_hand.clone().ok()
                );
                cases += 1;
                unreadable += usize::from(by_hand.is_err());
            }
        }
        // The variations did reach both outcomes, many times over.
        assert!(
            cases > 2_000 && unreadable > 500,
            "{cases} cases, {unreadable} unreadable"
        );
    }

    #[test]
    fn names_what_made_an_event_unreadable() {
        assert_eq!(ServerEvent::from_json("not json"), Err(Unreadable("json")));
        assert_eq!(ServerEvent::from_json("[1]"), Err(Unreadable("json")));
        assert_eq!(
            ServerEvent::from_json(r#"{"type":7}"#),
            Err(Unreadable("type"))
        );
        assert_eq!(
            ServerEvent::from_json(
                r#"{"type":"response.done","response":{"id":"r","status":"paused"}}"#
            ),
            Err(Unreadable("status"))
        );
        assert_eq!(
            ServerEvent::from_json(r#"{"type":"input_audio_buffer.speech_started","item_id":"i"}"#),
            Err(Unreadable("audio_start_ms"))
        );
    }
}
