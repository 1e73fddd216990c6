//! OpenAI's Responses API (`POST /v1/responses`), the part the feedback job uses: a text input
//! answered with JSON that follows a strict JSON schema (`text.format` of type `json_schema`).
//! Shared by the server's client and the local simulator, so both read the same JSON.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `POST /v1/responses` body (the fields this app sends; the API has more).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseRequest {
    pub model: String,
    /// The system (developer) message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    /// The user's input: a string, or a list of input items.
    pub input: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<TextConfig>,
    /// False: the API keeps nothing of the conversation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_output_tokens: Option<u32>,
    /// Only for reasoning models (`gpt-5*`, `o*`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<Reasoning>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextConfig {
    pub format: TextFormat,
}

/// `{"type":"json_schema","name":…,"schema":{…},"strict":true}` (or `{"type":"text"}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextFormat {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reasoning {
    pub effort: String,
}

/// The top-level request parameters the API knows: any other is `unknown_parameter`.
pub const REQUEST_PARAMETERS: &[&str] = &[
    "background",
    "conversation",
    "include",
    "input",
    "instructions",
    "max_output_tokens",
    "max_tool_calls",
    "metadata",
    "model",
    "parallel_tool_calls",
    "previous_response_id",
    "prompt",
    "prompt_cache_key",
    "reasoning",
    "safety_identifier",
    "service_tier",
    "store",
    "stream",
    "stream_options",
    "temperature",
    "text",
    "tool_choice",
    "tools",
    "top_logprobs",
    "top_p",
    "truncation",
    "user",
];

/// A response object (`"object": "response"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseObject {
    pub id: String,
    pub object: String,
    pub created_at: u64,
    /// `completed`, `incomplete`, `failed`, `in_progress`, `cancelled`, `queued`.
    pub status: String,
    #[serde(default)]
    pub error: Option<ResponseError>,
    #[serde(default)]
    pub incomplete_details: Option<IncompleteDetails>,
    pub model: String,
    #[serde(default)]
    pub output: Vec<OutputItem>,
    #[serde(default)]
    pub usage: Option<Usage>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseError {
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncompleteDetails {
    /// `max_output_tokens` or `content_filter`.
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub total_tokens: u64,
}

/// One item of a response's `output`. Items this app does not read (reasoning, tool calls) are
/// kept as `Other`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OutputItem {
    Message {
        id: String,
        #[serde(default)]
        status: Option<String>,
        role: String,
        content: Vec<OutputContent>,
    },
    #[serde(other)]
    Other,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OutputContent {
    OutputText {
        text: String,
        #[serde(default)]
        annotations: Vec<Value>,
    },
    /// The model declined to answer.
    Refusal { refusal: String },
    #[serde(other)]
    Other,
}

/// What the assistant's message says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer<'a> {
    Text(&'a str),
    Refusal(&'a str),
    /// No message with text or a refusal in the output.
    Nothing,
}

impl ResponseObject {
    /// The assistant's answer: the first text or refusal of its message.
    pub fn answer(&self) -> Answer<'_> {
        self.output
            .iter()
            .filter_map(|item| match item {
                OutputItem::Message { content, .. } => Some(content),
                OutputItem::Other => None,
            })
            .flatten()
            .find_map(|content| match content {
                OutputContent::OutputText { text, .. } => Some(Answer::Text(text)),
                OutputContent::Refusal { refusal } => Some(Answer::Refusal(refusal)),
                OutputContent::Other => None,
            })
            .unwrap_or(Answer::Nothing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_documented_answer_with_structured_output() {
        let response: ResponseObject = serde_json::from_str(
            r#"{"id":"resp_67cb","object":"response","created_at":1741476542,"status":"completed",
                "error":null,"incomplete_details":null,"instructions":null,"max_output_tokens":null,
                "model":"gpt-5-mini-2025-08-07",
                "output":[{"type":"reasoning","id":"rs_1","summary":[]},
                          {"type":"message","id":"msg_1","status":"completed","role":"assistant",
                           "content":[{"type":"output_text","text":"{\"a\":1}","annotations":[]}]}],
                "parallel_tool_calls":true,"previous_response_id":null,"store":false,
                "text":{"format":{"type":"json_schema","name":"x","schema":{},"strict":true}},
                "usage":{"input_tokens":36,"input_tokens_details":{"cached_tokens":0},
                         "output_tokens":87,"output_tokens_details":{"reasoning_tokens":0},
                         "total_tokens":123},"user":null,"metadata":{}}"#,
        )
        .unwrap();
        assert_eq!(response.answer(), Answer::Text("{\"a\":1}"));
        assert_eq!(response.usage.unwrap().total_tokens, 123);
    }

    #[test]
    fn reads_a_refusal() {
        let response: ResponseObject = serde_json::from_str(
            r#"{"id":"resp_1","object":"response","created_at":1,"status":"completed","model":"m",
                "output":[{"type":"message","id":"msg_1","role":"assistant",
                           "content":[{"type":"refusal","refusal":"I can't help with that."}]}]}"#,
        )
        .unwrap();
        assert_eq!(
            response.answer(),
            Answer::Refusal("I can't help with that.")
        );
    }

    #[test]
    fn the_request_serialises_only_what_is_set() {
        let request = ResponseRequest {
            model: "gpt-5-mini".into(),
            instructions: None,
            input: Value::String("hi".into()),
            text: None,
            store: Some(false),
            max_output_tokens: None,
            reasoning: None,
        };
        assert_eq!(
            serde_json::to_string(&request).unwrap(),
            r#"{"model":"gpt-5-mini","input":"hi","store":false}"#
        );
    }
}
