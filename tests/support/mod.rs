//! Helpers shared by the integration tests: the real router over a `#[sqlx::test]` database,
//! driven without a socket.
#![allow(dead_code)]

use std::sync::Arc;

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
    let config = Config::from_lookup(|name| {
        (name == "DATABASE_URL").then(|| "postgres://unused@127.0.0.1/unused".to_owned())
    })
    .expect("test configuration is valid");
    let leptos_options = LeptosOptions::builder()
        .output_name("speaking-coach")
        .build();
    startup::router(AppState {
        leptos_options,
        db,
        config: Arc::new(config),
    })
}

pub struct TestResponse {
    pub status: StatusCode,
    pub content_type: String,
    pub request_id: Option<String>,
    pub body: String,
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
    let response = app.clone().oneshot(request).await.expect("router answers");
    let status = response.status();
    let header_text = |name: &str| {
        response
            .headers()
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
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}
