//! `GET /api/practice/{session}/export`: one zip with everything of a session, for its owner:
//! `recording.ogg` (when there is one), `transcript.json`, `transcript.vtt` (captions that play
//! with the recording), `transcript.md` (readable) and `session.json`. The zip is written as it
//! is sent (a zip stream with data descriptors) and the recording is read from storage a piece at
//! a time, so a long session is never held in memory. `feedback.json` holds the coach's feedback
//! when it was asked for.

mod slots;

use std::io::Write;

use axum::{
    body::Body,
    extract::{Path, State},
    http::{HeaderValue, header},
    response::Response,
};
use bytes::Bytes;
use serde::Serialize;
use tokio::sync::mpsc;
use zip::{CompressionMethod, ZipWriter, write::SimpleFileOptions};

pub use self::slots::Exports;
use super::{
    auth::CurrentUser,
    db::{feedback, recordings, turns},
    owned::{Owned, owned},
    state::AppState,
    storage::{ObjectKey, Storage},
};
use crate::{
    domain::{
        feedback::Feedback,
        practice::{PracticeSession, Recording, clock},
        transcript::{SavedTurn, Speaker, TurnState},
    },
    error::AppError,
};

/// How much of the recording is read from storage at a time.
const PIECE: u64 = 1024 * 1024;

fn speaker(turn: &SavedTurn) -> &'static str {
    match turn.speaker {
        Speaker::Learner => "learner",
        Speaker::Coach => "coach",
    }
}

fn state(turn: &SavedTurn) -> &'static str {
    match turn.state {
        TurnState::Final | TurnState::InProgress => "final",
        TurnState::Interrupted => "interrupted",
        TurnState::TranscriptionFailed => "transcription_failed",
    }
}

#[derive(Serialize)]
struct TurnOut<'a> {
    speaker: &'static str,
    text: &'a str,
    start_ms: Option<u64>,
    end_ms: Option<u64>,
    state: &'static str,
}

/// `transcript.json`: the turns in spoken order.
pub fn transcript_json(turns: &[SavedTurn]) -> String {
    let out: Vec<TurnOut> = turns
        .iter()
        .map(|turn| TurnOut {
            speaker: speaker(turn),
            text: &turn.text,
            start_ms: turn.start_ms,
            end_ms: turn.end_ms,
            state: state(turn),
        })
        .collect();
    serde_json::to_string_pretty(&out).unwrap_or_else(|_| "[]".into())
}

/// `HH:MM:SS.mmm`, as WebVTT writes times.
fn vtt_time(ms: u64) -> String {
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

/// `transcript.vtt`: one cue per timed turn, with the speaker as the cue's voice.
pub fn transcript_vtt(turns: &[SavedTurn]) -> String {
    let mut vtt = String::from("WEBVTT\n");
    let mut cue = 0;
    for turn in turns {
        let (Some(start), Some(end)) = (turn.start_ms, turn.end_ms) else {
            continue;
        };
        cue += 1;
        let who = match turn.speaker {
            Speaker::Learner => "You",
            Speaker::Coach => "Coach",
        };
        // A cue's text may not hold a blank line or "-->".
        let text = turn
            .text
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .replace("-->", "->");
        let text = if turn.state == TurnState::TranscriptionFailed {
            "(not transcribed)".to_owned()
        } else {
            text
        };
        vtt.push_str(&format!(
            "\n{cue}\n{} --> {}\n<v {who}>{text}\n",
            vtt_time(start),
            vtt_time(end.max(start))
        ));
    }
    vtt
}

/// `transcript.md`: the conversation to read.
pub fn transcript_md(session: &PracticeSession, turns: &[SavedTurn]) -> String {
    let mut md = format!(
        "# {}\n\nPractised on {}.\n\n",
        session.topic.title,
        session.started_at.format("%-d %B %Y, %H:%M UTC")
    );
    for turn in turns {
        let who = match turn.speaker {
            Speaker::Learner => "You",
            Speaker::Coach => "Coach",
        };
        let at = turn
            .start_ms
            .map(|ms| format!(" ({})", clock(ms / 1000)))
            .unwrap_or_default();
        let note = match turn.state {
            TurnState::Interrupted => " *(interrupted)*",
            _ => "",
        };
        let text = if turn.state == TurnState::TranscriptionFailed {
            "*(not transcribed)*".to_owned()
        } else {
            turn.text.clone()
        };
        md.push_str(&format!("**{who}**{at}{note}: {text}\n\n"));
    }
    md
}

/// `feedback.json`: the coach's feedback as the summary shows it (status, what was measured,
/// the review), in the app's own field names.
pub fn feedback_json(feedback: &Feedback) -> String {
    serde_json::to_string_pretty(feedback).unwrap_or_else(|_| "{}".into())
}

/// `session.json`: the session's facts.
pub fn session_json(session: &PracticeSession) -> String {
    let recording = match &session.recording {
        Some(Recording::Ready {
            mime_type,
            duration_ms,
            ..
        }) => {
            serde_json::json!({ "file": "recording.ogg", "mime_type": mime_type, "duration_ms": duration_ms })
        }
        _ => serde_json::Value::Null,
    };
    serde_json::to_string_pretty(&serde_json::json!({
        "id": session.id,
        "topic": { "slug": session.topic.slug.as_str(), "title": session.topic.title },
        "started_at": session.started_at,
        "ended_at": session.ended_at,
        "duration_secs": session.duration_secs(),
        "turn_count": session.turn_count,
        "words_used": session.words_used,
        "recording": recording,
    }))
    .unwrap_or_default()
}

/// How long a download may take to accept the next piece before the export gives up (a reader
/// that stopped reading must not hold a thread for good).
const STALL: std::time::Duration = std::time::Duration::from_secs(60);

/// Hands what the zip writer writes to the response body, in pieces of about 64 KiB.
struct ToBody {
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
    buffer: Vec<u8>,
    runtime: tokio::runtime::Handle,
}

impl ToBody {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let piece = Bytes::from(std::mem::take(&mut self.buffer));
        let sent = self
            .runtime
            .block_on(tokio::time::timeout(STALL, self.tx.send(Ok(piece))));
        match sent {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(std::io::Error::new(
                std::io::ErrorKind::BrokenPipe,
                "download stopped",
            )),
            Err(_) => Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "download stalled",
            )),
        }
    }
}

impl Write for ToBody {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= 64 * 1024 {
            self.send()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

/// Writes the zip (on a blocking thread: the zip writer is synchronous).
fn write_zip(
    out: ToBody,
    files: Vec<(&'static str, String)>,
    recording: Option<(Storage, ObjectKey, u64)>,
    runtime: tokio::runtime::Handle,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let mut zip = ZipWriter::new_stream(out);
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    for (name, text) in files {
        zip.start_file(name, options)?;
        zip.write_all(text.as_bytes())?;
    }
    if let Some((storage, key, size)) = recording {
        zip.start_file(
            "recording.ogg",
            options.large_file(size >= u64::from(u32::MAX)),
        )?;
        let mut at = 0;
        while at < size {
            let piece = runtime
                .block_on(storage.get_range(&key, at, Some(at + PIECE - 1)))?
                .ok_or("the recording went missing from storage")?;
            zip.write_all(&piece.bytes)?;
            at = piece.end + 1;
        }
    }
    let mut out = zip.finish()?.into_inner();
    out.flush()?;
    Ok(())
}

#[tracing::instrument(skip_all, fields(user_id = %user.id, session_id = raw_session))]
pub async fn export(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(raw_session): Path<String>,
) -> Result<Response, AppError> {
    let Owned { id, mut session } = owned(&state.db, &user, &raw_session).await?;
    session.recording = recordings::find(&state.db, id).await?;
    let saved = turns::list(&state.db, id).await?;
    let key = ObjectKey::recording(id, "ogg");
    let recording = match session.recording {
        Some(Recording::Ready { .. }) => state
            .storage
            .size(&key)
            .await?
            .map(|size| (state.storage.clone(), key, size)),
        _ => None,
    };
    let mut files = vec![
        ("session.json", session_json(&session)),
        ("transcript.json", transcript_json(&saved)),
        ("transcript.vtt", transcript_vtt(&saved)),
        ("transcript.md", transcript_md(&session, &saved)),
    ];
    if let Some(feedback) = feedback::find(&state.db, user.id, id).await? {
        files.push(("feedback.json", feedback_json(&feedback)));
    }

    let slot = state.exports.start(user.id)?;
    let (tx, mut rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let runtime = tokio::runtime::Handle::current();
    let failed = tx.clone();
    tokio::task::spawn_blocking(move || {
        let _slot = slot;
        let out = ToBody {
            tx,
            buffer: Vec::new(),
            runtime: runtime.clone(),
        };
        if let Err(error) = write_zip(out, files, recording, runtime) {
            tracing::warn!(%error, "export stopped");
            let _ = failed.try_send(Err(std::io::Error::other("the export failed")));
        }
    });
    let stream = futures::stream::poll_fn(move |context| rx.poll_recv(context));
    tracing::info!("practice session exported");

    let name = format!(
        "speaking-coach-{}-{}.zip",
        session.topic.slug.as_str(),
        session.started_at.format("%Y-%m-%d")
    );
    let mut response = Response::new(Body::from_stream(stream));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/zip"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(speaker: Speaker, text: &str, start: u64, end: u64, state: TurnState) -> SavedTurn {
        SavedTurn {
            item_id: format!("item_{start}"),
            speaker,
            text: text.into(),
            state,
            start_ms: Some(start),
            end_ms: Some(end),
            position: 0,
        }
    }

    #[test]
    fn captions_have_one_cue_per_timed_turn_with_the_speaker() {
        let turns = [
            turn(
                Speaker::Coach,
                "Hi!\n\nWhat --> now?",
                0,
                1_500,
                TurnState::Final,
            ),
            turn(
                Speaker::Learner,
                "A tea.",
                3_661_001,
                3_662_500,
                TurnState::Final,
            ),
            SavedTurn {
                start_ms: None,
                ..turn(Speaker::Coach, "untimed", 0, 0, TurnState::Final)
            },
        ];
        assert_eq!(
            transcript_vtt(&turns),
            "WEBVTT\n\n1\n00:00:00.000 --> 00:00:01.500\n<v Coach>Hi! What -> now?\n\
             \n2\n01:01:01.001 --> 01:01:02.500\n<v You>A tea.\n"
        );
    }
}
