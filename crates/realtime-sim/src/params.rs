//! OpenAI's checks of what a client sends — a mint's body, and every data-channel event: a
//! parameter it does not know is `unknown_parameter`, a value outside a parameter's enum
//! `invalid_value`, a value of the wrong kind `invalid_type`, each naming the parameter
//! (`param`) as OpenAI does ("Unknown parameter: 'session.foo'."). And `session.update`'s merge:
//! only what it gives changes.

use serde_json::{Map, Value, json};

/// Why OpenAI would refuse a request: its error code, message and parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: &'static str,
    pub message: String,
    pub param: String,
}

/// The GA session's parameters (`RealtimeSessionCreateRequest`): objects list their fields,
/// enums their values; `{}` takes any value.
fn session() -> Value {
    let format = json!({"fields": {"type": {"enum": ["audio/pcm", "audio/pcmu", "audio/pcma"]},
                                  "rate": {"enum": [24000]}}});
    json!({"fields": {
        "type": {"enum": ["realtime", "transcription"]},
        "model": {},
        "instructions": {},
        "output_modalities": {"items": {"enum": ["text", "audio"]}},
        "audio": {"fields": {
            "input": {"fields": {
                "format": format,
                "transcription": {"nullable": true, "fields": {
                    "model": {}, "language": {}, "prompt": {}}},
                "noise_reduction": {"nullable": true, "fields": {
                    "type": {"enum": ["near_field", "far_field"]}}},
                "turn_detection": {"nullable": true, "fields": {
                    "type": {"enum": ["server_vad", "semantic_vad"]},
                    "threshold": {}, "prefix_padding_ms": {}, "silence_duration_ms": {},
                    "create_response": {}, "interrupt_response": {}, "idle_timeout_ms": {},
                    "eagerness": {"enum": ["low", "medium", "high", "auto"]}}}
            }},
            "output": {"fields": {"format": format, "voice": {}, "speed": {}}}
        }},
        "include": {}, "tracing": {}, "tools": {}, "tool_choice": {},
        "max_output_tokens": {}, "truncation": {}, "prompt": {}
    }})
}

/// `POST /v1/realtime/client_secrets`.
pub fn mint_request() -> Value {
    json!({"fields": {
        "expires_after": {"fields": {"anchor": {"enum": ["created_at"]}, "seconds": {}}},
        "session": session()
    }})
}

fn item() -> Value {
    json!({"fields": {
        "id": {}, "object": {"enum": ["realtime.item"]},
        "type": {"enum": ["message", "function_call", "function_call_output"]},
        "status": {"enum": ["completed", "incomplete", "in_progress"]},
        "role": {"enum": ["user", "assistant", "system"]},
        "content": {"items": {"fields": {
            "type": {"enum": ["input_text", "input_audio", "input_image", "output_text", "output_audio"]},
            "text": {}, "audio": {}, "transcript": {}, "image_url": {}, "detail": {}}}},
        "call_id": {}, "name": {}, "arguments": {}, "output": {}
    }})
}

/// A client event's parameters, by its type; `None` for a type OpenAI does not have.
pub fn client_event(kind: &str) -> Option<Value> {
    let event = |extra: Value| {
        let mut fields = json!({"type": {}, "event_id": {}});
        if let (Some(fields), Some(extra)) = (fields.as_object_mut(), extra.as_object()) {
            fields.extend(extra.clone());
        }
        json!({ "fields": fields })
    };
    Some(match kind {
        "session.update" => event(json!({"session": session()})),
        "response.create" => event(json!({"response": {}})),
        "response.cancel" => event(json!({"response_id": {}})),
        "conversation.item.create" => event(json!({"previous_item_id": {}, "item": item()})),
        "input_audio_buffer.append" => event(json!({"audio": {}})),
        "input_audio_buffer.commit" | "input_audio_buffer.clear" | "output_audio_buffer.clear" => {
            event(json!({}))
        }
        "conversation.item.truncate" => {
            event(json!({"item_id": {}, "content_index": {}, "audio_end_ms": {}}))
        }
        "conversation.item.delete" | "conversation.item.retrieve" => event(json!({"item_id": {}})),
        _ => return None,
    })
}

/// Checks `value` against `shape`, `path` naming it in OpenAI's words (`session.audio.input`).
pub fn check(value: &Value, shape: &Value, path: &str) -> Result<(), Refusal> {
    if value.is_null() && shape.get("nullable") == Some(&Value::Bool(true)) {
        return Ok(());
    }
    let at = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    if let Some(fields) = shape.get("fields").and_then(Value::as_object) {
        let Some(object) = value.as_object() else {
            return Err(wrong_type(path, "an object", value));
        };
        for (key, field) in object {
            match fields.get(key) {
                Some(shape) => check(field, shape, &at(key))?,
                None => {
                    return Err(Refusal {
                        code: "unknown_parameter",
                        message: format!("Unknown parameter: '{}'.", at(key)),
                        param: at(key),
                    });
                }
            }
        }
    }
    if let Some(items) = shape.get("items") {
        let Some(array) = value.as_array() else {
            return Err(wrong_type(path, "an array", value));
        };
        for (n, element) in array.iter().enumerate() {
            check(element, items, &format!("{path}[{n}]"))?;
        }
    }
    if let Some(allowed) = shape.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        let shown = match value {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        return Err(Refusal {
            code: "invalid_value",
            message: format!(
                "Invalid value: '{shown}'. Supported values are: {}.",
                listed(allowed)
            ),
            param: path.to_owned(),
        });
    }
    Ok(())
}

fn wrong_type(path: &str, expected: &str, value: &Value) -> Refusal {
    let got = match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    Refusal {
        code: "invalid_type",
        message: format!("Invalid type for '{path}': expected {expected}, but got {got} instead."),
        param: path.to_owned(),
    }
}

/// `'a'`, `'a' and 'b'`, `'a', 'b', and 'c'`.
fn listed(values: &[Value]) -> String {
    let quoted: Vec<String> = values
        .iter()
        .map(|v| {
            format!(
                "'{}'",
                v.as_str().map_or_else(|| v.to_string(), str::to_owned)
            )
        })
        .collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [first, second] => format!("{first} and {second}"),
        [rest @ .., last] => format!("{}, and {last}", rest.join(", ")),
    }
}

/// `session.update`: the fields given replace the session's, objects merged field by field; a
/// `null` clears (as `turn_detection: null` turns voice detection off).
pub fn merge(session: &mut Value, update: &Value) {
    let (Some(session), Some(update)) = (session.as_object_mut(), update.as_object()) else {
        return;
    };
    merge_objects(session, update);
}

fn merge_objects(into: &mut Map<String, Value>, from: &Map<String, Value>) {
    for (key, value) in from {
        match (into.get_mut(key), value) {
            (Some(Value::Object(existing)), Value::Object(given)) => merge_objects(existing, given),
            _ => {
                into.insert(key.clone(), value.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_parameters_are_named_as_openai_names_them() {
        let update = json!({"type": "session.update", "session": {"type": "realtime", "foo": 1}});
        let refusal = check(&update, &client_event("session.update").unwrap(), "").unwrap_err();
        assert_eq!(
            refusal,
            Refusal {
                code: "unknown_parameter",
                message: "Unknown parameter: 'session.foo'.".into(),
                param: "session.foo".into(),
            }
        );
        let nested = json!({"session": {"type": "realtime",
            "audio": {"input": {"turn_detection": {"type": "server_vad", "silence_ms": 5}}}}});
        assert_eq!(
            check(&nested, &mint_request(), "").unwrap_err().param,
            "session.audio.input.turn_detection.silence_ms"
        );
    }

    #[test]
    fn values_outside_an_enum_are_invalid_values() {
        let mint = json!({"session": {"type": "realtime",
            "audio": {"input": {"format": {"type": "pcm16"}}}}});
        let refusal = check(&mint, &mint_request(), "").unwrap_err();
        assert_eq!(refusal.code, "invalid_value");
        assert_eq!(refusal.param, "session.audio.input.format.type");
        assert_eq!(
            refusal.message,
            "Invalid value: 'pcm16'. Supported values are: 'audio/pcm', 'audio/pcmu', and 'audio/pcma'."
        );
        let modalities = json!({"session": {"type": "realtime", "output_modalities": ["video"]}});
        assert_eq!(
            check(&modalities, &mint_request(), "").unwrap_err().param,
            "session.output_modalities[0]"
        );
        let kind = json!({"session": {"type": "speech"}});
        assert!(
            check(&kind, &mint_request(), "")
                .unwrap_err()
                .message
                .ends_with("Supported values are: 'realtime' and 'transcription'.")
        );
        // Voice detection may be switched off with null; the session may not be null.
        let off =
            json!({"session": {"type": "realtime", "audio": {"input": {"turn_detection": null}}}});
        assert_eq!(check(&off, &mint_request(), ""), Ok(()));
        let null = json!({"session": null});
        assert_eq!(
            check(&null, &mint_request(), "").unwrap_err().code,
            "invalid_type"
        );
    }

    #[test]
    fn an_update_changes_only_what_it_gives() {
        let mut session = json!({"type": "realtime", "instructions": "Coach.",
            "audio": {"input": {"turn_detection": {"type": "server_vad", "silence_duration_ms": 500},
                                "transcription": {"model": "whisper-1"}}}});
        merge(
            &mut session,
            &json!({"type": "realtime", "audio": {"input": {"turn_detection": null}}}),
        );
        assert_eq!(session["instructions"], "Coach.");
        assert_eq!(session["audio"]["input"]["turn_detection"], Value::Null);
        assert_eq!(
            session["audio"]["input"]["transcription"]["model"],
            "whisper-1"
        );
        merge(
            &mut session,
            &json!({"type": "realtime", "audio": {"input": {"turn_detection": {"type": "server_vad"}}}}),
        );
        assert_eq!(
            session["audio"]["input"]["turn_detection"]["type"],
            "server_vad"
        );
    }
}
