//! Typed configuration, read once at start-up from the environment (and from `.env` in
//! development). Every variable is documented in `.env.example`; a missing or invalid one stops
//! the process with a message that names it.

mod limits;
mod mail;
mod realtime;
#[cfg(test)]
mod tests;

use std::{fmt, num::NonZeroU32};

use secrecy::{ExposeSecret, SecretString};

pub use self::{
    limits::Limits,
    mail::{MailConfig, MailTransport},
    realtime::RealtimeConfig,
};

#[derive(Clone)]
pub struct Config {
    /// `DATABASE_URL`: the Postgres database. Secret: it may carry a password.
    pub database_url: SecretString,
    /// `DATABASE_MAX_CONNECTIONS`: size of the connection pool (1..=100, default 10).
    pub database_max_connections: NonZeroU32,
    /// `LOG_FORMAT`: `pretty` (default) for people, `json` for log collectors.
    pub log_format: LogFormat,
    /// `PUBLIC_URL`: the origin learners reach the app at (default `http://127.0.0.1:3000`).
    /// Cookies are `Secure` when it is `https`.
    pub public_url: String,
    /// `AUTH_ATTEMPTS_PER_MINUTE`: sign-in and sign-up attempts allowed per client address
    /// (1..=10000, default 20). Each account also gets 5 attempts, then one every 2 minutes.
    pub auth_attempts_per_minute: NonZeroU32,
    /// The voice coach: OpenAI's Realtime API with `OPENAI_API_KEY`, else the local simulator.
    pub realtime: RealtimeConfig,
    /// Where recordings are stored.
    pub storage: StorageConfig,
    /// How sign-up confirmation links are mailed.
    pub mail: MailConfig,
    /// `PRACTICE_QUIET_SECS`: how long a live session may show no sign of life (no chunk, no
    /// turn) before history offers to recover it (1..=3600, default 60; chunks arrive every 4 s
    /// while a call goes on).
    pub practice_quiet_secs: NonZeroU32,
    /// The coach's feedback on ended sessions.
    pub feedback: FeedbackConfig,
    /// What learners may consume.
    pub limits: Limits,
    /// `TRUSTED_PROXIES`: the reverse proxies (load balancers) in front of the app, by address
    /// or CIDR range (comma-separated, e.g. `10.0.0.0/8, 2001:db8::7`; default none). A request
    /// from one of them is from the address its `X-Forwarded-For` names (the nearest one that is
    /// not a trusted proxy); otherwise the TCP peer counts, whatever the headers say.
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

/// The feedback job: the model that reviews the learner's speech (OpenAI's Responses API at the
/// same base URL and key as the Realtime API, or the simulator's) and how the job runs.
#[derive(Clone, Debug)]
pub struct FeedbackConfig {
    /// `FEEDBACK_MODEL` (default `gpt-5-mini`).
    pub model: String,
    /// `FEEDBACK_WORKERS`: feedback jobs this process runs at once (0..=16, default 2; 0: this
    /// process only queues jobs, another runs them).
    pub workers: u32,
    /// `FEEDBACK_TIMEOUT_SECS`: how long one request to the model may take (1..=170, default 60).
    pub timeout_secs: NonZeroU32,
    /// `FEEDBACK_RETRY_SECS`: the wait before the second attempt; later ones wait 3x longer
    /// (1..=600, default 5).
    pub first_retry_secs: NonZeroU32,
}

/// `STORAGE_BACKEND`: `local` (default; files under `STORAGE_DIR`, default `.data/storage`) or
/// `s3` (the `S3_*` variables).
#[derive(Clone)]
pub enum StorageConfig {
    Local { dir: std::path::PathBuf },
    S3(S3Config),
}

#[derive(Clone)]
pub struct S3Config {
    /// `S3_BUCKET` (required).
    pub bucket: String,
    /// `S3_REGION` (default `us-east-1`).
    pub region: String,
    /// `S3_ENDPOINT`: an S3-compatible server's URL; unset for AWS.
    pub endpoint: Option<String>,
    /// `S3_ACCESS_KEY_ID`, `S3_SECRET_ACCESS_KEY` (required).
    pub access_key_id: String,
    pub secret_access_key: SecretString,
    /// `S3_FORCE_PATH_STYLE`: `true` (default with `S3_ENDPOINT`) or `false` (default for AWS).
    pub force_path_style: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{name} is not set; {hint}")]
    Missing {
        name: &'static str,
        hint: &'static str,
    },
    #[error("{name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

impl Config {
    /// Loads `.env` if there is one (variables already set win), then reads the environment.
    pub fn load() -> Result<Self, ConfigError> {
        // A missing .env is normal outside development; a malformed one is not ignored silently.
        match dotenvy::dotenv() {
            Ok(_) => {}
            Err(error) if error.not_found() => {}
            Err(error) => {
                return Err(ConfigError::Invalid {
                    name: ".env",
                    reason: error.to_string(),
                });
            }
        }
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());

        let database_url = get("DATABASE_URL").ok_or(ConfigError::Missing {
            name: "DATABASE_URL",
            hint: "set it to a Postgres URL such as postgres://user@127.0.0.1:5432/speaking_coach \
                   (script/server starts a private database and sets it for you)",
        })?;
        if !(database_url.starts_with("postgres://") || database_url.starts_with("postgresql://")) {
            return Err(ConfigError::Invalid {
                name: "DATABASE_URL",
                reason: "it must start with postgres:// or postgresql://".into(),
            });
        }

        let database_max_connections = positive(&get, "DATABASE_MAX_CONNECTIONS", 10, 100)?;

        let log_format = match get("LOG_FORMAT").as_deref().map(str::trim) {
            None | Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "LOG_FORMAT",
                    reason: format!("expected `pretty` or `json`, got `{other}`"),
                });
            }
        };

        let public_url = match get("PUBLIC_URL") {
            None => "http://127.0.0.1:3000".to_owned(),
            Some(raw) => parse_origin(raw.trim()).ok_or_else(|| ConfigError::Invalid {
                name: "PUBLIC_URL",
                reason: format!(
                    "expected an origin such as https://coach.example.org (no path), got `{raw}`"
                ),
            })?,
        };

        let auth_attempts_per_minute = positive(&get, "AUTH_ATTEMPTS_PER_MINUTE", 20, 10_000)?;
        let practice_quiet_secs = positive(&get, "PRACTICE_QUIET_SECS", 60, 3_600)?;

        let realtime = realtime::realtime(&get, &public_url)?;

        let storage = storage(&get)?;
        let limits = limits::limits(&get)?;
        let trusted_proxies = match get("TRUSTED_PROXIES") {
            None => Vec::new(),
            Some(raw) => raw
                .split(',')
                .map(|part| {
                    let part = part.trim();
                    part.parse::<ipnet::IpNet>()
                        .or_else(|_| part.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                        .map(|net| net.trunc())
                })
                .collect::<Result<_, _>>()
                .map_err(|_| ConfigError::Invalid {
                    name: "TRUSTED_PROXIES",
                    reason: format!(
                        "expected IP addresses or CIDR ranges (10.0.0.0/8) separated by commas, \
                         got `{raw}`"
                    ),
                })?,
        };

        let feedback = FeedbackConfig {
            model: get("FEEDBACK_MODEL")
                .map_or_else(|| "gpt-5-mini".to_owned(), |m| m.trim().to_owned()),
            workers: up_to(&get, "FEEDBACK_WORKERS", 2, 16, "a whole number")? as u32,
            timeout_secs: positive(&get, "FEEDBACK_TIMEOUT_SECS", 60, 170)?,
            first_retry_secs: positive(&get, "FEEDBACK_RETRY_SECS", 5, 600)?,
        };

        Ok(Config {
            mail: mail::mail(&get, &public_url)?,
            trusted_proxies,
            limits,
            feedback,
            realtime,
            storage,
            database_url: SecretString::from(database_url),
            database_max_connections,
            log_format,
            public_url,
            auth_attempts_per_minute,
            practice_quiet_secs,
        })
    }

    pub(crate) fn database_url(&self) -> &str {
        self.database_url.expose_secret()
    }

    /// Whether cookies must only travel over HTTPS.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

fn storage(get: &impl Fn(&str) -> Option<String>) -> Result<StorageConfig, ConfigError> {
    match get("STORAGE_BACKEND").as_deref().map(str::trim) {
        None | Some("local") => Ok(StorageConfig::Local {
            dir: get("STORAGE_DIR")
                .unwrap_or_else(|| ".data/storage".to_owned())
                .trim()
                .into(),
        }),
        Some("s3") => {
            let required = |name: &'static str| {
                get(name).map(|v| v.trim().to_owned()).ok_or(ConfigError::Missing {
                    name,
                    hint: "STORAGE_BACKEND=s3 needs S3_BUCKET, S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY",
                })
            };
            let endpoint = match get("S3_ENDPOINT") {
                None => None,
                Some(raw) => {
                    let trimmed = raw.trim().trim_end_matches('/').to_owned();
                    if !(trimmed.starts_with("https://") || trimmed.starts_with("http://")) {
                        return Err(ConfigError::Invalid {
                            name: "S3_ENDPOINT",
                            reason: format!("expected an http(s) URL, got `{raw}`"),
                        });
                    }
                    Some(trimmed)
                }
            };
            let force_path_style = match get("S3_FORCE_PATH_STYLE").as_deref().map(str::trim) {
                None => endpoint.is_some(),
                Some("true") => true,
                Some("false") => false,
                Some(other) => {
                    return Err(ConfigError::Invalid {
                        name: "S3_FORCE_PATH_STYLE",
                        reason: format!("expected `true` or `false`, got `{other}`"),
                    });
                }
            };
            Ok(StorageConfig::S3(S3Config {
                bucket: required("S3_BUCKET")?,
                region: get("S3_REGION")
                    .map_or_else(|| "us-east-1".to_owned(), |r| r.trim().to_owned()),
                endpoint,
                access_key_id: required("S3_ACCESS_KEY_ID")?,
                secret_access_key: SecretString::from(required("S3_SECRET_ACCESS_KEY")?),
                force_path_style,
            }))
        }
        Some(other) => Err(ConfigError::Invalid {
            name: "STORAGE_BACKEND",
            reason: format!("expected `local` or `s3`, got `{other}`"),
        }),
    }
}

/// A whole number from 1 to `max`, `default` when unset; otherwise an error naming the variable.
fn positive(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: u32,
    max: u32,
) -> Result<NonZeroU32, ConfigError> {
    let raw = get(name).unwrap_or_else(|| default.to_string());
    raw.trim()
        .parse::<NonZeroU32>()
        .ok()
        .filter(|n| n.get() <= max)
        .ok_or_else(|| ConfigError::Invalid {
            name,
            reason: format!("expected a whole number from 1 to {max}, got `{raw}`"),
        })
}

/// A whole number from 0 to `max`, `default` when unset; otherwise an error naming the variable
/// and saying what it counts (`what`: "a whole number", "milliseconds").
fn up_to(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: u64,
    max: u64,
    what: &str,
) -> Result<u64, ConfigError> {
    let Some(raw) = get(name) else {
        return Ok(default);
    };
    raw.trim()
        .parse::<u64>()
        .ok()
        .filter(|n| *n <= max)
        .ok_or_else(|| ConfigError::Invalid {
            name,
            reason: format!("expected {what} from 0 to {max}, got `{raw}`"),
        })
}

/// `scheme://host[:port]` with an http(s) scheme and nothing after the authority (a trailing `/`
/// is dropped).
fn parse_origin(raw: &str) -> Option<String> {
    let trimmed = raw.strip_suffix('/').unwrap_or(raw);
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))?;
    let authority_ok = !rest.is_empty()
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    authority_ok.then(|| trimmed.to_owned())
}

/// Never prints the database URL: it may carry a password.
impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &"[redacted]")
            .field("database_max_connections", &self.database_max_connections)
            .field("log_format", &self.log_format)
            .field("public_url", &self.public_url)
            .field("auth_attempts_per_minute", &self.auth_attempts_per_minute)
            .field("practice_quiet_secs", &self.practice_quiet_secs)
            .field("realtime.simulated", &self.realtime.simulated)
            .field("realtime.mounts_simulator", &self.realtime.mounts_simulator)
            .field("realtime.base_url", &self.realtime.base_url)
            .field("realtime.model", &self.realtime.model)
            .field("feedback", &self.feedback)
            .field("limits", &self.limits)
            .field(
                "storage",
                &match &self.storage {
                    StorageConfig::Local { dir } => format!("local {}", dir.display()),
                    StorageConfig::S3(s3) => format!("s3 bucket {}", s3.bucket),
                },
            )
            .finish()
    }
}
