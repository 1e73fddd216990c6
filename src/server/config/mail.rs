//! How the app sends mail (sign-up confirmation links): SMTP in production; in development,
//! `.eml` files in a directory that `/dev/mailbox` shows, so the two-command start needs no mail
//! server. Like the Realtime simulator, the directory only ever serves a loopback origin.

use std::path::PathBuf;

use secrecy::SecretString;

use super::{ConfigError, realtime::is_loopback_origin};

#[derive(Clone)]
pub struct MailConfig {
    /// Where messages go.
    pub transport: MailTransport,
    /// `MAIL_FROM`: the sender, e.g. `Speaking Coach <no-reply@coach.example.org>` (default
    /// `Speaking Coach <no-reply@localhost>`, for the directory only).
    pub from: String,
}

#[derive(Clone)]
pub enum MailTransport {
    /// `SMTP_URL`, e.g. `smtps://user:password@smtp.example.org:465` or
    /// `smtp://user:password@smtp.example.org:587?tls=required`. Secret: it carries a password.
    Smtp { url: SecretString },
    /// `MAIL_DIR` (default `.data/mail`): one `.eml` file per message, shown at `/dev/mailbox`.
    Directory { dir: PathBuf },
}

pub(super) fn mail(
    get: &impl Fn(&str) -> Option<String>,
    public_url: &str,
) -> Result<MailConfig, ConfigError> {
    let from = get("MAIL_FROM").map(|from| from.trim().to_owned());
    let transport = match get("SMTP_URL").map(|url| url.trim().to_owned()) {
        Some(url) => {
            if !(url.starts_with("smtp://") || url.starts_with("smtps://")) {
                return Err(ConfigError::Invalid {
                    name: "SMTP_URL",
                    // Never the value: it carries a password.
                    reason: "expected smtp://… or smtps://…".into(),
                });
            }
            if from.is_none() {
                return Err(ConfigError::Missing {
                    name: "MAIL_FROM",
                    hint: "with SMTP_URL, set the sender, e.g. \
                           `Speaking Coach <no-reply@coach.example.org>`",
                });
            }
            MailTransport::Smtp {
                url: SecretString::from(url),
            }
        }
        None if is_loopback_origin(public_url) => MailTransport::Directory {
            dir: get("MAIL_DIR")
                .unwrap_or_else(|| ".data/mail".to_owned())
                .trim()
                .into(),
        },
        None => {
            return Err(ConfigError::Missing {
                name: "SMTP_URL",
                hint: "a deployment mails sign-up confirmation links through SMTP; only a \
                       loopback PUBLIC_URL (development) keeps mail in MAIL_DIR",
            });
        }
    };
    let from = from.unwrap_or_else(|| "Speaking Coach <no-reply@localhost>".to_owned());
    if from.parse::<lettre::message::Mailbox>().is_err() {
        return Err(ConfigError::Invalid {
            name: "MAIL_FROM",
            reason: format!(
                "expected an address such as `Speaking Coach <no-reply@example.org>`, got `{from}`"
            ),
        });
    }
    Ok(MailConfig { transport, from })
}
