//! `POST /v1/responses`: OpenAI's Responses API as far as Speaking Coach's feedback uses it — a
//! text input answered with JSON that follows a strict `json_schema`. Requests are checked as the
//! API checks them (the standard key, unknown parameters, a model that exists, a strict schema);
//! the answer comes from the rule set in `review`, or from what a test queued at
//! `/control/responses` (an answer, an error status, a timeout, invalid JSON, a refusal, an
//! incomplete or failed response).

use std::time::Duration;

use axum::{
    Json,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use realtime_protocol::{
    http::ApiError,
    responses::{REQUEST_PARAMETERS, ResponseRequest},
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::{
    Simulator,
    keys::{api_error, check_standard_key, unix_now},
    new_id, review, schema,
};

/// Text models the simulator answers for.
pub const TEXT_MODELS: &[&str] = &[
    "gpt-5",
    "gpt-5-mini",
    "gpt-5-nano",
    "gpt-5.1",
    "gpt-5.1-mini",
    "gpt-4.1",
    "gpt-4.1-mini",
    "gpt-4.1-nano",
    "gpt-4o",
    "gpt-4o-mini",
    "o4-mini",
];

/// What the next request gets instead of the rule set's answer (each used once, in order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ResponseOutcome {
    /// This JSON as the model's answer (it must follow the request's schema).
    Answer { output: Value },
    /// An HTTP error with the API's error body: 429 (`rate_limit_exceeded`, or
    /// `insufficient_quota`), 500, 503, ...
    Error {
        status: u16,
        #[serde(default)]
        code: Option<String>,
    },
    /// The answer comes only after `seconds` (at most 300): longer than a client waits.
    Timeout { seconds: u64 },
    /// A 200 whose answer text is not JSON (cut off mid-way).
    InvalidJson,
    /// The model declines (`refusal` content).
    Refusal,
    /// `status: incomplete` (`max_output_tokens`), the text cut off.
    Incomplete,
    /// `status: failed` with `error.code` `server_error`.
    Failed,
}

/// The most outcomes that may wait at once.
pub const MAX_QUEUED: usize = 1_000;

fn invalid(param: &str, code: &str, message: impl Into<String>) -> Response {
    api_error(
        StatusCode::BAD_REQUEST,
        ApiError::new("invalid_request_error", Some(code), message).with_param(param),
    )
}

/// `POST /v1/responses`.
pub(crate) async fn create(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    body: String,
) -> Response {
    if let Err(problem) = check_standard_key(&sim, &headers) {
        return problem.into_response();
    }
    let value: Value = match serde_json::from_str(&body) {
        Ok(value @ Value::Object(_)) => value,
        _ => {
            return api_error(
                StatusCode::BAD_REQUEST,
                ApiError::new(
                    "invalid_request_error",
                    None,
                    "We could not parse the JSON body of your request. (HINT: This likely means \
                     you aren't using your HTTP library correctly. The OpenAI API expects a JSON \
                     payload.)",
                ),
            );
        }
    };
    if let Some(unknown) = value
        .as_object()
        .into_iter()
        .flat_map(|o| o.keys())
        .find(|key| !REQUEST_PARAMETERS.contains(&key.as_str()))
    {
        return invalid(
            unknown,
            "unknown_parameter",
            format!("Unknown parameter: '{unknown}'."),
        );
    }
    for required in ["model", "input"] {
        if value.get(required).is_none() {
            return invalid(
                required,
                "missing_required_parameter",
                format!("Missing required parameter: '{required}'."),
            );
        }
    }
    let request: ResponseRequest = match serde_json::from_value(value) {
        Ok(request) => request,
        Err(error) => return invalid("body", "invalid_type", error.to_string()),
    };
    if !TEXT_MODELS.contains(&request.model.as_str()) {
        return invalid(
            "model",
            "model_not_found",
            format!("The requested model '{}' does not exist.", request.model),
        );
    }
    let reasoning_model = request.model.starts_with("gpt-5") || request.model.starts_with('o');
    if let Some(reasoning) = &request.reasoning {
        if !reasoning_model {
            return invalid(
                "reasoning.effort",
                "unsupported_parameter",
                "Unsupported parameter: 'reasoning.effort' is not supported with this model.",
            );
        }
        if !["minimal", "low", "medium", "high"].contains(&reasoning.effort.as_str()) {
            return invalid(
                "reasoning.effort",
                "invalid_value",
                format!("Invalid value: '{}'.", reasoning.effort),
            );
        }
    }
    let schema = match &request.text {
        Some(text) if text.format.kind == "json_schema" => {
            let Some(name) = text.format.name.as_deref() else {
                return invalid(
                    "text.format.name",
                    "missing_required_parameter",
                    "Missing required parameter: 'text.format.name'.",
                );
            };
            let Some(schema) = text.format.schema.clone() else {
                return invalid(
                    "text.format.schema",
                    "missing_required_parameter",
                    "Missing required parameter: 'text.format.schema'.",
                );
            };
            if text.format.strict == Some(true)
                && let Err(problem) = schema::check_strict(&schema)
            {
                return invalid(
                    "text.format.schema",
                    "invalid_json_schema",
                    format!("Invalid schema for response_format '{name}': {problem}"),
                );
            }
            Some(schema)
        }
        Some(text) if !["text", "json_object"].contains(&text.format.kind.as_str()) => {
            return invalid(
                "text.format.type",
                "invalid_value",
                format!("Invalid value: '{}'.", text.format.kind),
            );
        }
        _ => None,
    };
    sim.inner.control.count_response();
    let outcome = sim.inner.control.next_response();
    tracing::info!(model = %request.model, outcome = ?outcome.as_ref().map(kind), "sim: response");
    let text = review::input_text(&request.input);
    match outcome {
        Some(ResponseOutcome::Error { status, code }) => error_answer(status, code.as_deref()),
        Some(ResponseOutcome::Timeout { seconds }) => {
            tokio::time::sleep(Duration::from_secs(seconds.min(300))).await;
            answer(
                &request.model,
                "completed",
                message(rules(&text, schema.as_ref())),
            )
        }
        Some(ResponseOutcome::InvalidJson) => answer(
            &request.model,
            "completed",
            message(r#"{"corrections": [{"turn": 1, "original": "#.to_owned()),
        ),
        Some(ResponseOutcome::Refusal) => answer(
            &request.model,
            "completed",
            json!([{"type": "refusal", "refusal": "I'm sorry, I can't help with that."}]),
        ),
        Some(ResponseOutcome::Incomplete) => {
            let mut full = rules(&text, schema.as_ref());
            full.truncate(full.len() / 2);
            let mut response = answer_json(&request.model, "incomplete", message(full));
            response["incomplete_details"] = json!({"reason": "max_output_tokens"});
            Json(response).into_response()
        }
        Some(ResponseOutcome::Failed) => {
            let mut response = answer_json(&request.model, "failed", json!([]));
            response["output"] = json!([]);
            response["error"] = json!({"code": "server_error",
                                      "message": "The model failed to generate a response."});
            Json(response).into_response()
        }
        Some(ResponseOutcome::Answer { output }) => {
            if let Some(schema) = &schema
                && let Err(problem) = schema::validate(&output, schema)
            {
                return api_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ApiError::new(
                        "server_error",
                        None,
                        format!(
                            "Simulator: the queued answer does not follow the request's schema ({problem})."
                        ),
                    ),
                );
            }
            answer(&request.model, "completed", message(output.to_string()))
        }
        None => answer(
            &request.model,
            "completed",
            message(rules(&text, schema.as_ref())),
        ),
    }
}

fn kind(outcome: &ResponseOutcome) -> &'static str {
    match outcome {
        ResponseOutcome::Answer { .. } => "answer",
        ResponseOutcome::Error { .. } => "error",
        ResponseOutcome::Timeout { .. } => "timeout",
        ResponseOutcome::InvalidJson => "invalid_json",
        ResponseOutcome::Refusal => "refusal",
        ResponseOutcome::Incomplete => "incomplete",
        ResponseOutcome::Failed => "failed",
    }
}

/// The rule set's answer as text, made to follow `schema` (the smallest valid answer when the
/// schema is not the feedback schema the rules know).
fn rules(input: &str, schema: Option<&Value>) -> String {
    let answer = review::review(input);
    match schema {
        Some(schema) if schema::validate(&answer, schema).is_err() => {
            schema::instance(schema).to_string()
        }
        _ => answer.to_string(),
    }
}

/// An assistant message's content holding `text`.
fn message(text: String) -> Value {
    json!([{"type": "output_text", "text": text, "annotations": []}])
}

fn answer_json(model: &str, status: &str, content: Value) -> Value {
    let text_len = content.to_string().len() as u64;
    json!({
        "id": new_id("resp"),
        "object": "response",
        "created_at": unix_now(),
        "status": status,
        "background": false,
        "error": null,
        "incomplete_details": null,
        "instructions": null,
        "max_output_tokens": null,
        "model": model,
        "output": [{
            "type": "message",
            "id": new_id("msg"),
            "status": if status == "completed" { "completed" } else { "incomplete" },
            "role": "assistant",
            "content": content
        }],
        "parallel_tool_calls": true,
        "previous_response_id": null,
        "store": false,
        "tool_choice": "auto",
        "tools": [],
        "truncation": "disabled",
        "usage": {
            "input_tokens": 0,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": text_len / 4,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": text_len / 4
        },
        "user": null,
        "metadata": {}
    })
}

fn answer(model: &str, status: &str, content: Value) -> Response {
    Json(answer_json(model, status, content)).into_response()
}

/// An HTTP error as the API words it.
fn error_answer(status: u16, code: Option<&str>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let error = match (status.as_u16(), code) {
        (429, Some("insufficient_quota")) => ApiError::new(
            "insufficient_quota",
            Some("insufficient_quota"),
            "You exceeded your current quota, please check your plan and billing details.",
        ),
        (429, _) => ApiError::new(
            "requests",
            Some("rate_limit_exceeded"),
            "Rate limit reached for requests. Please try again in 1s.",
        ),
        (500..=599, code) => ApiError::new(
            "server_error",
            code,
            "The server had an error while processing your request. Sorry about that!",
        ),
        (_, code) => ApiError::new("invalid_request_error", code, "Simulated failure."),
    };
    api_error(status, error)
}

#[derive(Debug, Deserialize)]
pub(crate) struct QueueOutcomes {
    outcomes: Vec<ResponseOutcome>,
}

/// `POST /control/responses` `{"outcomes":[{"kind":"error","status":429}, ...]}`.
pub(crate) async fn queue_outcomes(
    State(sim): State<Simulator>,
    Json(body): Json<QueueOutcomes>,
) -> Response {
    match sim.inner.control.queue_responses(body.outcomes) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(queued) => (
            StatusCode::BAD_REQUEST,
            format!("At most {MAX_QUEUED} outcomes may wait ({queued} already do)."),
        )
            .into_response(),
    }
}
