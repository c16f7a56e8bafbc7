//! The HTTP surface: GraphQL over HTTP, GraphiQL (embedded, works offline) and health checks.

use std::sync::Arc;

use async_graphql::parser::types::{DocumentOperations, OperationType};
use async_graphql::{ServerError, Value};
use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::catch_panic::CatchPanicLayer;
use workplan_domain::ports::Store;

use crate::auth::viewer_from_headers;
use crate::config::ApiConfig;
use crate::error::code;
use crate::limits::{LimitExceeded, check_document, check_shape, check_variables};
use crate::metrics::Metrics;
use crate::rate::{RateKey, RateLimiter};
use tracing::Instrument as _;

/// The client's address, when the server was started with connect info.
pub struct ClientAddr(Option<std::net::SocketAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0)))
    }
}
use crate::loaders;
use crate::schema::{WorkplanSchema, build_schema};
use workplan_domain::auth::Viewer;

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
const JSON: &str = "application/json";

/// What the handlers share: the schema and the store. Nothing per client: replicas are
/// interchangeable.
#[derive(Clone)]
pub struct AppState {
    schema: WorkplanSchema,
    store: Arc<dyn Store>,
    config: ApiConfig,
    limiter: Option<Arc<RateLimiter>>,
    metrics: Arc<Metrics>,
}

impl AppState {
    /// State serving `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self::with_config(store, ApiConfig::default())
    }

    /// State serving `store` with `config`.
    pub fn with_config(store: Arc<dyn Store>, config: ApiConfig) -> Self {
        let limiter = config.rate_limit.map(|l| Arc::new(RateLimiter::new(l)));
        Self {
            schema: build_schema(store.clone(), &config),
            store,
            config,
            limiter,
            metrics: Arc::new(Metrics::default()),
        }
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
    let router = Router::new()
        .route("/graphql", get(graphql_get).post(graphql_post))
        .route("/", get(graphiql))
        .route("/graphiql", get(graphiql))
        .route("/graphiql/assets/{file}", get(asset))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/graphql/ws", get(graphql_ws))
        .layer(DefaultBodyLimit::max(state.config.limits.max_body_bytes))
        .layer(CatchPanicLayer::custom(|_| {
            tracing::error!("a request handler panicked");
            error_response(StatusCode::INTERNAL_SERVER_ERROR, code::INTERNAL, "internal error; it has been logged")
        }))
        .with_state(state);
    match cors {
        Some(cors) => router.layer(cors),
        None => router,
    }
}

/// CORS for an explicit allow-list of origins; none (no CORS headers at all) when empty.
fn cors_layer(origins: &[String]) -> Option<tower_http::cors::CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let origins: Vec<HeaderValue> = origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
    Some(
        tower_http::cors::CorsLayer::new()
            .allow_origin(origins)
            .allow_methods([axum::http::Method::GET, axum::http::Method::POST])
            .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION, header::ACCEPT])
            .max_age(std::time::Duration::from_secs(600)),
    )
}

/// A GraphQL-shaped error body outside execution.
fn error_response(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static(JSON))], body.to_string()).into_response()
}

/// The client accepts none of the media types we answer in.
struct NotAcceptable;

impl IntoResponse for NotAcceptable {
    fn into_response(self) -> Response {
        error_response(
            StatusCode::NOT_ACCEPTABLE,
            code::BAD_USER_INPUT,
            "responses are application/graphql-response+json or application/json",
        )
    }
}

/// The response media type the client accepts, or 406.
fn negotiate(headers: &HeaderMap) -> Result<&'static str, NotAcceptable> {
    let Some(accept) = headers.get(header::ACCEPT) else {
        return Ok(JSON);
    };
    let accept = accept.to_str().unwrap_or_default();
    let ranges: Vec<&str> = accept
        .split(',')
        .filter(|r| !r.split(';').skip(1).any(|p| p.trim().replace(' ', "") == "q=0"))
        .map(|r| r.split(';').next().unwrap_or_default().trim())
        .collect();
    if ranges.iter().any(|r| r.eq_ignore_ascii_case(GRAPHQL_RESPONSE_JSON)) {
        Ok(GRAPHQL_RESPONSE_JSON)
    } else if ranges
        .iter()
        .any(|r| r.eq_ignore_ascii_case(JSON) || *r == "*/*" || r.eq_ignore_ascii_case("application/*"))
    {
        Ok(JSON)
    } else {
        Err(NotAcceptable)
    }
}

async fn graphql_post(State(state): State<AppState>, client: ClientAddr, headers: HeaderMap, body: Body) -> Response {
    let media = match negotiate(&headers) {
        Ok(m) => m,
        Err(r) => return r.into_response(),
    };
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    if !essence.eq_ignore_ascii_case(JSON) {
        return error_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code::BAD_USER_INPUT,
            "POST /graphql takes Content-Type: application/json",
        );
    }
    // The body limit, enforced here on the route itself.
    let Ok(body) = axum::body::to_bytes(body, state.config.limits.max_body_bytes).await else {
        state.metrics.rejected("maxBodyBytes");
        let message = format!("the request body is over {} bytes", state.config.limits.max_body_bytes);
        return error_response(StatusCode::PAYLOAD_TOO_LARGE, code::BAD_USER_INPUT, &message);
    };
    let value: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(_) => {
            return error_response(StatusCode::BAD_REQUEST, code::BAD_USER_INPUT, "the body is not valid JSON");
        }
    };
    if value.is_array() {
        return error_response(StatusCode::BAD_REQUEST, code::BAD_USER_INPUT, "batched requests are not supported");
    }
    let Some(query) = value.get("query").and_then(serde_json::Value::as_str) else {
        return error_response(StatusCode::BAD_REQUEST, code::BAD_USER_INPUT, "the request has no `query` string");
    };
    if let Err(e) = check_document(query, &state.config.limits) {
        return state.refuse(&e);
    }
    if let Some(variables) = value.get("variables")
        && let Err(e) = check_variables(variables, &state.config.limits)
    {
        return state.refuse(&e);
    }
    let request: async_graphql::Request = match serde_json::from_value(value) {
        Ok(r) => r,
        Err(e) => {
            let message = format!("not a GraphQL request: {e}");
            return error_response(StatusCode::BAD_REQUEST, code::BAD_USER_INPUT, &message);
        }
    };
    execute(&state, &client, &headers, request, media).await
}

/// The parameters of a GET request, as the GraphQL-over-HTTP spec names them. (async-graphql's
/// own query-string parser looks for `operation_name` and so ignores `operationName`.)
#[derive(Debug, serde::Deserialize)]
struct GetParams {
    query: Option<String>,
    #[serde(rename = "operationName")]
    operation_name: Option<String>,
    variables: Option<String>,
    extensions: Option<String>,
}

/// Why a request was refused before execution.
enum Refusal {
    Malformed(String),
    Limit(LimitExceeded),
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Self::Malformed(m) => {
                error_response(StatusCode::BAD_REQUEST, code::BAD_USER_INPUT, &format!("not a GraphQL request: {m}"))
            }
            Self::Limit(e) => limit_response(&e),
        }
    }
}

fn get_request(uri: &Uri, limits: &crate::limits::Limits) -> Result<async_graphql::Request, Refusal> {
    let bad = |m: &str| Refusal::Malformed(m.to_owned());
    let Query(params) = Query::<GetParams>::try_from_uri(uri).map_err(|e| bad(&e.body_text()))?;
    let query = params.query.filter(|q| !q.is_empty()).ok_or_else(|| bad("the `query` parameter is required"))?;
    check_document(&query, limits).map_err(Refusal::Limit)?;
    let mut request = async_graphql::Request::new(query);
    if let Some(name) = params.operation_name.filter(|n| !n.is_empty()) {
        request = request.operation_name(name);
    }
    if let Some(variables) = params.variables.filter(|v| !v.is_empty()) {
        let json: serde_json::Value = serde_json::from_str(&variables).map_err(|_| bad("`variables` is not JSON"))?;
        if !json.is_object() {
            return Err(bad("`variables` must be a JSON object"));
        }
        check_variables(&json, limits).map_err(Refusal::Limit)?;
        request = request.variables(async_graphql::Variables::from_json(json));
    }
    if params.extensions.is_some_and(|e| !e.is_empty() && serde_json::from_str::<serde_json::Value>(&e).is_err()) {
        return Err(bad("`extensions` is not JSON"));
    }
    Ok(request)
}

async fn graphql_get(State(state): State<AppState>, client: ClientAddr, headers: HeaderMap, uri: Uri) -> Response {
    let media = match negotiate(&headers) {
        Ok(m) => m,
        Err(r) => return r.into_response(),
    };
    let request = match get_request(&uri, &state.config.limits) {
        Ok(r) => r,
        Err(Refusal::Limit(e)) => return state.refuse(&e),
        Err(refusal) => return refusal.into_response(),
    };
    if is_mutation(&request) {
        let mut response =
            error_response(StatusCode::METHOD_NOT_ALLOWED, code::BAD_USER_INPUT, "mutations must be sent with POST");
        response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    execute(&state, &client, &headers, request, media).await
}

/// Whether the operation a request would run is a mutation. Unparsable documents are left to
/// execution, which reports them properly.
fn is_mutation(request: &async_graphql::Request) -> bool {
    let Ok(doc) = async_graphql::parser::parse_query(&request.query) else {
        return false;
    };
    let op = match &doc.operations {
        DocumentOperations::Single(op) => Some(op),
        DocumentOperations::Multiple(ops) => match &request.operation_name {
            Some(name) => ops.iter().find(|(n, _)| n.as_str() == name).map(|(_, op)| op),
            None if ops.len() == 1 => ops.values().next(),
            None => None,
        },
    };
    op.is_some_and(|op| op.node.ty == OperationType::Mutation)
}

async fn execute(
    state: &AppState,
    client: &ClientAddr,
    headers: &HeaderMap,
    request: async_graphql::Request,
    media: &'static str,
) -> Response {
    let viewer = match viewer_from_headers(state.store.as_ref(), headers).await {
        Ok(Viewer::Anonymous) if !state.config.public_read => {
            return unauthenticated("public reading is off: send Authorization: Bearer <token>");
        }
        Ok(v) => v,
        Err(workplan_domain::Error::Unauthenticated(message)) => return unauthenticated(&message),
        Err(e) => {
            tracing::error!(error = %e, "authentication failed");
            return error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                code::INTERNAL,
                "internal error; it has been logged",
            );
        }
    };
    let mut request = request;
    let mut operation = ("unknown", None);
    let requested_name = request.operation_name.clone();
    if let Ok(doc) = request.parsed_query() {
        if let Err(e) = check_shape(doc, &state.config.limits) {
            return state.refuse(&e);
        }
        operation = operation_of(doc, requested_name.as_deref());
    }
    let (operation_type, operation_name) = operation;
    let span = tracing::info_span!(
        "graphql",
        graphql.operation.name = operation_name.as_deref().unwrap_or(""),
        graphql.operation.type = operation_type,
        outcome = tracing::field::Empty,
    );
    let started = std::time::Instant::now();
    let response = execute_parsed(state, client, viewer, request, media).instrument(span.clone()).await;
    let outcome = response.1;
    span.record("outcome", outcome);
    state.metrics.request(operation_type, operation_name.as_deref(), outcome, started.elapsed().as_secs_f64());
    response.0
}

/// The operation a request runs: its type and name.
fn operation_of(
    doc: &async_graphql::parser::types::ExecutableDocument,
    name: Option<&str>,
) -> (&'static str, Option<String>) {
    let op = match (&doc.operations, name) {
        (DocumentOperations::Single(op), _) => Some((None, op)),
        (DocumentOperations::Multiple(ops), Some(name)) => {
            ops.iter().find(|(n, _)| n.as_str() == name).map(|(n, op)| (Some(n), op))
        }
        (DocumentOperations::Multiple(ops), None) => ops.iter().next().map(|(n, op)| (Some(n), op)),
    };
    match op {
        Some((n, op)) => {
            let ty = match op.node.ty {
                OperationType::Query => "query",
                OperationType::Mutation => "mutation",
                OperationType::Subscription => "subscription",
            };
            (ty, n.map(|n| n.to_string()).or_else(|| name.map(str::to_owned)))
        }
        None => ("unknown", name.map(str::to_owned)),
    }
}

/// Runs a checked request; returns the response and its outcome for logs and metrics.
async fn execute_parsed(
    state: &AppState,
    client: &ClientAddr,
    viewer: Viewer,
    request: async_graphql::Request,
    media: &'static str,
) -> (Response, &'static str) {
    let mut request = request;
    let introspect = match state.config.introspection {
        crate::config::Introspection::Everyone => true,
        crate::config::Introspection::Tokens => viewer != Viewer::Anonymous,
        crate::config::Introspection::Off => false,
    };
    if !introspect {
        request = request.disable_introspection();
    }
    let rate_key = RateKey::of(&viewer, client.0);
    let mut request = request
        .data(loaders::for_request(state.store.clone()))
        .data(viewer)
        .data(state.config.clone())
        .data(state.metrics.clone());
    if let Some(limiter) = &state.limiter {
        request = request.data(limiter.clone()).data(rate_key);
    }
    let timeout = state.config.limits.request_timeout;
    let Ok(mut response) = tokio::time::timeout(timeout, state.schema.execute(request)).await else {
        tracing::warn!(?timeout, "request timed out");
        let message = format!("the request took longer than {} s and was stopped", timeout.as_secs_f32());
        return (error_response(StatusCode::GATEWAY_TIMEOUT, code::INTERNAL, &message), "timeout");
    };
    // Errors raised before execution (syntax, validation, coercion) come without a code.
    for error in &mut response.errors {
        ensure_code(error);
    }
    // With the new media type, a request that never executed is a client error (400).
    // A request that failed before execution (syntax, validation) has errors without a path
    // and no data. Per GraphQL over HTTP, its body has no `data` entry, and with the new media
    // type its status is 400.
    let not_executed = response.data == Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());
    let retry_after = response.errors.iter().find_map(|e| {
        let ext = e.extensions.as_ref()?;
        (ext.get("code")? == &Value::from(code::RATE_LIMITED))
            .then(|| ext.get("retryAfter").map(|v| v.to_string()).unwrap_or_else(|| "1".into()))
    });
    let status = if retry_after.is_some() {
        StatusCode::TOO_MANY_REQUESTS
    } else if not_executed && media == GRAPHQL_RESPONSE_JSON {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let outcome = if retry_after.is_some() {
        "rate_limited"
    } else if not_executed {
        "invalid"
    } else if response.errors.is_empty() {
        "ok"
    } else {
        "error"
    };
    let body = if not_executed {
        serde_json::to_vec(&serde_json::json!({ "errors": response.errors }))
    } else {
        serde_json::to_vec(&response)
    };
    let response = match body {
        Ok(body) => {
            let mut response =
                (status, [(header::CONTENT_TYPE, HeaderValue::from_static(media))], body).into_response();
            if let Some(secs) = retry_after.and_then(|s| HeaderValue::from_str(&s).ok()) {
                response.headers_mut().insert(header::RETRY_AFTER, secs);
            }
            response
        }
        Err(e) => {
            tracing::error!(error = %e, "could not serialise a response");
            error_response(StatusCode::INTERNAL_SERVER_ERROR, code::INTERNAL, "internal error; it has been logged")
        }
    };
    (response, outcome)
}

async fn metrics(State(state): State<AppState>) -> Response {
    let text = state.metrics.render(state.store.pool_stats());
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text).into_response()
}

fn limit_response(e: &LimitExceeded) -> Response {
    let status = if e.limit == "maxDocumentBytes" { StatusCode::PAYLOAD_TOO_LARGE } else { StatusCode::BAD_REQUEST };
    let body = serde_json::json!({ "errors": [{ "message": e.message, "extensions": { "code": code::BAD_USER_INPUT, "limit": e.limit } }] });
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static(JSON))], body.to_string()).into_response()
}

fn unauthenticated(message: &str) -> Response {
    let mut response = error_response(StatusCode::UNAUTHORIZED, code::UNAUTHENTICATED, message);
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

fn ensure_code(error: &mut ServerError) {
    let extensions = error.extensions.get_or_insert_with(Default::default);
    if extensions.get("code").is_none() {
        extensions.set("code", code::BAD_USER_INPUT);
    }
}

/// GraphiQL and the browser builds it runs on, vendored unmodified (see `assets/graphiql/MANIFEST.json`).
const ASSETS: &[(&str, &str, &[u8])] = &[
    ("graphiql.min.js", "text/javascript; charset=utf-8", include_bytes!("../assets/graphiql/graphiql.min.js")),
    ("graphiql.min.css", "text/css; charset=utf-8", include_bytes!("../assets/graphiql/graphiql.min.css")),
    (
        "react.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/react.production.min.js"),
    ),
    (
        "react-dom.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/react-dom.production.min.js"),
    ),
];

const GRAPHIQL_HTML: &str = include_str!("../assets/graphiql/index.html");

async fn graphiql() -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], GRAPHIQL_HTML).into_response()
}

async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, content_type, bytes)) => (
            [(header::CONTENT_TYPE, *content_type), (header::CACHE_CONTROL, "public, max-age=86400")],
            Body::from(*bytes),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
        }
    }
}

/// Why a WebSocket message was refused.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct WsRefused(String);

/// Checks a graphql-ws / graphql-transport-ws client message before async-graphql parses it:
/// the same limits as POST and GET.
fn check_ws_message(text: &str, limits: &crate::limits::Limits) -> Result<(), String> {
    if text.len() > limits.max_body_bytes {
        return Err("message too large".into());
    }
    let value: serde_json::Value = serde_json::from_str(text).map_err(|_| "not JSON".to_owned())?;
    check_variables(&value, limits).map_err(|e| e.message)?;
    let kind = value.get("type").and_then(serde_json::Value::as_str).unwrap_or_default();
    if matches!(kind, "subscribe" | "start")
        && let Some(query) = value.pointer("/payload/query").and_then(serde_json::Value::as_str)
    {
        check_document(query, limits).map_err(|e| e.message)?;
        let doc = async_graphql::parser::parse_query(query).map_err(|e| e.to_string())?;
        check_shape(&doc, limits).map_err(|e| e.message)?;
    }
    Ok(())
}

/// GraphQL over WebSocket (`graphql-transport-ws` and the older `graphql-ws`) at `/graphql/ws`.
/// The token goes in the `connection_init` payload as `{"Authorization": "Bearer wpt_…"}`.
/// Every message passes the request limits before it reaches the parser; a message over a
/// limit closes the connection.
async fn graphql_ws(
    State(state): State<AppState>,
    client: ClientAddr,
    protocol: async_graphql_axum::GraphQLProtocol,
    upgrade: axum::extract::ws::WebSocketUpgrade,
) -> Response {
    use futures::{StreamExt as _, future};
    let limits = state.config.limits;
    upgrade.protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS).max_message_size(limits.max_body_bytes).on_upgrade(
        move |socket| async move {
            let (sink, stream) = socket.split();
            let metrics = state.metrics.clone();
            let stream = stream
                .map(move |message| match message {
                    Ok(axum::extract::ws::Message::Text(text)) => match check_ws_message(text.as_str(), &limits) {
                        Ok(()) => Ok(axum::extract::ws::Message::Text(text)),
                        Err(why) => {
                            metrics.rejected("webSocketMessage");
                            Err(axum::Error::new(WsRefused(why)))
                        }
                    },
                    other => other,
                })
                .take_while(|m| future::ready(m.is_ok()));
            let init_state = state.clone();
            let schema = state.schema.clone();
            async_graphql_axum::GraphQLWebSocket::new_with_pair(sink, stream, schema, protocol)
                .on_connection_init(move |payload| async move {
                    let header = ["Authorization", "authorization"]
                        .iter()
                        .find_map(|k| payload.get(*k).and_then(serde_json::Value::as_str))
                        .map(str::to_owned);
                    let mut headers = HeaderMap::new();
                    if let Some(value) = header.and_then(|h| HeaderValue::from_str(&h).ok()) {
                        headers.insert(header::AUTHORIZATION, value);
                    }
                    let viewer = viewer_from_headers(init_state.store.as_ref(), &headers)
                        .await
                        .map_err(|e| async_graphql::Error::new(e.to_string()))?;
                    if viewer == Viewer::Anonymous && !init_state.config.public_read {
                        return Err(async_graphql::Error::new("public reading is off: send a token"));
                    }
                    let rate_key = RateKey::of(&viewer, client.0);
                    let mut data = async_graphql::Data::default();
                    data.insert(loaders::for_request(init_state.store.clone()));
                    data.insert(viewer);
                    data.insert(init_state.config.clone());
                    data.insert(init_state.metrics.clone());
                    if let Some(limiter) = &init_state.limiter {
                        data.insert(limiter.clone());
                        data.insert(rate_key);
                    }
                    Ok(data)
                })
                .serve()
                .await;
        },
    )
}
