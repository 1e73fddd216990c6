//! The router end to end in process: health checks, server functions and server-rendered pages.
#![cfg(feature = "ssr")]

mod support;

use axum::http::StatusCode;
use sqlx::PgPool;
use support::{Call, ORIGIN, app, get, sign_up, start_practice};

#[sqlx::test]
async fn healthz_answers_ok(pool: PgPool) {
    let response = get(&app(pool), "/healthz").await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.body, r#"{"status":"ok"}"#);
    assert!(
        response.request_id.is_some(),
        "every response carries a request id"
    );
}

#[sqlx::test]
async fn readyz_reports_the_database(pool: PgPool) {
    let app = app(pool.clone());
    let response = get(&app, "/readyz").await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(
        response.body,
        r#"{"status":"ready","checks":{"database":"ok","storage":"ok"}}"#
    );

    pool.close().await;
    let response = get(&app, "/readyz").await;
    assert_eq!(response.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        response.body.contains(r#""database":"unavailable""#),
        "{}",
        response.body
    );
}

#[sqlx::test]
async fn readyz_reports_storage_that_cannot_be_written(pool: PgPool) {
    // A folder "inside" a regular file can never be created.
    let file =
        std::env::temp_dir().join(format!("speaking-coach-not-a-dir-{}", std::process::id()));
    std::fs::write(&file, b"x").unwrap();
    let dir = file.join("storage").display().to_string();
    let app = support::app_with(pool, &[("STORAGE_DIR", dir.as_str())]);
    let response = get(&app, "/readyz").await;
    assert_eq!(response.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        response.body,
        r#"{"status":"unavailable","checks":{"database":"ok","storage":"unavailable"}}"#
    );
    let _ = std::fs::remove_file(file);
}

#[sqlx::test]
async fn the_list_server_function_returns_every_topic_as_json(pool: PgPool) {
    let response = get(&app(pool), "/api/topics/list").await;
    assert_eq!(response.status, StatusCode::OK);
    let topics: Vec<speaking_coach::domain::Topic> =
        serde_json::from_str(&response.body).expect("a JSON list of topics");
    assert!(topics.len() >= 12);
}

#[sqlx::test]
async fn an_unknown_topic_is_a_404_from_the_server_function(pool: PgPool) {
    let response = get(&app(pool), "/api/topics/get?slug=no-such-topic").await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    assert!(response.body.contains("NotFound"), "{}", response.body);
}

#[sqlx::test]
async fn a_server_function_call_without_its_argument_is_a_400(pool: PgPool) {
    let response = get(&app(pool), "/api/topics/get").await;
    assert_eq!(
        response.status,
        StatusCode::BAD_REQUEST,
        "{}",
        response.body
    );
}

#[sqlx::test]
async fn the_topics_page_is_rendered_on_the_server(pool: PgPool) {
    let response = get(&app(pool), "/topics").await;
    assert_eq!(response.status, StatusCode::OK);
    assert!(response.content_type.starts_with("text/html"));
    for title in [
        "Ordering at a café",
        "A job interview",
        "A debate on remote work",
    ] {
        assert!(response.body.contains(title), "missing {title}");
    }
}

#[sqlx::test]
async fn the_home_page_shows_the_topics_too(pool: PgPool) {
    let response = get(&app(pool), "/").await;
    assert_eq!(response.status, StatusCode::OK);
    assert!(response.body.contains("What would you like to talk about?"));
    assert!(response.body.contains("Negotiating a price"));
}

#[sqlx::test]
async fn the_level_filter_works_on_the_server(pool: PgPool) {
    let response = get(&app(pool), "/topics?level=C1").await;
    assert_eq!(response.status, StatusCode::OK);
    // Cards are links; the hydration data (not shown) holds every topic, so look for links.
    assert!(
        response
            .body
            .contains(r#"href="/topics/debate-remote-work""#)
    );
    assert!(
        !response
            .body
            .contains(r#"href="/topics/ordering-at-a-cafe""#)
    );
    assert!(response.body.contains("2 topics at C1"));
}

#[sqlx::test]
async fn a_topic_page_shows_goal_and_vocabulary(pool: PgPool) {
    let response = get(&app(pool), "/topics/negotiating-a-price").await;
    assert_eq!(response.status, StatusCode::OK);
    assert!(response.body.contains("Negotiating a price"));
    assert!(response.body.contains("meet me halfway"));
    assert!(response.body.contains("Start practice"));
}

#[sqlx::test]
async fn an_unknown_topic_page_is_a_real_404(pool: PgPool) {
    let response = get(&app(pool), "/topics/no-such-topic").await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    assert!(
        response.body.contains("find that topic"),
        "{}",
        response.body
    );
}

#[sqlx::test]
async fn an_unknown_path_is_a_real_404(pool: PgPool) {
    let response = get(&app(pool), "/no/such/page").await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    assert!(
        response.body.contains("find that page"),
        "{}",
        response.body
    );
}

/// The site's files keep their own status while pages are rendered at the same moment on other
/// threads: Leptos's fallback once served a file with the 404 of a not-found page rendered
/// alongside it (seen in CI as a page that never hydrated). Neither needs the database.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_sites_files_are_served_whole_while_not_found_pages_render() {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .connect_lazy("postgres://nobody@127.0.0.1:1/unused")
        .unwrap();
    let site = tempfile_dir();
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    std::fs::write(site.join("pkg/speaking-coach.css"), "body{}").unwrap();
    std::fs::write(site.join("favicon.svg"), "<svg/>").unwrap();
    let mut state = support::state_with(pool, &[]);
    state.leptos_options.site_root = site.to_string_lossy().into_owned().into();
    let app = speaking_coach::server::startup::router(state);

    let mut requests = tokio::task::JoinSet::new();
    for n in 0..400 {
        let app = app.clone();
        requests.spawn(async move {
            let uri = match n % 3 {
                0 => "/no/such/page",
                1 => "/pkg/speaking-coach.css",
                _ => "/favicon.svg",
            };
            (uri, get(&app, uri).await.status)
        });
    }
    let mut files = 0;
    while let Some(answer) = requests.join_next().await {
        let (uri, status) = answer.unwrap();
        if uri == "/no/such/page" {
            assert_eq!(status, StatusCode::NOT_FOUND);
        } else {
            assert_eq!(status, StatusCode::OK, "{uri}");
            files += 1;
        }
    }
    assert_eq!(files, 266);
    // A file that is not there is a plain 404.
    assert_eq!(
        get(&app, "/pkg/nothing.js").await.status,
        StatusCode::NOT_FOUND
    );
    std::fs::remove_dir_all(&site).unwrap();
}

/// A fresh directory under the system's temporary one.
fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("speaking-coach-site-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Only the live call and the replays load wasm with the page: the call its own bundle (no
/// Leptos in it), the replays the main module and their island's own files from the split build.
/// Every other page carries the small script that loads the bundle only for recovery, and a
/// signed-in learner's pages are no different. The call's page is plain HTML with every panel the
/// call shows, and nothing outside an island carries hydration data.
#[sqlx::test]
async fn only_the_call_and_the_replays_load_wasm_with_the_page(pool: PgPool) {
    let site = tempfile_dir();
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    std::fs::write(
        site.join("pkg/__wasm_split_manifest.json"),
        r#"{"replay_player_loader_1": ["chunk_1", "split_replay_player_loader_1"],
            "feedback_watch_loader_2": ["chunk_1", "chunk_2", "split_feedback_watch_loader_2"]}"#,
    )
    .unwrap();
    std::fs::write(site.join("pkg/__wasm_split.______.js"), "").unwrap();
    let mut state = support::state_with(pool, &[]);
    state.leptos_options.site_root = site.to_string_lossy().into_owned().into();
    let app = speaking_coach::server::startup::router(state);
    let cookie = sign_up(&app, "learner@example.org").await;
    let preloads = |body: &str| -> Vec<String> {
        body.match_indices(r#"rel="modulepreload" href=""#)
            .chain(body.match_indices(r#"rel="preload" href=""#))
            .map(|(at, tag)| {
                let href = &body[at + tag.len()..];
                href[..href.find('"').unwrap()].to_owned()
            })
            .collect()
    };
    let waits_for_recovery = |body: &str| body.contains("indexedDB.databases");
    for path in [
        "/topics",
        "/topics/ordering-at-a-cafe",
        "/history",
        "/progress",
        "/account",
    ] {
        let page = Call::get(path).cookie(&cookie).send(&app).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert_eq!(
            preloads(&page.body),
            [] as [&str; 0],
            "{path} loads no wasm"
        );
        assert!(waits_for_recovery(&page.body), "{path} can still recover");
    }
    let call = Call::get("/topics/ordering-at-a-cafe/practice")
        .cookie(&cookie)
        .send(&app)
        .await;
    assert_eq!(call.status, StatusCode::OK);
    assert_eq!(
        preloads(&call.body),
        ["/pkg/call/call.js", "/pkg/call/call_bg.wasm"],
        "the call page loads the call's own bundle, nothing of Leptos'"
    );
    for (attribute, value) in [
        ("data-js", "/pkg/call/call.js"),
        ("data-wasm", "/pkg/call/call_bg.wasm"),
    ] {
        assert!(
            call.body.contains(&format!(r#"{attribute}="{value}""#)),
            "the page tells its loader where the call's bundle is ({attribute})"
        );
    }
    // What the call starts from: the topic and the learner, in the page.
    let props = call.body.split(r#"data-props=""#).nth(1).unwrap();
    let props = props[..props.find('"').unwrap()]
        .replace("&quot;", "\"")
        .replace("&amp;", "&");
    let (topic, owner): (serde_json::Value, String) = serde_json::from_str(&props).unwrap();
    assert_eq!(topic["slug"], "ordering-at-a-cafe");
    assert_eq!(owner, "learner@example.org");
    let islands: Vec<&str> = call
        .body
        .match_indices("<leptos-island data-component=\"")
        .map(|(at, tag)| {
            let name = &call.body[at + tag.len()..];
            &name[..name.find('"').unwrap()]
        })
        .collect();
    assert!(
        matches!(islands.as_slice(), [notice] if notice.starts_with("RecoveryNotice_")),
        "the recovery notice is the call page's only island: {islands:?}"
    );
    assert!(
        call.body.contains("__RESOLVED_RESOURCES=[];"),
        "no hydration data outside the islands"
    );
    let key = uuid::Uuid::new_v4().to_string();
    let session = support::start_practice(&app, &cookie, &key).await;
    let replay = Call::get(&format!("/practice/{session}"))
        .cookie(&cookie)
        .send(&app)
        .await;
    assert_eq!(replay.status, StatusCode::OK);
    assert!(
        preloads(&replay.body).ends_with(&[
            "/pkg/chunk_1.wasm".to_owned(),
            "/pkg/split_replay_player_loader_1.wasm".to_owned()
        ]),
        "{:?}",
        preloads(&replay.body)
    );
    let sign_in = get(&app, "/sign-in").await;
    assert!(preloads(&sign_in.body).is_empty() && waits_for_recovery(&sign_in.body));
    std::fs::remove_dir_all(&site).unwrap();
}

/// A form posted as plain HTML (every form: only islands hydrate) goes back to its page's own URL,
/// without the empty query the framework leaves behind when it strips an earlier error.
#[sqlx::test]
async fn a_plain_form_goes_back_to_its_page_as_it_was(pool: PgPool) {
    let app = app(pool);
    let cookie = sign_up(&app, "learner@example.org").await;
    let id = &start_practice(&app, &cookie, "5f0c6d7e-1b7a-4a8e-9d57-3f7b8c2e1a90").await;
    let page = format!("{ORIGIN}/practice/{id}");
    for referer in [page.clone(), format!("{page}?__err=earlier")] {
        let shared = Call::post("/api/practice/share")
            .field("session", id)
            .cookie(&cookie)
            .referer(&referer)
            .plain_form()
            .send(&app)
            .await;
        assert!(shared.status.is_redirection(), "{}", shared.status);
        assert_eq!(
            shared.header("location"),
            Some(page.as_str()),
            "from {referer}"
        );
    }
}
