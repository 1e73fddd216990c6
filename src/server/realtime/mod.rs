//! The voice coach: OpenAI's Realtime API, or the local simulator mounted at `/sim` when no
//! `OPENAI_API_KEY` is configured. The same client code talks to both; only the base URL differs.

pub mod client;
pub mod instructions;

use std::{num::NonZeroU32, sync::Arc, time::Duration};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use uuid::Uuid;

use crate::{
    domain::{Topic, voice::VoiceCallSecret},
    error::AppError,
    server::error::internal,
};
pub use client::{MintError, RealtimeClient};

/// Call secrets a learner may mint: 10, then one more every 6 seconds.
#[derive(Clone)]
pub struct MintLimits(Arc<DefaultKeyedRateLimiter<Uuid>>);

impl Default for MintLimits {
    fn default() -> Self {
        let quota = Quota::with_period(Duration::from_secs(6))
            .expect("a non-zero period")
            .allow_burst(NonZeroU32::new(10).expect("10 is not zero"));
        MintLimits(Arc::new(RateLimiter::keyed(quota)))
    }
}

impl MintLimits {
    pub fn forget_idle(&self) {
        self.0.retain_recent();
    }
}

/// A client secret for the learner `user_id` to talk with the coach about `topic`.
#[tracing::instrument(skip_all, fields(user_id = %user_id, topic = %topic.slug))]
pub async fn start_call(
    client: &RealtimeClient,
    limits: &MintLimits,
    user_id: Uuid,
    topic: &Topic,
) -> Result<VoiceCallSecret, AppError> {
    if let Err(not_until) = limits.0.check_key(&user_id) {
        let wait = not_until.wait_time_from(governor::clock::Clock::now(
            &governor::clock::DefaultClock::default(),
        ));
        return Err(AppError::too_many(wait));
    }
    let secret =
        client
            .mint(instructions::for_topic(topic))
            .await
            .map_err(|error| match error {
                MintError::Unavailable { .. } => {
                    tracing::warn!(%error, "voice call secret not minted");
                    AppError::CoachUnavailable
                }
                other => internal("realtime mint", &other),
            })?;
    tracing::info!("voice call secret minted");
    Ok(VoiceCallSecret {
        client_secret: secret.value,
        expires_at: secret.expires_at,
        calls_url: client.calls_url(),
    })
}
