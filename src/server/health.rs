//! `GET /healthz`: the process is up. `GET /readyz`: it can serve learners (database reachable,
//! recordings can be stored).

use std::time::Duration;

use axum::{Json, extract::State, http::StatusCode};
use serde::Serialize;

use super::state::AppState;

#[derive(Debug, Serialize)]
pub struct Health {
    status: &'static str,
}

pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

#[derive(Debug, Serialize)]
pub struct Readiness {
    status: &'static str,
    checks: Checks,
}

#[derive(Debug, Serialize)]
pub struct Checks {
    database: &'static str,
    storage: &'static str,
}

pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let database = tokio::time::timeout(
        Duration::from_secs(2),
        sqlx::query_scalar!("select 1 as \"one!\"").fetch_one(&state.db),
    )
    .await;
    let database_ok = match database {
        Ok(Ok(_)) => true,
        Ok(Err(error)) => {
            tracing::warn!(error = %error, "readiness: database check failed");
            false
        }
        Err(_) => {
            tracing::warn!("readiness: database check timed out");
            false
        }
    };
    let storage_ok = match tokio::time::timeout(Duration::from_secs(2), state.storage.check()).await
    {
        Ok(Ok(())) => true,
        Ok(Err(error)) => {
            tracing::warn!(error = %error, backend = state.storage.backend(), "readiness: storage check failed");
            false
        }
        Err(_) => {
            tracing::warn!(
                backend = state.storage.backend(),
                "readiness: storage check timed out"
            );
            false
        }
    };
    let status = |ok: bool| if ok { "ok" } else { "unavailable" };
    let checks = Checks {
        database: status(database_ok),
        storage: status(storage_ok),
    };
    if database_ok && storage_ok {
        (
            StatusCode::OK,
            Json(Readiness {
                status: "ready",
                checks,
            }),
        )
    } else {
        let body = Readiness {
            status: "unavailable",
            checks,
        };
        (StatusCode::SERVICE_UNAVAILABLE, Json(body))
    }
}
