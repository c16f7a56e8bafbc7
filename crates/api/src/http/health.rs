//! Liveness, readiness and metrics, for orchestrators and scrapers.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;

/// Liveness: the process answers.
pub(super) async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: the database answers.
pub(super) async fn readyz(State(state): State<AppState>) -> Response {
    match state.ports.health.ping().await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
        }
    }
}

/// The OpenMetrics exposition.
pub(super) async fn metrics(State(state): State<AppState>) -> Response {
    let text = state.metrics.render(state.ports.health.pool_stats());
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text).into_response()
}
