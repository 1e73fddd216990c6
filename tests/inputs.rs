//! Every server function and route, fed hostile input (NUL, control and format characters,
//! right-to-left marks, extreme numbers, very long text, invalid percent-encoded UTF-8) as a
//! signed-in learner and as a visitor: the answer is success or a 4xx, never a 5xx.
#![cfg(feature = "ssr")]

mod support;

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode, header},
};
use proptest::{
    prelude::*,
    strategy::ValueTree,
    test_runner::{Config as RunnerConfig, RngAlgorithm, TestRng, TestRunner},
};
use serde_json::{Value, json};
use sqlx::PgPool;
use support::{Call, ORIGIN, app_with, sign_up};
use tower::ServiceExt;

/// Text an attacker would try: anything, plus the values that broke things before.
fn nasty() -> BoxedStrategy<String> {
    prop_oneof![
        any::<String>(),
        "[\\x00-\\x1f\\u{200b}-\\u{200f}\\u{202a}-\\u{202e}\\u{feff}a-z0-9-]{0,40}",
        Just("\0".to_owned()),
        Just("ordering-at-a-cafe\0".to_owned()),
        Just("-9223372036854775808".to_owned()),
        Just("9223372036854775807".to_owned()),
        Just("18446744073709551616".to_owned()),
        Just("9223372036854775807:00000000-0000-0000-0000-000000000000".to_owned()),
        Just("-9223372036854775808:00000000-0000-0000-0000-000000000000".to_owned()),
        Just("x".repeat(70_000)),
        Just("../../etc/passwd".to_owned()),
        Just("%00".to_owned()),
        Just("0".repeat(64)),
        Just(format!("{}\0", "a".repeat(63))),
    ]
    .boxed()
}

fn number() -> BoxedStrategy<Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        Just(json!(u32::MAX)),
        Just(json!(-1)),
        Just(json!(1e300)),
        Just(json!("12")),
        Just(Value::Null),
    ]
    .boxed()
}

/// Times and positions: mostly what fits, and the edges of what does not.
fn millis() -> BoxedStrategy<Value> {
    prop_oneof![
        3 => any::<u32>().prop_map(Value::from),
        1 => Just(json!(u64::MAX)),
        1 => Just(json!(2_147_483_648_u64)),
        1 => Just(json!(0)),
        1 => Just(Value::Null),
    ]
    .boxed()
}

fn item_id() -> BoxedStrategy<String> {
    prop_oneof!["item_[A-Za-z0-9]{1,20}", nasty()].boxed()
}

/// A runner with a fixed seed, so a failure is repeatable.
fn runner() -> TestRunner {
    TestRunner::new_with_rng(
        RunnerConfig::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    )
}

fn sample<T: std::fmt::Debug>(runner: &mut TestRunner, strategy: &BoxedStrategy<T>) -> T {
    strategy
        .new_tree(runner)
        .expect("a value is generated")
        .current()
}

fn check(what: &str, status: StatusCode, body: &str) {
    assert!(
        !status.is_server_error(),
        "{what} answered {status}: {}",
        body.chars().take(300).collect::<String>()
    );
}

/// Percent-encoding of every byte but unreserved ones.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn raw(
    app: &Router,
    method: &str,
    uri: &str,
    cookie: Option<&str>,
    body: &str,
) -> StatusCode {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::HOST, "coach.test")
        .header(header::ORIGIN, ORIGIN)
        .header(header::ACCEPT, "application/json")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::from(body.to_owned())).unwrap())
        .await
        .unwrap();
    response.status()
}

/// Form-posted server functions and their fields.
const FORM_FUNCTIONS: &[(&str, &[&str])] = &[
    ("/api/practice/start", &["topic", "key", "started_ms"]),
    ("/api/practice/finalize", &["session"]),
    ("/api/practice/recover", &["session"]),
    ("/api/practice/delete", &["session"]),
    ("/api/practice/share", &["session", "include_feedback"]),
    ("/api/practice/share-feedback", &["session", "include"]),
    ("/api/practice/unshare", &["session"]),
    ("/api/feedback/remake", &["session"]),
    ("/api/voice/start", &["topic", "session"]),
    ("/api/account/delete", &["confirm"]),
];

/// GET server functions and their query parameters.
const GET_FUNCTIONS: &[(&str, &[&str])] = &[
    ("/api/practice/get", &["session"]),
    ("/api/practice/turns", &["session"]),
    ("/api/practice/history", &["after"]),
    ("/api/feedback/get", &["session"]),
    ("/api/shared/get", &["token"]),
    ("/api/topics/get", &["slug"]),
    ("/api/auth/sign-up-link", &["token"]),
    ("/dev/mailbox", &["to"]),
    ("/confirm-email", &["token", "next"]),
];

/// Plain routes and pages with one fuzzed path segment (`{}`).
const PATHS: &[&str] = &[
    "/api/practice/{}/recording",
    "/api/practice/{}/export",
    "/api/shared/{}/recording",
    "/topics/{}",
    "/shared/{}",
    "/practice/{}",
    "/topics/{}/practice",
];

#[sqlx::test]
async fn no_input_makes_a_server_error(db: PgPool) {
    let app = app_with(db, &[("AUTH_ATTEMPTS_PER_MINUTE", "10000")]);
    let cookie = sign_up(&app, "fuzz@example.org").await;
    // A real session, so that fields next to a valid id are reached too.
    let session =
        support::start_practice(&app, &cookie, "5a0f6f0e-7d51-4d7e-9a55-0d0b2f1c9e11").await;

    // A turn saved again with a later start and no end: the merged end would fall before it.
    for (start, end) in [(json!(5_000), json!(6_000)), (json!(7_000), Value::Null)] {
        let response = Call::post("/api/practice/turn")
            .json(json!({"session": session, "turn": {
                "item_id": "item_merge", "speaker": "Coach", "text": "Small or large?",
                "state": "Interrupted", "start_ms": start, "end_ms": end, "position": 1,
            }}))
            .cookie(&cookie)
            .send(&app)
            .await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    }

    let mut runner = runner();
    let text = nasty();
    let numbers = number();
    let (ms, ids) = (millis(), item_id());
    for round in 0..64 {
        let who = if round % 4 == 3 {
            None
        } else {
            Some(cookie.as_str())
        };
        for (path, fields) in FORM_FUNCTIONS {
            let mut body: Vec<String> = Vec::new();
            for field in *fields {
                // Deleting the session would leave nothing for the other rounds to reach.
                let value = if *field == "session" && round % 2 == 0 && !path.ends_with("delete") {
                    session.clone()
                } else {
                    sample(&mut runner, &text)
                };
                if *field == "confirm" && value == "delete" {
                    continue;
                }
                body.push(format!("{field}={}", encode(&value)));
            }
            let status = raw(&app, "POST", path, who, &body.join("&")).await;
            check(path, status, &body.join("&"));
        }
        for (path, fields) in GET_FUNCTIONS {
            let query: Vec<String> = fields
                .iter()
                // Servers refuse URLs of many kilobytes before the app sees them.
                .map(|field| {
                    let value: String = sample(&mut runner, &text).chars().take(2_000).collect();
                    format!("{field}={}", encode(&value))
                })
                .collect();
            let uri = format!("{path}?{}", query.join("&"));
            let status = raw(&app, "GET", &uri, who, "").await;
            check(&uri, status, "");
        }
        for path in PATHS {
            let value = sample(&mut runner, &text);
            if value.len() > 4_000 {
                continue;
            }
            let uri = path.replace("{}", &encode(&value));
            let status = raw(&app, "GET", &uri, who, "").await;
            check(&uri, status, "");
        }
        let sequence = sample(&mut runner, &text);
        let uri = format!(
            "/api/practice/{session}/chunks/{}",
            encode(&sequence.chars().take(200).collect::<String>())
        );
        let status = raw(&app, "PUT", &uri, who, "\u{1a}E\u{df}\u{a3}").await;
        check(&uri, status, "");

        // JSON functions: strings and numbers anywhere.
        let turn = json!({
            "session": if round % 2 == 0 { json!(session) } else { json!(sample(&mut runner, &text)) },
            "turn": {
                "item_id": sample(&mut runner, &ids),
                "speaker": if round % 3 == 2 { json!(sample(&mut runner, &text)) } else { json!("Learner") },
                "text": sample(&mut runner, &text),
                "state": if round % 2 == 0 { "Final" } else { "Interrupted" },
                "start_ms": sample(&mut runner, &ms),
                "end_ms": sample(&mut runner, &ms),
                "position": sample(&mut runner, &ms),
            }
        });
        let end = json!({
            "session": sample(&mut runner, &text),
            "turns": sample(&mut runner, &numbers),
            "words_used": [sample(&mut runner, &text), sample(&mut runner, &text)],
        });
        let note = json!({
            "session": session,
            "note": sample(&mut runner, &text),
            "cause": sample(&mut runner, &text),
            "attempt": sample(&mut runner, &numbers),
        });
        for (path, body) in [
            ("/api/practice/turn", turn),
            ("/api/practice/end", end),
            ("/api/practice/note", note),
        ] {
            let mut call = Call::post(path).json(body.clone());
            if let Some(cookie) = who {
                call = call.cookie(cookie);
            }
            let response = call.send(&app).await;
            check(
                path,
                response.status,
                &format!("{} <- {body}", response.body),
            );
        }
    }

    // Bytes that are not UTF-8 (a lone surrogate, a cut sequence) in forms and paths.
    for bad in ["%ED%A0%80", "%C3", "%FF%FE", "a%00b"] {
        for (path, fields) in FORM_FUNCTIONS {
            let body: Vec<String> = fields.iter().map(|f| format!("{f}={bad}")).collect();
            let status = raw(&app, "POST", path, Some(&cookie), &body.join("&")).await;
            check(path, status, bad);
        }
        for path in PATHS {
            let uri = path.replace("{}", bad);
            let status = raw(&app, "GET", &uri, Some(&cookie), "").await;
            check(&uri, status, bad);
        }
        for (path, fields) in GET_FUNCTIONS {
            let uri = format!("{path}?{}={bad}", fields[0]);
            let status = raw(&app, "GET", &uri, Some(&cookie), "").await;
            check(&uri, status, bad);
        }
    }
}

/// Sign-up and sign-in hash passwords (slow): fewer rounds, same rule.
#[sqlx::test]
async fn no_credentials_make_a_server_error(db: PgPool) {
    let app = app_with(db, &[("AUTH_ATTEMPTS_PER_MINUTE", "10000")]);
    let mut runner = runner();
    let text = nasty();
    for _ in 0..6 {
        for path in [
            "/api/auth/sign-up",
            "/api/auth/sign-in",
            "/api/auth/finish-sign-up",
        ] {
            let email = sample(&mut runner, &text);
            let password = sample(&mut runner, &text);
            let token = sample(&mut runner, &text);
            let body = format!(
                "email={}&password={}&token={}",
                encode(&email),
                encode(&password),
                encode(&token)
            );
            let status = raw(&app, "POST", path, None, &body).await;
            check(path, status, &body.chars().take(200).collect::<String>());
        }
    }
    for bad in ["%ED%A0%80", "%00", "ana%00@example.org"] {
        let body = format!("email={bad}&password={bad}");
        let status = raw(&app, "POST", "/api/auth/sign-in", None, &body).await;
        check("sign-in", status, bad);
        let body = format!("token={bad}&password={bad}");
        let status = raw(&app, "POST", "/api/auth/finish-sign-up", None, &body).await;
        check("finish-sign-up", status, bad);
    }
}
