//! Each HTTP request, observed: a server span to the OpenTelemetry semantic conventions, and a
//! count of its response by route and status.
//!
//! The span comes from `axum-tracing-opentelemetry`'s `OtelAxumLayer`: kind SERVER, named
//! `{method} {route}` (`POST /graphql`), with `http.request.method`, `http.route`,
//! `http.response.status_code`, `url.path`, `url.scheme` and the rest of the HTTP span
//! attributes, continuing the caller's W3C `traceparent` (the propagator is installed with the
//! telemetry). Beneath it sit the `graphql` operation span and SeaORM's database spans. [`record`]
//! runs inside that span and adds what the layer does not: `client.address` and
//! `network.peer.address` (the TCP peer), the request id, and the trace id as a `tracing` field,
//! so every log line of the request names its trace.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use axum_tracing_opentelemetry::middleware::OtelAxumLayer;
use opentelemetry::trace::TraceContextExt as _;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use crate::metrics::Metrics;

/// `router` with a server span around every request and its response counted in `metrics`.
pub(super) fn observed(router: Router, metrics: Arc<Metrics>) -> Router {
    // The last layer added runs first: the span is open before `record` runs.
    router.layer(axum::middleware::from_fn_with_state(metrics, record)).layer(OtelAxumLayer::default())
}

/// Completes the server span (the current span) and counts the response.
async fn record(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let span = tracing::Span::current();
    if let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>() {
        let ip = peer.ip().to_string();
        span.set_attribute("client.address", ip.clone());
        span.set_attribute("network.peer.address", ip);
        span.set_attribute("network.peer.port", i64::from(peer.port()));
    }
    if let Some(id) = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()) {
        span.record("request_id", id);
    }
    let context = span.context();
    let span_context = context.span().span_context().clone();
    if span_context.is_valid() {
        span.record("trace_id", span_context.trace_id().to_string());
    }
    let route = request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned());
    let response = next.run(request).await;
    metrics.http_response(route.as_deref(), response.status().as_u16());
    response
}
