//! Minting voice-call secrets: the server function against the simulator mounted in the app, and
//! the Realtime client against a stub that fails in the ways the real API can.
#![cfg(feature = "ssr")]

mod support;

use std::{
    sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

use axum::{Router, http::StatusCode, routing::post};
use speaking_coach::server::{
    config::Config,
    realtime::{MintError, RealtimeClient},
};
use sqlx::PgPool;
use support::Browser;

/// A standard key that must never appear in anything the app sends to a browser.
const MARKER_KEY: &str = "sk-sim-leak-marker-4f1d2a";

async fn app(pool: PgPool) -> String {
    support::spawn_app(pool, &[("REALTIME_SIM_API_KEY", MARKER_KEY)]).await
}

async fn queue_faults(base: &str, faults: serde_json::Value) {
    let response = reqwest::Client::new()
        .post(format!("{base}/sim/control/faults"))
        .bearer_auth(MARKER_KEY)
        .json(&serde_json::json!({ "faults": faults }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
}

#[sqlx::test]
async fn a_signed_in_learner_gets_a_call_secret_and_nothing_else(pool: PgPool) {
    let base = app(pool).await;
    let mut browser = Browser::new(&base);
    browser.sign_up("ana@example.org").await;
    let (status, body) = browser.start_call("ordering-at-a-cafe").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let secret: serde_json::Value = serde_json::from_str(&body).unwrap();
    let fields: Vec<&str> = secret
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(fields, ["calls_url", "client_secret", "expires_at"]);
    assert!(secret["client_secret"].as_str().unwrap().starts_with("ek_"));
    assert_eq!(secret["calls_url"], format!("{base}/sim/v1/realtime/calls"));
    assert!(
        !body.contains(MARKER_KEY),
        "the standard key leaked: {body}"
    );

    // The secret really opens calls: the simulator knows it (a bad offer is 400, not 401).
    let response = reqwest::Client::new()
        .post(secret["calls_url"].as_str().unwrap())
        .bearer_auth(secret["client_secret"].as_str().unwrap())
        .header("content-type", "application/sdp")
        .body("not sdp")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[sqlx::test]
async fn visitors_and_unknown_topics_get_no_secret(pool: PgPool) {
    let base = app(pool).await;
    let mut browser = Browser::new(&base);
    let (status, _) = browser.start_call("ordering-at-a-cafe").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    browser.sign_up("ana@example.org").await;
    let (status, body) = browser.start_call("no-such-topic").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}

#[sqlx::test]
async fn only_the_simulator_key_steers_the_simulator(pool: PgPool) {
    let base = app(pool).await;
    let mut learner = Browser::new(&base);
    learner.sign_up("ana@example.org").await;
    let http = reqwest::Client::new();
    let fault = serde_json::json!({"faults": [{"kind": "mint_error", "status": 503}]});
    // A visitor, and a learner with their session cookie, are both refused.
    let anonymous = http
        .post(format!("{base}/sim/control/faults"))
        .json(&fault)
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let signed_in = http
        .post(format!("{base}/sim/control/calls"))
        .header("cookie", learner.cookie.clone().unwrap())
        .json(&serde_json::json!({"action": "drop"}))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), StatusCode::UNAUTHORIZED);
    // Nothing was queued: the learner's next mint succeeds.
    let (status, body) = learner.start_call("a-job-interview").await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[sqlx::test]
async fn transient_upstream_failures_are_retried(pool: PgPool) {
    let base = app(pool).await;
    let mut browser = Browser::new(&base);
    browser.sign_up("ana@example.org").await;
    queue_faults(
        &base,
        serde_json::json!([
            {"kind": "mint_error", "status": 500},
            {"kind": "mint_error", "status": 429}
        ]),
    )
    .await;
    let (status, body) = browser.start_call("a-job-interview").await;
    assert_eq!(status, StatusCode::OK, "the third attempt succeeds: {body}");
}

#[sqlx::test]
async fn a_coach_that_stays_down_is_a_clear_503(pool: PgPool) {
    let base = app(pool).await;
    let mut browser = Browser::new(&base);
    browser.sign_up("ana@example.org").await;
    let three = serde_json::json!([
        {"kind": "mint_error", "status": 503},
        {"kind": "mint_error", "status": 500},
        {"kind": "mint_error", "status": 500}
    ]);
    queue_faults(&base, three).await;
    let (status, body) = browser.start_call("a-job-interview").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body, r#""CoachUnavailable""#);
}

#[sqlx::test]
async fn minting_is_rate_limited_per_learner(pool: PgPool) {
    let base = app(pool).await;
    let mut browser = Browser::new(&base);
    browser.sign_up("ana@example.org").await;
    for _ in 0..10 {
        assert_eq!(
            browser.start_call("giving-directions").await.0,
            StatusCode::OK
        );
    }
    let (status, body) = browser.start_call("giving-directions").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    // Another learner is not affected.
    let mut other = Browser::new(&base);
    other.sign_up("ben@example.org").await;
    assert_eq!(
        other.start_call("giving-directions").await.0,
        StatusCode::OK
    );
}

#[sqlx::test]
async fn pages_allow_connections_to_the_realtime_api_only(pool: PgPool) {
    let base = app(pool).await;
    let page = reqwest::get(format!("{base}/topics")).await.unwrap();
    let policy = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        policy.contains(&format!("connect-src 'self' {base}")),
        "{policy}"
    );
    let body = page.text().await.unwrap();
    assert!(!body.contains(MARKER_KEY));
}

/// A stand-in for the Realtime API that answers each mint with the next scripted reply.
async fn stub(replies: Vec<(u16, u64)>) -> (String, Arc<AtomicU32>) {
    let calls = Arc::new(AtomicU32::new(0));
    let counter = calls.clone();
    let replies = Arc::new(replies);
    let router = Router::new().route(
        "/v1/realtime/client_secrets",
        post(move || {
            let (counter, replies) = (counter.clone(), replies.clone());
            async move {
                let n = counter.fetch_add(1, Ordering::SeqCst) as usize;
                let (status, delay_ms) = replies[n.min(replies.len() - 1)];
                tokio::time::sleep(Duration::from_millis(delay_ms)).await;
                let body = if status == 200 {
                    r#"{"value":"ek_stub","expires_at":1,"session":{"type":"realtime"}}"#.to_owned()
                } else {
                    format!(r#"{{"error":{{"message":"stub says {status}","type":"x","code":null,"param":null}}}}"#)
                };
                (StatusCode::from_u16(status).unwrap(), body)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (base, calls)
}

fn client_for(base: &str) -> RealtimeClient {
    let config = Config::from_lookup(|name| match name {
        "DATABASE_URL" => Some("postgres://unused@127.0.0.1/unused".into()),
        "OPENAI_API_KEY" => Some("sk-test".into()),
        "REALTIME_BASE_URL" => Some(base.to_owned()),
        _ => None,
    })
    .unwrap();
    RealtimeClient::new(&config.realtime)
        .unwrap()
        .with_timing(Duration::from_millis(5), Duration::from_millis(300))
}

#[tokio::test]
async fn a_401_from_upstream_is_not_retried() {
    let (base, calls) = stub(vec![(401, 0)]).await;
    let error = client_for(&base).mint("x".into()).await.unwrap_err();
    assert!(
        matches!(error, MintError::Refused { status: 401, ref message } if message == "stub says 401")
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn rate_limits_and_server_errors_are_retried_then_reported_unavailable() {
    let (base, calls) = stub(vec![(429, 0), (500, 0), (503, 0)]).await;
    let error = client_for(&base).mint("x".into()).await.unwrap_err();
    assert!(
        matches!(error, MintError::Unavailable { attempts: 3, .. }),
        "{error}"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 3);

    let (base, calls) = stub(vec![(500, 0), (200, 0)]).await;
    let secret = client_for(&base).mint("x".into()).await.unwrap();
    assert_eq!(secret.value, "ek_stub");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_hanging_upstream_times_out_and_is_retried() {
    let (base, calls) = stub(vec![(200, 2000), (200, 0)]).await;
    let secret = client_for(&base).mint("x".into()).await.unwrap();
    assert_eq!(secret.value, "ek_stub");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}
