//! Queries on `session_feedback`: one row per session, made by the feedback job. A request
//! (End, recovery, Try again) bumps the row's generation; the job only writes the generation it
//! was queued for, so an older job never overwrites newer feedback.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::feedback::{
    Baseline, Feedback, FeedbackReport, FeedbackStatus, LevelEstimate, Review,
};

/// Asks for the session's feedback to be made (again): a new row, or the existing one back to
/// preparing under the next generation. Answers the generation to make.
pub async fn request(conn: &mut PgConnection, session: Uuid) -> Result<i32, sqlx::Error> {
    sqlx::query_scalar!(
        r#"insert into session_feedback (session_id) values ($1)
           on conflict (session_id) do update
               set generation = session_feedback.generation + 1,
                   status = 'preparing',
                   attempts = 0,
                   failure = null,
                   report = null,
                   made_at = null,
                   requested_at = now()
           returning generation"#,
        session
    )
    .fetch_one(conn)
    .await
}

/// The first key of the feedback's advisory locks (two-key locks never meet the one-key locks
/// of recordings and underway's tasks).
const LOCK_CLASS: i32 = 0x05C0_FEED;

/// One feedback maker per session at a time: held until `conn`'s transaction ends.
pub async fn lock(conn: &mut PgConnection, session: Uuid) -> Result<(), sqlx::Error> {
    let (high, low) = session.as_u64_pair();
    sqlx::query("select pg_advisory_xact_lock($1, $2)")
        .bind(LOCK_CLASS)
        .bind((high ^ low) as i32)
        .execute(conn)
        .await?;
    Ok(())
}

/// Counts an attempt at `generation` of the session's feedback. `None` when there is nothing to
/// make: the session is gone, a newer request superseded this one, or it is already made.
pub async fn claim(
    pool: &PgPool,
    session: Uuid,
    generation: i32,
) -> Result<Option<i32>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"update session_feedback set attempts = attempts + 1
           where session_id = $1 and generation = $2 and status = 'preparing'
           returning attempts"#,
        session,
        generation
    )
    .fetch_optional(pool)
    .await
}

/// Keeps why an attempt failed while the job will try again.
pub async fn note_failure(
    pool: &PgPool,
    session: Uuid,
    generation: i32,
    reason: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "update session_feedback set failure = $3
         where session_id = $1 and generation = $2 and status = 'preparing'",
        session,
        generation,
        reason
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Gives up on `generation`: failed, with the reason and whatever was measured.
pub async fn fail(
    pool: &PgPool,
    session: Uuid,
    generation: i32,
    reason: &str,
    report: Option<&FeedbackReport>,
) -> Result<(), sqlx::Error> {
    let report = report.and_then(|r| serde_json::to_value(r).ok());
    sqlx::query!(
        "update session_feedback set status = 'failed', failure = $3, report = $4
         where session_id = $1 and generation = $2 and status = 'preparing'",
        session,
        generation,
        reason,
        report
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Stores made feedback for `generation`. False when that generation is no longer wanted.
pub async fn save_ready(
    conn: &mut PgConnection,
    session: Uuid,
    generation: i32,
    report: &FeedbackReport,
    content_words: &[String],
    model: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let metrics = &report.metrics;
    let level = match &report.review {
        Review::Done(review) => match &review.level {
            LevelEstimate::Estimated { level, .. } => Some(level.clone()),
            LevelEstimate::NotEnoughSpeech { .. } => None,
        },
        _ => None,
    };
    let json = serde_json::to_value(report).unwrap_or_default();
    let small = |n: u32| i32::try_from(n).unwrap_or(i32::MAX);
    let saved = sqlx::query!(
        r#"update session_feedback
           set status = 'ready', report = $3, failure = null, made_at = now(),
               learner_words = $4, pace_wpm = $5, fillers_per_100 = $6, learner_share = $7,
               distinct_words = $8, cefr_level = $9, content_words = $10, model = $11,
               headline = $12
           where session_id = $1 and generation = $2 and status = 'preparing'"#,
        session,
        generation,
        json,
        small(metrics.learner_words),
        metrics.pace_wpm.map(|v| v as f32),
        metrics.fillers.per_100_words.map(|v| v as f32),
        metrics.learner_share.map(|v| v.clamp(0.0, 1.0) as f32),
        small(metrics.distinct_words),
        level,
        content_words,
        model,
        Feedback::headline(report)
    )
    .execute(conn)
    .await?;
    Ok(saved.rows_affected() == 1)
}

struct FeedbackRow {
    status: String,
    report: Option<serde_json::Value>,
    failure: Option<String>,
    made_at: Option<DateTime<Utc>>,
}

impl FeedbackRow {
    fn into_feedback(self) -> Feedback {
        let report =
            self.report.and_then(
                |json| match serde_json::from_value::<FeedbackReport>(json) {
                    Ok(report) => Some(report),
                    Err(error) => {
                        tracing::warn!(%error, "stored feedback no longer reads");
                        None
                    }
                },
            );
        match FeedbackStatus::parse(&self.status) {
            Some(FeedbackStatus::Ready) if report.is_none() => Feedback {
                status: FeedbackStatus::Failed,
                report: None,
                failure: Some("This feedback was made by an older version. Make it again.".into()),
                made_at: self.made_at,
                baseline: None,
            },
            Some(status) => Feedback {
                status,
                report,
                failure: self.failure,
                made_at: self.made_at,
                baseline: None,
            },
            None => Feedback {
                status: FeedbackStatus::Failed,
                report: None,
                failure: Some("This feedback could not be read. Make it again.".into()),
                made_at: None,
                baseline: None,
            },
        }
    }
}

/// The feedback on the learner's session, if any was asked for.
pub async fn find(
    pool: &PgPool,
    user_id: Uuid,
    session: Uuid,
) -> Result<Option<Feedback>, sqlx::Error> {
    let row = sqlx::query_as!(
        FeedbackRow,
        r#"select f.status, f.report, f.failure, f.made_at as "made_at: DateTime<Utc>"
           from session_feedback f join practice_sessions s on s.id = f.session_id
           where f.session_id = $1 and s.user_id = $2"#,
        session,
        user_id
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(FeedbackRow::into_feedback))
}

/// The learner's averages over their latest `limit` sessions with feedback (and speech) that
/// started before `before`; `None` without any.
pub async fn baseline(
    pool: &PgPool,
    user_id: Uuid,
    before: DateTime<Utc>,
    limit: i64,
) -> Result<Option<Baseline>, sqlx::Error> {
    let row = sqlx::query!(
        r#"select count(*) as "sessions!", avg(pace_wpm)::float8 as pace,
                  avg(fillers_per_100)::float8 as fillers, avg(learner_share)::float8 as share,
                  avg(distinct_words)::float8 as words
           from (select f.pace_wpm, f.fillers_per_100, f.learner_share, f.distinct_words
                 from session_feedback f join practice_sessions s on s.id = f.session_id
                 where s.user_id = $1 and s.started_at < $2 and f.status = 'ready'
                   and f.learner_words > 0
                 order by s.started_at desc
                 limit $3) latest"#,
        user_id,
        before as DateTime<Utc>,
        limit
    )
    .fetch_one(pool)
    .await?;
    Ok((row.sessions > 0).then(|| Baseline {
        sessions: u32::try_from(row.sessions).unwrap_or(0),
        pace_wpm: row.pace,
        fillers_per_100_words: row.fillers,
        learner_share: row.share,
        distinct_words: row.words,
    }))
}

/// Content words of the learner's sessions that started before `before` and have feedback.
/// `None` when there are no such sessions.
pub async fn earlier_words(
    pool: &PgPool,
    user_id: Uuid,
    before: DateTime<Utc>,
) -> Result<Option<Vec<String>>, sqlx::Error> {
    let row = sqlx::query!(
        r#"select count(*) as "sessions!",
                  coalesce(array_agg(distinct w.word) filter (where w.word is not null), '{}')
                      as "words!: Vec<String>"
           from session_feedback f
           join practice_sessions s on s.id = f.session_id
           left join lateral unnest(f.content_words) as w(word) on true
           where s.user_id = $1 and s.started_at < $2 and f.status = 'ready'"#,
        user_id,
        before as DateTime<Utc>
    )
    .fetch_one(pool)
    .await?;
    Ok((row.sessions > 0).then_some(row.words))
}

/// One session on the progress page.
pub struct ProgressRow {
    pub session_id: Uuid,
    pub started_at: DateTime<Utc>,
    pub title: String,
    pub pace_wpm: Option<f32>,
    pub fillers_per_100: Option<f32>,
    pub learner_share: Option<f32>,
    pub distinct_words: Option<i32>,
    pub cefr_level: Option<String>,
}

/// The learner's latest `limit` sessions with ready feedback and learner speech, oldest first.
pub async fn progress(
    pool: &PgPool,
    user_id: Uuid,
    limit: i64,
) -> Result<Vec<ProgressRow>, sqlx::Error> {
    let mut rows = sqlx::query_as!(
        ProgressRow,
        r#"select s.id as session_id, s.started_at as "started_at: DateTime<Utc>", t.title,
                  f.pace_wpm, f.fillers_per_100, f.learner_share, f.distinct_words, f.cefr_level
           from session_feedback f
           join practice_sessions s on s.id = f.session_id
           join topics t on t.id = s.topic_id
           where s.user_id = $1 and f.status = 'ready' and f.learner_words > 0
           order by s.started_at desc, s.id desc
           limit $2"#,
        user_id,
        limit
    )
    .fetch_all(pool)
    .await?;
    rows.reverse();
    Ok(rows)
}

/// How many of the learner's sessions have feedback being prepared.
pub async fn preparing(pool: &PgPool, user_id: Uuid) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select count(*) as "n!" from session_feedback f
           join practice_sessions s on s.id = f.session_id
           where s.user_id = $1 and f.status = 'preparing'"#,
        user_id
    )
    .fetch_one(pool)
    .await
}

/// Feedback still preparing after `secs` (its job crashed every time, or was lost) is given up,
/// so the learner is offered Try again instead of waiting for ever. Answers how many.
pub async fn give_up_stale(pool: &PgPool, secs: i64) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!(
        r#"update session_feedback
           set status = 'failed',
               failure = coalesce(failure, 'Preparing your feedback took too long.')
           where status = 'preparing'
             and requested_at < now() - $1::bigint * interval '1 second'"#,
        secs
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}
