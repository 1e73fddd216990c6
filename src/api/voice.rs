//! `POST /api/voice/start`: a short-lived secret for the signed-in learner to open a voice call
//! with the coach about one topic. The answer holds the client secret, its expiry and the calls
//! URL, nothing else: the standard API key never leaves the server.

use leptos::prelude::*;

use crate::{domain::voice::VoiceCallSecret, error::AppError};

///
/// `session` is the key of the practice session the call is for, once the learner pressed
/// Start (a reconnection, or a secret renewed at Start); the pre-call check has none. A secret is
/// taken from the learner's daily budget either way; one for a saved session also counts
/// against that session's call time and is refused while another session has a call going on.
#[server(endpoint = "voice/start")]
pub async fn start_voice_call(
    topic: String,
    #[server(default)] session: Option<String>,
) -> Result<VoiceCallSecret, AppError> {
    use crate::server::{auth, realtime, state::AppState, topics};
    let user = auth::require_user().await?;
    let state = AppState::current()?;
    let topic = topics::get(&state.db, &topic).await?;
    let ip = auth::request_ip();
    realtime::start_call(&state, &user, ip, &topic, session.as_deref()).await
}
