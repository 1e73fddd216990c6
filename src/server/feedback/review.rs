//! What a language model adds to the measurements: corrections quoting the learner, better ways
//! to say things, strengths, one focus and a CEFR estimate. Asked of OpenAI's Responses API with
//! a strict JSON schema, so the answer has exactly the fields below; against the local simulator
//! the same client code is used, only the base URL differs. Every quote the model makes is
//! checked in code against the learner turn it names, and dropped when it is not there.

mod answer;
mod prompt;
#[cfg(test)]
mod tests;

use std::time::Duration;

use realtime_protocol::{
    http::ApiError,
    responses::{Answer, Reasoning, ResponseObject, ResponseRequest, TextConfig, TextFormat},
};
use secrecy::{ExposeSecret, SecretString};

pub use self::{answer::quotes, prompt::schema};
use self::{
    answer::{ModelAnswer, checked},
    prompt::{INSTRUCTIONS, conversation},
};
use crate::domain::{Topic, feedback::CoachReview};

/// One learner turn as the model sees it: numbered from 1 in spoken order.
#[derive(Debug, Clone)]
pub struct LearnerLine {
    pub item_id: String,
    pub text: String,
}

/// A line of the conversation, for context.
#[derive(Debug, Clone)]
pub enum Line {
    Coach(String),
    Learner(LearnerLine),
}

/// Why no review came back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviewError {
    /// Worth another attempt later: rate limited, the API failing or out of reach, a timeout,
    /// or an answer that does not follow the schema.
    #[error("{0}")]
    Retry(String),
    /// Another attempt would be refused the same way: a configuration problem (key, model) or no
    /// quota left.
    #[error("{0}")]
    Fatal(String),
    /// The model declined to review the conversation.
    #[error("{0}")]
    Refused(String),
}

/// Output tokens allowed, reasoning included.
const MAX_OUTPUT_TOKENS: u32 = 6_000;

pub struct Reviewer {
    http: reqwest::Client,
    base_url: String,
    api_key: SecretString,
    model: String,
}

impl Reviewer {
    pub fn new(
        base_url: &str,
        api_key: SecretString,
        model: &str,
        timeout: Duration,
    ) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(timeout)
            .build()?;
        Ok(Reviewer {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
            api_key,
            model: model.to_owned(),
        })
    }

    pub fn model(&self) -> &str {
        &self.model
    }

    /// The request for a conversation about `topic`.
    pub fn request(&self, topic: &Topic, lines: &[Line]) -> ResponseRequest {
        // Reasoning models think before answering; a little is enough for this.
        let reasoning =
            (self.model.starts_with("gpt-5") || self.model.starts_with('o')).then(|| Reasoning {
                effort: "low".to_owned(),
            });
        ResponseRequest {
            model: self.model.clone(),
            instructions: Some(INSTRUCTIONS.to_owned()),
            input: serde_json::Value::String(conversation(topic, lines)),
            text: Some(TextConfig {
                format: TextFormat {
                    kind: "json_schema".to_owned(),
                    name: Some("speaking_feedback".to_owned()),
                    schema: Some(schema()),
                    strict: Some(true),
                },
            }),
            store: Some(false),
            max_output_tokens: Some(MAX_OUTPUT_TOKENS),
            reasoning,
        }
    }

    /// Asks the model once. The caller retries (the feedback job, with backoff).
    #[tracing::instrument(skip_all, fields(model = %self.model))]
    pub async fn review(&self, topic: &Topic, lines: &[Line]) -> Result<CoachReview, ReviewError> {
        let request = self.request(topic, lines);
        let url = format!("{}/responses", self.base_url);
        let sent = self
            .http
            .post(&url)
            .bearer_auth(self.api_key.expose_secret())
            .json(&request)
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(error) if error.is_timeout() => {
                tracing::warn!("responses: timed out");
                return Err(ReviewError::Retry(
                    "The coach took too long to review this conversation.".into(),
                ));
            }
            Err(error) => {
                // `without_url`: nothing of the request beyond what is needed reaches the log.
                tracing::warn!(error = %error.without_url(), "responses: not reached");
                return Err(ReviewError::Retry(
                    "The coach's reviewer could not be reached.".into(),
                ));
            }
        };
        let status = response.status();
        if !status.is_success() {
            let error = response.json::<ApiError>().await.ok();
            let code = error.as_ref().and_then(|e| e.error.code.clone());
            tracing::warn!(status = status.as_u16(), code = ?code, "responses: refused");
            return Err(classify(status.as_u16(), code.as_deref()));
        }
        let body = match response.json::<ResponseObject>().await {
            Ok(body) => body,
            Err(error) => {
                tracing::warn!(error = %error.without_url(), "responses: unreadable answer");
                return Err(ReviewError::Retry(
                    "The coach's review came back unreadable.".into(),
                ));
            }
        };
        read_answer(&body, lines, &self.model)
    }
}

/// What an HTTP error from the API means for another attempt.
fn classify(status: u16, code: Option<&str>) -> ReviewError {
    match (status, code) {
        (429, Some("insufficient_quota")) => ReviewError::Fatal(
            "Feedback is unavailable: the service has no quota left. Try again later.".into(),
        ),
        (429, _) => ReviewError::Retry("The coach's reviewer was busy.".into()),
        (500..=599, _) => ReviewError::Retry("The coach's reviewer had a problem.".into()),
        _ => ReviewError::Fatal(
            "Feedback is not available on this server right now (the reviewer refused the \
             request)."
                .into(),
        ),
    }
}

/// The review in a response, with invented quotes dropped.
fn read_answer(
    body: &ResponseObject,
    lines: &[Line],
    model: &str,
) -> Result<CoachReview, ReviewError> {
    if body.status == "failed" {
        let code = body.error.as_ref().map(|e| e.code.as_str());
        tracing::warn!(?code, "responses: failed");
        return Err(match code {
            Some("insufficient_quota") => classify(429, code),
            _ => ReviewError::Retry("The coach's reviewer had a problem.".into()),
        });
    }
    let text = match body.answer() {
        Answer::Refusal(_) => {
            return Err(ReviewError::Refused(
                "The coach declined to review this conversation.".into(),
            ));
        }
        Answer::Nothing => {
            return Err(ReviewError::Retry(
                "The coach's review came back empty.".into(),
            ));
        }
        Answer::Text(text) => text,
    };
    if body.status == "incomplete" {
        let reason = body.incomplete_details.as_ref().map(|d| d.reason.as_str());
        tracing::warn!(?reason, "responses: incomplete");
        return Err(ReviewError::Retry(
            "The coach's review was cut short.".into(),
        ));
    }
    let answer: ModelAnswer = serde_json::from_str(text).map_err(|error| {
        tracing::warn!(%error, "responses: answer does not follow the schema");
        ReviewError::Retry("The coach's review came back unreadable.".into())
    })?;
    Ok(checked(answer, lines, model))
}
