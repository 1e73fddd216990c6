//! Builds the application: state, router, middleware, listener. `main` calls `serve`; tests call
//! `router` directly and drive it without a socket.

use std::{net::SocketAddr, time::Duration};

use axum::{
    Router,
    middleware::{from_fn, from_fn_with_state},
    routing::get,
};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower::ServiceBuilder;
use tower_http::{
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    services::{ServeDir, ServeFile},
};
use tower_sessions::{
    Expiry, SessionManagerLayer,
    cookie::{SameSite, time},
    session_store::ExpiredDeletion,
};
use tower_sessions_sqlx_store::PostgresStore;

use super::{
    chunks, config::Config, db, error, export, health, mailbox, replay, security, state::AppState,
    storage::Storage, telemetry,
};
use crate::app::{App, shell};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("could not read the Leptos site configuration")]
    Leptos(#[source] leptos::config::errors::LeptosConfigError),
    #[error("could not connect to the database or apply its migrations")]
    Database(#[source] sqlx::Error),
    #[error("could not listen on {addr}")]
    Bind {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("could not build the clients for the Realtime API and for mail")]
    Clients(#[source] super::state::ClientError),
    #[error("the server failed while running")]
    Serve(#[source] std::io::Error),
    #[error("could not start the feedback job")]
    Jobs(#[source] super::jobs::JobsError),
}

impl From<sqlx::migrate::MigrateError> for StartupError {
    fn from(error: sqlx::migrate::MigrateError) -> Self {
        StartupError::Database(error.into())
    }
}

/// Connects, migrates and serves until Ctrl-C or SIGTERM.
pub async fn serve(config: Config) -> Result<(), StartupError> {
    let leptos_options = get_configuration(None)
        .map_err(StartupError::Leptos)?
        .leptos_options;
    let addr = leptos_options.site_addr;
    let db = db::connect_and_migrate(&config)
        .await
        .map_err(StartupError::Database)?;
    let state = AppState::new(leptos_options, db, config).map_err(StartupError::Clients)?;
    if let Storage::S3(store) = &state.storage
        && let Err(error) = store.ensure_bucket().await
    {
        tracing::warn!(%error, "storage: the bucket could not be created or checked");
    }
    tracing::info!(backend = state.storage.backend(), "storage ready");
    state.feedback.ready().await.map_err(StartupError::Jobs)?;
    let worker = start_feedback_worker(&state).await?;
    spawn_housekeeping(&state);

    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| StartupError::Bind { addr, source })?;
    tracing::info!(%addr, "listening on http://{addr}");
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(StartupError::Serve)?;
    if let Some((worker, running)) = worker {
        // Jobs in progress get a moment to finish; one that does not runs again after a
        // restart (its heartbeat stops).
        worker.shutdown();
        if tokio::time::timeout(Duration::from_secs(10), running)
            .await
            .is_err()
        {
            tracing::warn!("feedback worker stopped with a job still running");
        }
    }
    tracing::info!("stopped");
    Ok(())
}

/// The feedback worker on its own connection pool, `FEEDBACK_WORKERS` jobs at a time (none
/// when it is 0: another process makes the feedback).
async fn start_feedback_worker(
    state: &AppState,
) -> Result<
    Option<(
        underway::Worker<super::jobs::FeedbackTask>,
        tokio::task::JoinHandle<()>,
    )>,
    StartupError,
> {
    let concurrency = state.config.feedback.workers;
    if concurrency == 0 {
        tracing::info!("feedback worker: off in this process (FEEDBACK_WORKERS=0)");
        return Ok(None);
    }
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(super::jobs::worker_pool_size(concurrency))
        .acquire_timeout(Duration::from_secs(10))
        .connect(state.config.database_url())
        .await
        .map_err(StartupError::Database)?;
    let worker = state
        .feedback
        .worker(pool, concurrency as usize)
        .await
        .map_err(StartupError::Jobs)?;
    let running = worker.clone();
    let handle = tokio::spawn(async move {
        // Woken by LISTEN/NOTIFY; the poll finds retries whose wait is over.
        if let Err(error) = running.run_every(jiff::ToSpan::seconds(1)).await {
            tracing::error!(%error, "feedback worker stopped");
        }
    });
    tracing::info!(concurrency, "feedback worker started");
    Ok(Some((worker, handle)))
}

/// The name of the session cookie. It holds only the session id.
pub const SESSION_COOKIE: &str = "sc_session";

/// The whole application: health checks, server functions, pages, static files.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let site_root = state.leptos_options.site_root.clone();
    let pkg_dir = state.leptos_options.site_pkg_dir.clone();
    let request_id = axum::http::HeaderName::from_static("x-request-id");
    let sessions = SessionManagerLayer::new(PostgresStore::new(state.db.clone()))
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.config.secure_cookies())
        .with_expiry(Expiry::OnInactivity(time::Duration::days(30)));
    let app = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route(
            "/api/practice/{session}/chunks/{sequence}",
            axum::routing::put(chunks::put_chunk),
        )
        .route(
            "/api/practice/{session}/recording",
            get(replay::get_recording),
        )
        .route("/api/practice/{session}/export", get(export::export))
        .route("/dev/mailbox", get(mailbox::page))
        .route(
            "/api/shared/{token}/recording",
            get(replay::get_shared_recording),
        )
        .leptos_routes_with_context(
            &state,
            routes,
            // `leptos_routes_with_context` provides `AppState` itself to pages and server fns.
            security::provide_page_nonce,
            {
                let options = state.leptos_options.clone();
                move || shell(options.clone())
            },
        )
        // The site's own files, apart from Leptos: its file-and-error fallback can give a file
        // the status of a page rendered at the same moment (a not-found page's 404).
        .nest_service(
            &format!("/{pkg_dir}"),
            ServeDir::new(format!("{site_root}/{pkg_dir}")),
        )
        .route_service(
            "/favicon.svg",
            ServeFile::new(format!("{site_root}/favicon.svg")),
        )
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(security::provide_page_nonce, shell))
        .layer(from_fn(error::server_fn_error_status))
        .layer(from_fn(tidy_form_redirect))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
                .layer(telemetry::trace_layer())
                .layer(PropagateRequestIdLayer::new(request_id))
                .layer(from_fn_with_state(
                    state.clone(),
                    security::security_headers,
                ))
                .layer(from_fn_with_state(
                    state.clone(),
                    security::same_origin_writes,
                ))
                .layer(sessions),
        )
        .with_state(state.clone());
    // The simulator authenticates with bearer keys, not cookies: it sits outside the session and
    // same-origin layers (the server itself mints through it, with no Origin header).
    match &state.simulator {
        Some(simulator) => app.nest("/sim", simulator.router().layer(telemetry::trace_layer())),
        None => app,
    }
}

/// A form posted as plain HTML is sent back to the page it came from. The framework first strips
/// an earlier error from that page's URL and leaves an empty query behind (`/practice/{id}?`);
/// this takes the lone `?` off, so the address bar shows the page's own URL.
async fn tidy_form_redirect(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::{HeaderValue, header::LOCATION};
    let mut response = next.run(request).await;
    let tidy = response
        .headers()
        .get(LOCATION)
        .and_then(|location| location.to_str().ok())
        .and_then(|location| location.strip_suffix('?'))
        .and_then(|location| HeaderValue::from_str(location).ok());
    if let Some(tidy) = tidy {
        response.headers_mut().insert(LOCATION, tidy);
    }
    response
}

/// Background upkeep: expired sessions leave the store, recovered rate-limit keys leave Postgres,
/// abandoned practice sessions are ended, and provisional recordings made final after a week.
fn spawn_housekeeping(state: &AppState) {
    let store = PostgresStore::new(state.db.clone());
    tokio::spawn(async move {
        if let Err(error) = store
            .continuously_delete_expired(Duration::from_secs(3600))
            .await
        {
            tracing::warn!(%error, "expired-session cleanup stopped");
        }
    });
    let state = state.clone();
    tokio::spawn(async move {
        let mut every_minute = tokio::time::interval(Duration::from_secs(60));
        let mut minutes: u64 = 0;
        loop {
            every_minute.tick().await;
            minutes += 1;
            if let Err(error) = super::db::rate_limits::forget_idle(&state.db).await {
                tracing::warn!(%error, "rate-limit cleanup failed");
            }
            // Sessions whose tab died: ended and finalized with what arrived.
            if let Err(error) =
                super::practice::close_abandoned(&state, super::practice::ABANDONED_AFTER_SECS)
                    .await
            {
                tracing::warn!(%error, "abandoned-session sweep failed");
            }
            // Feedback whose job kept failing without giving up (a crash each time) is given up.
            match super::db::feedback::give_up_stale(&state.db, super::feedback::STALE_AFTER_SECS)
                .await
            {
                Ok(0) => {}
                Ok(n) => tracing::warn!(sessions = n, "feedback given up after too long"),
                Err(error) => tracing::warn!(%error, "stale-feedback sweep failed"),
            }
            // ...and, a week later, their recordings are made final with what arrived.
            if let Err(error) =
                super::practice::finish_provisional(&state, super::practice::PROVISIONAL_KEPT_SECS)
                    .await
            {
                tracing::warn!(%error, "provisional-recording sweep failed");
            }
            // Sign-up links past their day.
            if let Err(error) = super::db::users::forget_expired_links(&state.db).await {
                tracing::warn!(%error, "sign-up link sweep failed");
            }
            // Call secrets past every budget's 24 hours.
            if let Err(error) = super::limits::forget_old_mints(&state.db).await {
                tracing::warn!(%error, "call-budget sweep failed");
            }
            // Stored objects of sessions that are gone: a minute after start, then hourly (it
            // lists the whole store).
            if minutes % 60 == 2
                && let Err(error) = super::practice::remove_orphaned_objects(&state).await
            {
                tracing::warn!(%error, "orphaned-object sweep failed");
            }
        }
    });
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "could not listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "could not listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
