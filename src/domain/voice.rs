//! What the browser needs to open a voice call with the coach, and nothing more.

use serde::{Deserialize, Serialize};

/// A short-lived client secret for one call. The session's model, voice and instructions are
/// bound to it on the server; the browser cannot change them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoiceCallSecret {
    /// `ek_…`: opens calls until `expires_at`.
    pub client_secret: String,
    /// Unix seconds.
    pub expires_at: u64,
    /// Where to POST the SDP offer: `{base}/realtime/calls`.
    pub calls_url: String,
}
