//! The voice coach's configuration: OpenAI's Realtime API with `OPENAI_API_KEY`, or the local
//! simulator, which must be asked for and only ever serves a loopback origin.

use secrecy::SecretString;

use super::ConfigError;

/// Where the voice coach is and how its sessions are configured.
#[derive(Clone)]
pub struct RealtimeConfig {
    /// `OPENAI_API_KEY` when set, else `REALTIME_SIM_API_KEY` (default: a random key made at
    /// start-up). Never leaves the server.
    pub api_key: SecretString,
    /// True with `REALTIME_SIMULATOR=on` and no `OPENAI_API_KEY`.
    pub simulated: bool,
    /// Whether the app serves the simulator itself at `/sim`: when simulated and no
    /// `REALTIME_BASE_URL` names another (one standalone `realtime-sim` that several app
    /// processes share, as `script/test` runs them).
    pub mounts_simulator: bool,
    /// `REALTIME_BASE_URL`: the API's base URL, e.g. `https://api.openai.com/v1`. Default: OpenAI's
    /// with a key, else the simulator under this app (`{PUBLIC_URL}/sim/v1`).
    pub base_url: String,
    /// `REALTIME_MODEL` (default `gpt-realtime-mini`).
    pub model: String,
    /// `REALTIME_VOICE` (default `marin`).
    pub voice: String,
    /// `REALTIME_TRANSCRIPTION_MODEL` (default `gpt-4o-mini-transcribe`).
    pub transcription_model: String,
    /// `REALTIME_SIM_REPLY_LATENCY_MS`: the simulated coach's thinking time (default 300).
    pub sim_reply_latency_ms: u64,
    /// `REALTIME_SIM_RECOGNIZER`: the simulator's speech recognizer, a virtual environment that
    /// `script/setup` made (the scripts set it), or `off`; unset, learner turns get placeholders.
    pub sim_recognizer: Option<String>,
}

pub(super) fn realtime(
    get: &impl Fn(&str) -> Option<String>,
    public_url: &str,
) -> Result<RealtimeConfig, ConfigError> {
    let openai_key = get("OPENAI_API_KEY");
    let simulated = match (
        &openai_key,
        get("REALTIME_SIMULATOR").as_deref().map(str::trim),
    ) {
        (Some(_), None | Some("off")) => false,
        (Some(_), Some(_)) => {
            return Err(ConfigError::Invalid {
                name: "REALTIME_SIMULATOR",
                reason: "the simulator cannot be on with OPENAI_API_KEY set; unset one".into(),
            });
        }
        (None, Some("on")) => true,
        (None, None | Some("off")) => {
            return Err(ConfigError::Missing {
                name: "OPENAI_API_KEY",
                hint: "set it for OpenAI's Realtime API, or set REALTIME_SIMULATOR=on for the \
                       local simulator (development and tests only; script/server does)",
            });
        }
        (None, Some(other)) => {
            return Err(ConfigError::Invalid {
                name: "REALTIME_SIMULATOR",
                reason: format!("expected `on` or `off`, got `{other}`"),
            });
        }
    };
    if simulated && !is_loopback_origin(public_url) {
        return Err(ConfigError::Invalid {
            name: "REALTIME_SIMULATOR",
            reason: format!(
                "the simulator only serves a loopback PUBLIC_URL (127.0.0.1, ::1, localhost), \
                 not `{public_url}`: a deployment needs OPENAI_API_KEY"
            ),
        });
    }
    let named_base_url = get("REALTIME_BASE_URL");
    let mounts_simulator = simulated && named_base_url.is_none();
    let base_url = match named_base_url {
        Some(raw) => {
            let trimmed = raw.trim().trim_end_matches('/').to_owned();
            if !(trimmed.starts_with("https://") || trimmed.starts_with("http://")) {
                return Err(ConfigError::Invalid {
                    name: "REALTIME_BASE_URL",
                    reason: format!(
                        "expected an http(s) URL such as https://api.openai.com/v1, got `{raw}`"
                    ),
                });
            }
            trimmed
        }
        None if simulated => format!("{public_url}/sim/v1"),
        None => "https://api.openai.com/v1".to_owned(),
    };
    let sim_reply_latency_ms = super::up_to(
        get,
        "REALTIME_SIM_REPLY_LATENCY_MS",
        300,
        60_000,
        "milliseconds",
    )?;
    let sim_key = || {
        get("REALTIME_SIM_API_KEY")
            .map(|key| key.trim().to_owned())
            .unwrap_or_else(|| format!("sk-sim-{}", uuid::Uuid::new_v4().simple()))
    };
    Ok(RealtimeConfig {
        api_key: SecretString::from(openai_key.unwrap_or_else(sim_key)),
        simulated,
        mounts_simulator,
        base_url,
        model: get("REALTIME_MODEL").unwrap_or_else(|| "gpt-realtime-mini".to_owned()),
        voice: get("REALTIME_VOICE").unwrap_or_else(|| "marin".to_owned()),
        transcription_model: get("REALTIME_TRANSCRIPTION_MODEL")
            .unwrap_or_else(|| "gpt-4o-mini-transcribe".to_owned()),
        sim_reply_latency_ms,
        sim_recognizer: get("REALTIME_SIM_RECOGNIZER"),
    })
}

/// Whether the origin's host is this machine: `localhost`, `127.x.x.x` or `[::1]`.
pub(super) fn is_loopback_origin(origin: &str) -> bool {
    let authority = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .unwrap_or(origin);
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}
