//! Several app processes on one Postgres and one store, requests alternating between them as a
//! load balancer sends them: a learner notices nothing, limits hold across processes, and the
//! background work on a session happens once. Each "process" is an app with its own state (its
//! own memory, pool, limits and simulator), serving on a port of its own.
#![cfg(feature = "ssr")]

mod support;

use axum::http::StatusCode;
use serde_json::Value;
use speaking_coach::server::db::recordings::{self, Claim};
use sqlx::PgPool;
use support::{Browser, PASSWORD, spawn_processes};
use uuid::Uuid;

const TOPIC: &str = "ordering-at-a-cafe";
const KEY: &str = "7d1e0c55-3a0b-4c8e-9f00-5b1c2d3e4f50";
const FIXTURE: &[u8] = include_bytes!("fixtures/chromium-mediarecorder.webm");

/// Generous limits, so a test meets only the one it is about.
const ROOMY: [(&str, &str); 3] = [
    ("AUTH_ATTEMPTS_PER_MINUTE", "10000"),
    ("MINTS_PER_LEARNER_PER_DAY", "1000"),
    ("MINTS_PER_ADDRESS_PER_DAY", "100000"),
];

async fn learner(bases: &[String], email: &str) -> Browser {
    let mut browser = Browser::across(bases);
    browser.sign_up(email).await;
    browser
}

#[sqlx::test]
async fn a_learner_moves_between_processes_without_noticing(db: PgPool) {
    let (bases, _) = spawn_processes(db, &ROOMY, 2).await;
    // Signed up through both (the form on one, the mailed link on the other).
    let ana = learner(&bases, "ana@example.org").await;
    for _ in 0..4 {
        let (status, account) = ana.get("/api/account").await;
        assert_eq!(status, StatusCode::OK, "{account}");
        assert!(account.contains("ana@example.org"), "{account}");
    }
    let (status, id) = ana.start_practice(TOPIC, KEY).await;
    assert_eq!(status, StatusCode::OK, "{id}");
    // Start pressed twice (a retry that reached the other process): the same session.
    let (status, again) = ana.start_practice(TOPIC, KEY).await;
    assert_eq!((status, again.as_str()), (StatusCode::OK, id.as_str()));
    // A recording uploaded in pieces, each to whichever process, then ended on the other.
    let third = FIXTURE.len() / 3;
    for (n, part) in FIXTURE.chunks(third + 1).enumerate() {
        let status = ana
            .put(&format!("/api/practice/{id}/chunks/{n}"), part.to_vec())
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let (status, history) = ana.get("/history").await;
    assert_eq!(status, StatusCode::OK);
    assert!(history.contains("Ordering at a café") || history.contains("Ordering at a cafe"));
    for _ in 0..2 {
        let (status, got) = ana.get(&format!("/api/practice/get?session={id}")).await;
        assert_eq!(status, StatusCode::OK, "{got}");
    }
}

#[sqlx::test]
async fn sign_in_limits_hold_across_processes(db: PgPool) {
    let (bases, _) = spawn_processes(db, &ROOMY, 2).await;
    learner(&bases, "ana@example.org").await;
    let guesser = Browser::across(&bases);
    // Five wrong guesses, spread over both processes...
    for _ in 0..5 {
        let response = guesser
            .post(
                "/api/auth/sign-in",
                &[
                    ("email", "ana@example.org"),
                    ("password", "a wrong password!"),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    }
    // ...and each process refuses the sixth, as one process would.
    for _ in 0..2 {
        let response = guesser
            .post(
                "/api/auth/sign-in",
                &[("email", "ana@example.org"), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    }
}

#[sqlx::test]
async fn the_call_secret_burst_holds_across_processes(db: PgPool) {
    let (bases, _) = spawn_processes(db, &ROOMY, 2).await;
    let ana = learner(&bases, "ana@example.org").await;
    for n in 0..10 {
        let (status, body) = ana.start_call(TOPIC).await;
        assert_eq!(status, StatusCode::OK, "mint {n}: {body}");
    }
    for _ in 0..2 {
        let (status, body) = ana.start_call(TOPIC).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    }
}

#[sqlx::test]
async fn an_abandoned_session_is_ended_and_finalized_once(db: PgPool) {
    use speaking_coach::server::practice::close_abandoned;
    let (bases, states) = spawn_processes(db.clone(), &ROOMY, 2).await;
    let ana = learner(&bases, "ana@example.org").await;
    let (_, id) = ana.start_practice(TOPIC, KEY).await;
    let status = ana
        .put(&format!("/api/practice/{id}/chunks/0"), FIXTURE.to_vec())
        .await;
    assert_eq!(status, StatusCode::CREATED);
    // Both processes' sweeps run at the same moment.
    let (a, b) = tokio::join!(
        close_abandoned(&states[0], 0),
        close_abandoned(&states[1], 0)
    );
    assert_eq!(a.unwrap() + b.unwrap(), 1, "ended by exactly one process");
    let session = Uuid::parse_str(&id).unwrap();
    let generation: i32 =
        sqlx::query_scalar("select generation from session_feedback where session_id = $1")
            .bind(session)
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(generation, 1, "its feedback asked for once");
    let (_, got) = ana.get(&format!("/api/practice/get?session={id}")).await;
    let got: Value = serde_json::from_str(&got).unwrap();
    assert_eq!(got["status"], "Ended", "{got}");
    assert!(
        got["recording"]["Ready"]["duration_ms"].as_u64().unwrap() > 0,
        "{got}"
    );
    // Later sweeps, on either process, find nothing to do.
    for state in &states {
        assert_eq!(close_abandoned(state, 0).await.unwrap(), 0);
    }
}

#[sqlx::test]
async fn a_finalization_lease_is_its_holders_alone(db: PgPool) {
    let (bases, _) = spawn_processes(db.clone(), &ROOMY, 1).await;
    let ana = learner(&bases, "ana@example.org").await;
    let (_, id) = ana.start_practice(TOPIC, KEY).await;
    let session = Uuid::parse_str(&id).unwrap();
    let Claim::Taken(first) = recordings::claim(&db, session, 60).await.unwrap() else {
        panic!("a free session is claimed");
    };
    assert_eq!(
        recordings::claim(&db, session, 60).await.unwrap(),
        Claim::Busy
    );
    // Another process cannot give back (or renew) a claim it does not hold.
    let stranger = Uuid::new_v4();
    recordings::release(&db, session, stranger).await.unwrap();
    assert!(!recordings::renew(&db, session, stranger, 60).await.unwrap());
    assert_eq!(
        recordings::claim(&db, session, 60).await.unwrap(),
        Claim::Busy
    );
    assert!(recordings::renew(&db, session, first, 60).await.unwrap());
    // The holder's lease runs out (its process died): the next one takes it over, and the first
    // holder, waking up late, neither renews nor releases the new holder's lease.
    sqlx::query("update practice_sessions set finalizing_until = now() - interval '1 second'")
        .execute(&db)
        .await
        .unwrap();
    let Claim::Taken(second) = recordings::claim(&db, session, 60).await.unwrap() else {
        panic!("an expired lease is taken over");
    };
    assert!(!recordings::renew(&db, session, first, 60).await.unwrap());
    recordings::release(&db, session, first).await.unwrap();
    assert_eq!(
        recordings::claim(&db, session, 60).await.unwrap(),
        Claim::Busy
    );
    recordings::release(&db, session, second).await.unwrap();
    assert!(matches!(
        recordings::claim(&db, session, 60).await.unwrap(),
        Claim::Taken(_)
    ));
}

/// Sign-up attempts from `forwarded_for` (an `X-Forwarded-For` header) to `base`.
async fn sign_up_from(base: &str, forwarded_for: &str, n: usize) -> StatusCode {
    reqwest::Client::new()
        .post(format!("{base}/api/auth/sign-up"))
        .header("origin", base)
        .header("host", base.trim_start_matches("http://"))
        .header("accept", "application/json")
        .header("x-forwarded-for", forwarded_for)
        .form(&[("email", format!("learner{n}@example.org"))])
        .send()
        .await
        .unwrap()
        .status()
}

#[sqlx::test]
async fn only_proxies_the_operator_names_say_who_the_client_is(db: PgPool) {
    // Behind a load balancer in 127.0.0.0/8: each client has its own two attempts a minute.
    let vars = [
        ("AUTH_ATTEMPTS_PER_MINUTE", "2"),
        ("TRUSTED_PROXIES", "127.0.0.0/8"),
    ];
    let (bases, _) = spawn_processes(db.clone(), &vars, 2).await;
    for (n, client) in ["203.0.113.1", "203.0.113.2", "203.0.113.3"]
        .iter()
        .enumerate()
    {
        assert_eq!(sign_up_from(&bases[n % 2], client, n).await, StatusCode::OK);
    }
    assert_eq!(
        sign_up_from(&bases[0], "203.0.113.1", 7).await,
        StatusCode::OK
    );
    assert_eq!(
        sign_up_from(&bases[1], "203.0.113.1", 8).await,
        StatusCode::TOO_MANY_REQUESTS,
        "the same client, on the other process"
    );
}

#[sqlx::test]
async fn a_forwarded_header_from_anyone_else_is_ignored(db: PgPool) {
    let (bases, _) = spawn_processes(db, &[("AUTH_ATTEMPTS_PER_MINUTE", "2")], 2).await;
    // No proxy is trusted: claiming to be someone new does not buy more attempts.
    assert_eq!(
        sign_up_from(&bases[0], "203.0.113.1", 1).await,
        StatusCode::OK
    );
    assert_eq!(
        sign_up_from(&bases[1], "203.0.113.2", 2).await,
        StatusCode::OK
    );
    assert_eq!(
        sign_up_from(&bases[0], "203.0.113.3", 3).await,
        StatusCode::TOO_MANY_REQUESTS
    );
}
