//! A local Realtime API: the embedded default coach when no OpenAI key is configured, and the
//! engine of every call test.
//!
//! [`Simulator::router`] serves, relative to where it is mounted (the app mounts it at `/sim`, so
//! its base URL is `http://127.0.0.1:3000/sim/v1`):
//!
//! - `POST /v1/realtime/client_secrets`: mint an ephemeral key (`ek_…`) bound to a session config;
//! - `POST /v1/realtime/calls`: SDP offer in, SDP answer out (real WebRTC);
//! - `POST /v1/realtime/calls/{id}/hangup`;
//! - `POST /v1/responses`: the Responses API with structured output, answered by a small rule
//!   set (`review`) that recognises common learner errors;
//! - `/control/…`: fault injection, queued transcripts, queued Responses outcomes and counters,
//!   for tests and demos.

mod calls;
#[cfg(test)]
mod contract_tests;
mod control;
mod conversation;
mod keys;
mod params;
pub mod recognizer;
mod responses;
pub mod review;
pub mod schema;
pub mod speech;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    routing::{get, post},
};
use secrecy::SecretString;

pub use control::{Counters, Fault, MAX_ANSWER_DELAY_MS, MAX_FAULT_SECS, MAX_FAULTS};
pub use keys::{MAX_INSTRUCTIONS_BYTES, MAX_LIVE_KEYS};
pub use recognizer::{Recognizer, RecognizerCommand};
pub use responses::{ResponseOutcome, TEXT_MODELS};

/// The development standard key (also in `.env.example`): only ever valid against a simulator.
pub const DEV_API_KEY: &str = "sk-sim-development-key";

/// The models the simulator answers for (the same names the API accepts).
pub const MODELS: &[&str] = &[
    "gpt-realtime",
    "gpt-realtime-mini",
    "gpt-realtime-2025-08-28",
    "gpt-realtime-mini-2025-10-06",
];

#[derive(Clone)]
pub struct SimConfig {
    /// The "standard" API key that may mint client secrets.
    pub api_key: SecretString,
    /// How long the coach takes to start a reply after the learner stops (or `response.create`).
    pub reply_latency: Duration,
    /// The speech recognizer that transcribes learner turns; without one they get a placeholder
    /// (unless a test queued their text).
    pub recognizer: Option<RecognizerCommand>,
}

/// One simulator: its keys, calls, faults and counters. Cheap to clone.
#[derive(Clone)]
pub struct Simulator {
    inner: Arc<Inner>,
}

struct Inner {
    config: SimConfig,
    keys: Mutex<HashMap<String, keys::MintedKey>>,
    calls: Mutex<HashMap<String, tokio::sync::mpsc::Sender<calls::CallCommand>>>,
    control: control::Control,
    recognizer: Option<Recognizer>,
}

impl Simulator {
    /// A simulator; with a recognizer configured, starts it in the background (so within a Tokio
    /// runtime).
    pub fn new(config: SimConfig) -> Self {
        let recognizer = config.recognizer.clone().map(Recognizer::start);
        Simulator {
            inner: Arc::new(Inner {
                config,
                keys: Mutex::new(HashMap::new()),
                calls: Mutex::new(HashMap::new()),
                control: control::Control::default(),
                recognizer,
            }),
        }
    }

    /// The recognizer learner turns go to, while it works.
    fn recognizer(&self) -> Option<&Recognizer> {
        self.inner.recognizer.as_ref().filter(|r| r.available())
    }

    /// The HTTP API, to be mounted where its base URL should be (minus `/v1`).
    pub fn router(&self) -> Router {
        let control = Router::new()
            .route("/control/responses", post(responses::queue_outcomes))
            .route("/control/faults", post(control::queue_faults))
            .route("/control/transcripts", post(control::queue_transcripts))
            .route("/control/settings", post(control::settings))
            .route("/control/counters", get(control::counters))
            .route("/control/calls", post(control::act_on_calls))
            .route("/control/reset", post(control::reset))
            .route_layer(axum::middleware::from_fn_with_state(
                self.clone(),
                control::require_key,
            ));
        Router::new()
            .route("/v1/realtime/client_secrets", post(keys::mint))
            .route("/v1/realtime/calls", post(calls::create_call))
            .route("/v1/realtime/calls/{call_id}/hangup", post(calls::hangup))
            .route("/v1/responses", post(responses::create))
            .route_layer(axum::middleware::from_fn_with_state(
                self.clone(),
                control::emulated_network,
            ))
            .merge(control)
            .with_state(self.clone())
    }

    pub fn counters(&self) -> Counters {
        let mut counters = self.inner.control.counters();
        if let Some(recognizer) = &self.inner.recognizer {
            (
                counters.recognized,
                counters.recognizer_failures,
                counters.recognizer_restarts,
            ) = recognizer.counts();
        }
        counters
    }

    /// Queues a fault, as `POST /control/faults` does; refused (logged) past its bounds.
    pub fn queue_fault(&self, fault: Fault) {
        if let Err(refused) = self.inner.control.queue_faults(vec![fault]) {
            tracing::warn!(?refused, "sim: fault not queued");
        }
    }

    /// Queues what the next Responses requests get, as `POST /control/responses` does.
    pub fn queue_responses(&self, outcomes: Vec<ResponseOutcome>) {
        if let Err(queued) = self.inner.control.queue_responses(outcomes) {
            tracing::warn!(queued, "sim: too many Responses outcomes queued");
        }
    }

    /// Queues what the next learner utterance "said", as `POST /control/transcripts` does.
    pub fn queue_transcript(&self, text: impl Into<String>) {
        if let Err(refused) = self.inner.control.queue_transcripts(vec![text.into()]) {
            tracing::warn!(?refused, "sim: transcript not queued");
        }
    }
}

/// Locks a mutex, recovering the data if a panicking thread poisoned it: the simulator's maps
/// hold plain data that stays consistent across a panic.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// `prefix_` + 32 random hex digits: `ek_…`, `sess_…`, `rtc_…`, `item_…`.
/// An id shaped as OpenAI's: a prefix and 21 random characters (`item_` ids are 26 long, within
/// the 32 a client may use for its own items).
fn new_id(prefix: &str) -> String {
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}_{}", &random[..21])
}

/// A secret's value: 128 random bits.
fn new_secret(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}
