//! `POST /api/voice/start`: a short-lived secret for the signed-in learner to open a voice call
//! with the coach about one topic. The answer holds the client secret, its expiry and the calls
//! URL, nothing else: the standard API key never leaves the server.

use leptos::prelude::*;

use crate::{domain::voice::VoiceCallSecret, error::AppError};

#[server(endpoint = "voice/start")]
pub async fn start_voice_call(topic: String) -> Result<VoiceCallSecret, AppError> {
    use crate::server::{auth, realtime, state::AppState, topics};
    let user = auth::require_user().await?;
    let state = AppState::current()?;
    let topic = topics::get(&state.db, &topic).await?;
    realtime::start_call(&state.realtime, &state.mint_limits, user.id, &topic).await
}
