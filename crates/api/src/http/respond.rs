//! How answers look on the wire: media types, GraphQL-shaped error bodies outside execution,
//! and the status, outcome and body of an executed request.

use async_graphql::{ServerError, Value};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::{INTERNAL_MESSAGE, code};
use crate::limits::LimitExceeded;

/// The GraphQL-over-HTTP media type.
pub(super) const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
/// The legacy media type, the default.
pub(super) const JSON: &str = "application/json";

/// A GraphQL-shaped error body outside execution.
pub(super) fn error_response(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static(JSON))], body.to_string()).into_response()
}

/// The generic answer when something broke on our side (already logged).
pub(super) fn internal_response(status: StatusCode) -> Response {
    error_response(status, code::INTERNAL, INTERNAL_MESSAGE)
}

/// A request refused for a limit, naming the limit.
pub(super) fn limit_response(e: &LimitExceeded) -> Response {
    let status = if e.limit == "maxDocumentBytes" { StatusCode::PAYLOAD_TOO_LARGE } else { StatusCode::BAD_REQUEST };
    let body = serde_json::json!({ "errors": [{ "message": e.message, "extensions": { "code": code::BAD_USER_INPUT, "limit": e.limit } }] });
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static(JSON))], body.to_string()).into_response()
}

/// 401 with the bearer challenge.
pub(super) fn unauthenticated(message: &str) -> Response {
    let mut response = error_response(StatusCode::UNAUTHORIZED, code::UNAUTHENTICATED, message);
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

/// The client accepts none of the media types we answer in.
pub(super) struct NotAcceptable;

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
pub(super) fn negotiate(headers: &HeaderMap) -> Result<&'static str, NotAcceptable> {
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

/// Errors raised before execution (syntax, validation, coercion) come without a code.
pub(super) fn ensure_code(error: &mut ServerError) {
    let extensions = error.extensions.get_or_insert_with(Default::default);
    if extensions.get("code").is_none() {
        extensions.set("code", code::BAD_USER_INPUT);
    }
}

/// What an executed request's answer means for the status line, the logs and the body.
pub(super) struct Classified {
    pub(super) status: StatusCode,
    /// For logs and metrics: ok, error, invalid or rate_limited.
    pub(super) outcome: &'static str,
    /// Seconds, when the caller was rate limited.
    pub(super) retry_after: Option<String>,
    /// The request failed before execution (syntax, validation): no `data` entry.
    pub(super) not_executed: bool,
}

/// Classifies an executed request's answer for the media type `media`.
pub(super) fn classify(response: &async_graphql::Response, media: &str) -> Classified {
    // A request that failed before execution (syntax, validation) has errors without a path
    // and no data. Per GraphQL over HTTP, its body has no `data` entry, and with the new media
    // type its status is 400.
    let not_executed = response.data == Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());
    let retry_after = response.errors.iter().find_map(|e| {
        let ext = e.extensions.as_ref()?;
        (ext.get("code")? == &Value::from(code::RATE_LIMITED))
            .then(|| ext.get("retryAfter").map_or_else(|| "1".into(), std::string::ToString::to_string))
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
    Classified { status, outcome, retry_after, not_executed }
}

/// The body of an executed request's answer, over HTTP and in a WebSocket `next` message alike:
/// the response, or only its errors when it failed before execution.
#[derive(serde::Serialize)]
#[serde(untagged)]
pub(super) enum Payload<'a> {
    /// The whole response: `data`, `errors` when any, `extensions` when any.
    Executed(&'a async_graphql::Response),
    /// Only the errors: no `data` entry.
    NotExecuted {
        /// The errors that kept the request from running.
        errors: &'a [ServerError],
    },
}

impl<'a> Payload<'a> {
    /// The body of `response`; `not_executed` as [`classify`] found it.
    pub(super) fn of(response: &'a async_graphql::Response, not_executed: bool) -> Self {
        if not_executed { Self::NotExecuted { errors: &response.errors } } else { Self::Executed(response) }
    }
}

/// The HTTP answer for an executed request.
pub(super) fn body(response: &async_graphql::Response, class: Classified, media: &'static str) -> Response {
    match serde_json::to_vec(&Payload::of(response, class.not_executed)) {
        Ok(body) => {
            let mut answer =
                (class.status, [(header::CONTENT_TYPE, HeaderValue::from_static(media))], body).into_response();
            if let Some(secs) = class.retry_after.and_then(|s| HeaderValue::from_str(&s).ok()) {
                answer.headers_mut().insert(header::RETRY_AFTER, secs);
            }
            answer
        }
        Err(e) => {
            tracing::error!(error = %e, "could not serialise a response");
            internal_response(StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}

/// A domain error outside GraphQL (an export download), with the status its code calls for,
/// in the same body and through the same mapping ([`crate::error::to_graphql`]) as GraphQL's
/// errors: internal errors are logged there and leak nothing.
pub(super) fn domain_error_response(err: &workplan_domain::Error) -> Response {
    let error = crate::error::to_graphql(err);
    let code = match error.extensions.as_ref().and_then(|e| e.get("code")) {
        Some(Value::String(code)) => code.clone(),
        _ => code::INTERNAL.to_owned(),
    };
    let status = match code.as_str() {
        code::BAD_USER_INPUT => StatusCode::BAD_REQUEST,
        code::UNAUTHENTICATED => StatusCode::UNAUTHORIZED,
        code::FORBIDDEN => StatusCode::FORBIDDEN,
        code::NOT_FOUND => StatusCode::NOT_FOUND,
        code::CONFLICT => StatusCode::CONFLICT,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let body = serde_json::json!({ "errors": [error] });
    let mut response =
        (status, [(header::CONTENT_TYPE, HeaderValue::from_static(JSON))], body.to_string()).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}
