//! The voice coach: OpenAI's Realtime API, or the local simulator mounted at `/sim` when no
//! `OPENAI_API_KEY` is configured. The same client code talks to both; only the base URL differs.

pub mod client;
pub mod instructions;

use std::{net::IpAddr, time::Duration};

use uuid::Uuid;

use crate::{
    domain::{Topic, voice::VoiceCallSecret},
    error::AppError,
    server::{
        auth::CurrentUser,
        db::{
            practice,
            rate_limits::{self, Rate},
        },
        error::internal,
        limits,
        state::AppState,
    },
};
pub use client::{MintError, RealtimeClient};

/// Call secrets a learner may mint in a burst: 10, then one more every 6 seconds (kept in
/// Postgres, so it holds across every app process).
const MINT_BURST: Rate = Rate {
    period: Duration::from_secs(6),
    burst: 10,
};

/// A client secret for `user` to talk with the coach about `topic`, for the practice session
/// whose key is `session` when the learner already pressed Start. Checked, in order: the burst
/// limit, the session's rules when it is saved (the learner's, live, on this topic,
/// within its call time, no other call going on), then the daily budgets in Postgres; a secret
/// that cannot be minted gives its place in the budget back.
#[tracing::instrument(skip_all, fields(user_id = %user.id, topic = %topic.slug))]
pub async fn start_call(
    state: &AppState,
    user: &CurrentUser,
    ip: IpAddr,
    topic: &Topic,
    session: Option<&str>,
) -> Result<VoiceCallSecret, AppError> {
    rate_limits::take(&state.db, "mint", &user.id.to_string(), MINT_BURST)
        .await?
        .map_err(AppError::too_many)?;
    let limits = &state.config.limits;
    let session = match session {
        None => None,
        Some(raw) => {
            let key = Uuid::parse_str(raw.trim())
                .map_err(|_| AppError::invalid("The session key must be a UUID."))?;
            practice::find_by_key(&state.db, user.id, key).await?
        }
    };
    let session_id = match &session {
        // A call for a session the server has not saved yet (Start was just pressed): the
        // learner's general rules apply, as for the pre-call check.
        None => {
            limits::admit_session(&state.db, limits, user.id, None).await?;
            None
        }
        Some(found) => {
            if found.topic_slug != topic.slug.as_str() {
                return Err(AppError::invalid("This session is about another topic."));
            }
            if !found.live {
                return Err(AppError::Conflict {
                    message: "This session has ended: start a new one to talk with the coach."
                        .into(),
                });
            }
            let quiet = i64::from(state.config.practice_quiet_secs.get());
            limits::admit_call(&state.db, limits, user.id, found.id, quiet).await?;
            Some(found.id)
        }
    };
    let address = limits::address_key(ip);
    let reservation =
        limits::reserve_mint(&state.db, limits, user.id, &address, session_id).await?;
    let minted = state.realtime.mint(instructions::for_topic(topic)).await;
    let secret = match minted {
        Ok(secret) => secret,
        Err(error) => {
            limits::give_back_mint(&state.db, reservation).await;
            return Err(match error {
                MintError::Unavailable { .. } => {
                    tracing::warn!(%error, "voice call secret not minted");
                    AppError::CoachUnavailable
                }
                other => internal("realtime mint", &other),
            });
        }
    };
    tracing::info!("voice call secret minted");
    Ok(VoiceCallSecret {
        client_secret: secret.value,
        expires_at: secret.expires_at,
        calls_url: state.realtime.calls_url(),
    })
}
