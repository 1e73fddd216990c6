//! What one learner (and everyone together) may consume: call secrets, call time, live sessions,
//! stored audio and turns. Every bound is a variable with a default, documented in `.env.example`.

use super::{ConfigError, positive};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// `MINTS_PER_LEARNER_PER_DAY`: call secrets one learner may get in 24 hours (default 40;
    /// a call and its reconnections each take one).
    pub mints_per_learner_per_day: u32,
    /// `MINTS_PER_ADDRESS_PER_DAY`: call secrets for all learners behind one client address in
    /// 24 hours (default 120; an IPv6 address counts by its /64).
    pub mints_per_address_per_day: u32,
    /// `MINTS_PER_DAY`: call secrets for everyone in 24 hours, the spend ceiling (default 5000).
    pub mints_per_day: u32,
    /// `CALL_MINUTES_PER_SESSION`: how long a session's calls may go on, from its first secret;
    /// then no more secrets are minted for it (default 30).
    pub call_minutes_per_session: u32,
    /// `LIVE_SESSIONS_PER_LEARNER`: sessions a learner may have live at once, counting one whose
    /// page died and waits for recovery (default 2).
    pub live_sessions_per_learner: u32,
    /// `SESSION_AUDIO_MB`: recorded audio one session may upload (default 32: twice a 30-minute
    /// call at the recorder's 64 kbit/s).
    pub session_audio_bytes: u64,
    /// `LEARNER_STORAGE_MB`: everything one learner may keep stored (default 1024).
    pub learner_storage_bytes: u64,
    /// `TURNS_PER_SESSION`: transcript turns one session may save (default 2000, at most 10000).
    pub turns_per_session: u32,
    /// `SESSION_TEXT_CHARS`: transcript text one session may keep, all turns together (default
    /// 200000: hours of speech). Bounds what a share link sends to anyone who opens it.
    pub session_text_chars: u32,
}

const MB: u64 = 1024 * 1024;

pub(super) fn limits(get: &impl Fn(&str) -> Option<String>) -> Result<Limits, ConfigError> {
    Ok(Limits {
        mints_per_learner_per_day: positive(get, "MINTS_PER_LEARNER_PER_DAY", 40, 10_000)?.get(),
        mints_per_address_per_day: positive(get, "MINTS_PER_ADDRESS_PER_DAY", 120, 100_000)?.get(),
        mints_per_day: positive(get, "MINTS_PER_DAY", 5_000, 10_000_000)?.get(),
        call_minutes_per_session: positive(get, "CALL_MINUTES_PER_SESSION", 30, 600)?.get(),
        live_sessions_per_learner: positive(get, "LIVE_SESSIONS_PER_LEARNER", 2, 20)?.get(),
        session_audio_bytes: u64::from(positive(get, "SESSION_AUDIO_MB", 32, 4_096)?.get()) * MB,
        learner_storage_bytes: u64::from(
            positive(get, "LEARNER_STORAGE_MB", 1_024, 1_048_576)?.get(),
        ) * MB,
        turns_per_session: positive(get, "TURNS_PER_SESSION", 2_000, 10_000)?.get(),
        session_text_chars: positive(get, "SESSION_TEXT_CHARS", 200_000, 2_000_000)?.get(),
    })
}
