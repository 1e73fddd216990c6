//! Benchmark helper: `sessions` ended practice sessions (ten per learner), each with six turns
//! and a short recording, then their feedback jobs queued at once, in one transaction, through the
//! app's own code (`server::feedback::request_in`). `script/bench feedback` runs it against a
//! running app and times how fast the app's feedback worker gets through them.
//!
//!   cargo run --release --features ssr --example seed_feedback -- <sessions>

use leptos::prelude::LeptosOptions;
use speaking_coach::server::{
    config::Config, feedback::request_in, finalize::RECORDING_MIME, recording::read_webm,
    state::AppState, storage::ObjectKey,
};
use uuid::Uuid;

const FIXTURE: &[u8] = include_bytes!("../tests/fixtures/chromium-mediarecorder.webm");

/// What the learners "said" (with the errors and fillers the feedback looks for).
const LEARNER: [&str; 3] = [
    "Um, I would like a small coffee, please. I am agree it is more better with milk.",
    "She don't like tea, you know, so uh a large cup of tea to take away for me.",
    "How much is it? I think I I will pay by card, and the bill please.",
];
const COACH: [&str; 3] = [
    "Hi! Welcome to the café. What can I get you today?",
    "Lovely. Anything for your friend?",
    "Of course. Will that be all?",
];

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sessions: usize = std::env::args()
        .nth(1)
        .ok_or("usage: seed_feedback <sessions>")?
        .parse()?;
    let config = Config::load()?;
    let pool = sqlx::PgPool::connect(&std::env::var("DATABASE_URL")?).await?;
    let options = LeptosOptions::builder()
        .output_name("speaking-coach")
        .build();
    let state = AppState::new(options, pool.clone(), config)?;
    state.feedback.ready().await?;

    let learners = sessions.div_ceil(10);
    let run = Uuid::new_v4().simple().to_string();
    let users: Vec<Uuid> = sqlx::query_scalar(
        "insert into users (email, password_hash)
         select 'feedback-' || n || '-' || $2 || '@example.org', 'not a hash'
         from generate_series(1, $1) n returning id",
    )
    .bind(i32::try_from(learners)?)
    .bind(&run)
    .fetch_all(&pool)
    .await?;
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "insert into practice_sessions
             (user_id, topic_id, client_key, status, started_at, ended_at, turn_count)
         select u.id, (select id from topics where slug = 'ordering-at-a-cafe'),
                gen_random_uuid(), 'ended', now() - n * interval '1 hour',
                now() - n * interval '1 hour' + interval '2 minutes', 6
         from unnest($1::uuid[]) with ordinality as u(id, k), generate_series(1, 10) n
         order by u.k, n
         limit $2
         returning id",
    )
    .bind(&users)
    .bind(i64::try_from(sessions)?)
    .fetch_all(&pool)
    .await?;
    for (k, (coach, learner)) in COACH.iter().zip(LEARNER).enumerate() {
        for (offset, speaker, text) in [(0, "coach", *coach), (1, "learner", learner)] {
            let position = i32::try_from(2 * k + offset)?;
            let start = position * 6_000;
            sqlx::query(
                "insert into transcript_turns
                     (session_id, item_id, speaker, text, state, start_ms, end_ms, position)
                 select id, 'item_' || $2, $3, $4, 'final', $5, $6, $2 from unnest($1::uuid[]) id",
            )
            .bind(&ids)
            .bind(position)
            .bind(speaker)
            .bind(text)
            .bind(start)
            .bind(start + 5_000)
            .execute(&pool)
            .await?;
        }
    }
    // Every session gets the fixture's recording, stored where the app stores recordings.
    let audio = read_webm(FIXTURE)?;
    let ogg = bytes::Bytes::from(audio.to_ogg()?);
    for id in &ids {
        state
            .storage
            .put(
                &ObjectKey::recording(*id, "ogg"),
                ogg.clone(),
                RECORDING_MIME,
            )
            .await?;
    }
    sqlx::query(
        "insert into recordings (session_id, status, mime_type, size_bytes, duration_ms)
         select id, 'ready', $2, $3, $4 from unnest($1::uuid[]) id",
    )
    .bind(&ids)
    .bind(RECORDING_MIME)
    .bind(i64::try_from(ogg.len())?)
    .bind(i32::try_from(audio.duration_ms())?)
    .execute(&pool)
    .await?;

    // All at once: one transaction asks for every session's feedback.
    let mut tx = pool.begin().await?;
    for id in &ids {
        request_in(&state.feedback, &mut tx, *id).await?;
    }
    tx.commit().await?;
    println!("{}", ids.len());
    Ok(())
}
