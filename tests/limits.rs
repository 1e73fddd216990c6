//! What a learner may consume: call secrets per day (per learner, per address), a session's call
//! time, one call at a time, live sessions, audio per session, storage, turns. Each limit is
//! reached through the app as a learner would, and refused in words.
#![cfg(feature = "ssr")]

mod support;

use axum::http::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;
use support::{Browser, Call, app_and_state_with, sign_up, start_practice as start};

const TOPIC: &str = "ordering-at-a-cafe";
const KEY_A: &str = "0f6a8d1e-1111-4a6b-9c1d-2e3f4a5b6c7d";
const KEY_B: &str = "0f6a8d1e-2222-4a6b-9c1d-2e3f4a5b6c7d";

async fn learner(base: &str, email: &str) -> Browser {
    let mut browser = Browser::new(base);
    browser.sign_up(email).await;
    browser
}

fn message(body: &str) -> String {
    let error: Value = serde_json::from_str(body).unwrap_or_default();
    error["LimitReached"]["message"]
        .as_str()
        .or_else(|| error["Conflict"]["message"].as_str())
        .unwrap_or(body)
        .to_owned()
}

#[sqlx::test]
async fn a_learner_gets_their_daily_calls_then_is_told_when_more_come(db: PgPool) {
    let base = support::spawn_app(db, &[("MINTS_PER_LEARNER_PER_DAY", "3")]).await;
    let ana = learner(&base, "ana@example.org").await;
    // Near the limit, the topic page says so before the learner starts; a visitor sees nothing.
    let topic_page = format!("/topics/{TOPIC}");
    let (_, page) = ana.get(&topic_page).await;
    assert!(
        page.contains("You have 3 calls with the coach left today"),
        "{page}"
    );
    let (_, page) = Browser::new(&base).get(&topic_page).await;
    assert!(!page.contains("near-a-limit"));
    for _ in 0..3 {
        let (status, body) = ana.start_call(TOPIC).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, body) = ana.start_call(TOPIC).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(
        message(&body).starts_with(
            "You've used today's 3 calls with the coach. You can start another in about"
        ),
        "{body}"
    );
    // The account page says so too.
    let (status, account) = ana.get("/api/account").await;
    assert_eq!(status, StatusCode::OK);
    let account: Value = serde_json::from_str(&account).unwrap();
    assert_eq!(account["usage"]["calls_today"], 3);
    assert_eq!(account["usage"]["calls_per_day"], 3);
    let (_, page) = ana.get(&topic_page).await;
    assert!(
        page.contains("You&#x27;ve used today&#x27;s 3 calls with the coach")
            || page.contains("You've used today's 3 calls with the coach"),
        "{page}"
    );

    // Another learner has their own budget.
    let ben = learner(&base, "ben@example.org").await;
    let (status, body) = ben.start_call(TOPIC).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[sqlx::test]
async fn new_accounts_from_one_address_share_its_budget(db: PgPool) {
    let base = support::spawn_app(db, &[("MINTS_PER_ADDRESS_PER_DAY", "2")]).await;
    for n in 0..2 {
        let browser = learner(&base, &format!("fresh{n}@example.org")).await;
        let (status, body) = browser.start_call(TOPIC).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let third = learner(&base, "fresh2@example.org").await;
    let (status, body) = third.start_call(TOPIC).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(message(&body).contains("from your network today"), "{body}");
}

#[sqlx::test]
async fn a_secret_that_was_not_minted_costs_nothing(db: PgPool) {
    let pool = db.clone();
    let base = support::spawn_app(
        db,
        &[
            ("MINTS_PER_LEARNER_PER_DAY", "1"),
            ("REALTIME_SIM_API_KEY", "sk-sim-limits"),
        ],
    )
    .await;
    let ana = learner(&base, "ana@example.org").await;
    let queued = reqwest::Client::new()
        .post(format!("{base}/sim/control/faults"))
        .bearer_auth("sk-sim-limits")
        .json(&json!({"faults": [
            {"kind": "mint_error", "status": 503},
            {"kind": "mint_error", "status": 503},
            {"kind": "mint_error", "status": 503}
        ]}))
        .send()
        .await
        .unwrap();
    assert_eq!(queued.status(), StatusCode::NO_CONTENT);
    let (status, _) = ana.start_call(TOPIC).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let kept: i64 = sqlx::query_scalar("select count(*) from voice_mints")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(kept, 0, "the failed mint gave its place back");
    let (status, body) = ana.start_call(TOPIC).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[sqlx::test]
async fn a_session_stops_getting_secrets_after_its_call_time(db: PgPool) {
    let pool = db.clone();
    let base = support::spawn_app(db, &[("CALL_MINUTES_PER_SESSION", "10")]).await;
    let ana = learner(&base, "ana@example.org").await;
    let (status, id) = ana.start_practice(TOPIC, KEY_A).await;
    assert_eq!(status, StatusCode::OK, "{id}");
    let (status, body) = ana.start_call_for(TOPIC, KEY_A).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Another topic's secret for this session is refused.
    let (status, _) = ana.start_call_for("a-job-interview", KEY_A).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Eleven minutes after the session started (its row is made when its first call comes up,
    // with the pre-call check's secret: the clock runs from there, not from a later secret).
    sqlx::query(
        "update practice_sessions set started_at = now() - interval '11 minutes', \
         call_started_at = null where id = $1::uuid",
    )
    .bind(&id)
    .execute(&pool)
    .await
    .unwrap();
    let (status, body) = ana.start_call_for(TOPIC, KEY_A).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        message(&body).starts_with("This session has reached its 10-minute limit."),
        "{body}"
    );
}

#[sqlx::test]
async fn one_call_at_a_time_and_a_couple_of_live_sessions(db: PgPool) {
    let base = support::spawn_app(db, &[("LIVE_SESSIONS_PER_LEARNER", "2")]).await;
    let ana = learner(&base, "ana@example.org").await;
    let (status, _) = ana.start_practice(TOPIC, KEY_A).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = ana.start_call_for(TOPIC, KEY_A).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // A second session in another tab: its call is refused while the first one's goes on.
    let (status, _) = ana.start_practice(TOPIC, KEY_B).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = ana.start_call_for(TOPIC, KEY_B).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(message(&body).contains("already in a call"), "{body}");
    // The first call's reconnection is still fine.
    let (status, body) = ana.start_call_for(TOPIC, KEY_A).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // A third live session is refused, in words; a retried start of an existing one is not.
    let (status, body) = ana
        .start_practice(TOPIC, "0f6a8d1e-3333-4a6b-9c1d-2e3f4a5b6c7d")
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("You already have 2 sessions going"), "{body}");
    let (status, _) = ana.start_practice(TOPIC, KEY_B).await;
    assert_eq!(status, StatusCode::OK);
    // So is the pre-call check's secret, which would only lead to a refused start.
    let (status, body) = ana.start_call(TOPIC).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
}

async fn put_chunk(app: &axum::Router, cookie: &str, id: &str, n: u32, bytes: Vec<u8>) -> u16 {
    use axum::{body::Body, http::Request};
    use tower::ServiceExt;
    let request = Request::put(format!("/api/practice/{id}/chunks/{n}"))
        .header("host", support::HOST)
        .header("origin", support::ORIGIN)
        .header("cookie", cookie)
        .body(Body::from(bytes))
        .unwrap();
    app.clone()
        .oneshot(request)
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[sqlx::test]
async fn a_session_uploads_at_most_its_audio_and_a_learner_their_storage(db: PgPool) {
    let (app, _) = app_and_state_with(
        db,
        &[("SESSION_AUDIO_MB", "1"), ("LEARNER_STORAGE_MB", "2")],
    );
    let cookie = sign_up(&app, "ana@example.org").await;
    let first = start(&app, &cookie, KEY_A).await;
    let piece = || vec![7u8; 600 * 1024];
    assert_eq!(put_chunk(&app, &cookie, &first, 0, piece()).await, 201);
    // 1.2 MB would pass the session's 1 MB.
    assert_eq!(put_chunk(&app, &cookie, &first, 1, piece()).await, 413);
    let second = start(&app, &cookie, KEY_B).await;
    assert_eq!(put_chunk(&app, &cookie, &second, 0, piece()).await, 201);
    assert_eq!(
        put_chunk(&app, &cookie, &second, 1, vec![8u8; 300 * 1024]).await,
        201
    );
    // 1.5 MB stored; 600 KB more would pass the learner's 2 MB.
    let response = Call::get("/api/account").cookie(&cookie).send(&app).await;
    let account: Value = serde_json::from_str(&response.body).unwrap();
    assert_eq!(account["usage"]["storage_bytes"], 900 * 1024 + 600 * 1024);
    let end = Call::post("/api/practice/end")
        .json(json!({"session": first, "turns": 0, "words_used": []}))
        .cookie(&cookie)
        .send(&app)
        .await;
    assert_eq!(end.status, StatusCode::OK, "{}", end.body);
    let third = start(&app, &cookie, "0f6a8d1e-3333-4a6b-9c1d-2e3f4a5b6c7d").await;
    use axum::{body::Body, http::Request};
    use tower::ServiceExt;
    let refused = app
        .clone()
        .oneshot(
            Request::put(format!("/api/practice/{third}/chunks/0"))
                .header("host", support::HOST)
                .header("origin", support::ORIGIN)
                .header("cookie", &cookie)
                .body(Body::from(piece()))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let body = http_body_util::BodyExt::collect(refused.into_body())
        .await
        .unwrap()
        .to_bytes();
    let body = String::from_utf8_lossy(&body);
    assert!(message(&body).starts_with("Your storage is full"), "{body}");
}

/// Saves the turn `item` ("A coffee, please.", 17 characters) in session `id`.
fn save(id: &str, cookie: &str, item: &str) -> Call {
    Call::post("/api/practice/turn")
        .json(json!({"session": id, "turn": turn(item)}))
        .cookie(cookie)
}

fn turn(item: &str) -> Value {
    json!({"item_id": item, "speaker": "Learner", "text": "A coffee, please.",
           "state": "Final", "start_ms": 1000, "end_ms": 2000, "position": 0})
}

/// Two turns are kept, a third is refused saying `why`, and the first saved again is fine.
async fn third_turn_refused(db: PgPool, limit: (&str, &str), why: &str) {
    let (app, _) = app_and_state_with(db, &[limit]);
    let cookie = sign_up(&app, "ana@example.org").await;
    let id = start(&app, &cookie, KEY_A).await;
    let save = |item: &'static str| save(&id, &cookie, item);
    assert_eq!(save("item_a").send(&app).await.status, StatusCode::OK);
    assert_eq!(save("item_b").send(&app).await.status, StatusCode::OK);
    let refused = save("item_c").send(&app).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.body.contains(why), "{}", refused.body);
    // Saving a kept turn again is not a new one (its text replaces its own).
    assert_eq!(save("item_a").send(&app).await.status, StatusCode::OK);
}

#[sqlx::test]
async fn a_session_keeps_at_most_its_turns(db: PgPool) {
    third_turn_refused(db, ("TURNS_PER_SESSION", "2"), "at most 2 turns").await;
}

#[sqlx::test]
async fn a_session_keeps_at_most_its_text(db: PgPool) {
    // 17 characters a turn: two fit in 40, a third does not.
    third_turn_refused(db, ("SESSION_TEXT_CHARS", "40"), "at most 40 characters").await;
}

#[sqlx::test]
async fn the_abandoned_sweep_goes_past_a_session_with_too_many_turns(db: PgPool) {
    let (app, state) = app_and_state_with(db.clone(), &[]);
    let cookie = sign_up(&app, "ana@example.org").await;
    let crowded = start(&app, &cookie, KEY_A).await;
    let quiet = start(&app, &cookie, KEY_B).await;
    // 10,001 turns, as a learner once made before turns were capped.
    sqlx::query(
        r#"insert into transcript_turns
               (session_id, item_id, speaker, text, state, position, saved_at)
           select $1::uuid, 'item_' || n, 'learner', 'hi', 'final', n, now() - interval '1 hour'
           from generate_series(0, 10000) as n"#,
    )
    .bind(&crowded)
    .execute(&db)
    .await
    .unwrap();
    sqlx::query("update practice_sessions set started_at = now() - interval '1 hour'")
        .execute(&db)
        .await
        .unwrap();
    let closed = speaking_coach::server::practice::close_abandoned(&state, 60)
        .await
        .unwrap();
    assert_eq!(closed, 2, "both quiet sessions are ended");
    let counts: Vec<(String, i32)> =
        sqlx::query_as("select status, turn_count from practice_sessions order by turn_count")
            .fetch_all(&db)
            .await
            .unwrap();
    assert_eq!(
        counts,
        [("ended".to_owned(), 0), ("ended".to_owned(), 10_000)],
        "{quiet}"
    );
}
