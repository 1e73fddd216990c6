//! Queries on `practice_sessions`. Every query names the owner: a session that is not the
//! caller's is simply not found.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::{CorruptRow, Error, topics::TopicRow};
use crate::domain::practice::{PracticeSession, PracticeStatus};

struct SessionRow {
    id: Uuid,
    status: String,
    started_at: DateTime<Utc>,
    ended_at: Option<DateTime<Utc>>,
    turn_count: i32,
    words_used: Vec<String>,
    recording_chunks: i64,
    recording_bytes: i64,
    slug: String,
    title: String,
    summary: String,
    level: String,
    goal: String,
    vocabulary: Vec<String>,
    suggested_minutes: i16,
}

impl SessionRow {
    fn into_session(self) -> Result<PracticeSession, CorruptRow> {
        let corrupt = |reason: String| CorruptRow {
            table: "practice_sessions",
            reason,
        };
        let topic = TopicRow {
            slug: self.slug,
            title: self.title,
            summary: self.summary,
            level: self.level,
            goal: self.goal,
            vocabulary: self.vocabulary,
            suggested_minutes: self.suggested_minutes,
        }
        .into_topic()?;
        Ok(PracticeSession {
            id: self.id.to_string(),
            topic,
            status: PracticeStatus::parse(&self.status)
                .ok_or_else(|| corrupt(format!("status `{}`", self.status)))?,
            started_at: self.started_at,
            ended_at: self.ended_at,
            turn_count: u32::try_from(self.turn_count)
                .map_err(|e| corrupt(format!("turn_count: {e}")))?,
            words_used: self.words_used,
            recording_chunks: u32::try_from(self.recording_chunks).unwrap_or(u32::MAX),
            recording_bytes: u64::try_from(self.recording_bytes).unwrap_or(0),
            recording: None,
            state: None,
            share_url: None,
            share_includes_feedback: false,
        })
    }
}

/// What a start found: the session, and whether this call created it.
pub struct Started {
    pub session: PracticeSession,
    pub created: bool,
}

/// Starts a session, or returns the one this `client_key` already started (whatever its topic:
/// the caller checks). `None` when the topic does not exist.
pub async fn start(
    pool: &PgPool,
    user_id: Uuid,
    topic_slug: &str,
    client_key: Uuid,
    started_at: Option<DateTime<Utc>>,
) -> Result<Option<Started>, Error> {
    let inserted = sqlx::query_scalar!(
        r#"insert into practice_sessions (user_id, topic_id, client_key, started_at)
           select $1, id, $3, coalesce($4, now()) from topics where slug = $2
           on conflict (user_id, client_key) do nothing
           returning id"#,
        user_id,
        topic_slug,
        client_key,
        started_at as Option<DateTime<Utc>>
    )
    .fetch_optional(pool)
    .await?;
    let id = match inserted {
        Some(id) => Some(id),
        None => id_by_key(pool, user_id, client_key).await?,
    };
    let existing = match id {
        Some(id) => find(pool, user_id, id).await?,
        None => None,
    };
    Ok(existing.map(|session| Started {
        session,
        created: inserted.is_some(),
    }))
}

/// Marks the session ended with what the call reported. Ending twice keeps the first end.
/// `Some(true)` when this call ended it, `Some(false)` when it had ended before, `None` when
/// there is no such session of theirs.
pub async fn end(
    conn: &mut PgConnection,
    user_id: Uuid,
    id: Uuid,
    turn_count: i32,
    words_used: &[String],
) -> Result<Option<bool>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"with before as (
               select id, ended_at from practice_sessions
               where id = $1 and user_id = $2
               for update
           )
           update practice_sessions s
           set status = 'ended',
               ended_at = coalesce(s.ended_at, greatest(now(), s.started_at)),
               turn_count = case when s.ended_at is null then $3 else s.turn_count end,
               words_used = case when s.ended_at is null then $4 else s.words_used end
           from before
           where s.id = before.id
           returning (before.ended_at is null) as "ended_now!""#,
        id,
        user_id,
        turn_count,
        words_used
    )
    .fetch_optional(conn)
    .await
}

pub async fn find(
    pool: &PgPool,
    user_id: Uuid,
    id: Uuid,
) -> Result<Option<PracticeSession>, Error> {
    let row = sqlx::query_as!(
        SessionRow,
        r#"select s.id, s.status, s.started_at as "started_at: DateTime<Utc>",
                  s.ended_at as "ended_at: DateTime<Utc>", s.turn_count, s.words_used,
                  (select count(*) from recording_chunks c where c.session_id = s.id)
                      as "recording_chunks!",
                  (select coalesce(sum(c.size), 0)::bigint from recording_chunks c
                      where c.session_id = s.id) as "recording_bytes!",
                  t.slug, t.title, t.summary, t.level, t.goal, t.vocabulary,
                  t.suggested_minutes
           from practice_sessions s join topics t on t.id = s.topic_id
           where s.id = $1 and s.user_id = $2"#,
        id,
        user_id
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(SessionRow::into_session).transpose()?)
}

/// The id of the session `client_key` started for this learner.
async fn id_by_key(
    pool: &PgPool,
    user_id: Uuid,
    client_key: Uuid,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "select id from practice_sessions where user_id = $1 and client_key = $2",
        user_id,
        client_key
    )
    .fetch_optional(pool)
    .await
}

/// Deletes the learner's session and, through the foreign keys, its turns, chunk receipts and
/// recording row. False when there was no such session of theirs.
pub async fn delete(pool: &PgPool, user_id: Uuid, id: Uuid) -> Result<bool, sqlx::Error> {
    let deleted = sqlx::query!(
        "delete from practice_sessions where id = $1 and user_id = $2",
        id,
        user_id
    )
    .execute(pool)
    .await?;
    Ok(deleted.rows_affected() == 1)
}

/// Marks the learner's session as being deleted: no upload is taken from now on. False when it
/// is not theirs (or gone).
pub async fn mark_deleting(pool: &PgPool, user_id: Uuid, id: Uuid) -> Result<bool, sqlx::Error> {
    let marked =
        sqlx::query("update practice_sessions set deleting = true where id = $1 and user_id = $2")
            .bind(id)
            .bind(user_id)
            .execute(pool)
            .await?;
    Ok(marked.rows_affected() == 1)
}

/// Which of `ids` are sessions that exist (for the sweep of stored objects nothing refers to).
pub async fn existing(pool: &PgPool, ids: &[Uuid]) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar("select id from practice_sessions where id = any($1)")
        .bind(ids)
        .fetch_all(pool)
        .await
}

/// The ids of every session of a learner (to remove their stored objects).
pub async fn ids_of_user(pool: &PgPool, user_id: Uuid) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "select id from practice_sessions where user_id = $1",
        user_id
    )
    .fetch_all(pool)
    .await
}

/// Live sessions with no sign of life (start, uploaded chunk, saved turn) for `idle_secs`: their
/// tab is gone.
pub async fn abandoned(pool: &PgPool, idle_secs: i64) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select id from practice_sessions
           where status = 'live'
             and practice_last_seen(id) <= now() - $1::bigint * interval '1 second'"#,
        idle_secs
    )
    .fetch_all(pool)
    .await
}

/// Sessions with a provisional recording and no sign of life for `idle_secs`.
pub async fn stale_provisional(pool: &PgPool, idle_secs: i64) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select session_id from recordings
           where provisional
             and practice_last_seen(session_id) <= now() - $1::bigint * interval '1 second'"#,
        idle_secs
    )
    .fetch_all(pool)
    .await
}

/// Seconds since the session's last sign of life.
pub async fn idle_secs(pool: &PgPool, id: Uuid) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select extract(epoch from now() - practice_last_seen($1))::bigint as "idle!""#,
        id
    )
    .fetch_one(pool)
    .await
}

/// Ends a live session nobody is attending (its tab is gone) with the counts of its saved turns,
/// at its last sign of life, or, when its recording is known to be shorter, where the recording
/// ends (chunks uploaded later by recovery are no sign of the call going on). False when it was
/// not live.
pub async fn end_unattended(
    conn: &mut PgConnection,
    id: Uuid,
    turn_count: i32,
    words_used: &[String],
    recorded_ms: Option<i64>,
) -> Result<bool, sqlx::Error> {
    let ended = sqlx::query!(
        r#"update practice_sessions s
           set status = 'ended',
               ended_at = greatest(s.started_at, least(
                   practice_last_seen(s.id),
                   s.started_at + $4::bigint * interval '1 millisecond'
               )),
               turn_count = $2,
               words_used = $3
           where s.id = $1 and s.status = 'live'"#,
        id,
        turn_count,
        words_used,
        recorded_ms
    )
    .execute(conn)
    .await?;
    Ok(ended.rows_affected() == 1)
}

/// Sets an ended session's counts again from its saved turns (turns may arrive after the server
/// ended a session whose tab died). True when they changed.
pub async fn recount(
    conn: &mut PgConnection,
    id: Uuid,
    turn_count: i32,
    words_used: &[String],
) -> Result<bool, sqlx::Error> {
    let changed = sqlx::query!(
        "update practice_sessions set turn_count = $2, words_used = $3
         where id = $1 and status = 'ended'
           and (turn_count, words_used) is distinct from ($2, $3)",
        id,
        turn_count,
        words_used
    )
    .execute(conn)
    .await?;
    Ok(changed.rows_affected() == 1)
}

/// A learner's session found by the key the browser made for it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Keyed {
    pub id: Uuid,
    pub topic_slug: String,
    pub live: bool,
}

pub async fn find_by_key(
    pool: &PgPool,
    user_id: Uuid,
    client_key: Uuid,
) -> Result<Option<Keyed>, sqlx::Error> {
    sqlx::query_as(
        r#"select p.id, t.slug as topic_slug, p.status = 'live' as live
           from practice_sessions p join topics t on t.id = p.topic_id
           where p.user_id = $1 and p.client_key = $2"#,
    )
    .bind(user_id)
    .bind(client_key)
    .fetch_optional(pool)
    .await
}

/// Whose session this is (for the server's own housekeeping, which acts on any learner's).
pub async fn owner(pool: &PgPool, id: Uuid) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar!("select user_id from practice_sessions where id = $1", id)
        .fetch_optional(pool)
        .await
}

/// One line of a learner's history.
pub struct HistoryRow {
    pub id: Uuid,
    pub status: String,
    pub started_at: DateTime<Utc>,
    pub started_micros: i64,
    pub ended_at: Option<DateTime<Utc>>,
    pub turn_count: i32,
    pub slug: String,
    pub title: String,
    pub recording_status: Option<String>,
    pub provisional: Option<bool>,
    pub duration_ms: Option<i32>,
    pub idle_secs: i64,
    pub feedback_status: Option<String>,
    pub feedback_headline: Option<String>,
}

/// A page of the learner's sessions, newest first, starting after `after` (the started-at
/// microseconds and id of the last one on the previous page).
pub async fn history(
    pool: &PgPool,
    user_id: Uuid,
    after: Option<(i64, Uuid)>,
    limit: i64,
) -> Result<Vec<HistoryRow>, sqlx::Error> {
    let (after_micros, after_id) = after.unzip();
    sqlx::query_as!(
        HistoryRow,
        r#"select s.id, s.status, s.started_at as "started_at: DateTime<Utc>",
                  (extract(epoch from s.started_at) * 1000000)::bigint as "started_micros!",
                  s.ended_at as "ended_at: DateTime<Utc>", s.turn_count, t.slug, t.title,
                  r.status as "recording_status?", r.provisional as "provisional?",
                  r.duration_ms as "duration_ms?",
                  extract(epoch from now() - practice_last_seen(s.id))::bigint as "idle_secs!",
                  f.status as "feedback_status?", f.headline as "feedback_headline?"
           from practice_sessions s
           join topics t on t.id = s.topic_id
           left join recordings r on r.session_id = s.id
           left join session_feedback f on f.session_id = s.id
           where s.user_id = $1
             and ($2::bigint is null
                  or (s.started_at, s.id)
                     < (timestamptz 'epoch' + $2 * interval '1 microsecond', $3::uuid))
           order by s.started_at desc, s.id desc
           limit $4"#,
        user_id,
        after_micros,
        after_id,
        limit
    )
    .fetch_all(pool)
    .await
}
