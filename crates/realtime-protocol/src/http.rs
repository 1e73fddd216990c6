//! The HTTP side: minting client secrets, and the error body every endpoint uses.

use serde::{Deserialize, Serialize};

use crate::session::SessionConfig;

/// `POST /v1/realtime/client_secrets` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientSecretRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_after: Option<ExpiresAfter>,
    pub session: SessionConfig,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpiresAfter {
    /// Always `"created_at"`.
    pub anchor: Anchor,
    /// 10..=7200; the API's default is 600.
    pub seconds: u32,
}

impl ExpiresAfter {
    pub const MIN_SECONDS: u32 = 10;
    pub const MAX_SECONDS: u32 = 7200;
    pub const DEFAULT_SECONDS: u32 = 600;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Anchor {
    CreatedAt,
}

/// `POST /v1/realtime/client_secrets` answer. `value` (`ek_…`) opens calls until `expires_at`
/// (unix seconds); the session config is bound to it. The echo of that config is informative
/// only: `None` when absent or unreadable (OpenAI's has many nullable fields), never a failed
/// mint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientSecret {
    pub value: String,
    pub expires_at: u64,
    #[serde(
        default,
        deserialize_with = "crate::lenient::optional_part",
        skip_serializing_if = "Option::is_none"
    )]
    pub session: Option<MintedSession>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MintedSession {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(flatten)]
    pub config: SessionConfig,
}

/// Every error the API answers: `{"error":{"message","type","code","param"}}` with a 4xx/5xx.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiError {
    pub error: ApiErrorBody,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiErrorBody {
    #[serde(default, deserialize_with = "crate::lenient::null_as_default")]
    pub message: String,
    #[serde(
        rename = "type",
        default,
        deserialize_with = "crate::lenient::null_as_default"
    )]
    pub kind: String,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub param: Option<String>,
}

impl ApiError {
    pub fn new(kind: &str, code: Option<&str>, message: impl Into<String>) -> Self {
        ApiError {
            error: ApiErrorBody {
                message: message.into(),
                kind: kind.to_owned(),
                code: code.map(str::to_owned),
                param: None,
            },
        }
    }

    pub fn with_param(mut self, param: &str) -> Self {
        self.error.param = Some(param.to_owned());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_mint_request_and_answer() {
        let request: ClientSecretRequest = serde_json::from_str(
            r#"{ "expires_after": { "anchor": "created_at", "seconds": 600 },
                 "session": { "type": "realtime", "model": "gpt-realtime-mini",
                   "instructions": "...", "output_modalities": ["audio"],
                   "audio": { "input": { "transcription": { "model": "gpt-4o-mini-transcribe", "language": "en" },
                                         "turn_detection": { "type": "server_vad", "silence_duration_ms": 500 },
                                         "noise_reduction": { "type": "near_field" } },
                              "output": { "voice": "marin" } } } }"#,
        )
        .unwrap();
        assert_eq!(request.expires_after.unwrap().seconds, 600);
        assert_eq!(request.session.model.as_deref(), Some("gpt-realtime-mini"));
        let input = request.session.audio.unwrap().input.unwrap();
        assert_eq!(
            input.turn_detection.unwrap().unwrap().silence_duration_ms,
            Some(500)
        );

        let answer: ClientSecret = serde_json::from_str(
            r#"{"value":"ek_abc","expires_at":1767225600,
                "session":{"id":"sess_1","type":"realtime","model":"gpt-realtime-mini"}}"#,
        )
        .unwrap();
        assert_eq!(answer.value, "ek_abc");
        let session = answer.session.unwrap();
        assert_eq!(session.id.as_deref(), Some("sess_1"));
        assert_eq!(session.config.kind, "realtime");
    }

    /// A GA answer as OpenAI's schema allows it: every optional field present and `null`, and
    /// fields this client does not model.
    #[test]
    fn a_mint_answer_with_nulls_where_the_schema_allows_them_parses() {
        let answer: ClientSecret = serde_json::from_str(
            r#"{"value":"ek_68af","expires_at":1756310470,
                "session":{"type":"realtime","object":"realtime.session","id":"sess_C9C",
                  "model":"gpt-realtime-mini","output_modalities":["audio"],"instructions":null,
                  "tools":[],"tool_choice":"auto","max_output_tokens":"inf","tracing":null,
                  "truncation":"auto","prompt":null,"include":null,"expires_at":0,
                  "audio":{"input":{"format":{"type":"audio/pcm","rate":24000},
                                    "transcription":{"model":null,"language":null,"prompt":null},
                                    "noise_reduction":null,
                                    "turn_detection":{"type":"server_vad","threshold":0.5,
                                      "prefix_padding_ms":300,"silence_duration_ms":null,
                                      "idle_timeout_ms":null,"create_response":null,
                                      "interrupt_response":null}},
                           "output":{"format":{"type":"audio/pcm","rate":24000},"voice":null,
                                     "speed":1.0}}}}"#,
        )
        .expect("OpenAI's answer parses");
        assert_eq!(answer.value, "ek_68af");
        assert_eq!(answer.expires_at, 1_756_310_470);
        // Even a session echo this client cannot read does not fail the mint: only the secret and
        // its expiry are needed.
        let odd: ClientSecret = serde_json::from_str(
            r#"{"value":"ek_1","expires_at":1,"session":{"type":null,"audio":{"input":{"turn_detection":{"type":null}}}}}"#,
        )
        .expect("an unreadable echo is not the secret's problem");
        assert_eq!(odd.value, "ek_1");
        let bare: ClientSecret =
            serde_json::from_str(r#"{"value":"ek_2","expires_at":2}"#).unwrap();
        assert_eq!(bare.session, None);
    }

    #[test]
    fn an_error_with_null_fields_still_reads() {
        let error: ApiError = serde_json::from_str(
            r#"{"error":{"message":null,"type":null,"code":null,"param":null}}"#,
        )
        .unwrap();
        assert_eq!(error.error.message, "");
    }

    #[test]
    fn errors_round_trip() {
        let error = ApiError::new("invalid_request_error", Some("invalid_api_key"), "bad key");
        let json = serde_json::to_string(&error).unwrap();
        assert_eq!(
            json,
            r#"{"error":{"message":"bad key","type":"invalid_request_error","code":"invalid_api_key","param":null}}"#
        );
        assert_eq!(serde_json::from_str::<ApiError>(&json).unwrap(), error);
    }
}
