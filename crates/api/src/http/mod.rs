//! The HTTP surface: GraphQL over HTTP and over WebSocket, GraphiQL (embedded, works offline),
//! spreadsheet exports, health checks and metrics.

mod assets;
mod caller;
mod execute;
mod export;
mod graphql;
mod health;
mod introspection;
mod observe;
mod persisted;
mod respond;
mod ws;

use std::net::IpAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::CorsLayer;
use workplan_domain::access::Viewer;
use workplan_domain::ports::{Clock, Ports, SystemClock};

use crate::admission::Admission;
use crate::config::ApiConfig;
use crate::documents::DocumentCache;
use crate::limits::LimitExceeded;
use crate::loaders;
use crate::metrics::Metrics;
use crate::rate::{CostLimiter, RateKey, RateLimiter};
use crate::schema::{WorkplanSchema, build_schema};
use respond::{internal_response, limit_response};

/// What the handlers share: the schema and the ports. Nothing per client: replicas are
/// interchangeable.
#[derive(Clone)]
pub struct AppState {
    schema: WorkplanSchema,
    ports: Ports,
    clock: Arc<dyn Clock>,
    config: ApiConfig,
    /// The limit by cost, when on.
    limiter: Option<Arc<RateLimiter>>,
    /// The limit by request count, when on.
    requests: Option<Arc<RateLimiter>>,
    metrics: Arc<Metrics>,
    /// Parsed documents by the hash of their text, shared by POST, GET and WebSocket; also the
    /// store of Apollo's persisted queries.
    documents: Arc<DocumentCache>,
    /// The bound on operations executing at once, when configured.
    admission: Option<Arc<Admission>>,
}

impl AppState {
    /// State serving `ports` with `config`.
    pub fn with_config(ports: Ports, config: ApiConfig) -> Self {
        let limiter = config.rate_limit.map(|l| Arc::new(RateLimiter::new(l)));
        let requests = config.request_limit.map(|l| Arc::new(RateLimiter::new(l)));
        let documents = Arc::new(DocumentCache::new(config.document_cache_bytes));
        let admission = config.admission.map(|a| Arc::new(Admission::new(a)));
        Self {
            schema: build_schema(&ports, &config),
            ports,
            clock: Arc::new(SystemClock),
            config,
            limiter,
            requests,
            metrics: Arc::new(Metrics::default()),
            documents,
            admission,
        }
    }

    /// The same state, telling the time of writes by `clock` (tests move a manual one).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// What a resolver may take from the context, for one request or one WebSocket connection:
    /// fresh loaders, the caller, the settings, the metrics and, when rate limiting is on, the
    /// limiter and the caller's bucket.
    fn request_data(&self, viewer: Viewer, client: Option<IpAddr>) -> async_graphql::Data {
        let mut data = async_graphql::Data::default();
        if let Some(limiter) = &self.limiter {
            data.insert(CostLimiter(limiter.clone()));
            data.insert(RateKey::of(&viewer, client));
        }
        data.insert(loaders::for_request(&self.ports, self.clock.clone()));
        data.insert(viewer);
        data.insert(self.config.clone());
        data.insert(self.clock.clone());
        data.insert(self.metrics.clone());
        data
    }

    /// Refuses a request over a limit, counting it.
    fn refuse(&self, e: &LimitExceeded) -> Response {
        self.metrics.rejected(e.limit);
        limit_response(e)
    }
}

/// The application's routes.
pub fn router(state: AppState) -> Router {
    let cors = cors_layer(&state.config.cors_origins);
    let metrics = state.metrics.clone();
    // Every request here counts against the caller's request limit; health checks, metrics
    // and GraphiQL's static files do not.
    let limited = Router::new()
        .route("/graphql", get(graphql::graphql_get).post(graphql::graphql_post))
        .route("/graphql/ws", get(ws::graphql_ws))
        .route("/export/{file}", get(export::download))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), caller::limit_requests));
    let router = Router::new()
        .merge(limited)
        .route("/", get(assets::graphiql))
        .route("/graphiql", get(assets::graphiql))
        .route("/graphiql/assets/{file}", get(assets::asset))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .layer(DefaultBodyLimit::max(state.config.limits.max_body_bytes))
        .layer(CatchPanicLayer::custom(|_| {
            tracing::error!("a request handler panicked");
            internal_response(StatusCode::INTERNAL_SERVER_ERROR)
        }))
        .with_state(state);
    let router = match cors {
        Some(cors) => router.layer(cors),
        None => router,
    };
    observe::observed(router, metrics)
}

/// CORS for an explicit allow-list of origins; none (no CORS headers at all) when empty.
fn cors_layer(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let origins: Vec<HeaderValue> = origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
    Some(
        CorsLayer::new()
            .allow_origin(origins)
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION, header::ACCEPT])
            .max_age(std::time::Duration::from_secs(600)),
    )
}
