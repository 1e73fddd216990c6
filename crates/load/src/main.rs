//! `script/bench load`: many learners practising at once against a running app, with Goose.
//!
//! Each learner signs up (through the development mailbox, as a person would), starts a practice
//! session, then, until the run ends, uploads a 4-second piece of recording every 4 s and saves a
//! transcript turn every ~5 s on average, and now and then reads their history and the session's
//! page. Goose runs the learners (weighted transactions with random waits between them: 15
//! pieces, 12 turns, 1 history and 1 summary a minute each) and times every request; this prints
//! P50/P95/P99 per request kind, the errors, and the app's memory over the run.
//!
//! - `LOAD_BASE_URL`: the app (default `http://127.0.0.1:3000`).
//! - `LOAD_USERS` (default 200), `LOAD_HATCH_RATE` learners started per second (default 10),
//!   `LOAD_RUN_SECS` once all have started (default 120).
//! - `LOAD_APP_PIDS`: the app's process ids, comma-separated, whose memory (RSS) is sampled each
//!   second from `/proc`.

use std::{
    sync::{Arc, Mutex, OnceLock},
    time::{Duration, Instant},
};

use goose::{goose::TransactionError, metrics::GooseRequestMetricAggregate, prelude::*};

const TOPIC: &str = "ordering-at-a-cafe";
const PASSWORD: &str = "a long enough passphrase";
/// A real Chromium recording: each piece is 64 KiB of it, about what 4 s of Chromium's Opus is.
const RECORDING: &[u8] = include_bytes!("../../../tests/fixtures/chromium-mediarecorder.webm");
const PIECE_BYTES: usize = 64 * 1024;

fn base_url() -> &'static str {
    static BASE: OnceLock<String> = OnceLock::new();
    BASE.get_or_init(|| {
        std::env::var("LOAD_BASE_URL")
            .unwrap_or_else(|_| "http://127.0.0.1:3000".into())
            .trim_end_matches('/')
            .to_owned()
    })
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(default)
}

/// What one learner keeps between requests.
#[derive(Clone)]
struct Learner {
    session: String,
    pieces: u32,
    turns: u32,
}

fn failed(why: String) -> Box<TransactionError> {
    Box::new(TransactionError::Custom(why))
}

/// A form posted from the app's own pages (its Origin, JSON answers).
async fn post_form(
    user: &mut GooseUser,
    name: &str,
    path: &str,
    form: &[(&str, &str)],
) -> Result<String, Box<TransactionError>> {
    let builder = user
        .get_request_builder(&GooseMethod::Post, path)?
        .header("origin", base_url())
        .header("accept", "application/json")
        .form(form);
    let request = GooseRequest::builder()
        .name(name)
        .set_request_builder(builder)
        .build();
    let answer = user.request(request).await?;
    let response = answer
        .response
        .map_err(|e| failed(format!("{name}: {e}")))?;
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    if !status.is_success() {
        return Err(failed(format!("{name}: {status}: {body}")));
    }
    Ok(body)
}

/// Signs up through the mailbox and starts a practice session.
async fn sign_up_and_start(user: &mut GooseUser) -> TransactionResult {
    let email = format!("load-{}@example.org", uuid::Uuid::new_v4().simple());
    post_form(user, "sign up", "/api/auth/sign-up", &[("email", &email)]).await?;
    let mailbox = format!("/dev/mailbox?to={}", email.replace('@', "%40"));
    let answer = user.get_named(&mailbox, "read the mailbox").await?;
    let page = answer
        .response
        .map_err(|e| failed(format!("mailbox: {e}")))?
        .text()
        .await
        .unwrap_or_default();
    let token: String = page
        .split("/confirm-email?token=")
        .nth(1)
        .unwrap_or_default()
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect();
    if token.len() != 64 {
        return Err(failed("no confirmation link in the mailbox".into()));
    }
    post_form(
        user,
        "choose a password",
        "/api/auth/finish-sign-up",
        &[("token", &token), ("password", PASSWORD)],
    )
    .await?;
    let key = uuid::Uuid::new_v4().to_string();
    let body = post_form(
        user,
        "start a session",
        "/api/practice/start",
        &[("topic", TOPIC), ("key", &key)],
    )
    .await?;
    let started: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    let session = started["id"]
        .as_str()
        .ok_or_else(|| failed(format!("start answered {body}")))?
        .to_owned();
    user.set_session_data(Learner {
        session,
        pieces: 0,
        turns: 0,
    });
    Ok(())
}

/// The next 4-second piece of the recording.
async fn upload_piece(user: &mut GooseUser) -> TransactionResult {
    let learner = user.get_session_data_unchecked::<Learner>();
    let (session, n) = (learner.session.clone(), learner.pieces);
    // Each piece is different bytes (the server refuses other bytes at a place it has).
    let start = (n as usize * 4099) % (RECORDING.len() - PIECE_BYTES);
    let mut piece = RECORDING[start..start + PIECE_BYTES].to_vec();
    piece[..4].copy_from_slice(&n.to_be_bytes());
    let path = format!("/api/practice/{session}/chunks/{n}");
    let builder = user
        .get_request_builder(&GooseMethod::Put, &path)?
        .header("origin", base_url())
        .header("content-type", "application/octet-stream")
        .body(piece);
    let request = GooseRequest::builder()
        .name("upload a 4 s piece")
        .set_request_builder(builder)
        .expect_status_code(201)
        .build();
    let answer = user.request(request).await?;
    tell_first_refusals("upload a piece", answer).await;
    user.get_session_data_unchecked_mut::<Learner>().pieces += 1;
    Ok(())
}

/// Prints what the app said to the first few refused requests (Goose counts them as errors).
async fn tell_first_refusals(name: &str, answer: goose::goose::GooseResponse) {
    static TOLD: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    if let Ok(response) = answer.response
        && !response.status().is_success()
        && TOLD.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < 3
    {
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        eprintln!(
            "{name}: {status}: {}",
            body.chars().take(300).collect::<String>()
        );
    }
}

/// A settled turn, the learner's and the coach's in turn, as the page saves them.
async fn save_turn(user: &mut GooseUser) -> TransactionResult {
    let learner = user.get_session_data_unchecked::<Learner>();
    let (session, n) = (learner.session.clone(), learner.turns);
    let (speaker, text) = if n % 2 == 0 {
        (
            "Learner",
            "I would like a flat white and a croissant, please.",
        )
    } else {
        (
            "Coach",
            "Of course! Would you like to have it here or take it away?",
        )
    };
    let start_ms = u64::from(n) * 5_000;
    let body = serde_json::json!({
        "session": session,
        "turn": {
            "item_id": format!("item_load_{n}"), "speaker": speaker, "text": text,
            "state": "Final", "start_ms": start_ms, "end_ms": start_ms + 3_000, "position": n,
        },
    });
    let builder = user
        .get_request_builder(&GooseMethod::Post, "/api/practice/turn")?
        .header("origin", base_url())
        .header("accept", "application/json")
        .json(&body);
    let request = GooseRequest::builder()
        .name("save a turn")
        .set_request_builder(builder)
        .build();
    let answer = user.request(request).await?;
    tell_first_refusals("save a turn", answer).await;
    user.get_session_data_unchecked_mut::<Learner>().turns += 1;
    Ok(())
}

async fn read_history(user: &mut GooseUser) -> TransactionResult {
    user.get_named("/history", "history page").await?;
    Ok(())
}

async fn read_summary(user: &mut GooseUser) -> TransactionResult {
    let session = user.get_session_data_unchecked::<Learner>().session.clone();
    user.get_named(&format!("/practice/{session}"), "session page")
        .await?;
    Ok(())
}

/// The app's resident memory (kB) over the run, sampled each second.
type Samples = Arc<Mutex<Vec<(Duration, u64)>>>;

fn rss_kb(pid: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn sample_memory(pids: Vec<String>) -> Samples {
    let samples: Samples = Arc::default();
    let into = samples.clone();
    tokio::spawn(async move {
        let start = Instant::now();
        let mut every = tokio::time::interval(Duration::from_secs(1));
        loop {
            every.tick().await;
            let total: u64 = pids.iter().filter_map(|pid| rss_kb(pid)).sum();
            into.lock()
                .expect("not poisoned")
                .push((start.elapsed(), total));
        }
    });
    samples
}

fn ms(us: u64) -> String {
    format!("{:.1}", us as f64 / 1000.0)
}

fn report_requests(metrics: &GooseMetrics) {
    println!();
    println!(
        "{:<24} {:>9} {:>7} {:>9} {:>9} {:>9} {:>9}",
        "request", "count", "errors", "P50 ms", "P95 ms", "P99 ms", "max ms"
    );
    let mut kinds: Vec<(&String, &GooseRequestMetricAggregate)> = metrics.requests.iter().collect();
    kinds.sort_by_key(|(name, _)| name.to_owned());
    let (mut total, mut errors) = (0, 0);
    for (name, kind) in kinds {
        let times = &kind.raw_data;
        total += kind.success_count + kind.fail_count;
        errors += kind.fail_count;
        println!(
            "{:<24} {:>9} {:>7} {:>9} {:>9} {:>9} {:>9}",
            name,
            kind.success_count + kind.fail_count,
            kind.fail_count,
            ms(times.percentile_us(0.50)),
            ms(times.percentile_us(0.95)),
            ms(times.percentile_us(0.99)),
            ms(times.maximum_time_us),
        );
        for (status, count) in &kind.status_code_counts {
            if !(200..300).contains(status) {
                println!("    {count} answered {status}");
            }
        }
    }
    println!("{:<24} {:>9} {:>7}", "all", total, errors);
    let slowest = metrics
        .requests
        .values()
        .map(|kind| kind.raw_data.percentile_us(0.95))
        .max()
        .unwrap_or(0);
    let met = slowest <= 50_000 && errors == 0;
    println!(
        "goal: every kind P95 <= 50 ms and no errors: {} (slowest P95 {} ms, {errors} errors)",
        if met { "met" } else { "NOT met" },
        ms(slowest)
    );
}

fn report_memory(samples: &Samples) {
    let samples = samples.lock().expect("not poisoned");
    let Some(peak) = samples.iter().map(|(_, kb)| *kb).max() else {
        return;
    };
    println!();
    println!("app memory (RSS, all processes), every 15 s:");
    for (at, kb) in samples.iter().step_by(15) {
        println!("  {:>4} s  {:>7.1} MB", at.as_secs(), *kb as f64 / 1024.0);
    }
    let tail = &samples[samples.len() * 3 / 4..];
    let half = &samples[samples.len() / 2..samples.len() * 3 / 4];
    let mean =
        |s: &[(Duration, u64)]| s.iter().map(|(_, kb)| *kb).sum::<u64>() / s.len().max(1) as u64;
    println!(
        "  peak {:.1} MB; mean over the third quarter {:.1} MB, over the last quarter {:.1} MB",
        peak as f64 / 1024.0,
        mean(half) as f64 / 1024.0,
        mean(tail) as f64 / 1024.0
    );
}

#[tokio::main]
async fn main() -> Result<(), GooseError> {
    let users = env_number("LOAD_USERS", 200);
    let hatch_rate = env_number("LOAD_HATCH_RATE", 10);
    let run_secs = env_number("LOAD_RUN_SECS", 120);
    let pids: Vec<String> = std::env::var("LOAD_APP_PIDS")
        .unwrap_or_default()
        .split(',')
        .map(|pid| pid.trim().to_owned())
        .filter(|pid| !pid.is_empty())
        .collect();
    let samples = sample_memory(pids);

    let learner = scenario!("Learner")
        .register_transaction(transaction!(sign_up_and_start).set_on_start())
        .register_transaction(transaction!(upload_piece).set_weight(15)?)
        .register_transaction(transaction!(save_turn).set_weight(12)?)
        .register_transaction(transaction!(read_history))
        .register_transaction(transaction!(read_summary))
        // 29 requests a minute: one every 2.05 s on average.
        .set_wait_time(Duration::from_millis(1_500), Duration::from_millis(2_600))?;
    let metrics = GooseAttack::initialize()?
        .register_scenario(learner)
        .set_default(GooseDefault::Host, base_url())?
        .set_default(GooseDefault::Users, users)?
        .set_default(GooseDefault::IncreaseRate, hatch_rate.to_string().as_str())?
        .set_default(GooseDefault::RunTime, run_secs)?
        .set_default(GooseDefault::NoPrintMetrics, true)?
        .set_default(GooseDefault::Quiet, 1)?
        .execute()
        .await?;
    println!(
        "{users} learners ({hatch_rate} started a second), then {run_secs} s with all of them; \
         times from when the last one started"
    );
    report_requests(&metrics);
    report_memory(&samples);
    Ok(())
}
