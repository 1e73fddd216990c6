//! Helpers shared by the integration tests: the real router over a `#[sqlx::test]` database,
//! driven without a socket.
#![allow(dead_code)]

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode, header},
};
use http_body_util::BodyExt;
use leptos::prelude::LeptosOptions;
use speaking_coach::server::{config::Config, startup, state::AppState};
use sqlx::PgPool;
use tower::ServiceExt;

pub fn app(db: PgPool) -> Router {
    app_with(db, &[])
}

/// The app with configuration variables set on top of the minimal test configuration.
pub fn app_with(db: PgPool, vars: &[(&str, &str)]) -> Router {
    startup::router(state_with(db, vars))
}

/// The state the app is built from, for tests that call use cases directly.
///
/// Recordings go to a folder of each app's own, or, with `TEST_STORAGE=s3`, to the S3 server
/// `script/test` started (`S3_TEST_*`): the suite runs once on each backend. A test that sets
/// `STORAGE_DIR` or `STORAGE_BACKEND` itself gets what it set.
pub fn state_with(db: PgPool, vars: &[(&str, &str)]) -> AppState {
    let storage_dir = std::env::temp_dir()
        .join(format!("speaking-coach-test-{}", uuid::Uuid::new_v4()))
        .display()
        .to_string();
    let mail_dir = std::env::temp_dir()
        .join(format!("speaking-coach-test-mail-{}", uuid::Uuid::new_v4()))
        .display()
        .to_string();
    let chosen = vars
        .iter()
        .any(|(key, _)| key.starts_with("STORAGE_") || key.starts_with("S3_"));
    let on_s3 = !chosen && std::env::var("TEST_STORAGE").is_ok_and(|backend| backend == "s3");
    let s3 = |name: &str| {
        let test_var = |var: &str| {
            std::env::var(var).unwrap_or_else(|_| panic!("TEST_STORAGE=s3 needs {var}"))
        };
        match name {
            "STORAGE_BACKEND" => Some("s3".to_owned()),
            "S3_ENDPOINT" => Some(test_var("S3_TEST_ENDPOINT")),
            "S3_BUCKET" => Some(test_var("S3_TEST_BUCKET")),
            "S3_ACCESS_KEY_ID" => Some(test_var("S3_TEST_ACCESS_KEY_ID")),
            "S3_SECRET_ACCESS_KEY" => Some(test_var("S3_TEST_SECRET_ACCESS_KEY")),
            _ => None,
        }
    };
    let config = Config::from_lookup(|name| match name {
        "DATABASE_URL" => Some("postgres://unused@127.0.0.1/unused".to_owned()),
        _ if on_s3 && (name.starts_with("STORAGE_") || name.starts_with("S3_")) => s3(name),
        "STORAGE_DIR" if !chosen => Some(storage_dir.clone()),
        "MAIL_DIR" if !vars.iter().any(|(key, _)| *key == name) => Some(mail_dir.clone()),
        "REALTIME_SIMULATOR" if !vars.iter().any(|(key, _)| *key == name) => Some("on".to_owned()),
        _ => vars
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| (*value).to_owned()),
    })
    .expect("test configuration is valid");
    let leptos_options = LeptosOptions::builder()
        .output_name("speaking-coach")
        .build();
    AppState::new(leptos_options, db, config).expect("the clients build")
}

/// The app and the state it runs on (its storage, its pool), for tests that look behind it.
pub fn app_and_state(db: PgPool) -> (Router, AppState) {
    app_and_state_with(db, &[])
}

/// [`app_and_state`] with configuration variables set.
pub fn app_and_state_with(db: PgPool, vars: &[(&str, &str)]) -> (Router, AppState) {
    let state = state_with(db, vars);
    (startup::router(state.clone()), state)
}

pub struct TestResponse {
    pub status: StatusCode,
    pub content_type: String,
    pub request_id: Option<String>,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl TestResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The session cookie this response sets, as `name=value`.
    pub fn session_cookie(&self) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(speaking_coach::server::startup::SESSION_COOKIE))
            .and_then(|v| v.split(';').next())
            .map(str::to_owned)
    }

    pub fn set_cookie_header(&self) -> Option<&str> {
        self.header("set-cookie")
    }
}

/// GETs `uri` as a browser would: server functions (`/api/…`) as `fetch` calls that want JSON,
/// everything else as a page.
pub async fn get(app: &Router, uri: &str) -> TestResponse {
    let accept = if uri.starts_with("/api/") {
        "application/json"
    } else {
        "text/html"
    };
    let request = Request::get(uri)
        .header(header::ACCEPT, accept)
        .body(Body::empty())
        .expect("request builds");
    into_test_response(app.clone().oneshot(request).await.expect("router answers")).await
}

async fn into_test_response(response: axum::response::Response) -> TestResponse {
    let status = response.status();
    let headers = response.headers().clone();
    let header_text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let content_type = header_text("content-type").unwrap_or_default();
    let request_id = header_text("x-request-id");
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body reads")
        .to_bytes();
    TestResponse {
        status,
        content_type,
        request_id,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// The origin the in-process tests pretend to be served from.
pub const HOST: &str = "coach.test";
pub const ORIGIN: &str = "http://coach.test";

/// A request to the app, as a browser on the app's own pages would send it.
pub struct Call {
    method: &'static str,
    uri: String,
    form: Vec<(String, String)>,
    json: Option<String>,
    cookie: Option<String>,
    origin: Option<String>,
    referer: Option<String>,
    accept: &'static str,
}

impl Call {
    pub fn get(uri: &str) -> Self {
        Call::new("GET", uri)
    }

    pub fn post(uri: &str) -> Self {
        Call::new("POST", uri)
    }

    fn new(method: &'static str, uri: &str) -> Self {
        Call {
            method,
            uri: uri.to_owned(),
            form: Vec::new(),
            json: None,
            cookie: None,
            origin: Some(ORIGIN.to_owned()),
            referer: None,
            accept: if uri.starts_with("/api/") {
                "application/json"
            } else {
                "text/html"
            },
        }
    }

    pub fn field(mut self, name: &str, value: &str) -> Self {
        self.form.push((name.to_owned(), value.to_owned()));
        self
    }

    /// A JSON body instead of the form (for server functions with `input = Json`).
    pub fn json(mut self, body: serde_json::Value) -> Self {
        self.json = Some(body.to_string());
        self
    }

    pub fn cookie(mut self, cookie: &str) -> Self {
        self.cookie = Some(cookie.to_owned());
        self
    }

    pub fn origin(mut self, origin: Option<&str>) -> Self {
        self.origin = origin.map(str::to_owned);
        self
    }

    /// The page the request comes from (where a plain form is sent back to).
    pub fn referer(mut self, url: &str) -> Self {
        self.referer = Some(url.to_owned());
        self
    }

    /// As a plain HTML form submission (JavaScript off) rather than the wasm client.
    pub fn plain_form(mut self) -> Self {
        self.accept = "text/html";
        self
    }

    pub async fn send(self, app: &Router) -> TestResponse {
        let (body, content_type) = match self.json {
            Some(json) => (json, "application/json"),
            None => (
                serde_urlencoded(&self.form),
                "application/x-www-form-urlencoded",
            ),
        };
        let mut request = Request::builder()
            .method(self.method)
            .uri(&self.uri)
            .header(header::HOST, HOST)
            .header(header::ACCEPT, self.accept)
            .header(header::CONTENT_TYPE, content_type);
        if let Some(origin) = &self.origin {
            request = request.header(header::ORIGIN, origin);
        }
        if let Some(cookie) = &self.cookie {
            request = request.header(header::COOKIE, cookie);
        }
        if let Some(referer) = &self.referer {
            request = request.header(header::REFERER, referer);
        }
        let request = request.body(Body::from(body)).expect("request builds");
        into_test_response(app.clone().oneshot(request).await.expect("router answers")).await
    }
}

fn serde_urlencoded(pairs: &[(String, String)]) -> String {
    let encode = |text: &str| -> String {
        text.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                b' ' => "+".to_owned(),
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Starts a practice session of the café topic for the learner of `cookie`, under the client key
/// `key` (a UUID), and returns its id.
pub async fn start_practice(app: &Router, cookie: &str, key: &str) -> String {
    let started = Call::post("/api/practice/start")
        .field("topic", "ordering-at-a-cafe")
        .field("key", key)
        .cookie(cookie)
        .send(app)
        .await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    let started: serde_json::Value = serde_json::from_str(&started.body).unwrap();
    started["id"].as_str().unwrap().to_owned()
}

/// A password that meets the rules.
pub const PASSWORD: &str = "a long enough passphrase";

/// Signs up `email`, follows the link mailed to it, chooses [`PASSWORD`] there, and returns the
/// session cookie (`name=value`).
pub async fn sign_up(app: &Router, email: &str) -> String {
    let response = Call::post("/api/auth/sign-up")
        .field("email", email)
        .send(app)
        .await;
    assert_eq!(
        response.status,
        StatusCode::OK,
        "sign-up failed: {}",
        response.body
    );
    assert_eq!(response.session_cookie(), None, "sign-up never signs in");
    let token = newest_token(&get(app, &mailbox_uri(email)).await.body)
        .expect("sign-up mails a confirmation link");
    let response = finish_sign_up(&token, PASSWORD).send(app).await;
    assert_eq!(
        response.status,
        StatusCode::OK,
        "finishing sign-up failed: {}",
        response.body
    );
    response
        .session_cookie()
        .expect("finishing sign-up signs the learner in")
}

/// Follows a sign-up link (its token), choosing `password`.
pub fn finish_sign_up(token: &str, password: &str) -> Call {
    Call::post("/api/auth/finish-sign-up")
        .field("token", token)
        .field("password", password)
}

/// The development mailbox, for one address (as the app stores it: trimmed, lowercase).
pub fn mailbox_uri(email: &str) -> String {
    format!(
        "/dev/mailbox?to={}",
        email.trim().to_lowercase().replace('@', "%40")
    )
}

/// The tokens of the sign-up links in a mailbox page, newest first (as it lists them).
pub fn tokens(mailbox_html: &str) -> Vec<String> {
    let mut tokens: Vec<String> = mailbox_html
        .split("/confirm-email?token=")
        .skip(1)
        .map(|rest| rest.chars().take_while(char::is_ascii_hexdigit).collect())
        .filter(|token: &String| token.len() == 64)
        .collect();
    // Each link is shown as its own text.
    tokens.dedup();
    tokens
}

/// The token of the newest sign-up link in a mailbox page.
pub fn newest_token(mailbox_html: &str) -> Option<String> {
    tokens(mailbox_html).into_iter().next()
}

/// Two learners with their session cookies, for ownership tests: whatever A owns, B must get
/// "not found" for (404, never 403: B must not learn that it exists).
pub struct TwoUsers {
    pub a: String,
    pub b: String,
}

pub async fn two_users(app: &Router) -> TwoUsers {
    TwoUsers {
        a: sign_up(app, "owner@example.org").await,
        b: sign_up(app, "other@example.org").await,
    }
}

impl TwoUsers {
    /// Sends `call` as B and checks B is told the resource does not exist.
    pub async fn assert_hidden_from_b(&self, app: &Router, call: Call) {
        let uri = call.uri.clone();
        let response = call.cookie(&self.b).send(app).await;
        assert_eq!(
            response.status,
            StatusCode::NOT_FOUND,
            "{uri} as user B: {}",
            response.body
        );
    }
}

/// The app on a real loopback port (the voice coach is reached over HTTP, even the simulator
/// mounted in the app itself). Returns its base URL; it serves until the test ends.
pub async fn spawn_app(db: PgPool, vars: &[(&str, &str)]) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let base = format!("http://{}", listener.local_addr().expect("bound"));
    let mut vars = vars.to_vec();
    vars.push(("PUBLIC_URL", base.as_str()));
    let app = app_with(db, &vars);
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await;
    });
    base
}

/// `n` app processes (each its own state: its own memory, pools, limits, simulator) on one
/// database, one store and one mailbox, behind one public origin: the first's. The others reach
/// the voice coach at the first's simulator with the same key, as processes of one deployment
/// would reach OpenAI. Answers each one's base URL and state.
pub async fn spawn_processes(
    db: PgPool,
    vars: &[(&str, &str)],
    n: usize,
) -> (Vec<String>, Vec<AppState>) {
    let dir = |what: &str| {
        std::env::temp_dir()
            .join(format!(
                "speaking-coach-test-{what}-{}",
                uuid::Uuid::new_v4()
            ))
            .display()
            .to_string()
    };
    let (storage, mail) = (dir("store"), dir("mail"));
    let mut listeners = Vec::new();
    for _ in 0..n {
        listeners.push(
            tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("a free port"),
        );
    }
    let bases: Vec<String> = listeners
        .iter()
        .map(|l| format!("http://{}", l.local_addr().expect("bound")))
        .collect();
    let mut shared = vec![
        ("PUBLIC_URL", bases[0].as_str()),
        ("REALTIME_SIM_API_KEY", "sk-sim-shared-by-every-process"),
        ("MAIL_DIR", mail.as_str()),
    ];
    // On S3 they share the test bucket; on disk, one folder.
    if !std::env::var("TEST_STORAGE").is_ok_and(|backend| backend == "s3") {
        shared.push(("STORAGE_DIR", storage.as_str()));
    }
    let mut states = Vec::new();
    for listener in listeners {
        let vars: Vec<(&str, &str)> = shared.iter().chain(vars).copied().collect();
        let state = state_with(db.clone(), &vars);
        let app = startup::router(state.clone());
        tokio::spawn(async move {
            let _ = axum::serve(
                listener,
                app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .await;
        });
        states.push(state);
    }
    (bases, states)
}

/// A browser talking to an app on a real port (`spawn_app`), with its session cookie; or to
/// several processes of one app in turn, as a load balancer would send its requests.
pub struct Browser {
    http: reqwest::Client,
    bases: Vec<String>,
    turn: std::sync::atomic::AtomicUsize,
    pub cookie: Option<String>,
}

impl Browser {
    pub fn new(base: &str) -> Self {
        Self::across(&[base.to_owned()])
    }

    /// A browser whose requests go to each of `bases` in turn (the first is the public origin).
    pub fn across(bases: &[String]) -> Self {
        Browser {
            http: reqwest::Client::new(),
            bases: bases.to_vec(),
            turn: Default::default(),
            cookie: None,
        }
    }

    /// The public origin's `host:port`: what a load balancer passes on as `Host`.
    fn host(&self) -> &str {
        self.bases[0].trim_start_matches("http://")
    }

    /// Where the next request goes.
    fn base(&self) -> &str {
        let turn = self.turn.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        &self.bases[turn % self.bases.len()]
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let mut request = self
            .http
            .post(format!("{}{path}", self.base()))
            .header("origin", &self.bases[0])
            .header("host", self.host())
            .header("accept", "application/json")
            .form(form);
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        request.send().await.expect("the app answers")
    }

    /// `PUT`s `bytes` (a recording chunk) to `path`; answers the status.
    pub async fn put(&self, path: &str, bytes: Vec<u8>) -> StatusCode {
        let mut request = self
            .http
            .put(format!("{}{path}", self.base()))
            .header("origin", &self.bases[0])
            .header("host", self.host())
            .header("content-type", "application/octet-stream")
            .body(bytes);
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        request.send().await.expect("the app answers").status()
    }

    pub async fn sign_up(&mut self, email: &str) {
        let response = self.post("/api/auth/sign-up", &[("email", email)]).await;
        assert_eq!(response.status(), StatusCode::OK);
        let mailbox = self
            .http
            .get(format!("{}{}", self.base(), mailbox_uri(email)))
            .header("host", self.host())
            .send()
            .await
            .expect("the app answers")
            .text()
            .await
            .expect("the mailbox reads");
        let token = newest_token(&mailbox).expect("sign-up mails a confirmation link");
        let response = self
            .post(
                "/api/auth/finish-sign-up",
                &[("token", &token), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let cookie = response
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .expect("a session cookie")
            .to_owned();
        self.cookie = Some(cookie);
    }

    pub async fn start_call(&self, topic: &str) -> (StatusCode, String) {
        let response = self.post("/api/voice/start", &[("topic", topic)]).await;
        let status = response.status();
        (status, response.text().await.unwrap_or_default())
    }

    /// A call secret for the practice session with key `session` (after Start).
    pub async fn start_call_for(&self, topic: &str, session: &str) -> (StatusCode, String) {
        let response = self
            .post(
                "/api/voice/start",
                &[("topic", topic), ("session", session)],
            )
            .await;
        let status = response.status();
        (status, response.text().await.unwrap_or_default())
    }

    /// Starts a practice session with the browser's `key`; answers the status and its id.
    pub async fn start_practice(&self, topic: &str, key: &str) -> (StatusCode, String) {
        let response = self
            .post("/api/practice/start", &[("topic", topic), ("key", key)])
            .await;
        let status = response.status();
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        let id = body["id"]
            .as_str()
            .map_or_else(|| body.to_string(), str::to_owned);
        (status, id)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, String) {
        let mut request = self
            .http
            .get(format!("{}{path}", self.base()))
            .header("host", self.host())
            .header("accept", "application/json");
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        let response = request.send().await.expect("the app answers");
        let status = response.status();
        (status, response.text().await.unwrap_or_default())
    }
}
