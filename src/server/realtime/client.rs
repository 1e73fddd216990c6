//! The server's Realtime API client: mints client secrets with the standard key. The key is sent
//! only in the `Authorization` header of this request and is never logged or returned.

use std::time::Duration;

use realtime_protocol::{
    SessionConfig,
    http::{Anchor, ApiError, ClientSecret, ClientSecretRequest, ExpiresAfter},
    session::{AudioConfig, AudioInput, AudioOutput, NoiseReduction, Transcription},
};
use secrecy::{ExposeSecret, SecretString};

use crate::server::config::RealtimeConfig;

#[derive(Debug, thiserror::Error)]
pub enum MintError {
    /// Upstream kept failing (5xx, 429, timeouts, connection errors) through every retry.
    #[error("the Realtime API is unavailable after {attempts} attempts: {last}")]
    Unavailable { attempts: u32, last: String },
    /// Upstream refused the request itself (a 4xx other than 429): a configuration problem.
    #[error("the Realtime API refused the request ({status}): {message}")]
    Refused { status: u16, message: String },
    #[error("the Realtime API answered something unreadable: {0}")]
    Malformed(String),
}

pub struct RealtimeClient {
    http: reqwest::Client,
    base_url: String,
    api_key: SecretString,
    model: String,
    voice: String,
    transcription_model: String,
    attempts: u32,
    backoff: Duration,
}

impl RealtimeClient {
    pub fn new(config: &RealtimeConfig) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(10))
            .build()?;
        Ok(RealtimeClient {
            http,
            base_url: config.base_url.clone(),
            api_key: config.api_key.clone(),
            model: config.model.clone(),
            voice: config.voice.clone(),
            transcription_model: config.transcription_model.clone(),
            attempts: 3,
            backoff: Duration::from_millis(200),
        })
    }

    /// Shorter waits between retries and a shorter request timeout (tests).
    pub fn with_timing(mut self, backoff: Duration, timeout: Duration) -> Self {
        self.backoff = backoff;
        if let Ok(http) = reqwest::Client::builder()
            .connect_timeout(timeout)
            .timeout(timeout)
            .build()
        {
            self.http = http;
        }
        self
    }

    /// Where browsers POST their SDP offers.
    pub fn calls_url(&self) -> String {
        format!("{}/realtime/calls", self.base_url)
    }

    /// The session every coach call gets: audio out, transcription of the learner, turn
    /// detection off until the page turns it on.
    fn session(&self, instructions: String) -> SessionConfig {
        SessionConfig {
            kind: SessionConfig::KIND.to_owned(),
            model: Some(self.model.clone()),
            instructions: Some(instructions),
            output_modalities: Some(vec!["audio".to_owned()]),
            audio: Some(AudioConfig {
                input: Some(AudioInput {
                    transcription: Some(Transcription {
                        model: self.transcription_model.clone(),
                        language: Some("en".to_owned()),
                        prompt: None,
                    }),
                    // Off: a call may be opened before the learner presses Start (the warm
                    // call), and nothing may be heard, committed or answered before then. The
                    // page turns it on at Start (`domain::session::turn_detection`).
                    turn_detection: Some(None),
                    noise_reduction: Some(NoiseReduction {
                        kind: "near_field".to_owned(),
                    }),
                }),
                output: Some(AudioOutput {
                    voice: Some(self.voice.clone()),
                }),
            }),
        }
    }

    /// Mints a client secret bound to `instructions`, retrying transient failures with jittered
    /// exponential backoff.
    #[tracing::instrument(skip_all)]
    pub async fn mint(&self, instructions: String) -> Result<ClientSecret, MintError> {
        let body = ClientSecretRequest {
            expires_after: Some(ExpiresAfter {
                anchor: Anchor::CreatedAt,
                seconds: ExpiresAfter::DEFAULT_SECONDS,
            }),
            session: self.session(instructions),
        };
        let url = format!("{}/realtime/client_secrets", self.base_url);
        let mut last = String::new();
        for attempt in 1..=self.attempts {
            let sent = self
                .http
                .post(&url)
                .bearer_auth(self.api_key.expose_secret())
                .json(&body)
                .send()
                .await;
            match sent {
                Ok(response) if response.status().is_success() => {
                    return response
                        .json::<ClientSecret>()
                        .await
                        .map_err(|error| MintError::Malformed(error.without_url().to_string()));
                }
                Ok(response) => {
                    let status = response.status();
                    let message = response
                        .json::<ApiError>()
                        .await
                        .map(|error| error.error.message)
                        .unwrap_or_else(|_| status.to_string());
                    if status.as_u16() != 429 && !status.is_server_error() {
                        return Err(MintError::Refused {
                            status: status.as_u16(),
                            message,
                        });
                    }
                    last = format!("{status}: {message}");
                }
                // `without_url`: never log anything of the request beyond what is needed.
                Err(error) => last = error.without_url().to_string(),
            }
            tracing::warn!(attempt, error = %last, "realtime: mint attempt failed");
            if attempt < self.attempts {
                tokio::time::sleep(jittered(self.backoff * 2u32.pow(attempt - 1))).await;
            }
        }
        Err(MintError::Unavailable {
            attempts: self.attempts,
            last,
        })
    }
}

/// `base` scaled by a random factor in [0.5, 1.5), so retrying clients spread out.
fn jittered(base: Duration) -> Duration {
    let random = (uuid::Uuid::new_v4().as_u128() % 1000) as f64 / 1000.0;
    base.mul_f64(0.5 + random)
}
