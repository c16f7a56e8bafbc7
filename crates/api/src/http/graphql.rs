//! GraphQL over HTTP: `POST` and `GET /graphql`, from the raw request to the answer.

use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType};
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use workplan_domain::access::Viewer;

use super::AppState;
use super::caller::Caller;
use super::execute::{Ran, busy_error, execute_operation, timed_out_error};
use super::persisted::{Refusal, Resolved, resolve};
use super::respond::{JSON, body, classify, error_response, internal_response, negotiate, unauthenticated};
use crate::admission::RETRY_AFTER_SECS;
use crate::error::code;
use crate::limits::check_variables;

/// `POST /graphql`: a JSON body, checked against the limits before it is parsed.
pub(super) async fn graphql_post(
    State(state): State<AppState>,
    caller: Caller,
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
    // The body limit and the body timeout, enforced here on the route itself.
    let limits = &state.config.limits;
    let Ok(read) = tokio::time::timeout(limits.body_timeout, axum::body::to_bytes(body, limits.max_body_bytes)).await
    else {
        state.metrics.rejected("bodyTimeout");
        let message = format!("the request body did not arrive within {} s", limits.body_timeout.as_secs_f32());
        let mut response = error_response(StatusCode::REQUEST_TIMEOUT, code::BAD_USER_INPUT, &message);
        response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
        return response;
    };
    let Ok(body) = read else {
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
    let query = match value.get("query") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(q)) => Some(q.as_str()),
        Some(_) => return error_response(StatusCode::BAD_REQUEST, code::BAD_USER_INPUT, NO_QUERY),
    };
    let document = match resolve(&state, query, value.get("extensions"), NO_QUERY) {
        Ok(d) => d,
        Err(refusal) => return refusal.respond(&state),
    };
    if let Some(variables) = value.get("variables")
        && let Err(e) = check_variables(variables, &state.config.limits)
    {
        return state.refuse(&e);
    }
    let mut request: async_graphql::Request = match serde_json::from_value(value) {
        Ok(r) => r,
        Err(e) => {
            let message = format!("not a GraphQL request: {e}");
            return error_response(StatusCode::BAD_REQUEST, code::BAD_USER_INPUT, &message);
        }
    };
    request.extensions.remove("persistedQuery");
    execute(&state, &caller, request, document, media).await
}

/// The answer to a POST without a query (or a persisted-query hash).
const NO_QUERY: &str = "the request has no `query` string";

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

/// The request a GET query string holds, and its document, checked against the limits.
fn get_request(state: &AppState, uri: &Uri) -> Result<(async_graphql::Request, Resolved), Refusal> {
    let bad = |m: &str| Refusal::BadRequest(format!("not a GraphQL request: {m}"));
    let Query(params) = Query::<GetParams>::try_from_uri(uri).map_err(|e| bad(&e.body_text()))?;
    let extensions = match params.extensions.filter(|e| !e.is_empty()) {
        Some(text) => {
            Some(serde_json::from_str::<serde_json::Value>(&text).map_err(|_| bad("`extensions` is not JSON"))?)
        }
        None => None,
    };
    let query = params.query.filter(|q| !q.is_empty());
    let missing = "not a GraphQL request: the `query` parameter is required";
    let document = resolve(state, query.as_deref(), extensions.as_ref(), missing)?;
    let mut request = async_graphql::Request::new(query.unwrap_or_default());
    if let Some(name) = params.operation_name.filter(|n| !n.is_empty()) {
        request = request.operation_name(name);
    }
    if let Some(variables) = params.variables.filter(|v| !v.is_empty()) {
        let json: serde_json::Value = serde_json::from_str(&variables).map_err(|_| bad("`variables` is not JSON"))?;
        if !json.is_object() {
            return Err(bad("`variables` must be a JSON object"));
        }
        check_variables(&json, &state.config.limits).map_err(Refusal::Limit)?;
        request = request.variables(async_graphql::Variables::from_json(json));
    }
    Ok((request, document))
}

/// `GET /graphql`: queries only, from the query string.
pub(super) async fn graphql_get(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let media = match negotiate(&headers) {
        Ok(m) => m,
        Err(r) => return r.into_response(),
    };
    let (request, document) = match get_request(&state, &uri) {
        Ok(r) => r,
        Err(refusal) => return refusal.respond(&state),
    };
    if let Resolved::Ready(doc) = &document
        && is_mutation(doc, request.operation_name.as_deref())
    {
        let mut response =
            error_response(StatusCode::METHOD_NOT_ALLOWED, code::BAD_USER_INPUT, "mutations must be sent with POST");
        response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    execute(&state, &caller, request, document, media).await
}

/// Whether the operation a request for `operation_name` in `doc` would run is a mutation.
fn is_mutation(doc: &ExecutableDocument, operation_name: Option<&str>) -> bool {
    let op = match &doc.operations {
        DocumentOperations::Single(op) => Some(op),
        DocumentOperations::Multiple(ops) => match operation_name {
            Some(name) => ops.iter().find(|(n, _)| n.as_str() == name).map(|(_, op)| op),
            None if ops.len() == 1 => ops.values().next(),
            None => None,
        },
    };
    op.is_some_and(|op| op.node.ty == OperationType::Mutation)
}

/// Authenticates, then runs a request on its document through the path the WebSocket shares
/// ([`execute_operation`]), and answers in the media type `media`.
async fn execute(
    state: &AppState,
    caller: &Caller,
    request: async_graphql::Request,
    document: Resolved,
    media: &'static str,
) -> Response {
    let viewer = match caller.viewer.clone() {
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
    match execute_operation(state, caller.client, viewer, request, document).await {
        Ran::Busy => overloaded(),
        Ran::TimedOut(timeout) => timed_out(timeout),
        Ran::Answered(response) => {
            let class = classify(&response, media);
            body(&response, class, media)
        }
    }
}

/// The operation a request runs: its type and name.
pub(super) fn operation_of(doc: &ExecutableDocument, name: Option<&str>) -> (&'static str, Option<String>) {
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

/// The answer to a request stopped at the timeout.
fn timed_out(timeout: std::time::Duration) -> Response {
    let error = timed_out_error(timeout);
    error_response(StatusCode::GATEWAY_TIMEOUT, code::INTERNAL, &error.message)
}

/// The answer when every turn stayed taken for the whole queue wait: 503, `RATE_LIMITED` and
/// `Retry-After`, at once rather than after a pool timeout.
pub(super) fn overloaded() -> Response {
    let body = serde_json::json!({ "errors": [busy_error()] });
    let mut response =
        (StatusCode::SERVICE_UNAVAILABLE, [(header::CONTENT_TYPE, HeaderValue::from_static(JSON))], body.to_string())
            .into_response();
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
    response
}
