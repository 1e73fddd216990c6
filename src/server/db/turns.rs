//! Queries on `transcript_turns`. Callers check that the session is the learner's first.

use sqlx::PgPool;
use uuid::Uuid;

use super::{CorruptRow, Error};
use crate::domain::transcript::{SavedTurn, Speaker, TurnState};

fn speaker_code(speaker: Speaker) -> &'static str {
    match speaker {
        Speaker::Learner => "learner",
        Speaker::Coach => "coach",
    }
}

fn state_code(state: TurnState) -> &'static str {
    match state {
        TurnState::Final | TurnState::InProgress => "final",
        TurnState::Interrupted => "interrupted",
        TurnState::TranscriptionFailed => "transcription_failed",
    }
}

/// Saves a settled turn. A final turn is never replaced; anything else is replaced by what comes
/// later (a failed transcription that completes after all becomes final). True when it changed.
pub async fn upsert(pool: &PgPool, session: Uuid, turn: &SavedTurn) -> Result<bool, sqlx::Error> {
    let ms = |ms: Option<u64>| ms.and_then(|ms| i32::try_from(ms).ok());
    let changed = sqlx::query_scalar!(
        r#"insert into transcript_turns
               (session_id, item_id, speaker, text, state, start_ms, end_ms, position)
           values ($1, $2, $3, $4, $5, $6, $7, $8)
           on conflict (session_id, item_id) do update
               set text = excluded.text,
                   state = excluded.state,
                   start_ms = coalesce(excluded.start_ms, transcript_turns.start_ms),
                   -- A merged end before the merged start is dropped, not refused.
                   end_ms = case
                       when coalesce(excluded.end_ms, transcript_turns.end_ms)
                            < coalesce(excluded.start_ms, transcript_turns.start_ms) then null
                       else coalesce(excluded.end_ms, transcript_turns.end_ms)
                   end,
                   position = excluded.position,
                   saved_at = now()
               where transcript_turns.state <> 'final'
                 and (transcript_turns.state, transcript_turns.text)
                     is distinct from (excluded.state, excluded.text)
           returning item_id"#,
        session,
        turn.item_id,
        speaker_code(turn.speaker),
        turn.text,
        state_code(turn.state),
        ms(turn.start_ms),
        ms(turn.end_ms),
        i32::try_from(turn.position).unwrap_or(i32::MAX),
    )
    .fetch_optional(pool)
    .await?;
    Ok(changed.is_some())
}

/// A session's turns in spoken order: by where they start in the recording, then as the page
/// placed them.
pub async fn list(pool: &PgPool, session: Uuid) -> Result<Vec<SavedTurn>, Error> {
    let rows = sqlx::query!(
        r#"select item_id, speaker, text, state, start_ms, end_ms, position
           from transcript_turns
           where session_id = $1
           order by start_ms nulls last, position, item_id"#,
        session
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|row| {
            let corrupt = |reason: String| CorruptRow {
                table: "transcript_turns",
                reason,
            };
            Ok(SavedTurn {
                speaker: match row.speaker.as_str() {
                    "learner" => Speaker::Learner,
                    "coach" => Speaker::Coach,
                    other => return Err(corrupt(format!("speaker `{other}`")).into()),
                },
                state: match row.state.as_str() {
                    "final" => TurnState::Final,
                    "interrupted" => TurnState::Interrupted,
                    "transcription_failed" => TurnState::TranscriptionFailed,
                    other => return Err(corrupt(format!("state `{other}`")).into()),
                },
                item_id: row.item_id,
                text: row.text,
                start_ms: row.start_ms.and_then(|ms| u64::try_from(ms).ok()),
                end_ms: row.end_ms.and_then(|ms| u64::try_from(ms).ok()),
                position: u32::try_from(row.position).unwrap_or(0),
            })
        })
        .collect()
}
