//! GraphQL over HTTP: `POST` and `GET /graphql`, from the raw request to the answer.

use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType};
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use tracing::Instrument as _;
use workplan_domain::access::Viewer;

use super::respond::{
    JSON, body, classify, ensure_code, error_response, internal_response, limit_response, negotiate, unauthenticated,
};
use super::{AppState, ClientAddr};
use crate::auth::viewer_from_headers;
use crate::error::code;
use crate::limits::{LimitExceeded, Limits, check_document, check_shape, check_variables};

/// `POST /graphql`: a JSON body, checked against the limits before it is parsed.
pub(super) async fn graphql_post(
    State(state): State<AppState>,
    client: ClientAddr,
    headers: HeaderMap,
    body: Body,
) -> Response {
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

/// The request a GET query string holds, checked against the limits.
fn get_request(uri: &Uri, limits: &Limits) -> Result<async_graphql::Request, Refusal> {
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

/// `GET /graphql`: queries only, from the query string.
pub(super) async fn graphql_get(
    State(state): State<AppState>,
    client: ClientAddr,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
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

/// Authenticates, checks the shape against the limits, and runs a request in its span.
async fn execute(
    state: &AppState,
    client: &ClientAddr,
    headers: &HeaderMap,
    request: async_graphql::Request,
    media: &'static str,
) -> Response {
    let viewer = match viewer_from_headers(state.ports.tokens.as_ref(), headers).await {
        Ok(Viewer::Anonymous) if !state.config.public_read => {
            return unauthenticated("public reading is off: send Authorization: Bearer <token>");
        }
        Ok(v) => v,
        Err(workplan_domain::Error::Unauthenticated(message)) => return unauthenticated(&message),
        Err(e) => {
            tracing::error!(error = %e, "authentication failed");
            return internal_response(StatusCode::INTERNAL_SERVER_ERROR);
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
fn operation_of(doc: &ExecutableDocument, name: Option<&str>) -> (&'static str, Option<String>) {
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
            (ty, n.map(std::string::ToString::to_string).or_else(|| name.map(str::to_owned)))
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
    if !state.config.introspection.allows(&viewer) {
        request = request.disable_introspection();
    }
    // The request was built here from the raw body, so it carries no data of its own yet.
    request.data = state.request_data(viewer, client.0);
    let Some(mut response) = run_with_timeout(state, request).await else {
        return (timed_out(state.config.limits.request_timeout), "timeout");
    };
    for error in &mut response.errors {
        ensure_code(error);
    }
    let class = classify(&response, media);
    let outcome = class.outcome;
    (body(&response, class, media), outcome)
}

/// Executes `request`, or gives up after the request timeout.
async fn run_with_timeout(state: &AppState, request: async_graphql::Request) -> Option<async_graphql::Response> {
    let timeout = state.config.limits.request_timeout;
    let response = tokio::time::timeout(timeout, state.schema.execute(request)).await.ok();
    if response.is_none() {
        tracing::warn!(?timeout, "request timed out");
    }
    response
}

/// The answer to a request stopped at the timeout.
fn timed_out(timeout: std::time::Duration) -> Response {
    let message = format!("the request took longer than {} s and was stopped", timeout.as_secs_f32());
    error_response(StatusCode::GATEWAY_TIMEOUT, code::INTERNAL, &message)
}
