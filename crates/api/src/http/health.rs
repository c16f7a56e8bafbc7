//! Liveness, readiness and metrics, for orchestrators and scrapers.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;
use crate::metrics::Exposition;

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

/// The metrics, in the text format the scraper's `Accept` header prefers: OpenMetrics or the
/// Prometheus text format 0.0.4 (the default).
pub(super) async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let accept = headers.get_all(header::ACCEPT).iter().filter_map(|v| v.to_str().ok()).collect::<Vec<_>>().join(",");
    let format = Exposition::negotiate((!accept.is_empty()).then_some(accept.as_str()));
    let text = state.metrics.render(state.ports.health.pool_stats(), format);
    ([(header::CONTENT_TYPE, format.content_type()), (header::VARY, "accept")], text).into_response()
}
