//! Liveness, readiness and metrics, for orchestrators and scrapers.

use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;
use crate::metrics::Exposition;

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

/// The metrics, in the text format the scraper's `Accept` header prefers: OpenMetrics or the
/// Prometheus text format 0.0.4 (the default).
pub(super) async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let accept = headers.get_all(header::ACCEPT).iter().filter_map(|v| v.to_str().ok()).collect::<Vec<_>>().join(",");
    let format = Exposition::negotiate((!accept.is_empty()).then_some(accept.as_str()));
    let text = state.metrics.render(state.ports.health.pool_stats(), format);
    ([(header::CONTENT_TYPE, format.content_type()), (header::VARY, "accept")], text).into_response()
}
