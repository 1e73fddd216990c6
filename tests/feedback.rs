//! The coach's feedback: queued in the transaction that ends a session, made by the feedback job
//! (underway) from the stored turns, recording and the model's review (the local simulator's
//! Responses API), retried with backoff, given up with the reason kept, made once per session
//! with several workers, and shown only to the session's learner.
#![cfg(feature = "ssr")]

mod support;

use std::time::{Duration, Instant};

use axum::{Router, http::StatusCode};
use realtime_sim::{ResponseOutcome, SimConfig, Simulator};
use serde_json::{Value, json};
use speaking_coach::server::{jobs::FeedbackTask, state::AppState};
use sqlx::PgPool;
use support::{Call, sign_up};
use underway::Worker;
use uuid::Uuid;

const SIM_KEY: &str = "sk-sim-feedback-test";
const FIXTURE: &[u8] = include_bytes!("fixtures/chromium-mediarecorder.webm");

/// The app, its state, and a Realtime simulator of the test's own that the app's reviewer talks
/// to (so the test can queue what the "model" answers).
struct Setup {
    app: Router,
    state: AppState,
    sim: Simulator,
    cookie: String,
}

async fn setup(db: PgPool) -> Setup {
    setup_with(db, &[]).await
}

async fn setup_with(db: PgPool, extra: &[(&str, &str)]) -> Setup {
    let sim = Simulator::new(SimConfig {
        api_key: SIM_KEY.to_owned().into(),
        reply_latency: Duration::from_millis(10),
        recognizer: None,
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/v1", listener.local_addr().unwrap());
    let router = sim.router();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    let mut vars = vec![
        ("REALTIME_BASE_URL", base.as_str()),
        ("REALTIME_SIM_API_KEY", SIM_KEY),
        ("FEEDBACK_RETRY_SECS", "1"),
        ("FEEDBACK_TIMEOUT_SECS", "2"),
    ];
    vars.extend_from_slice(extra);
    let state = support::state_with(db, &vars);
    let app = speaking_coach::server::startup::router(state.clone());
    let cookie = sign_up(&app, "learner@example.org").await;
    Setup {
        app,
        state,
        sim,
        cookie,
    }
}

impl Setup {
    async fn start(&self) -> String {
        support::start_practice(&self.app, &self.cookie, &Uuid::new_v4().to_string()).await
    }

    async fn say(&self, id: &str, n: u32, speaker: &str, text: &str, span: (u64, u64)) {
        let response = Call::post("/api/practice/turn")
            .json(json!({"session": id, "turn": {
                "item_id": format!("item_{n}"), "speaker": speaker, "text": text,
                "state": "Final", "start_ms": span.0, "end_ms": span.1, "position": n,
            }}))
            .cookie(&self.cookie)
            .send(&self.app)
            .await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    }

    async fn record(&self, id: &str) {
        let response = axum::http::Request::builder()
            .method("PUT")
            .uri(format!("/api/practice/{id}/chunks/0"))
            .header("host", support::HOST)
            .header("origin", support::ORIGIN)
            .header("cookie", &self.cookie)
            .body(axum::body::Body::from(FIXTURE.to_vec()))
            .unwrap();
        let response = tower::ServiceExt::oneshot(self.app.clone(), response)
            .await
            .unwrap();
        assert!(response.status().is_success());
    }

    async fn end(&self, id: &str) -> support::TestResponse {
        Call::post("/api/practice/end")
            .json(json!({"session": id, "turns": 3, "words_used": []}))
            .cookie(&self.cookie)
            .send(&self.app)
            .await
    }

    /// A session where the learner made two common errors, with its recording, ended.
    async fn conversation(&self) -> String {
        let id = self.start().await;
        self.say(
            &id,
            0,
            "Coach",
            "Hi! What would you like today?",
            (0, 1_500),
        )
        .await;
        self.say(
            &id,
            1,
            "Learner",
            "Um, I am agree that coffee is good. She don't like tea.",
            (2_000, 4_400),
        )
        .await;
        self.say(
            &id,
            2,
            "Coach",
            "Great choice. Anything else?",
            (5_000, 5_200),
        )
        .await;
        self.record(&id).await;
        let ended = self.end(&id).await;
        assert_eq!(ended.status, StatusCode::OK, "{}", ended.body);
        id
    }

    async fn feedback(&self, id: &str) -> Value {
        let response = Call::get(&format!("/api/feedback/get?session={id}"))
            .cookie(&self.cookie)
            .send(&self.app)
            .await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.body);
        serde_json::from_str(&response.body).unwrap()
    }

    async fn worker(&self) -> Worker<FeedbackTask> {
        self.state
            .feedback
            .worker(self.state.db.clone(), 1)
            .await
            .unwrap()
    }

    /// Runs the next feedback job, waiting (up to 10 s) for one to be due.
    async fn run_job(&self, worker: &Worker<FeedbackTask>) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if worker.process_next_task().await.unwrap().is_some() {
                return;
            }
            assert!(Instant::now() < deadline, "no feedback job became due");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

async fn feedback_rows(db: &PgPool) -> Vec<(Uuid, String, i32, i32)> {
    sqlx::query_as("select session_id, status, generation, attempts from session_feedback")
        .fetch_all(db)
        .await
        .unwrap()
}

async fn queued_jobs(db: &PgPool) -> Vec<(Value, String)> {
    sqlx::query_as(
        "select input, state::text from underway.task where task_queue_name = 'feedback' \
         order by created_at",
    )
    .fetch_all(db)
    .await
    .unwrap()
}

#[sqlx::test]
async fn ending_a_session_asks_for_its_feedback_once(db: PgPool) {
    let s = setup(db.clone()).await;
    let id = s.start().await;
    assert_eq!(
        s.feedback(&id).await,
        Value::Null,
        "no feedback while it goes on"
    );
    assert_eq!(s.end(&id).await.status, StatusCode::OK);
    assert_eq!(s.end(&id).await.status, StatusCode::OK, "ending twice");
    let rows = feedback_rows(&db).await;
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].1.as_str(), rows[0].2), ("preparing", 1));
    let jobs = queued_jobs(&db).await;
    assert_eq!(jobs.len(), 1, "one job for one end");
    assert_eq!(jobs[0].0, json!({"session": id, "generation": 1}));
    assert_eq!(s.feedback(&id).await["status"], "Preparing");
}

#[sqlx::test]
async fn the_end_and_its_feedback_job_are_one_transaction(db: PgPool) {
    let s = setup(db.clone()).await;
    let id = s.start().await;
    s.state.feedback.ready().await.unwrap();
    // The job cannot be stored: the end must not be stored either.
    sqlx::query("alter table underway.task add constraint refuse_all check (false) not valid")
        .execute(&db)
        .await
        .unwrap();
    let refused = s.end(&id).await;
    assert_eq!(refused.status, StatusCode::INTERNAL_SERVER_ERROR);
    let status: String = sqlx::query_scalar("select status from practice_sessions")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(status, "live");
    assert!(feedback_rows(&db).await.is_empty());
    // Once jobs can be stored again, End goes through, with its job.
    sqlx::query("alter table underway.task drop constraint refuse_all")
        .execute(&db)
        .await
        .unwrap();
    assert_eq!(s.end(&id).await.status, StatusCode::OK);
    assert_eq!(queued_jobs(&db).await.len(), 1);
}

#[sqlx::test]
async fn the_job_measures_the_session_and_keeps_the_models_real_corrections(db: PgPool) {
    let s = setup(db.clone()).await;
    let id = s.conversation().await;
    let worker = s.worker().await;
    s.run_job(&worker).await;

    let feedback = s.feedback(&id).await;
    assert_eq!(feedback["status"], "Ready", "{feedback}");
    let metrics = &feedback["report"]["metrics"];
    assert_eq!(metrics["learner_words"], 12);
    assert_eq!(metrics["learner_turns"], 1);
    assert_eq!(metrics["fillers"]["count"], 1);
    // The learner spoke 1_700..4_900 in the recording: 2_400 ms less the VAD's padding.
    assert_eq!(metrics["learner_speaking_ms"], 2_400);
    assert_eq!(metrics["topic_words_used"], json!([]));
    assert!(metrics["pauses"].is_object(), "measured on the recording");
    let review = &feedback["report"]["review"]["Done"];
    let corrections = review["corrections"].as_array().unwrap();
    let originals: Vec<&str> = corrections
        .iter()
        .map(|c| c["original"].as_str().unwrap())
        .collect();
    assert_eq!(
        originals,
        ["Um, I am agree that coffee is good.", "She don't like tea."]
    );
    assert_eq!(corrections[0]["item_id"], "item_1");
    assert_eq!(corrections[1]["corrected"], "She doesn't like tea.");
    assert_eq!(review["model"], "gpt-5-mini");
    assert_eq!(review["level"]["NotEnoughSpeech"]["words"], 12);
    assert_eq!(feedback_rows(&db).await[0].3, 1, "made in one attempt");

    // History carries its line; the export carries it whole.
    let history = Call::get("/api/practice/history")
        .cookie(&s.cookie)
        .send(&s.app)
        .await;
    let history: Value = serde_json::from_str(&history.body).unwrap();
    let line = history["entries"][0]["feedback"]["Ready"].as_str().unwrap();
    assert!(line.ends_with("2 corrections"), "{line}");
}

#[sqlx::test]
async fn a_model_that_invents_a_quote_has_it_dropped(db: PgPool) {
    let s = setup(db.clone()).await;
    let id = s.conversation().await;
    s.sim.queue_responses(vec![ResponseOutcome::Answer {
        output: json!({
            "corrections": [
                {"turn": 1, "original": "I goed there", "corrected": "I went there",
                 "kind": "tense", "explanation": "x"},
                {"turn": 1, "original": "She don't like tea", "corrected": "She doesn't like tea.",
                 "kind": "agreement", "explanation": "With she, use doesn't."}
            ],
            "rewrites": [{"turn": 1, "original": "coffee is good", "better": "coffee is great", "why": "y"}],
            "strengths": ["a", "b"],
            "focus": "f",
            "cefr": {"level": "B1", "reason": "r"}
        }),
    }]);
    s.run_job(&s.worker().await).await;
    let review = &s.feedback(&id).await["report"]["review"]["Done"];
    assert_eq!(review["dropped"], 1);
    let corrections = review["corrections"].as_array().unwrap();
    assert_eq!(corrections.len(), 1);
    assert_eq!(corrections[0]["original"], "She don't like tea");
    // 12 words: the model's B1 is not kept.
    assert_eq!(review["level"]["NotEnoughSpeech"]["words"], 12);
}

#[sqlx::test]
async fn a_500_is_retried_and_the_feedback_made_after_it(db: PgPool) {
    let s = setup(db.clone()).await;
    let id = s.conversation().await;
    s.sim.queue_responses(vec![ResponseOutcome::Error {
        status: 500,
        code: None,
    }]);
    let worker = s.worker().await;
    s.run_job(&worker).await;
    let feedback = s.feedback(&id).await;
    assert_eq!(feedback["status"], "Preparing", "it will try again");
    assert_eq!(feedback["failure"], "The coach's reviewer had a problem.");
    // The retry waits its backoff (1 s here), then succeeds.
    s.run_job(&worker).await;
    let feedback = s.feedback(&id).await;
    assert_eq!(feedback["status"], "Ready", "{feedback}");
    assert_eq!(feedback["failure"], Value::Null);
    assert_eq!(feedback_rows(&db).await[0].3, 2);
    assert_eq!(s.sim.counters().responses, 2);
}

#[sqlx::test]
async fn it_gives_up_after_the_last_attempt_keeping_the_reason_and_the_measurements(db: PgPool) {
    let s = setup(db.clone()).await;
    let id = s.conversation().await;
    s.sim.queue_responses(
        (0..4)
            .map(|_| ResponseOutcome::Error {
                status: 503,
                code: None,
            })
            .collect(),
    );
    let worker = s.worker().await;
    for _ in 0..4 {
        s.run_job(&worker).await;
    }
    let feedback = s.feedback(&id).await;
    assert_eq!(feedback["status"], "Failed");
    assert_eq!(feedback["failure"], "The coach's reviewer had a problem.");
    assert_eq!(feedback["report"]["metrics"]["learner_words"], 12);
    assert_eq!(queued_jobs(&db).await[0].1, "failed");
    assert!(
        worker.process_next_task().await.unwrap().is_none(),
        "no fifth attempt"
    );
    // The transcript and recording are untouched.
    let got = Call::get(&format!("/api/practice/get?session={id}"))
        .cookie(&s.cookie)
        .send(&s.app)
        .await;
    let got: Value = serde_json::from_str(&got.body).unwrap();
    assert!(got["recording"]["Ready"].is_object());

    // Try again: the same row, the next generation, made this time.
    let again = Call::post("/api/feedback/remake")
        .field("session", &id)
        .cookie(&s.cookie)
        .send(&s.app)
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    s.run_job(&worker).await;
    assert_eq!(s.feedback(&id).await["status"], "Ready");
    let rows = feedback_rows(&db).await;
    assert_eq!(rows.len(), 1, "remade, never duplicated");
    assert_eq!((rows[0].2, rows[0].3), (2, 1));
}

#[sqlx::test]
async fn no_quota_left_is_given_up_at_once(db: PgPool) {
    let s = setup(db.clone()).await;
    let id = s.conversation().await;
    s.sim.queue_responses(vec![ResponseOutcome::Error {
        status: 429,
        code: Some("insufficient_quota".into()),
    }]);
    s.run_job(&s.worker().await).await;
    let feedback = s.feedback(&id).await;
    assert_eq!(feedback["status"], "Failed");
    assert!(
        feedback["failure"]
            .as_str()
            .unwrap()
            .contains("no quota left"),
        "{feedback}"
    );
}

#[sqlx::test]
async fn a_model_that_takes_too_long_is_retried(db: PgPool) {
    let s = setup_with(db.clone(), &[("FEEDBACK_TIMEOUT_SECS", "1")]).await;
    let id = s.conversation().await;
    s.sim
        .queue_responses(vec![ResponseOutcome::Timeout { seconds: 5 }]);
    let worker = s.worker().await;
    s.run_job(&worker).await;
    let feedback = s.feedback(&id).await;
    assert_eq!(feedback["status"], "Preparing");
    assert_eq!(
        feedback["failure"],
        "The coach took too long to review this conversation."
    );
    s.run_job(&worker).await;
    assert_eq!(s.feedback(&id).await["status"], "Ready");
}

#[sqlx::test]
async fn unreadable_answers_are_retried_and_a_refusal_keeps_the_measurements(db: PgPool) {
    let s = setup(db.clone()).await;
    let id = s.conversation().await;
    s.sim
        .queue_responses(vec![ResponseOutcome::InvalidJson, ResponseOutcome::Refusal]);
    let worker = s.worker().await;
    s.run_job(&worker).await;
    assert_eq!(
        s.feedback(&id).await["failure"],
        "The coach's review came back unreadable."
    );
    s.run_job(&worker).await;
    let feedback = s.feedback(&id).await;
    assert_eq!(feedback["status"], "Ready");
    assert_eq!(
        feedback["report"]["review"]["Unavailable"]["reason"],
        "The coach declined to review this conversation."
    );
    assert_eq!(feedback["report"]["metrics"]["learner_words"], 12);
}

#[sqlx::test]
async fn a_session_without_learner_speech_asks_no_model(db: PgPool) {
    let s = setup(db.clone()).await;
    let id = s.start().await;
    s.say(&id, 0, "Coach", "Hello! What would you like?", (0, 2_000))
        .await;
    s.end(&id).await;
    s.run_job(&s.worker().await).await;
    let feedback = s.feedback(&id).await;
    assert_eq!(feedback["status"], "Ready");
    assert_eq!(feedback["report"]["review"], "NotEnoughSpeech");
    assert_eq!(s.sim.counters().responses, 0);
    assert_eq!(
        feedback["report"]["metrics"]["pauses"],
        Value::Null,
        "no recording"
    );
}

#[sqlx::test]
async fn a_job_whose_worker_died_runs_again_elsewhere(db: PgPool) {
    let s = setup(db.clone()).await;
    let id = s.conversation().await;
    // A worker takes the job, then its process dies: the job stays in progress, its heartbeat
    // stops.
    let queue = s.state.feedback.ready().await.unwrap();
    let taken = queue.dequeue().await.unwrap().expect("the job is there");
    drop(taken);
    let worker = s.worker().await;
    assert!(
        worker.process_next_task().await.unwrap().is_none(),
        "not while its heartbeat is fresh"
    );
    sqlx::query("update underway.task set last_heartbeat_at = now() - interval '1 minute'")
        .execute(&db)
        .await
        .unwrap();
    s.run_job(&worker).await;
    assert_eq!(s.feedback(&id).await["status"], "Ready");
    assert_eq!(queued_jobs(&db).await[0].1, "succeeded");
}

#[sqlx::test]
async fn two_workers_make_a_sessions_feedback_once(db: PgPool) {
    let s = setup(db.clone()).await;
    let id = s.conversation().await;
    // The same request queued twice (as two processes racing might): two jobs, one feedback.
    let mut conn = db.acquire().await.unwrap();
    s.state
        .feedback
        .enqueue(&mut conn, Uuid::parse_str(&id).unwrap(), 1)
        .await
        .unwrap();
    drop(conn);
    let (a, b) = (s.worker().await, s.worker().await);
    let (first, second) = tokio::join!(a.process_next_task(), b.process_next_task());
    assert!(first.unwrap().is_some() && second.unwrap().is_some());
    let rows = feedback_rows(&db).await;
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].1.as_str(), rows[0].3), ("ready", 1), "made once");
    assert_eq!(s.sim.counters().responses, 1, "the model was asked once");
    let jobs = queued_jobs(&db).await;
    assert!(
        jobs.iter().all(|(_, state)| state == "succeeded"),
        "{jobs:?}"
    );
}

#[sqlx::test]
async fn the_server_sweep_and_recovery_ask_for_feedback_too(db: PgPool) {
    let s = setup(db.clone()).await;
    let id = s.start().await;
    s.say(&id, 1, "Learner", "I am agree.", (0, 2_000)).await;
    s.record(&id).await;
    // The tab died: the server's sweep ends the session, and asks for its feedback.
    let closed = speaking_coach::server::practice::close_abandoned(&s.state, 0)
        .await
        .unwrap();
    assert_eq!(closed, 1);
    assert_eq!(feedback_rows(&db).await[0].2, 1);
    // The browser comes back with a turn it held: recovery makes the feedback again.
    s.say(&id, 2, "Learner", "She don't like tea.", (3_000, 5_000))
        .await;
    let recovered = Call::post("/api/practice/recover")
        .field("session", &id)
        .cookie(&s.cookie)
        .send(&s.app)
        .await;
    assert_eq!(recovered.status, StatusCode::OK, "{}", recovered.body);
    let rows = feedback_rows(&db).await;
    assert_eq!((rows.len(), rows[0].2), (1, 2));
    assert_eq!(queued_jobs(&db).await.len(), 2);
    let worker = s.worker().await;
    s.run_job(&worker).await;
    s.run_job(&worker).await;
    let feedback = s.feedback(&id).await;
    assert_eq!(feedback["report"]["metrics"]["learner_turns"], 2);
    assert_eq!(
        s.sim.counters().responses,
        1,
        "the superseded job asked nothing"
    );
}

#[sqlx::test]
async fn feedback_is_the_learners_own_and_leaves_with_the_session(db: PgPool) {
    let s = setup(db.clone()).await;
    let id = s.conversation().await;
    s.run_job(&s.worker().await).await;
    let other = sign_up(&s.app, "other@example.org").await;
    for call in [
        Call::get(&format!("/api/feedback/get?session={id}")),
        Call::post("/api/feedback/remake").field("session", &id),
    ] {
        let response = call.cookie(&other).send(&s.app).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{}", response.body);
    }
    let visitor = Call::get(&format!("/api/feedback/get?session={id}"))
        .send(&s.app)
        .await;
    assert_eq!(visitor.status, StatusCode::UNAUTHORIZED);

    // A share link shows it only when the learner chooses so.
    let shared = Call::post("/api/practice/share")
        .field("session", &id)
        .cookie(&s.cookie)
        .send(&s.app)
        .await;
    let url: String = serde_json::from_str(&shared.body).unwrap();
    let token = url.rsplit('/').next().unwrap().to_owned();
    let read = |token: String| {
        let app = s.app.clone();
        async move {
            let got = Call::get(&format!("/api/shared/get?token={token}"))
                .send(&app)
                .await;
            serde_json::from_str::<Value>(&got.body).unwrap()
        }
    };
    assert_eq!(read(token.clone()).await["feedback"], Value::Null);
    let shown = Call::post("/api/practice/share-feedback")
        .field("session", &id)
        .field("include", "true")
        .cookie(&s.cookie)
        .send(&s.app)
        .await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    let with = read(token.clone()).await;
    assert_eq!(with["feedback"]["status"], "Ready");
    assert_eq!(with["feedback"]["baseline"], Value::Null);

    // A remake while the session is live is refused; deleting the session deletes its feedback.
    let deleted = Call::post("/api/practice/delete")
        .field("session", &id)
        .cookie(&s.cookie)
        .send(&s.app)
        .await;
    assert!(deleted.status.is_success() || deleted.status.is_redirection());
    assert!(feedback_rows(&db).await.is_empty());
}

#[sqlx::test]
async fn progress_shows_each_session_with_feedback_oldest_first(db: PgPool) {
    let s = setup(db.clone()).await;
    let empty = Call::get("/api/feedback/progress")
        .cookie(&s.cookie)
        .send(&s.app)
        .await;
    let empty: Value = serde_json::from_str(&empty.body).unwrap();
    assert_eq!(empty["points"], json!([]));
    let worker = s.worker().await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(s.conversation().await);
        s.run_job(&worker).await;
    }
    let progress = Call::get("/api/feedback/progress")
        .cookie(&s.cookie)
        .send(&s.app)
        .await;
    let progress: Value = serde_json::from_str(&progress.body).unwrap();
    let points = progress["points"].as_array().unwrap();
    let order: Vec<&str> = points
        .iter()
        .map(|p| p["session_id"].as_str().unwrap())
        .collect();
    assert_eq!(order, ids.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(points[0]["topic_title"], "Ordering at a café");
    assert!(points[2]["fillers_per_100_words"].as_f64().unwrap() > 8.0);
    // The third session's figures are read against the first two.
    let third = s.feedback(&ids[2]).await;
    assert_eq!(third["baseline"]["sessions"], 2);
    assert_eq!(third["report"]["metrics"]["new_word_count"], 0);
    // Another learner sees nothing of it.
    let other = sign_up(&s.app, "other@example.org").await;
    let theirs = Call::get("/api/feedback/progress")
        .cookie(&other)
        .send(&s.app)
        .await;
    let theirs: Value = serde_json::from_str(&theirs.body).unwrap();
    assert_eq!(theirs["points"], json!([]));
}
