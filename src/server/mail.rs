//! Sends mail: through SMTP in production, into a directory of `.eml` files in development
//! (shown at `/dev/mailbox`). Messages are plain UTF-8 text. Nothing here logs an address or a
//! message: only that one was sent, and failures by their kind.

use std::{
    path::{Path, PathBuf},
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Body, Mailbox, header::ContentType},
};
use secrecy::ExposeSecret;

use super::config::{MailConfig, MailTransport};
use crate::domain::Email;

/// How long one SMTP delivery may take before the request that asked for it gives up.
const SMTP_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Clone)]
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
}

#[derive(Clone)]
enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Directory(PathBuf),
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("the message could not be built: {0}")]
    Build(String),
    #[error("the SMTP server refused or could not be reached: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
    #[error("the mail directory could not be written: {0}")]
    Directory(#[from] std::io::Error),
}

impl Mailer {
    pub fn new(config: &MailConfig) -> Result<Self, MailError> {
        let from = config
            .from
            .parse::<Mailbox>()
            .map_err(|error| MailError::Build(error.to_string()))?;
        let transport = match &config.transport {
            MailTransport::Smtp { url } => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())?
                    .timeout(Some(SMTP_TIMEOUT))
                    .build(),
            ),
            MailTransport::Directory { dir } => Transport::Directory(dir.clone()),
        };
        Ok(Mailer { transport, from })
    }

    /// The directory messages are written to, in development; `None` with SMTP.
    pub fn directory(&self) -> Option<&Path> {
        match &self.transport {
            Transport::Directory(dir) => Some(dir),
            Transport::Smtp(_) => None,
        }
    }

    /// Sends a plain-text message to `to`.
    pub async fn send(&self, to: &Email, subject: &str, text: &str) -> Result<(), MailError> {
        let to = to
            .as_str()
            .parse::<Mailbox>()
            .map_err(|error| MailError::Build(error.to_string()))?;
        let body = Body::new(text.to_owned());
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|error| MailError::Build(error.to_string()))?;
        match &self.transport {
            Transport::Smtp(smtp) => {
                smtp.send(message).await?;
            }
            Transport::Directory(dir) => write_to(dir, &message.formatted()).await?,
        }
        tracing::info!("mail sent");
        Ok(())
    }
}

/// Writes one message as `<unix ms>-<sequence>-<random>.eml` (names sort by when they were
/// written), whole or not at all: under a temporary name, then renamed.
async fn write_to(dir: &Path, message: &[u8]) -> std::io::Result<()> {
    static SEQUENCE: AtomicU64 = AtomicU64::new(0);
    tokio::fs::create_dir_all(dir).await?;
    let millis = chrono::Utc::now().timestamp_millis();
    let sequence = SEQUENCE.fetch_add(1, Ordering::Relaxed) % 1_000_000;
    let name = format!(
        "{millis:015}-{sequence:06}-{}",
        uuid::Uuid::new_v4().simple()
    );
    let partial = dir.join(format!(".{name}.tmp"));
    tokio::fs::write(&partial, message).await?;
    tokio::fs::rename(&partial, dir.join(format!("{name}.eml"))).await
}

/// A message read back from the mail directory (for `/dev/mailbox`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    pub to: String,
    pub subject: String,
    pub date: String,
    pub text: String,
}

/// Messages the mailbox looks through at most (the newest), however many the directory holds.
const SCANNED: usize = 2_000;

/// The newest `limit` messages in `dir`, newest first (among the newest [`SCANNED`]); those to
/// `to` only when given. A missing directory is an empty mailbox.
pub async fn read_directory(
    dir: &Path,
    to: Option<&str>,
    limit: usize,
) -> std::io::Result<Vec<StoredMessage>> {
    let mut names = Vec::new();
    let mut entries = match tokio::fs::read_dir(dir).await {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(error),
    };
    while let Some(entry) = entries.next_entry().await? {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".eml") && !name.starts_with('.') {
            names.push(name);
        }
    }
    names.sort_unstable_by(|a, b| b.cmp(a));
    let mut messages = Vec::new();
    for name in names.into_iter().take(SCANNED) {
        if messages.len() == limit {
            break;
        }
        let raw = tokio::fs::read(dir.join(&name)).await?;
        let message = parse(&String::from_utf8_lossy(&raw));
        if to.is_none_or(|to| message.to.eq_ignore_ascii_case(to)) {
            messages.push(message);
        }
    }
    Ok(messages)
}

/// The headers this mailbox shows, and the text, of a message [`Mailer`] wrote: plain text, as
/// is or quoted-printable (lettre's choice when a line is long, as a link is).
fn parse(raw: &str) -> StoredMessage {
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((raw, ""));
    let header = |name: &str| {
        head.split("\r\n")
            .find_map(|line| {
                let (key, value) = line.split_once(':')?;
                key.eq_ignore_ascii_case(name)
                    .then(|| value.trim().to_owned())
            })
            .unwrap_or_default()
    };
    StoredMessage {
        to: header("To"),
        subject: header("Subject"),
        date: header("Date"),
        text: if header("Content-Transfer-Encoding").eq_ignore_ascii_case("quoted-printable") {
            quoted_printable::decode(body, quoted_printable::ParseMode::Robust)
                .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
                .unwrap_or_else(|_| body.to_owned())
        } else {
            body.to_owned()
        }
        .replace("\r\n", "\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Longer than a mail line may be, so it travels quoted-printable.
    const LONG_LINK: &str = "http://127.0.0.1:3000/confirm-email?token=\
        0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef&next=/topics/x";

    #[tokio::test]
    async fn a_message_written_to_the_directory_reads_back_whole() {
        let dir = std::env::temp_dir().join(format!("mail-test-{}", uuid::Uuid::new_v4()));
        let mailer = Mailer::new(&MailConfig {
            transport: MailTransport::Directory { dir: dir.clone() },
            from: "Speaking Coach <no-reply@localhost>".into(),
        })
        .unwrap();
        let ana = Email::parse("ana@example.org").unwrap();
        let ben = Email::parse("ben@example.org").unwrap();
        mailer
            .send(
                &ana,
                "First",
                &format!("Hello Ana,\n\nopen this:\n{LONG_LINK}\n"),
            )
            .await
            .unwrap();
        mailer
            .send(&ben, "For Ben", "Hi Ben — ça va?\n")
            .await
            .unwrap();

        let all = read_directory(&dir, None, 10).await.unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].subject, "For Ben", "newest first");
        assert_eq!(all[0].text, "Hi Ben — ça va?\n");
        let anas = read_directory(&dir, Some("ana@example.org"), 10)
            .await
            .unwrap();
        assert_eq!(anas.len(), 1);
        assert_eq!(anas[0].to, "ana@example.org");
        assert!(anas[0].text.contains(&format!("\n{LONG_LINK}\n")));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
