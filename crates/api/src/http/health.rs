//! Liveness, readiness and metrics, for orchestrators and scrapers.

use std::time::Duration;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;

/// Liveness: the process answers.
pub(super) async fn healthz() -> &'static str {
    "ok"
}

/// Longest the readiness probe waits for the database. Probes commonly give up after 1 s; a
/// database that does not answer within this is not ready, and the probe is told so in time
/// (the pool's own acquire timeout, seconds long, is for requests, which may wait out a blip).
const READY_TIMEOUT: Duration = Duration::from_millis(750);

/// Readiness: the database answers within [`READY_TIMEOUT`].
pub(super) async fn readyz(State(state): State<AppState>) -> Response {
    match tokio::time::timeout(READY_TIMEOUT, state.ports.health.ping()).await {
        Ok(Ok(())) => (StatusCode::OK, "ready").into_response(),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
        }
        Err(_) => {
            tracing::warn!(
                timeout_ms = READY_TIMEOUT.as_millis(),
                "database did not answer the readiness probe in time"
            );
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
        }
    }
}

/// The OpenMetrics exposition.
pub(super) async fn metrics(State(state): State<AppState>) -> Response {
    let text = state.metrics.render(state.ports.health.pool_stats());
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text).into_response()
}
