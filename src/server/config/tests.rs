//! Reading the configuration: defaults, bounds, and the message that names a bad variable.

use std::collections::HashMap;

use super::*;

/// Loads `pairs`, with the simulator switched on unless they say how the coach is reached.
fn load(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let mut env: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    if !env.contains_key("OPENAI_API_KEY") && !env.contains_key("REALTIME_SIMULATOR") {
        env.insert("REALTIME_SIMULATOR".into(), "on".into());
    }
    Config::from_lookup(|name| env.get(name).cloned())
}

const URL: (&str, &str) = ("DATABASE_URL", "postgres://app:s3cret@127.0.0.1:5432/coach");
/// What a deployment sends mail with (any non-loopback origin needs it).
const SMTP: [(&str, &str); 2] = [
    ("SMTP_URL", "smtps://mailer:p4ss@smtp.example.org:465"),
    ("MAIL_FROM", "Speaking Coach <no-reply@coach.example.org>"),
];

#[test]
fn minimal_environment_gets_the_defaults() {
    let config = load(&[URL]).expect("valid");
    assert_eq!(config.database_max_connections.get(), 10);
    assert_eq!(config.log_format, LogFormat::Pretty);
    assert_eq!(config.database_url(), URL.1);
}

#[test]
fn missing_database_url_is_named() {
    let error = load(&[]).unwrap_err();
    assert!(matches!(
        error,
        ConfigError::Missing {
            name: "DATABASE_URL",
            ..
        }
    ));
    assert!(error.to_string().starts_with("DATABASE_URL is not set"));
    // Blank counts as missing.
    let error = load(&[("DATABASE_URL", "  ")]).unwrap_err();
    assert!(matches!(
        error,
        ConfigError::Missing {
            name: "DATABASE_URL",
            ..
        }
    ));
}

#[test]
fn a_database_url_of_another_kind_is_invalid() {
    let error = load(&[("DATABASE_URL", "mysql://localhost/coach")]).unwrap_err();
    assert!(matches!(
        error,
        ConfigError::Invalid {
            name: "DATABASE_URL",
            ..
        }
    ));
}

#[test]
fn pool_size_must_be_between_1_and_100() {
    for bad in ["0", "101", "-3", "ten"] {
        let error = load(&[URL, ("DATABASE_MAX_CONNECTIONS", bad)]).unwrap_err();
        assert!(
            matches!(
                error,
                ConfigError::Invalid {
                    name: "DATABASE_MAX_CONNECTIONS",
                    ..
                }
            ),
            "{bad}: {error}"
        );
        assert!(error.to_string().contains(bad));
    }
    let config = load(&[URL, ("DATABASE_MAX_CONNECTIONS", "25")]).expect("valid");
    assert_eq!(config.database_max_connections.get(), 25);
}

#[test]
fn log_format_is_checked() {
    let config = load(&[URL, ("LOG_FORMAT", "json")]).expect("valid");
    assert_eq!(config.log_format, LogFormat::Json);
    let error = load(&[URL, ("LOG_FORMAT", "xml")]).unwrap_err();
    assert!(matches!(
        error,
        ConfigError::Invalid {
            name: "LOG_FORMAT",
            ..
        }
    ));
}

#[test]
fn public_url_is_an_origin_and_decides_secure_cookies() {
    let config = load(&[URL]).expect("valid");
    assert_eq!(config.public_url, "http://127.0.0.1:3000");
    assert!(!config.secure_cookies());
    let live = ("OPENAI_API_KEY", "sk-live-123");
    let public = ("PUBLIC_URL", "https://coach.example.org/");
    let config = load(&[URL, live, public, SMTP[0], SMTP[1]]).expect("valid");
    assert_eq!(config.public_url, "https://coach.example.org");
    assert!(config.secure_cookies());
    for bad in [
        "coach.example.org",
        "ftp://x.org",
        "https://x.org/app",
        "https://",
    ] {
        let error = load(&[URL, live, ("PUBLIC_URL", bad)]).unwrap_err();
        assert!(
            matches!(
                error,
                ConfigError::Invalid {
                    name: "PUBLIC_URL",
                    ..
                }
            ),
            "{bad}"
        );
    }
}

#[test]
fn auth_attempts_are_bounded() {
    assert_eq!(load(&[URL]).unwrap().auth_attempts_per_minute.get(), 20);
    let error = load(&[URL, ("AUTH_ATTEMPTS_PER_MINUTE", "0")]).unwrap_err();
    assert!(matches!(
        error,
        ConfigError::Invalid {
            name: "AUTH_ATTEMPTS_PER_MINUTE",
            ..
        }
    ));
}

#[test]
fn storage_is_local_by_default_and_s3_needs_its_bucket_and_keys() {
    let config = load(&[URL]).expect("valid");
    assert!(
        matches!(&config.storage, StorageConfig::Local { dir } if dir.ends_with(".data/storage"))
    );

    let error = load(&[URL, ("STORAGE_BACKEND", "s3")]).unwrap_err();
    assert!(
        matches!(
            error,
            ConfigError::Missing {
                name: "S3_BUCKET",
                ..
            }
        ),
        "{error}"
    );

    let s3 = [
        URL,
        ("STORAGE_BACKEND", "s3"),
        ("S3_BUCKET", "recordings"),
        ("S3_ACCESS_KEY_ID", "id"),
        ("S3_SECRET_ACCESS_KEY", "secret"),
        ("S3_ENDPOINT", "http://127.0.0.1:8333/"),
    ];
    let StorageConfig::S3(config) = load(&s3).expect("valid").storage else {
        panic!("s3 expected");
    };
    assert_eq!(config.endpoint.as_deref(), Some("http://127.0.0.1:8333"));
    assert!(config.force_path_style);
    assert_eq!(config.region, "us-east-1");

    let error = load(&[URL, ("STORAGE_BACKEND", "ftp")]).unwrap_err();
    assert!(matches!(
        error,
        ConfigError::Invalid {
            name: "STORAGE_BACKEND",
            ..
        }
    ));
}

#[test]
fn without_an_openai_key_the_coach_is_the_local_simulator() {
    let config = load(&[URL]).expect("valid");
    assert!(config.realtime.simulated);
    assert_eq!(config.realtime.base_url, "http://127.0.0.1:3000/sim/v1");
    assert!(config.realtime.mounts_simulator);
    // Several app processes share one standalone simulator: none mounts its own.
    let shared = load(&[URL, ("REALTIME_BASE_URL", "http://127.0.0.1:8787/v1")]).expect("valid");
    assert!(shared.realtime.simulated && !shared.realtime.mounts_simulator);
    assert_eq!(shared.realtime.base_url, "http://127.0.0.1:8787/v1");
    let key = config.realtime.api_key.expose_secret().to_owned();
    assert!(key.starts_with("sk-sim-") && key.len() > 30, "a random key");
    let again = load(&[URL]).expect("valid");
    assert_ne!(again.realtime.api_key.expose_secret(), key);
    let chosen = load(&[URL, ("REALTIME_SIM_API_KEY", "sk-sim-mine")]).expect("valid");
    assert_eq!(chosen.realtime.api_key.expose_secret(), "sk-sim-mine");
    assert_eq!(config.realtime.model, "gpt-realtime-mini");

    let config = load(&[URL, ("OPENAI_API_KEY", "sk-live-123")]).expect("valid");
    assert!(!config.realtime.simulated && !config.realtime.mounts_simulator);
    assert_eq!(config.realtime.base_url, "https://api.openai.com/v1");
    assert!(!format!("{config:?}").contains("sk-live-123"));

    let error = load(&[URL, ("REALTIME_BASE_URL", "api.openai.com")]).unwrap_err();
    assert!(matches!(
        error,
        ConfigError::Invalid {
            name: "REALTIME_BASE_URL",
            ..
        }
    ));
    let error = load(&[URL, ("REALTIME_SIM_REPLY_LATENCY_MS", "soon")]).unwrap_err();
    assert!(matches!(
        error,
        ConfigError::Invalid {
            name: "REALTIME_SIM_REPLY_LATENCY_MS",
            ..
        }
    ));
}

#[test]
fn feedback_has_a_model_and_bounded_workers() {
    let config = load(&[URL]).expect("valid");
    assert_eq!(config.feedback.model, "gpt-5-mini");
    assert_eq!(config.feedback.workers, 2);
    assert_eq!(
        load(&[URL, ("FEEDBACK_WORKERS", "0")])
            .unwrap()
            .feedback
            .workers,
        0
    );
    assert_eq!(config.feedback.timeout_secs.get(), 60);
    let config = load(&[URL, ("FEEDBACK_MODEL", " gpt-4.1-mini ")]).expect("valid");
    assert_eq!(config.feedback.model, "gpt-4.1-mini");
    for (name, bad) in [
        ("FEEDBACK_WORKERS", "-1"),
        ("FEEDBACK_WORKERS", "17"),
        ("FEEDBACK_TIMEOUT_SECS", "600"),
        ("FEEDBACK_RETRY_SECS", "soon"),
    ] {
        let error = load(&[URL, (name, bad)]).unwrap_err();
        assert!(
            matches!(error, ConfigError::Invalid { name: n, .. } if n == name),
            "{name}={bad}: {error}"
        );
    }
}

#[test]
fn debug_output_hides_the_password() {
    let config = load(&[URL]).expect("valid");
    let shown = format!("{config:?}");
    assert!(!shown.contains("s3cret"), "{shown}");
}

#[test]
fn the_simulator_must_be_asked_for_and_serves_loopback_only() {
    let error = load(&[URL, ("REALTIME_SIMULATOR", "off")]).unwrap_err();
    assert!(
        matches!(
            error,
            ConfigError::Missing {
                name: "OPENAI_API_KEY",
                ..
            }
        ),
        "{error}"
    );
    assert!(
        error.to_string().contains("REALTIME_SIMULATOR=on"),
        "{error}"
    );
    let error = load(&[URL, ("REALTIME_SIMULATOR", "yes")]).unwrap_err();
    assert!(matches!(
        error,
        ConfigError::Invalid {
            name: "REALTIME_SIMULATOR",
            ..
        }
    ));
    let error = load(&[
        URL,
        ("OPENAI_API_KEY", "sk-live-123"),
        ("REALTIME_SIMULATOR", "on"),
    ])
    .unwrap_err();
    assert!(matches!(
        error,
        ConfigError::Invalid {
            name: "REALTIME_SIMULATOR",
            ..
        }
    ));

    for public in [
        "https://coach.example.org",
        "http://10.0.0.5:3000",
        "http://[2001:db8::1]:3000",
        "http://127.0.0.1.example.org",
    ] {
        let error = load(&[URL, ("PUBLIC_URL", public)]).unwrap_err();
        assert!(
            matches!(
                error,
                ConfigError::Invalid {
                    name: "REALTIME_SIMULATOR",
                    ..
                }
            ),
            "{public}: {error}"
        );
    }
    for public in [
        "http://127.0.0.1:3000",
        "http://localhost:8080",
        "http://[::1]:3000",
        "http://127.0.0.2",
    ] {
        let config = load(&[URL, ("PUBLIC_URL", public)]).expect(public);
        assert!(config.realtime.simulated);
    }
    let config = load(&[
        URL,
        ("OPENAI_API_KEY", "sk-live-123"),
        ("PUBLIC_URL", "https://coach.example.org"),
        SMTP[0],
        SMTP[1],
    ])
    .expect("OpenAI serves any origin");
    assert!(!config.realtime.simulated);
}

#[test]
fn trusted_proxies_are_addresses_or_ranges() {
    assert!(load(&[URL]).unwrap().trusted_proxies.is_empty());
    let config = load(&[URL, ("TRUSTED_PROXIES", "10.0.0.2, ::1, 172.16.9.9/12")]).unwrap();
    let shown: Vec<String> = config
        .trusted_proxies
        .iter()
        .map(|n| n.to_string())
        .collect();
    assert_eq!(shown, ["10.0.0.2/32", "::1/128", "172.16.0.0/12"]);
    let error = load(&[URL, ("TRUSTED_PROXIES", "10.0.0.0/33")]).unwrap_err();
    assert!(matches!(
        error,
        ConfigError::Invalid {
            name: "TRUSTED_PROXIES",
            ..
        }
    ));
}

#[test]
fn limits_have_defaults_and_bounds() {
    let limits = load(&[URL]).unwrap().limits;
    assert_eq!(limits.mints_per_learner_per_day, 40);
    assert_eq!(limits.session_audio_bytes, 32 * 1024 * 1024);
    assert_eq!(limits.live_sessions_per_learner, 2);
    let error = load(&[URL, ("TURNS_PER_SESSION", "10001")]).unwrap_err();
    assert!(matches!(
        error,
        ConfigError::Invalid {
            name: "TURNS_PER_SESSION",
            ..
        }
    ));
    let error = load(&[URL, ("MINTS_PER_DAY", "0")]).unwrap_err();
    assert!(matches!(
        error,
        ConfigError::Invalid {
            name: "MINTS_PER_DAY",
            ..
        }
    ));
}

#[test]
fn mail_stays_on_the_machine_only_for_a_loopback_origin() {
    let config = load(&[URL, ("MAIL_DIR", "/tmp/coach-mail")]).expect("valid");
    assert!(matches!(
        &config.mail.transport,
        MailTransport::Directory { dir } if dir == std::path::Path::new("/tmp/coach-mail")
    ));

    let deployed = [
        URL,
        ("OPENAI_API_KEY", "sk-live-123"),
        ("PUBLIC_URL", "https://coach.example.org"),
    ];
    let error = load(&deployed).unwrap_err();
    assert!(
        matches!(
            error,
            ConfigError::Missing {
                name: "SMTP_URL",
                ..
            }
        ),
        "{error}"
    );

    let error = load(&[deployed[0], deployed[1], deployed[2], SMTP[0]]).unwrap_err();
    assert!(
        matches!(
            error,
            ConfigError::Missing {
                name: "MAIL_FROM",
                ..
            }
        ),
        "{error}"
    );
    let config = load(&[deployed[0], deployed[1], deployed[2], SMTP[0], SMTP[1]]).expect("valid");
    assert!(matches!(config.mail.transport, MailTransport::Smtp { .. }));

    let error = load(&[
        URL,
        ("SMTP_URL", "http://mailer:p4ss@smtp.example.org"),
        SMTP[1],
    ])
    .unwrap_err();
    assert!(
        matches!(
            error,
            ConfigError::Invalid {
                name: "SMTP_URL",
                ..
            }
        ),
        "{error}"
    );
    assert!(!error.to_string().contains("p4ss"), "{error}");
    let error = load(&[URL, ("MAIL_FROM", "not an address")]).unwrap_err();
    assert!(
        matches!(
            error,
            ConfigError::Invalid {
                name: "MAIL_FROM",
                ..
            }
        ),
        "{error}"
    );
}
