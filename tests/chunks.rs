//! Uploading recording chunks: idempotent per place, conflicting bytes refused, size-limited,
//! owner-only, in any order; the bytes land in storage.
#![cfg(feature = "ssr")]

mod support;

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode, header},
};
use serde_json::Value;
use speaking_coach::server::storage::{ObjectKey, Storage};
use sqlx::PgPool;
use support::{Call, HOST, ORIGIN, sign_up, two_users};
use tower::ServiceExt;
use uuid::Uuid;

const KEY: &str = "5f0c8a8e-3c1b-4e0e-9d7a-0d7f3e2b9a11";

/// The app, and its storage to look into (local disk, or S3 with `TEST_STORAGE=s3`).
fn app_and_storage(db: PgPool) -> (Router, Storage) {
    let (app, state) = support::app_and_state(db);
    (app, state.storage)
}

async fn session(app: &Router, cookie: &str) -> String {
    let response = Call::post("/api/practice/start")
        .field("topic", "ordering-at-a-cafe")
        .field("key", KEY)
        .cookie(cookie)
        .send(app)
        .await;
    let body: Value = serde_json::from_str(&response.body).unwrap();
    body["id"].as_str().unwrap().to_owned()
}

async fn put(
    app: &Router,
    cookie: Option<&str>,
    session: &str,
    sequence: &str,
    bytes: Vec<u8>,
) -> (StatusCode, String) {
    let mut request = Request::builder()
        .method("PUT")
        .uri(format!("/api/practice/{session}/chunks/{sequence}"))
        .header(header::HOST, HOST)
        .header(header::ORIGIN, ORIGIN)
        .header(header::CONTENT_TYPE, "application/octet-stream");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::from(bytes)).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// Every chunk object stored for the session, as (name, bytes), in key order.
async fn stored(storage: &Storage, session: &str) -> Vec<(String, Vec<u8>)> {
    let id = Uuid::parse_str(session).unwrap();
    let mut files = Vec::new();
    for key in storage.list(&ObjectKey::session_prefix(id)).await.unwrap() {
        let Some((_, name)) = key.as_str().split_once("/chunks/") else {
            continue;
        };
        let bytes = storage.get(&key).await.unwrap().unwrap();
        files.push((name.to_owned(), bytes.to_vec()));
    }
    files
}

/// The session's assembled recording, if stored.
async fn recording(storage: &Storage, session: &str) -> Option<Vec<u8>> {
    let key = ObjectKey::recording(Uuid::parse_str(session).unwrap(), "ogg");
    storage.get(&key).await.unwrap().map(|bytes| bytes.to_vec())
}

#[sqlx::test]
async fn a_chunk_is_stored_once_and_repeats_are_acknowledged(db: PgPool) {
    let (app, storage) = app_and_storage(db);
    let cookie = sign_up(&app, "learner@example.org").await;
    let id = session(&app, &cookie).await;

    let (status, body) = put(&app, Some(&cookie), &id, "0", b"first piece".to_vec()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let receipt: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(receipt["sequence"], 0);
    assert_eq!(receipt["size"], 11);
    assert_eq!(receipt["sha256"].as_str().unwrap().len(), 64);

    let (status, _) = put(&app, Some(&cookie), &id, "0", b"first piece".to_vec()).await;
    assert_eq!(status, StatusCode::OK, "the same chunk again is a no-op");
    let files = stored(&storage, &id).await;
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].1, b"first piece");

    let summary = Call::get(&format!("/api/practice/get?session={id}"))
        .cookie(&cookie)
        .send(&app)
        .await;
    let summary: Value = serde_json::from_str(&summary.body).unwrap();
    assert_eq!(
        (
            summary["recording_chunks"].clone(),
            summary["recording_bytes"].clone()
        ),
        (1.into(), 11.into())
    );
}

#[sqlx::test]
async fn different_bytes_for_a_received_chunk_are_refused(db: PgPool) {
    let (app, storage) = app_and_storage(db);
    let cookie = sign_up(&app, "learner@example.org").await;
    let id = session(&app, &cookie).await;
    put(&app, Some(&cookie), &id, "3", b"original".to_vec()).await;
    let (status, body) = put(&app, Some(&cookie), &id, "3", b"tampered".to_vec()).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.contains("different content"), "{body}");
    let files = stored(&storage, &id).await;
    assert_eq!(files.len(), 1, "the original is kept, nothing else");
    assert_eq!(files[0].1, b"original");
}

#[sqlx::test]
async fn chunks_may_arrive_in_any_order(db: PgPool) {
    let (app, storage) = app_and_storage(db);
    let cookie = sign_up(&app, "learner@example.org").await;
    let id = session(&app, &cookie).await;
    for sequence in ["2", "0", "1"] {
        let (status, _) = put(
            &app,
            Some(&cookie),
            &id,
            sequence,
            sequence.repeat(3).into_bytes(),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let names: Vec<String> = stored(&storage, &id)
        .await
        .into_iter()
        .map(|(name, _)| name[..8].to_owned())
        .collect();
    assert_eq!(names, ["00000000", "00000001", "00000002"]);
}

#[sqlx::test]
async fn an_oversized_chunk_gets_a_clear_413_and_nothing_is_stored(db: PgPool) {
    let (app, storage) = app_and_storage(db);
    let cookie = sign_up(&app, "learner@example.org").await;
    let id = session(&app, &cookie).await;
    let limit = speaking_coach::server::chunks::MAX_CHUNK_BYTES;
    let (status, body) = put(&app, Some(&cookie), &id, "0", vec![7; limit + 1]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(body.contains("TooLarge"), "{body}");
    assert!(stored(&storage, &id).await.is_empty());
    let (status, _) = put(&app, Some(&cookie), &id, "0", vec![7; limit]).await;
    assert_eq!(status, StatusCode::CREATED, "exactly the limit is fine");
}

#[sqlx::test]
async fn bad_places_and_empty_bodies_are_400(db: PgPool) {
    let (app, _) = app_and_storage(db);
    let cookie = sign_up(&app, "learner@example.org").await;
    let id = session(&app, &cookie).await;
    for sequence in ["-1", "x", "100001"] {
        let (status, body) = put(&app, Some(&cookie), &id, sequence, b"x".to_vec()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{sequence}: {body}");
    }
    let (status, _) = put(&app, Some(&cookie), &id, "0", Vec::new()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[sqlx::test]
async fn only_the_owner_can_upload(db: PgPool) {
    let (app, storage) = app_and_storage(db);
    let users = two_users(&app).await;
    let id = session(&app, &users.a).await;

    let (status, _) = put(&app, None, &id, "0", b"x".to_vec()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = put(&app, Some(&users.b), &id, "0", b"x".to_vec()).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "someone else's session does not exist for B"
    );
    let (status, _) = put(&app, Some(&users.a), "not-a-session", "0", b"x".to_vec()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(stored(&storage, &id).await.is_empty());
}

#[sqlx::test]
async fn deleting_the_account_removes_its_recordings_from_storage(db: PgPool) {
    let (app, storage) = app_and_storage(db);
    let cookie = sign_up(&app, "learner@example.org").await;
    let id = session(&app, &cookie).await;
    for sequence in ["0", "1"] {
        put(&app, Some(&cookie), &id, sequence, b"audio".to_vec()).await;
    }
    assert_eq!(stored(&storage, &id).await.len(), 2);
    let response = Call::post("/api/account/delete")
        .field("confirm", "delete")
        .cookie(&cookie)
        .send(&app)
        .await;
    assert!(response.status.is_success(), "{}", response.body);
    assert!(
        stored(&storage, &id).await.is_empty(),
        "the chunks are gone from storage"
    );
}

/// A real Chromium recording (5.220 s), split at arbitrary bytes as MediaRecorder chunks are.
const FIXTURE: &[u8] = include_bytes!("fixtures/chromium-mediarecorder.webm");

fn fixture_parts() -> [Vec<u8>; 3] {
    let third = FIXTURE.len() / 3;
    [
        FIXTURE[..third].to_vec(),
        FIXTURE[third..2 * third].to_vec(),
        FIXTURE[2 * third..].to_vec(),
    ]
}

async fn end(app: &Router, cookie: &str, id: &str) -> Value {
    let response = Call::post("/api/practice/end")
        .json(serde_json::json!({ "session": id, "turns": 0, "words_used": [] }))
        .cookie(cookie)
        .send(app)
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    serde_json::from_str(&response.body).unwrap()
}

async fn finalize(app: &Router, cookie: &str, id: &str) -> Value {
    let response = Call::post("/api/practice/finalize")
        .field("session", id)
        .cookie(cookie)
        .send(app)
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    serde_json::from_str(&response.body).unwrap()
}

#[sqlx::test]
async fn ending_assembles_the_chunks_into_one_recording_with_its_real_duration(db: PgPool) {
    let (app, storage) = app_and_storage(db);
    let cookie = sign_up(&app, "learner@example.org").await;
    let id = session(&app, &cookie).await;
    let parts = fixture_parts();
    for sequence in [2usize, 0, 1] {
        put(
            &app,
            Some(&cookie),
            &id,
            &sequence.to_string(),
            parts[sequence].clone(),
        )
        .await;
    }
    let ended = end(&app, &cookie, &id).await;
    let ready = &ended["recording"]["Ready"];
    assert_eq!(ready["mime_type"], "audio/ogg; codecs=opus");
    let duration = ready["duration_ms"].as_u64().unwrap();
    assert!(
        duration.abs_diff(5_220) <= 100,
        "{duration} ms, truth 5220 ms"
    );
    assert_eq!(ready["missing_chunks"], serde_json::json!([]));

    let recording = recording(&storage, &id).await.unwrap();
    assert!(recording.starts_with(b"OggS"));
    assert_eq!(
        ready["size_bytes"].as_u64().unwrap(),
        recording.len() as u64
    );
    assert!(
        stored(&storage, &id).await.is_empty(),
        "the chunks are removed once assembled"
    );

    // Again, later: the same answer, nothing redone.
    assert_eq!(finalize(&app, &cookie, &id).await, ended["recording"]);
}

#[sqlx::test]
async fn a_piece_gone_from_storage_fails_the_recording_with_that_reason(db: PgPool) {
    let (app, storage) = app_and_storage(db);
    let cookie = sign_up(&app, "learner@example.org").await;
    let id = session(&app, &cookie).await;
    for (sequence, part) in fixture_parts().into_iter().enumerate() {
        put(&app, Some(&cookie), &id, &sequence.to_string(), part).await;
    }
    // The middle piece disappears behind the app's back (an operator, a bucket rule).
    let keys = storage
        .list(&ObjectKey::session_prefix(Uuid::parse_str(&id).unwrap()))
        .await
        .unwrap();
    let middle = keys
        .iter()
        .find(|key| key.as_str().contains("/chunks/00000001"))
        .unwrap_or_else(|| panic!("piece 1 among {keys:?}"));
    storage.delete(middle).await.unwrap();

    let ended = end(&app, &cookie, &id).await;
    assert_eq!(
        ended["recording"]["Failed"]["reason"],
        "A piece of the recording went missing from storage."
    );
    assert_eq!(recording(&storage, &id).await, None);
    assert_eq!(stored(&storage, &id).await.len(), 2, "what is left is kept");
}

#[sqlx::test]
async fn concurrent_finalizations_give_one_recording_and_the_same_answer(db: PgPool) {
    let (app, storage) = app_and_storage(db);
    let cookie = sign_up(&app, "learner@example.org").await;
    let id = session(&app, &cookie).await;
    upload_fixture(&app, &cookie, &id).await;
    let (a, b) = tokio::join!(finalize(&app, &cookie, &id), finalize(&app, &cookie, &id));
    assert_eq!(a, b);
    assert!(a["Ready"].is_object(), "{a}");
    assert!(recording(&storage, &id).await.is_some());
    assert!(stored(&storage, &id).await.is_empty());
}

#[sqlx::test]
async fn a_missing_chunk_is_recorded_as_a_gap_not_hidden(db: PgPool) {
    let (app, storage) = app_and_storage(db);
    let cookie = sign_up(&app, "learner@example.org").await;
    let id = session(&app, &cookie).await;
    let parts = fixture_parts();
    put(&app, Some(&cookie), &id, "0", parts[0].clone()).await;
    put(&app, Some(&cookie), &id, "2", parts[2].clone()).await;
    let ended = end(&app, &cookie, &id).await;
    let ready = &ended["recording"]["Ready"];
    assert_eq!(ready["missing_chunks"], serde_json::json!([1]));
    let duration = ready["duration_ms"].as_u64().unwrap();
    assert!(duration > 0 && duration < 5_220, "{duration}");
    // What came after the gap is kept, not thrown away.
    assert_eq!(stored(&storage, &id).await.len(), 1);
}

#[sqlx::test]
async fn garbage_fails_with_a_reason_and_keeps_the_chunks_and_the_transcript(db: PgPool) {
    let (app, storage) = app_and_storage(db);
    let cookie = sign_up(&app, "learner@example.org").await;
    let id = session(&app, &cookie).await;
    let turn = serde_json::json!({
        "item_id": "item_1", "speaker": "Learner", "text": "Hello", "state": "Final",
        "start_ms": 0, "end_ms": 500, "position": 0,
    });
    say(&app, &cookie, &id, turn).await;
    put(
        &app,
        Some(&cookie),
        &id,
        "0",
        b"this is not audio at all".to_vec(),
    )
    .await;
    let ended = end(&app, &cookie, &id).await;
    let reason = ended["recording"]["Failed"]["reason"].as_str().unwrap();
    assert!(reason.contains("could not be read"), "{reason}");
    assert_eq!(stored(&storage, &id).await.len(), 1, "the chunk is kept");
    let turns = Call::get(&format!("/api/practice/turns?session={id}"))
        .cookie(&cookie)
        .send(&app)
        .await;
    assert!(turns.body.contains("Hello"), "the transcript is kept");
}

#[sqlx::test]
async fn a_session_without_audio_says_so(db: PgPool) {
    let (app, _) = app_and_storage(db);
    let cookie = sign_up(&app, "learner@example.org").await;
    let id = session(&app, &cookie).await;
    let ended = end(&app, &cookie, &id).await;
    assert_eq!(
        ended["recording"]["Failed"]["reason"],
        "No audio was received for this session."
    );
}

#[sqlx::test]
async fn a_session_whose_tab_died_is_ended_and_finalized_by_the_server(db: PgPool) {
    let (app, state) = support::app_and_state(db);
    let cookie = sign_up(&app, "learner@example.org").await;
    let id = session(&app, &cookie).await;
    upload_fixture(&app, &cookie, &id).await;
    // Still within the idle time: left alone.
    let closed = speaking_coach::server::practice::close_abandoned(&state, 600)
        .await
        .unwrap();
    assert_eq!(closed, 0);
    // Idle past the limit (0 s here): ended at its last sign of life and finalized.
    let closed = speaking_coach::server::practice::close_abandoned(&state, 0)
        .await
        .unwrap();
    assert_eq!(closed, 1);
    let got = Call::get(&format!("/api/practice/get?session={id}"))
        .cookie(&cookie)
        .send(&app)
        .await;
    let got: Value = serde_json::from_str(&got.body).unwrap();
    assert_eq!(got["status"], "Ended");
    assert!(
        got["recording"]["Ready"]["duration_ms"]
            .as_u64()
            .unwrap()
            .abs_diff(5_220)
            <= 100
    );
    assert_eq!(
        speaking_coach::server::practice::close_abandoned(&state, 0)
            .await
            .unwrap(),
        0,
        "never twice"
    );
}

/// A session whose tab died after two of the fixture's three pieces reached the server.
async fn two_pieces_in(app: &Router, cookie: &str) -> (String, [Vec<u8>; 3]) {
    let id = session(app, cookie).await;
    let parts = fixture_parts();
    put(app, Some(cookie), &id, "0", parts[0].clone()).await;
    put(app, Some(cookie), &id, "1", parts[1].clone()).await;
    (id, parts)
}

/// A final turn of the session, the `n`th, 2 s apart.
fn turn(n: usize, speaker: &str, text: &str) -> Value {
    serde_json::json!({
        "item_id": format!("item_{n}"), "speaker": speaker, "text": text, "state": "Final",
        "start_ms": n * 2000, "end_ms": n * 2000 + 1500, "position": n,
    })
}

#[sqlx::test]
async fn a_provisional_recording_nobody_came_back_for_is_made_final(db: PgPool) {
    use speaking_coach::server::practice::{close_abandoned, finish_provisional};
    let (app, state) = support::app_and_state(db);
    let storage = state.storage.clone();
    let cookie = sign_up(&app, "learner@example.org").await;
    let (id, parts) = two_pieces_in(&app, &cookie).await;
    assert_eq!(close_abandoned(&state, 0).await.unwrap(), 1);
    assert_eq!(stored(&storage, &id).await.len(), 2, "kept for the browser");

    // Quiet for less than the time it waits: left as it is.
    assert_eq!(finish_provisional(&state, 3_600).await.unwrap(), 0);
    // Quiet for longer (0 s here): made final from what arrived, its chunks gone.
    assert_eq!(finish_provisional(&state, 0).await.unwrap(), 1);
    let got = Call::get(&format!("/api/practice/get?session={id}"))
        .cookie(&cookie)
        .send(&app)
        .await;
    let got: Value = serde_json::from_str(&got.body).unwrap();
    assert_eq!(got["recording"]["Ready"]["provisional"], false);
    assert!(duration_of(&got["recording"]) > 0);
    assert!(stored(&storage, &id).await.is_empty(), "chunks removed");
    assert!(recording(&storage, &id).await.is_some());
    assert_eq!(finish_provisional(&state, 0).await.unwrap(), 0, "once");

    // The browser comes back after all: its last piece is refused as the recording is complete.
    let (status, body) = put(&app, Some(&cookie), &id, "2", parts[2].clone()).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
}

async fn recover(app: &Router, cookie: &str, id: &str) -> support::TestResponse {
    Call::post("/api/practice/recover")
        .field("session", id)
        .cookie(cookie)
        .send(app)
        .await
}

fn duration_of(recording: &Value) -> u64 {
    recording["Ready"]["duration_ms"].as_u64().unwrap_or(0)
}

#[sqlx::test]
async fn a_crashed_tab_is_recovered_with_the_chunks_and_turns_its_browser_still_held(db: PgPool) {
    let (app, state) = support::app_and_state(db);
    let storage = state.storage.clone();
    let cookie = sign_up(&app, "learner@example.org").await;
    // Two pieces and the coach's greeting reached the server before the tab died; the third
    // piece and the learner's answer stayed in the browser.
    let (id, parts) = two_pieces_in(&app, &cookie).await;
    say(
        &app,
        &cookie,
        &id,
        turn(0, "Coach", "Hi! What can I get you?"),
    )
    .await;

    // The server gives up waiting: a provisional recording from what arrived, chunks kept.
    let closed = speaking_coach::server::practice::close_abandoned(&state, 0)
        .await
        .unwrap();
    assert_eq!(closed, 1);
    let got = Call::get(&format!("/api/practice/get?session={id}"))
        .cookie(&cookie)
        .send(&app)
        .await;
    let got: Value = serde_json::from_str(&got.body).unwrap();
    assert_eq!(got["recording"]["Ready"]["provisional"], true);
    let partial = duration_of(&got["recording"]);
    assert!(partial > 0 && partial < 5_000, "{partial}");
    assert_eq!(stored(&storage, &id).await.len(), 2, "kept for recovery");
    assert_eq!(got["turn_count"], 1);

    // The learner comes back: the browser sends what it held, then recovers the session.
    let (status, body) = put(&app, Some(&cookie), &id, "2", parts[2].clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    say(&app, &cookie, &id, turn(1, "Learner", "I'd like a coffee.")).await;
    let response = recover(&app, &cookie, &id).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    let recovered: Value = serde_json::from_str(&response.body).unwrap();
    assert_eq!(recovered["status"], "Ended");
    assert_eq!(recovered["turn_count"], 2, "the late turn is counted");
    assert_eq!(recovered["words_used"], serde_json::json!(["I'd like"]));
    let ready = &recovered["recording"]["Ready"];
    assert_eq!(ready["provisional"], false);
    assert!(
        duration_of(&recovered["recording"]).abs_diff(5_220) <= 100,
        "{ready}"
    );
    assert!(stored(&storage, &id).await.is_empty(), "chunks removed");
    let ogg = recording(&storage, &id).await.unwrap();
    assert_eq!(ready["size_bytes"].as_u64().unwrap(), ogg.len() as u64);

    // Final now: a late piece is refused with a reason, and recovering again changes nothing.
    let (status, body) = put(&app, Some(&cookie), &id, "3", b"late".to_vec()).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.contains("already complete"), "{body}");
    let again: Value = serde_json::from_str(&recover(&app, &cookie, &id).await.body).unwrap();
    assert_eq!(again["recording"], recovered["recording"]);
}

#[sqlx::test]
async fn recovering_a_live_session_ends_it_with_its_saved_turns_counted(db: PgPool) {
    let (app, storage) = app_and_storage(db.clone());
    let cookie = sign_up(&app, "learner@example.org").await;
    let id = session(&app, &cookie).await;
    for (n, (speaker, text)) in [
        ("Coach", "Hi! What can I get you?"),
        ("Learner", "I'd like a coffee, please."),
    ]
    .into_iter()
    .enumerate()
    {
        say(&app, &cookie, &id, turn(n, speaker, text)).await;
    }
    upload_fixture(&app, &cookie, &id).await;
    // The chunks came in with recovery, long after the call: that is no sign the call went on.
    sqlx::query("update recording_chunks set received_at = now() + interval '1 hour'")
        .execute(&db)
        .await
        .unwrap();
    let response = recover(&app, &cookie, &id).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    let recovered: Value = serde_json::from_str(&response.body).unwrap();
    assert_eq!(recovered["status"], "Ended");
    let started: chrono::DateTime<chrono::Utc> =
        recovered["started_at"].as_str().unwrap().parse().unwrap();
    let ended: chrono::DateTime<chrono::Utc> =
        recovered["ended_at"].as_str().unwrap().parse().unwrap();
    let lasted = (ended - started).num_milliseconds();
    assert!(
        (0..=5_300).contains(&lasted),
        "ends with its recording: {lasted} ms"
    );
    assert_eq!(recovered["turn_count"], 2);
    assert_eq!(recovered["words_used"], serde_json::json!(["I'd like"]));
    assert!(duration_of(&recovered["recording"]).abs_diff(5_220) <= 100);
    assert!(recording(&storage, &id).await.is_some());
}

#[sqlx::test]
async fn only_the_owner_can_recover_a_session(db: PgPool) {
    let (app, _) = app_and_storage(db);
    let users = two_users(&app).await;
    let id = session(&app, &users.a).await;
    users
        .assert_hidden_from_b(
            &app,
            Call::post("/api/practice/recover").field("session", &id),
        )
        .await;
    let response = recover(&app, &users.a, "not-a-session").await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    let visitor = Call::post("/api/practice/recover")
        .field("session", &id)
        .send(&app)
        .await;
    assert_eq!(visitor.status, StatusCode::UNAUTHORIZED);
}

/// `GET uri` (with a cookie and a `Range` when given): status, headers, body bytes.
async fn fetch(
    app: &Router,
    uri: &str,
    cookie: Option<&str>,
    range: Option<&str>,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let mut request = Request::builder().uri(uri).header(header::HOST, HOST);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    if let Some(range) = range {
        request = request.header(header::RANGE, range);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    if status == StatusCode::TEMPORARY_REDIRECT {
        return follow_presigned(&headers, range).await;
    }
    let body = axum::body::to_bytes(response.into_body(), 64 << 20)
        .await
        .unwrap();
    (status, headers, body.to_vec())
}

/// With S3 storage a recording is a redirect to a presigned URL that works for 5 minutes: follow
/// it, as a browser does, to the store itself.
async fn follow_presigned(
    headers: &axum::http::HeaderMap,
    range: Option<&str>,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let location = headers[header::LOCATION].to_str().unwrap();
    assert!(location.contains("X-Amz-Expires=300"), "{location}");
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    let mut request = reqwest::Client::new().get(location);
    if let Some(range) = range {
        request = request.header("range", range);
    }
    let response = request.send().await.unwrap();
    let status = StatusCode::from_u16(response.status().as_u16()).unwrap();
    let mut headers = axum::http::HeaderMap::new();
    for (name, value) in response.headers() {
        if let (Ok(name), Ok(value)) = (
            axum::http::HeaderName::from_bytes(name.as_str().as_bytes()),
            axum::http::HeaderValue::from_bytes(value.as_bytes()),
        ) {
            headers.insert(name, value);
        }
    }
    (status, headers, response.bytes().await.unwrap().to_vec())
}

/// `GET` the session's recording with an optional `Range`.
async fn fetch_recording(
    app: &Router,
    cookie: &str,
    id: &str,
    range: Option<&str>,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    fetch(
        app,
        &format!("/api/practice/{id}/recording"),
        Some(cookie),
        range,
    )
    .await
}

#[sqlx::test]
async fn the_recording_is_served_to_its_owner_whole_or_in_ranges(db: PgPool) {
    let (app, storage) = app_and_storage(db);
    let users = two_users(&app).await;
    let id = session(&app, &users.a).await;
    let (status, _, _) = fetch_recording(&app, &users.a, &id, None).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "nothing to play before finalizing"
    );
    upload_fixture(&app, &users.a, &id).await;
    end(&app, &users.a, &id).await;
    let stored = recording(&storage, &id).await.unwrap();

    let (status, headers, body) = fetch_recording(&app, &users.a, &id, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, stored);
    assert_eq!(headers[header::CONTENT_TYPE], "audio/ogg; codecs=opus");
    assert_eq!(headers[header::ACCEPT_RANGES], "bytes");

    let (status, headers, body) = fetch_recording(&app, &users.a, &id, Some("bytes=100-199")).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(body, stored[100..200]);
    assert_eq!(
        headers[header::CONTENT_RANGE],
        format!("bytes 100-199/{}", stored.len()).as_str()
    );
    let (status, _, body) = fetch_recording(&app, &users.a, &id, Some("bytes=-50")).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(body, stored[stored.len() - 50..]);
    let beyond = format!("bytes={}-", stored.len());
    let (status, headers, _) = fetch_recording(&app, &users.a, &id, Some(&beyond)).await;
    assert_eq!(status, StatusCode::RANGE_NOT_SATISFIABLE);
    if matches!(storage, Storage::Local(_)) {
        assert_eq!(
            headers[header::CONTENT_RANGE],
            format!("bytes */{}", stored.len()).as_str()
        );
    }

    let (status, _, body) = fetch_recording(&app, &users.b, &id, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "someone else's recording");
    assert!(body.len() < 200, "and none of its bytes");
    let (status, _, _) = fetch_recording(&app, "", &id, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[sqlx::test]
async fn deleting_a_session_removes_its_rows_and_every_stored_object(db: PgPool) {
    let (app, state) = support::app_and_state(db.clone());
    let storage = state.storage.clone();
    let users = two_users(&app).await;
    let id = session(&app, &users.a).await;
    let turn = serde_json::json!({
        "item_id": "item_1", "speaker": "Learner", "text": "Hello", "state": "Final",
        "start_ms": 0, "end_ms": 500, "position": 0,
    });
    say(&app, &users.a, &id, turn).await;
    // With a gap: the recording, and the chunk after the gap kept as a chunk; both must go.
    let parts = fixture_parts();
    put(&app, Some(&users.a), &id, "0", parts[0].clone()).await;
    put(&app, Some(&users.a), &id, "2", parts[2].clone()).await;
    end(&app, &users.a, &id).await;
    let uuid = Uuid::parse_str(&id).unwrap();
    assert_eq!(stored(&storage, &id).await.len(), 1);
    assert!(recording(&storage, &id).await.is_some());

    let delete = || Call::post("/api/practice/delete").field("session", &id);
    users.assert_hidden_from_b(&app, delete()).await;
    assert!(
        recording(&storage, &id).await.is_some(),
        "B deleted nothing"
    );

    let response = delete().cookie(&users.a).send(&app).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert!(
        storage
            .list(&ObjectKey::session_prefix(uuid))
            .await
            .unwrap()
            .is_empty(),
        "no object of the session is left in storage"
    );
    for table in [
        "practice_sessions",
        "transcript_turns",
        "recording_chunks",
        "recordings",
    ] {
        let column = if table == "practice_sessions" {
            "id"
        } else {
            "session_id"
        };
        let left: i64 = sqlx::query_scalar(&format!(
            "select count(*) from {table} where {column} = $1::uuid"
        ))
        .bind(&id)
        .fetch_one(&db)
        .await
        .unwrap();
        assert_eq!(left, 0, "{table}");
    }
    let got = Call::get(&format!("/api/practice/get?session={id}"))
        .cookie(&users.a)
        .send(&app)
        .await;
    assert_eq!(got.status, StatusCode::NOT_FOUND);
    // Again: nothing left to delete, the same outcome.
    let again = delete().cookie(&users.a).send(&app).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

/// Reads a zip file by file: name -> bytes.
fn unzip(bytes: &[u8]) -> std::collections::BTreeMap<String, Vec<u8>> {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a valid zip");
    (0..archive.len())
        .map(|index| {
            let mut file = archive.by_index(index).unwrap();
            let mut contents = Vec::new();
            file.read_to_end(&mut contents).unwrap();
            (file.name().to_owned(), contents)
        })
        .collect()
}

async fn fetch_export(
    app: &Router,
    cookie: &str,
    id: &str,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    fetch(
        app,
        &format!("/api/practice/{id}/export"),
        Some(cookie),
        None,
    )
    .await
}

#[sqlx::test]
async fn an_export_holds_the_recording_and_the_transcript_in_every_form(db: PgPool) {
    let (app, storage) = app_and_storage(db);
    let users = two_users(&app).await;
    let id = session(&app, &users.a).await;
    let said = [
        ("Coach", "Hi! What can I get you?", 0, 1_500, "Final"),
        ("Learner", "I'd like a small tea.", 1_800, 3_100, "Final"),
        (
            "Coach",
            "Of course, anything —",
            3_200,
            4_000,
            "Interrupted",
        ),
    ];
    for (n, (speaker, text, start, end, state)) in said.iter().enumerate() {
        let turn = serde_json::json!({
            "item_id": format!("item_{n}"), "speaker": speaker, "text": text, "state": state,
            "start_ms": start, "end_ms": end, "position": n,
        });
        say(&app, &users.a, &id, turn).await;
    }
    record_and_end(&app, &users.a, &id).await;

    let (status, headers, body) = fetch_export(&app, &users.a, &id).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/zip");
    let disposition = headers[header::CONTENT_DISPOSITION].to_str().unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"speaking-coach-ordering-at-a-cafe-"),
        "{disposition}"
    );
    let files = unzip(&body);
    let names: Vec<&str> = files.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "feedback.json",
            "recording.ogg",
            "session.json",
            "transcript.json",
            "transcript.md",
            "transcript.vtt"
        ]
    );
    // Ending asked for the session's feedback; no worker runs here, so it is still being made.
    let feedback: Value = serde_json::from_slice(&files["feedback.json"]).unwrap();
    assert_eq!(feedback["status"], "Preparing");
    assert_eq!(
        files["recording.ogg"],
        recording(&storage, &id).await.unwrap()
    );

    let transcript: Value = serde_json::from_slice(&files["transcript.json"]).unwrap();
    let transcript = transcript.as_array().unwrap();
    assert_eq!(transcript.len(), 3);
    for (turn, (speaker, text, start, end, _)) in transcript.iter().zip(said) {
        assert_eq!(turn["speaker"], speaker.to_lowercase());
        assert_eq!(turn["text"], text);
        assert_eq!(
            (turn["start_ms"].as_u64(), turn["end_ms"].as_u64()),
            (Some(start), Some(end))
        );
    }
    assert_eq!(transcript[2]["state"], "interrupted");

    // The captions parse, one cue per turn, at the turns' times.
    let vtt = String::from_utf8(files["transcript.vtt"].clone()).unwrap();
    assert!(vtt.starts_with("WEBVTT\n"));
    let ms = |time: &str| -> u64 {
        let (clock, millis) = time.split_once('.').unwrap();
        let parts: Vec<u64> = clock.split(':').map(|n| n.parse().unwrap()).collect();
        ((parts[0] * 60 + parts[1]) * 60 + parts[2]) * 1000 + millis.parse::<u64>().unwrap()
    };
    let cues: Vec<(u64, u64, String)> = vtt
        .split("\n\n")
        .skip(1)
        .map(|block| {
            let lines: Vec<&str> = block.trim().lines().collect();
            let (from, to) = lines[1].split_once(" --> ").unwrap();
            (ms(from), ms(to), lines[2].to_owned())
        })
        .collect();
    assert_eq!(cues.len(), 3);
    for (cue, (speaker, text, start, end, _)) in cues.iter().zip(said) {
        assert_eq!((cue.0, cue.1), (start, end));
        let voice = if speaker == "Learner" { "You" } else { "Coach" };
        assert_eq!(cue.2, format!("<v {voice}>{text}"));
    }

    let readable = String::from_utf8(files["transcript.md"].clone()).unwrap();
    assert!(readable.starts_with("# Ordering at a café"));
    assert!(
        readable.contains("**You** (0:01): I'd like a small tea."),
        "{readable}"
    );
    let facts: Value = serde_json::from_slice(&files["session.json"]).unwrap();
    assert_eq!(facts["id"], id.as_str());
    assert_eq!(facts["topic"]["slug"], "ordering-at-a-cafe");
    assert_eq!(facts["recording"]["file"], "recording.ogg");

    // Only the owner.
    let (status, _, body) = fetch_export(&app, &users.b, &id).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!body.starts_with(b"PK"));
    let (status, _, _) = fetch_export(&app, "", &id).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[sqlx::test]
async fn a_share_link_plays_the_session_for_anyone_until_revoked(db: PgPool) {
    let (app, storage) = app_and_storage(db);
    let users = two_users(&app).await;
    let id = session(&app, &users.a).await;
    let turn = serde_json::json!({
        "item_id": "item_1", "speaker": "Learner", "text": "A small tea, please.",
        "state": "Final", "start_ms": 100, "end_ms": 1_900, "position": 0,
    });
    say(&app, &users.a, &id, turn).await;
    record_and_end(&app, &users.a, &id).await;
    let got = |cookie: String| {
        let id = id.clone();
        let app = app.clone();
        async move {
            let got = Call::get(&format!("/api/practice/get?session={id}"))
                .cookie(&cookie)
                .send(&app)
                .await;
            serde_json::from_str::<Value>(&got.body).unwrap()
        }
    };
    assert_eq!(
        got(users.a.clone()).await["share_url"],
        Value::Null,
        "private by default"
    );

    let share = || Call::post("/api/practice/share").field("session", &id);
    users.assert_hidden_from_b(&app, share()).await;
    let response = share().cookie(&users.a).send(&app).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    let url: String = serde_json::from_str(&response.body).unwrap();
    let token = url.rsplit('/').next().unwrap().to_owned();
    assert!(url.ends_with(&format!("/shared/{token}")), "{url}");
    assert_eq!(token.len(), 64);
    let again: String =
        serde_json::from_str(&share().cookie(&users.a).send(&app).await.body).unwrap();
    assert_eq!(again, url, "one link per session");
    assert_eq!(got(users.a.clone()).await["share_url"], url.as_str());

    // Anyone with the link, signed in or not: the page, the conversation, the recording.
    let page = support::get(&app, &format!("/shared/{token}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Ordering at a café"));
    assert!(page.body.contains("A small tea, please."));
    assert!(
        !page.body.contains("owner@example.org"),
        "no account details"
    );
    let (status, _, audio) =
        fetch(&app, &format!("/api/shared/{token}/recording"), None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(audio, recording(&storage, &id).await.unwrap());
    let wrong = "0".repeat(64);
    assert_eq!(
        support::get(&app, &format!("/shared/{wrong}")).await.status,
        StatusCode::NOT_FOUND
    );

    // Revoked: gone at once. Only the owner can revoke.
    let unshare = || Call::post("/api/practice/unshare").field("session", &id);
    users.assert_hidden_from_b(&app, unshare()).await;
    assert_eq!(
        support::get(&app, &format!("/shared/{token}")).await.status,
        StatusCode::OK
    );
    let response = unshare().cookie(&users.a).send(&app).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(
        support::get(&app, &format!("/shared/{token}")).await.status,
        StatusCode::NOT_FOUND
    );
    let (status, _, _) = fetch(&app, &format!("/api/shared/{token}/recording"), None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(got(users.a.clone()).await["share_url"], Value::Null);
}

/// The session page, history, the shared page and the export each say plainly how far a session
/// got: still going on, stopped before its recording was made, or without any recording.
#[sqlx::test]
async fn every_page_says_how_far_a_session_got(db: PgPool) {
    let (app, _) = app_and_storage(db.clone());
    let cookie = sign_up(&app, "learner@example.org").await;
    let page = |path: String| {
        let (app, cookie) = (app.clone(), cookie.clone());
        async move {
            let page = Call::get(&path).cookie(&cookie).send(&app).await;
            assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
            page.body
        }
    };

    let live = session(&app, &cookie).await;
    let summary = page(format!("/practice/{live}")).await;
    assert!(
        summary.contains("This session is still going on."),
        "{summary}"
    );
    assert!(!summary.contains("Recover this session"));

    // Its tab died after sending the recording; nothing made it yet.
    upload_fixture(&app, &cookie, &live).await;
    sqlx::query(
        "update practice_sessions set status = 'ended', ended_at = started_at + interval '6 seconds',
                started_at = started_at - interval '1 hour' where id = $1::uuid",
    )
    .bind(&live)
    .execute(&db)
    .await
    .unwrap();
    let summary = page(format!("/practice/{live}")).await;
    assert!(
        summary.contains("This session stopped before its recording was finished"),
        "{summary}"
    );
    assert!(summary.contains("Recover this session"));
    assert!(page("/history".into()).await.contains("Needs recovery"));

    // Ended with no audio at all: said so everywhere, and the export still holds the transcript.
    let silent =
        support::start_practice(&app, &cookie, "0b7c9f0e-8d55-4a55-9a43-6a3a5a0e7c21").await;
    let turn = serde_json::json!({
        "item_id": "item_1", "speaker": "Coach", "text": "Hello there!",
        "state": "Final", "start_ms": null, "end_ms": null, "position": 0,
    });
    say(&app, &cookie, &silent, turn).await;
    end(&app, &cookie, &silent).await;
    let summary = page(format!("/practice/{silent}")).await;
    assert!(
        summary.contains("No audio was received for this session."),
        "{summary}"
    );
    assert!(summary.contains("Hello there!"), "the transcript is shown");
    assert!(page("/history".into()).await.contains("Recording failed"));
    let (status, _, zip) = fetch_export(&app, &cookie, &silent).await;
    assert_eq!(status, StatusCode::OK);
    let files = unzip(&zip);
    assert_eq!(
        files.keys().map(String::as_str).collect::<Vec<_>>(),
        [
            "feedback.json",
            "session.json",
            "transcript.json",
            "transcript.md",
            "transcript.vtt"
        ],
        "no recording.ogg when there is no recording"
    );
    assert!(String::from_utf8_lossy(&files["transcript.md"]).contains("Hello there!"));
    let shared = Call::post("/api/practice/share")
        .field("session", &silent)
        .cookie(&cookie)
        .send(&app)
        .await;
    let url: String = serde_json::from_str(&shared.body).unwrap();
    let token = url.rsplit('/').next().unwrap();
    let shared_page = support::get(&app, &format!("/shared/{token}")).await;
    assert_eq!(shared_page.status, StatusCode::OK);
    assert!(
        shared_page
            .body
            .contains("This session has no recording to play."),
        "{}",
        shared_page.body
    );
    // Without a recording, the link still shows what was said.
    let transcript = shared_page
        .body
        .split(r#"data-testid="saved-transcript""#)
        .nth(1)
        .expect("the shared page shows the transcript");
    assert!(transcript.contains("Hello there!"));
}

/// Saves a turn of the session.
async fn say(app: &Router, cookie: &str, id: &str, turn: Value) {
    let saved = Call::post("/api/practice/turn")
        .json(serde_json::json!({ "session": id, "turn": turn }))
        .cookie(cookie)
        .send(app)
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
}

/// Uploads the whole fixture recording in three pieces.
async fn upload_fixture(app: &Router, cookie: &str, id: &str) {
    for (sequence, part) in fixture_parts().into_iter().enumerate() {
        put(app, Some(cookie), id, &sequence.to_string(), part).await;
    }
}

/// Uploads the whole fixture recording and ends the session.
async fn record_and_end(app: &Router, cookie: &str, id: &str) -> Value {
    upload_fixture(app, cookie, id).await;
    end(app, cookie, id).await
}

/// The app with a store of its own: local disk, or, with `TEST_STORAGE=s3`, a fresh bucket (the
/// sweep of orphaned objects looks at the whole store, and other tests share the test bucket).
async fn app_with_own_store(db: PgPool) -> (Router, speaking_coach::server::state::AppState) {
    if std::env::var("TEST_STORAGE").is_ok_and(|backend| backend == "s3") {
        let var = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name}"));
        let bucket = format!("orphans-{}", Uuid::new_v4().simple());
        let (endpoint, key_id, secret) = (
            var("S3_TEST_ENDPOINT"),
            var("S3_TEST_ACCESS_KEY_ID"),
            var("S3_TEST_SECRET_ACCESS_KEY"),
        );
        let (app, state) = support::app_and_state_with(
            db,
            &[
                ("STORAGE_BACKEND", "s3"),
                ("S3_ENDPOINT", &endpoint),
                ("S3_BUCKET", &bucket),
                ("S3_ACCESS_KEY_ID", &key_id),
                ("S3_SECRET_ACCESS_KEY", &secret),
            ],
        );
        let Storage::S3(store) = &state.storage else {
            panic!("an S3 store");
        };
        store.ensure_bucket().await.unwrap();
        (app, state)
    } else {
        support::app_and_state(db)
    }
}

#[sqlx::test]
async fn objects_whose_session_is_gone_are_swept_and_nothing_else(db: PgPool) {
    use speaking_coach::server::practice::remove_orphaned_objects;
    let (app, state) = app_with_own_store(db).await;
    let storage = state.storage.clone();
    let cookie = sign_up(&app, "learner@example.org").await;
    let (id, _) = two_pieces_in(&app, &cookie).await;
    // What an account deletion whose storage call failed leaves: a session's pieces and
    // recording with no session row.
    let gone = Uuid::new_v4();
    for key in [
        ObjectKey::chunk(gone, 0, &[1; 32]),
        ObjectKey::chunk(gone, 1, &[2; 32]),
        ObjectKey::recording(gone, "ogg"),
    ] {
        storage
            .put(
                &key,
                bytes::Bytes::from_static(b"left behind"),
                "audio/webm",
            )
            .await
            .unwrap();
    }

    assert_eq!(remove_orphaned_objects(&state).await.unwrap(), 3);
    assert!(
        storage
            .list(&ObjectKey::session_prefix(gone))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        stored(&storage, &id).await.len(),
        2,
        "a live session's pieces stay"
    );
    assert_eq!(remove_orphaned_objects(&state).await.unwrap(), 0, "once");

    // Deleting the account (rows first) and sweeping leaves nothing, even if the deletion's own
    // removal of objects had failed.
    sqlx::query("delete from users")
        .execute(&state.db)
        .await
        .unwrap();
    assert_eq!(remove_orphaned_objects(&state).await.unwrap(), 2);
    assert!(storage.list(ObjectKey::SESSIONS).await.unwrap().is_empty());
}
