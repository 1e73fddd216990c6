//! `/dev/mailbox`: the development mailbox. Without `SMTP_URL` (which only a loopback PUBLIC_URL
//! allows) mail is written to `MAIL_DIR`, and this page shows it, newest first, links clickable,
//! so a confirmation link can be followed with no mail server. `?to=` keeps one address's mail.
//! With SMTP it does not exist (404).

use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::{Html, IntoResponse, Response},
};
use serde::Deserialize;

use super::{mail, state::AppState};

/// Messages the page shows at most.
const SHOWN: usize = 50;

#[derive(Deserialize)]
pub struct MailboxQuery {
    to: Option<String>,
}

pub async fn page(State(state): State<AppState>, Query(query): Query<MailboxQuery>) -> Response {
    let Some(dir) = state.mailer.directory() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let to = query
        .to
        .as_deref()
        .map(str::trim)
        .filter(|to| !to.is_empty());
    let messages = match mail::read_directory(dir, to, SHOWN).await {
        Ok(messages) => messages,
        Err(error) => {
            tracing::warn!(%error, "the mail directory could not be read");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "The mail directory could not be read; see the server log.",
            )
                .into_response();
        }
    };
    Html(render(&messages, to, &state.config.public_url)).into_response()
}

fn render(messages: &[mail::StoredMessage], to: Option<&str>, public_url: &str) -> String {
    let heading = match to {
        Some(to) => format!("Mail to {}", escape(to)),
        None => "Mail sent by this app".to_owned(),
    };
    let list = if messages.is_empty() {
        r#"<p class="mt-6 text-lg text-stone-600">Nothing yet. Mail the app sends (sign-up confirmation links) appears here.</p>"#.to_owned()
    } else {
        messages
            .iter()
            .map(|message| {
                format!(
                    r#"<article class="card mt-6 p-6" data-testid="message">
<p class="text-sm text-stone-500">To <span data-testid="to">{to}</span> · {date}</p>
<h2 class="mt-1 text-xl font-semibold text-stone-900">{subject}</h2>
<div class="mt-4 whitespace-pre-wrap break-words text-base text-stone-700">{text}</div>
</article>"#,
                    to = escape(&message.to),
                    date = escape(&message.date),
                    subject = escape(&message.subject),
                    text = linkify(&message.text, public_url),
                )
            })
            .collect()
    };
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Development mailbox · Speaking Coach</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/pkg/speaking-coach.css"></head>
<body class="min-h-screen bg-stone-50 text-stone-900">
<main class="mx-auto max-w-2xl px-4 py-10">
<p><a class="font-medium text-teal-800 underline underline-offset-4" href="/">Back to Speaking Coach</a></p>
<p class="mt-6 text-sm font-medium uppercase tracking-wide text-teal-800">Development only</p>
<h1 class="mt-1 text-3xl font-semibold tracking-tight">{heading}</h1>
<p class="mt-2 text-lg text-stone-600">This app has no mail server configured, so the mail it sends stays on this machine and shows here.</p>
{list}
</main></body></html>"#
    )
}

/// Escapes text for HTML, turning links to this app into links.
fn linkify(text: &str, public_url: &str) -> String {
    text.split('\n')
        .map(|line| {
            let trimmed = line.trim();
            if trimmed.starts_with(public_url) && !trimmed.contains(char::is_whitespace) {
                let href = escape(trimmed);
                format!(
                    r#"<a class="break-all font-medium text-teal-800 underline underline-offset-4" href="{href}">{href}</a>"#
                )
            } else {
                escape(line)
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
