//! What every handler and server function can reach.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use sqlx::PgPool;

use super::{
    auth::rate_limit::AuthLimits,
    config::Config,
    feedback::{FeedbackDeps, review::Reviewer},
    jobs::{FEEDBACK_ATTEMPTS, FeedbackJobs, FeedbackTask},
    mail::{MailError, Mailer},
    realtime::RealtimeClient,
    storage::Storage,
};
use crate::error::AppError;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: PgPool,
    pub config: Arc<Config>,
    pub auth_limits: AuthLimits,
    pub realtime: Arc<RealtimeClient>,
    /// Where recordings are kept.
    pub storage: Storage,
    /// The local Realtime API, mounted at `/sim`, when no OpenAI key is configured.
    pub simulator: Option<realtime_sim::Simulator>,
    /// Queues the feedback job (and builds its worker).
    pub feedback: FeedbackJobs,
    /// The exports running now (each holds a blocking thread).
    pub exports: super::export::Exports,
    /// Sends sign-up confirmation links.
    pub mailer: Mailer,
}

/// A client the state holds could not be built from the configuration.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("the HTTP client")]
    Http(#[from] reqwest::Error),
    #[error("the mailer")]
    Mail(#[from] MailError),
}

impl AppState {
    pub fn new(
        leptos_options: LeptosOptions,
        db: PgPool,
        config: Config,
    ) -> Result<Self, ClientError> {
        let realtime = &config.realtime;
        let simulator = realtime.mounts_simulator.then(|| {
            realtime_sim::Simulator::new(realtime_sim::SimConfig {
                api_key: realtime.api_key.clone(),
                reply_latency: std::time::Duration::from_millis(realtime.sim_reply_latency_ms),
                recognizer: realtime_sim::recognizer::configured(
                    realtime.sim_recognizer.as_deref(),
                ),
            })
        });
        let storage = Storage::from_config(&config.storage);
        let reviewer = Reviewer::new(
            &realtime.base_url,
            realtime.api_key.clone(),
            &config.feedback.model,
            std::time::Duration::from_secs(u64::from(config.feedback.timeout_secs.get())),
        )?;
        let deps = FeedbackDeps {
            db: db.clone(),
            storage: storage.clone(),
            reviewer: Arc::new(reviewer),
            max_attempts: FEEDBACK_ATTEMPTS,
        };
        let first_retry =
            std::time::Duration::from_secs(u64::from(config.feedback.first_retry_secs.get()));
        Ok(AppState {
            feedback: FeedbackJobs::new(db.clone(), FeedbackTask::new(deps, first_retry)),
            leptos_options,
            auth_limits: AuthLimits::new(db.clone(), config.auth_attempts_per_minute),
            realtime: Arc::new(RealtimeClient::new(realtime)?),
            db,
            storage,
            simulator,
            exports: Default::default(),
            mailer: Mailer::new(&config.mail)?,
            config: Arc::new(config),
        })
    }

    /// The state as provided to server functions by `leptos_routes_with_context`.
    pub fn current() -> Result<Self, AppError> {
        leptos::prelude::use_context::<AppState>().ok_or_else(|| {
            let error = MissingState;
            super::error::internal("server function context", &error)
        })
    }
}

#[derive(Debug, thiserror::Error)]
#[error("AppState was not provided to this server function")]
struct MissingState;
