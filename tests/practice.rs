//! Practice sessions: an idempotent start, an idempotent end, the summary page, and nobody but
//! the owner ever sees one.
#![cfg(feature = "ssr")]

mod support;

use axum::{Router, http::StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;
use support::{Call, app, get, sign_up, two_users};

const KEY: &str = "5f0c8a8e-3c1b-4e0e-9d7a-0d7f3e2b9a11";

async fn start(app: &Router, cookie: &str, topic: &str, key: &str) -> (StatusCode, Value) {
    let response = Call::post("/api/practice/start")
        .field("topic", topic)
        .field("key", key)
        .cookie(cookie)
        .send(app)
        .await;
    let body = serde_json::from_str(&response.body).unwrap_or(Value::Null);
    (response.status, body)
}

fn end_call(id: &str, turns: u32, words: &[&str]) -> Call {
    Call::post("/api/practice/end").json(json!({
        "session": id,
        "turns": turns,
        "words_used": words,
    }))
}

async fn end(
    app: &Router,
    cookie: &str,
    id: &str,
    turns: u32,
    words: &[&str],
) -> (StatusCode, Value) {
    let response = end_call(id, turns, words).cookie(cookie).send(app).await;
    let body = serde_json::from_str(&response.body).unwrap_or(Value::Null);
    (response.status, body)
}

#[sqlx::test]
async fn a_retried_start_returns_the_same_session(db: PgPool) {
    let app = app(db.clone());
    let cookie = sign_up(&app, "learner@example.org").await;

    let (status, first) = start(&app, &cookie, "ordering-at-a-cafe", KEY).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["status"], "Live");
    assert_eq!(first["topic"]["slug"], "ordering-at-a-cafe");
    assert_eq!(first["ended_at"], Value::Null);

    let (status, again) = start(&app, &cookie, "ordering-at-a-cafe", KEY).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["id"], first["id"]);
    let rows: i64 = sqlx::query_scalar("select count(*) from practice_sessions")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(rows, 1);

    let (_, other) = start(
        &app,
        &cookie,
        "ordering-at-a-cafe",
        "0b6f1c7e-8d7a-4c56-a1f2-33b0e2c4d5e6",
    )
    .await;
    assert_ne!(other["id"], first["id"], "a new key is a new session");
}

#[sqlx::test]
async fn the_same_key_from_two_learners_makes_two_sessions(db: PgPool) {
    let app = app(db);
    let users = two_users(&app).await;
    let (_, a) = start(&app, &users.a, "ordering-at-a-cafe", KEY).await;
    let (_, b) = start(&app, &users.b, "ordering-at-a-cafe", KEY).await;
    assert_ne!(a["id"], b["id"]);
}

#[sqlx::test]
async fn bad_starts_get_clear_errors_and_create_nothing(db: PgPool) {
    let app = app(db.clone());
    let cookie = sign_up(&app, "learner@example.org").await;

    let (status, body) = start(&app, &cookie, "ordering-at-a-cafe", "not-a-uuid").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.to_string().contains("UUID"), "{body}");

    let (status, _) = start(&app, &cookie, "no-such-topic", KEY).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    start(&app, &cookie, "ordering-at-a-cafe", KEY).await;
    let (status, body) = start(&app, &cookie, "describing-your-hometown", KEY).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a key reused for another topic"
    );
    assert!(body.to_string().contains("another topic"), "{body}");

    let signed_out = Call::post("/api/practice/start")
        .field("topic", "ordering-at-a-cafe")
        .field("key", KEY)
        .send(&app)
        .await;
    assert_eq!(signed_out.status, StatusCode::UNAUTHORIZED);

    let rows: i64 = sqlx::query_scalar("select count(*) from practice_sessions")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(rows, 1, "only the one good start made a session");
}

#[sqlx::test]
async fn a_session_made_late_by_recovery_starts_when_its_call_came_up(db: PgPool) {
    let app = app(db);
    let cookie = sign_up(&app, "learner@example.org").await;
    let late = |key: &str, started_ms: i64| {
        Call::post("/api/practice/start")
            .field("topic", "ordering-at-a-cafe")
            .field("key", key)
            .field("started_ms", &started_ms.to_string())
            .cookie(&cookie)
    };
    let started_at = |body: &str| {
        let session: Value = serde_json::from_str(body).unwrap();
        session["started_at"]
            .as_str()
            .unwrap()
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap()
    };
    let now = chrono::Utc::now();
    let two_hours_ago = now - chrono::Duration::hours(2);

    let made = late(KEY, two_hours_ago.timestamp_millis()).send(&app).await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    assert_eq!(
        started_at(&made.body).timestamp_millis(),
        two_hours_ago.timestamp_millis()
    );
    // The same key again is the same session, as it was made.
    let again = late(KEY, now.timestamp_millis()).send(&app).await;
    assert_eq!(started_at(&again.body), started_at(&made.body));

    // A clock ahead of the server's is taken as now; a start long ago is refused.
    let ahead = late(
        "0d5a4c1e-9c51-4f7e-a0c4-2a5b0a8e1f01",
        (now + chrono::Duration::hours(1)).timestamp_millis(),
    )
    .send(&app)
    .await;
    assert_eq!(ahead.status, StatusCode::OK, "{}", ahead.body);
    let ahead = started_at(&ahead.body);
    assert!(ahead >= now - chrono::Duration::seconds(5) && ahead <= chrono::Utc::now());
    let ancient = late(
        "0d5a4c1e-9c51-4f7e-a0c4-2a5b0a8e1f02",
        (now - chrono::Duration::days(45)).timestamp_millis(),
    )
    .send(&app)
    .await;
    assert_eq!(ancient.status, StatusCode::BAD_REQUEST, "{}", ancient.body);
    assert!(
        ancient.body.contains("at most 30 days ago"),
        "{}",
        ancient.body
    );
}

#[sqlx::test]
async fn ending_keeps_the_first_end_and_only_the_topics_words(db: PgPool) {
    let app = app(db);
    let cookie = sign_up(&app, "learner@example.org").await;
    let (_, session) = start(&app, &cookie, "ordering-at-a-cafe", KEY).await;
    let id = session["id"].as_str().unwrap();

    let (status, ended) = end(
        &app,
        &cookie,
        id,
        4,
        &["a cup of", "not a topic word", "small"],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{ended}");
    assert_eq!(ended["status"], "Ended");
    assert_eq!(ended["turn_count"], 4);
    // In the topic's order, unknown words dropped.
    assert_eq!(ended["words_used"], json!(["a cup of", "small"]));
    assert!(ended["ended_at"].is_string());

    let (status, again) = end(&app, &cookie, id, 9, &["large"]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["ended_at"], ended["ended_at"]);
    assert_eq!(again["turn_count"], 4);
    assert_eq!(again["words_used"], ended["words_used"]);

    let (status, body) = end(&app, &cookie, id, 20_000, &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    let (status, _) = end(&app, &cookie, "not-a-session", 1, &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[sqlx::test]
async fn nobody_else_can_see_end_or_open_a_session(db: PgPool) {
    let app = app(db);
    let users = two_users(&app).await;
    let (_, session) = start(&app, &users.a, "ordering-at-a-cafe", KEY).await;
    let id = session["id"].as_str().unwrap().to_owned();

    users
        .assert_hidden_from_b(&app, Call::get(&format!("/api/practice/get?session={id}")))
        .await;
    users
        .assert_hidden_from_b(&app, end_call(&id, 1, &[]))
        .await;
    users
        .assert_hidden_from_b(&app, Call::get(&format!("/practice/{id}")))
        .await;

    // B's attempt changed nothing: A's session is still live.
    let response = Call::get(&format!("/api/practice/get?session={id}"))
        .cookie(&users.a)
        .send(&app)
        .await;
    assert_eq!(response.status, StatusCode::OK);
    assert!(response.body.contains("\"Live\""), "{}", response.body);
}

#[sqlx::test]
async fn the_summary_page_shows_the_session_to_its_owner(db: PgPool) {
    let app = app(db);
    let cookie = sign_up(&app, "learner@example.org").await;
    let (_, session) = start(&app, &cookie, "ordering-at-a-cafe", KEY).await;
    let id = session["id"].as_str().unwrap();
    end(&app, &cookie, id, 3, &["small", "thank you"]).await;

    let page = Call::get(&format!("/practice/{id}"))
        .cookie(&cookie)
        .send(&app)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Ordering at a café"));
    assert!(
        page.body.contains("You used 2 of the 8 words."),
        "{}",
        page.body
    );
    assert!(
        page.body.contains(r#"data-testid="summary-turns">3<"#) || page.body.contains(">3</dd>")
    );

    let unknown = Call::get("/practice/3d9e4c1a-0000-4000-8000-000000000000")
        .cookie(&cookie)
        .send(&app)
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let garbage = Call::get("/practice/garbage")
        .cookie(&cookie)
        .send(&app)
        .await;
    assert_eq!(garbage.status, StatusCode::NOT_FOUND);
}

#[sqlx::test]
async fn the_practice_pages_send_visitors_to_sign_in(db: PgPool) {
    let app = app(db);
    let practice = get(&app, "/topics/ordering-at-a-cafe/practice").await;
    let summary = get(&app, "/practice/3d9e4c1a-0000-4000-8000-000000000000").await;
    for (response, next) in [
        (
            practice,
            "/sign-in?next=/topics/ordering-at-a-cafe/practice",
        ),
        (
            summary,
            "/sign-in?next=/practice/3d9e4c1a-0000-4000-8000-000000000000",
        ),
    ] {
        let location = response.header("location").unwrap_or_default().to_owned();
        assert!(
            response.status.is_redirection() && location == next,
            "{} {location}: {}",
            response.status,
            response.body
        );
    }
}

#[sqlx::test]
async fn the_practice_page_renders_the_check_for_a_signed_in_learner(db: PgPool) {
    let app = app(db);
    let cookie = sign_up(&app, "learner@example.org").await;
    let page = Call::get("/topics/ordering-at-a-cafe/practice")
        .cookie(&cookie)
        .send(&app)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    for text in [
        "Before you start",
        "Asking for your microphone",
        "Words to try",
        "Use headphones",
    ] {
        assert!(page.body.contains(text), "missing {text}");
    }
    let unknown = Call::get("/topics/no-such-topic/practice")
        .cookie(&cookie)
        .send(&app)
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

fn turn(
    item: &str,
    speaker: &str,
    text: &str,
    state: &str,
    start: Option<u64>,
    position: u32,
) -> Value {
    json!({
        "item_id": item,
        "speaker": speaker,
        "text": text,
        "state": state,
        "start_ms": start,
        "end_ms": start.map(|s| s + 1_000),
        "position": position,
    })
}

async fn save_turn(app: &Router, cookie: &str, id: &str, turn: Value) -> (StatusCode, Value) {
    let response = Call::post("/api/practice/turn")
        .json(json!({ "session": id, "turn": turn }))
        .cookie(cookie)
        .send(app)
        .await;
    (
        response.status,
        serde_json::from_str(&response.body).unwrap_or(Value::Null),
    )
}

async fn turns(app: &Router, cookie: &str, id: &str) -> Vec<Value> {
    let response = Call::get(&format!("/api/practice/turns?session={id}"))
        .cookie(cookie)
        .send(app)
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    serde_json::from_str(&response.body).unwrap()
}

#[sqlx::test]
async fn a_final_turn_is_never_overwritten_and_repeats_change_nothing(db: PgPool) {
    let app = app(db);
    let cookie = sign_up(&app, "learner@example.org").await;
    let (_, session) = start(&app, &cookie, "ordering-at-a-cafe", KEY).await;
    let id = session["id"].as_str().unwrap();

    // A failed transcription first, then the final text: the final wins.
    let failed = turn(
        "item_1",
        "Learner",
        "",
        "TranscriptionFailed",
        Some(2_000),
        1,
    );
    assert_eq!(
        save_turn(&app, &cookie, id, failed.clone()).await,
        (StatusCode::OK, json!(true))
    );
    let last = turn(
        "item_1",
        "Learner",
        "A small tea, please.",
        "Final",
        Some(2_000),
        1,
    );
    assert_eq!(
        save_turn(&app, &cookie, id, last.clone()).await.1,
        json!(true)
    );
    // The same final again, and the failure arriving late: nothing changes.
    assert_eq!(save_turn(&app, &cookie, id, last).await.1, json!(false));
    assert_eq!(save_turn(&app, &cookie, id, failed).await.1, json!(false));

    let saved = turns(&app, &cookie, id).await;
    assert_eq!(saved.len(), 1);
    assert_eq!(saved[0]["text"], "A small tea, please.");
    assert_eq!(saved[0]["state"], "Final");
    assert_eq!(saved[0]["start_ms"], 2_000);
}

#[sqlx::test]
async fn turns_come_back_in_spoken_order_whatever_order_they_were_saved_in(db: PgPool) {
    let app = app(db);
    let cookie = sign_up(&app, "learner@example.org").await;
    let (_, session) = start(&app, &cookie, "ordering-at-a-cafe", KEY).await;
    let id = session["id"].as_str().unwrap();

    // The coach's reply settles before the learner's (late) transcription.
    let greeting = turn(
        "item_a",
        "Coach",
        "Hello! What would you like?",
        "Final",
        Some(300),
        0,
    );
    let reply = turn(
        "item_c",
        "Coach",
        "Small or large?",
        "Interrupted",
        Some(6_000),
        2,
    );
    let learner = turn("item_b", "Learner", "A coffee.", "Final", Some(3_500), 1);
    for t in [reply, greeting, learner] {
        assert_eq!(save_turn(&app, &cookie, id, t).await.0, StatusCode::OK);
    }
    let order: Vec<_> = turns(&app, &cookie, id)
        .await
        .iter()
        .map(|t| t["item_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(order, ["item_a", "item_b", "item_c"]);
}

#[sqlx::test]
async fn bad_turns_are_refused_and_others_sessions_are_hidden(db: PgPool) {
    let app = app(db);
    let users = two_users(&app).await;
    let (_, session) = start(&app, &users.a, "ordering-at-a-cafe", KEY).await;
    let id = session["id"].as_str().unwrap().to_owned();

    let partial = turn("item_1", "Learner", "A sm", "InProgress", Some(0), 0);
    let (status, body) = save_turn(&app, &users.a, &id, partial).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let bad_id = turn("../../x", "Learner", "Hi", "Final", Some(0), 0);
    assert_eq!(
        save_turn(&app, &users.a, &id, bad_id).await.0,
        StatusCode::BAD_REQUEST
    );

    let fine = turn("item_1", "Learner", "Hi", "Final", Some(0), 0);
    users
        .assert_hidden_from_b(
            &app,
            Call::post("/api/practice/turn").json(json!({ "session": id, "turn": fine })),
        )
        .await;
    users
        .assert_hidden_from_b(
            &app,
            Call::get(&format!("/api/practice/turns?session={id}")),
        )
        .await;
    assert!(
        turns(&app, &users.a, &id).await.is_empty(),
        "B saved nothing"
    );
}

async fn history(app: &Router, cookie: &str, after: Option<&str>) -> (StatusCode, Value) {
    let uri = match after {
        Some(after) => format!("/api/practice/history?after={after}"),
        None => "/api/practice/history".to_owned(),
    };
    let response = Call::get(&uri).cookie(cookie).send(app).await;
    let body = serde_json::from_str(&response.body).unwrap_or(Value::Null);
    (response.status, body)
}

#[sqlx::test]
async fn history_pages_through_the_learners_own_sessions_newest_first(db: PgPool) {
    let app = app(db.clone());
    let users = two_users(&app).await;
    let mut made = Vec::new();
    for n in 0..25 {
        let key = uuid::Uuid::new_v4().to_string();
        let (status, session) = start(&app, &users.a, "ordering-at-a-cafe", &key).await;
        assert_eq!(status, StatusCode::OK);
        made.push(session["id"].as_str().unwrap().to_owned());
        // Some share a start time: the page order must still be total.
        if n % 5 != 0 {
            sqlx::query("update practice_sessions set started_at = now() - make_interval(mins => $1) where id = $2::uuid")
                .bind(n / 2)
                .bind(made.last().unwrap())
                .execute(&db)
                .await
                .unwrap();
        }
        // Ended, as a learner's past sessions are (only a couple may be live at once); the
        // newest stays live.
        if n != 20 {
            sqlx::query("update practice_sessions set status = 'ended', ended_at = started_at where id = $1::uuid")
                .bind(made.last().unwrap())
                .execute(&db)
                .await
                .unwrap();
        }
    }
    start(&app, &users.b, "ordering-at-a-cafe", KEY).await;

    let (status, first) = history(&app, &users.a, None).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let first_entries = first["entries"].as_array().unwrap();
    assert_eq!(first_entries.len(), 20);
    let next = first["next"].as_str().expect("a second page");
    let (_, second) = history(&app, &users.a, Some(next)).await;
    let second_entries = second["entries"].as_array().unwrap();
    assert_eq!(second_entries.len(), 5);
    assert_eq!(second["next"], Value::Null);

    let listed: Vec<&Value> = first_entries.iter().chain(second_entries).collect();
    let mut ids: Vec<String> = listed
        .iter()
        .map(|entry| entry["id"].as_str().unwrap().to_owned())
        .collect();
    let starts: Vec<&str> = listed
        .iter()
        .map(|entry| entry["started_at"].as_str().unwrap())
        .collect();
    let parsed: Vec<chrono::DateTime<chrono::Utc>> =
        starts.iter().map(|s| s.parse().unwrap()).collect();
    assert!(
        parsed.windows(2).all(|pair| pair[0] >= pair[1]),
        "newest first: {starts:?}"
    );
    ids.sort();
    ids.dedup();
    made.sort();
    assert_eq!(ids, made, "every session once, none of B's");
    assert_eq!(listed[0]["topic_title"], "Ordering at a café");
    assert_eq!(listed[0]["state"], "InProgress");

    let (_, of_b) = history(&app, &users.b, None).await;
    assert_eq!(of_b["entries"].as_array().unwrap().len(), 1);
    let (status, body) = history(&app, &users.a, Some("not-a-cursor")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let visitor = Call::get("/api/practice/history").send(&app).await;
    assert_eq!(visitor.status, StatusCode::UNAUTHORIZED);
}

#[sqlx::test]
async fn history_tells_saved_sessions_from_ones_that_need_recovery(db: PgPool) {
    let app = app(db.clone());
    let cookie = sign_up(&app, "learner@example.org").await;
    let (_, quiet) = start(&app, &cookie, "ordering-at-a-cafe", KEY).await;
    let quiet = quiet["id"].as_str().unwrap().to_owned();
    let (_, ended) = start(
        &app,
        &cookie,
        "ordering-at-a-cafe",
        "0b7c9f0e-8d55-4a55-9a43-6a3a5a0e7c21",
    )
    .await;
    let ended = ended["id"].as_str().unwrap().to_owned();
    end(&app, &cookie, &ended, 0, &[]).await;
    // The first one's tab went quiet two minutes ago.
    sqlx::query("update practice_sessions set started_at = now() - interval '2 minutes' where id = $1::uuid")
        .bind(&quiet)
        .execute(&db)
        .await
        .unwrap();

    let (_, page) = history(&app, &cookie, None).await;
    let state_of = |id: &str| {
        page["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|entry| entry["id"] == id)
            .map(|entry| entry["state"].clone())
            .unwrap()
    };
    assert_eq!(state_of(&quiet), "NeedsRecovery");
    // Ended without any audio: the recording failed, for good.
    assert_eq!(state_of(&ended), "Failed");
    // The session itself says the same.
    for (id, state) in [(&quiet, "NeedsRecovery"), (&ended, "Failed")] {
        let got = Call::get(&format!("/api/practice/get?session={id}"))
            .cookie(&cookie)
            .send(&app)
            .await;
        let got: Value = serde_json::from_str(&got.body).unwrap();
        assert_eq!(got["state"], state);
    }
}

#[sqlx::test]
async fn the_history_page_has_a_beginning_an_end_and_explains_bad_links(db: PgPool) {
    let app = app(db);
    let cookie = sign_up(&app, "learner@example.org").await;
    let page = |path: &'static str| {
        let (app, cookie) = (app.clone(), cookie.clone());
        async move { Call::get(path).cookie(&cookie).send(&app).await }
    };
    let empty = page("/history").await;
    assert_eq!(empty.status, StatusCode::OK);
    assert!(empty.body.contains("No sessions yet"), "{}", empty.body);

    start(&app, &cookie, "ordering-at-a-cafe", KEY).await;
    let first = page("/history").await;
    assert!(first.body.contains("Ordering at a café"), "{}", first.body);
    assert!(first.body.contains("In progress"));
    assert!(!first.body.contains("Older sessions"), "one page only");

    // Past the oldest session (a cursor from 1970).
    let past = page("/history?after=1.00000000-0000-0000-0000-000000000000").await;
    assert_eq!(past.status, StatusCode::OK);
    assert!(past.body.contains("No older sessions"), "{}", past.body);
    assert!(!past.body.contains("Ordering at a café"));

    let bad = page("/history?after=not-a-cursor").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("That didn"), "{}", bad.body);
    assert!(!bad.body.contains("Ordering at a café"));
}

#[sqlx::test]
async fn call_events_are_logged_for_the_owners_session_only(db: PgPool) {
    let app = app(db);
    let users = two_users(&app).await;
    let (_, session) = start(&app, &users.a, "ordering-at-a-cafe", KEY).await;
    let id = session["id"].as_str().unwrap();
    let note = |body: Value| Call::post("/api/practice/note").json(body);
    let dropped = json!({ "session": id, "note": "Dropped", "cause": "Network", "attempt": 0 });

    let response = note(dropped.clone()).cookie(&users.a).send(&app).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    let response = note(json!({ "session": id, "note": "GaveUp", "cause": null, "attempt": 5 }))
        .cookie(&users.a)
        .send(&app)
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    users
        .assert_hidden_from_b(&app, note(dropped.clone()))
        .await;
    let unknown = json!({ "session": id, "note": "Exploded", "cause": null, "attempt": 0 });
    let response = note(unknown).cookie(&users.a).send(&app).await;
    assert_eq!(
        response.status,
        StatusCode::BAD_REQUEST,
        "{}",
        response.body
    );
    let response = note(dropped).send(&app).await;
    assert_eq!(response.status, StatusCode::UNAUTHORIZED);
}
