//! Running one GraphQL operation: the one path HTTP (`POST`, `GET`) and the WebSocket share, so
//! every rule holds on both alike — the introspection gate, the caller's data (fresh loaders,
//! the viewer, the cost limiter), the bound on operations executing at once (queries and
//! mutations), the execution timeout, an `extensions.code` on every error, the `graphql` span
//! with the operation's name, type and outcome, and the request metrics.
//!
//! The transports only read the request off the wire, work out the caller and turn the result
//! into their own answer (a status and a body, or `next` and `complete` messages).

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{ErrorExtensionValues, ServerError};
use futures::stream::BoxStream;
use futures::{Stream, StreamExt as _};
use tracing::Instrument as _;
use workplan_domain::access::Viewer;

use super::AppState;
use super::graphql::operation_of;
use super::introspection;
use super::persisted::Resolved;
use super::respond::{JSON, classify, ensure_code};
use crate::admission::RETRY_AFTER_SECS;
use crate::error::code;
use crate::metrics::Metrics;

/// What a query or mutation came to.
pub(super) enum Ran {
    /// Every turn among the operations executing at once stayed taken for the whole queue
    /// wait: nothing ran (counted as the `maxOperations` limit).
    Busy,
    /// Stopped at the execution timeout.
    TimedOut(Duration),
    /// Answered, every error with its code.
    Answered(Box<async_graphql::Response>),
}

/// An operation ready to run: the request with the caller's data, or the answer that keeps it
/// from running (a syntax error, refused introspection); its type and name.
struct Prepared {
    request: Result<async_graphql::Request, async_graphql::Response>,
    operation_type: &'static str,
    operation_name: Option<String>,
}

impl Prepared {
    /// The operation's `graphql` span, its outcome recorded when it ends.
    fn span(&self) -> tracing::Span {
        tracing::info_span!(
            "graphql",
            graphql.operation.name = self.operation_name.as_deref().unwrap_or(""),
            graphql.operation.type = self.operation_type,
            outcome = tracing::field::Empty,
        )
    }
}

/// The type (`query`, `mutation`, `subscription`; `unknown` for an invalid document) of the
/// operation a request runs.
pub(super) fn operation_type(request: &async_graphql::Request, document: &Resolved) -> &'static str {
    match document {
        Resolved::Ready(doc) => operation_of(doc, request.operation_name.as_deref()).0,
        Resolved::Invalid(_) => "unknown",
    }
}

/// Prepares `request` on its `document` for `viewer` calling from `client`.
fn prepare(
    state: &AppState,
    client: Option<IpAddr>,
    viewer: Viewer,
    mut request: async_graphql::Request,
    document: Resolved,
) -> Prepared {
    let doc = match document {
        Resolved::Ready(doc) => doc,
        Resolved::Invalid(syntax) => {
            let name = request.operation_name.clone();
            let answer = async_graphql::Response::from_errors(vec![syntax]);
            return Prepared { request: Err(answer), operation_type: "unknown", operation_name: name };
        }
    };
    let (operation_type, operation_name) = operation_of(&doc, request.operation_name.as_deref());
    let gated = !state.config.introspection.allows(&viewer);
    if gated && introspection::asks_introspection(&doc) {
        let answer = async_graphql::Response::from_errors(vec![introspection::refusal()]);
        return Prepared { request: Err(answer), operation_type, operation_name };
    }
    // async-graphql changes the document as it runs it (skipped fields are cut out), so it gets
    // its own copy of the shared parse: a copy costs far less than a parse.
    request.set_parsed_query(ExecutableDocument::clone(&doc));
    if gated {
        request = request.disable_introspection();
    }
    // The request was built by the transport from the raw message, so it carries no data yet.
    request.data = state.request_data(viewer, client);
    Prepared { request: Ok(request), operation_type, operation_name }
}

/// Runs a query or mutation: takes a turn among the operations executing at once, then executes
/// within the execution timeout in its `graphql` span, and counts it in the metrics.
pub(super) async fn execute_operation(
    state: &AppState,
    client: Option<IpAddr>,
    viewer: Viewer,
    request: async_graphql::Request,
    document: Resolved,
) -> Ran {
    // A turn among the operations executing at once, held until the answer is built: the
    // operation may need the database.
    let _turn = match &state.admission {
        Some(admission) => {
            let Ok(permit) = admission.enter().await else {
                state.metrics.rejected("maxOperations");
                return Ran::Busy;
            };
            Some(permit)
        }
        None => None,
    };
    let prepared = prepare(state, client, viewer, request, document);
    let span = prepared.span();
    let started = Instant::now();
    let timeout = state.config.limits.request_timeout;
    let ran = async {
        let request = match prepared.request {
            Err(answer) => return Ran::Answered(Box::new(answer)),
            Ok(request) => request,
        };
        if let Ok(response) = tokio::time::timeout(timeout, state.schema.execute(request)).await {
            Ran::Answered(Box::new(response))
        } else {
            tracing::warn!(?timeout, "request timed out");
            Ran::TimedOut(timeout)
        }
    }
    .instrument(span.clone())
    .await;
    let (ran, outcome) = match ran {
        Ran::Answered(mut response) => {
            for error in &mut response.errors {
                ensure_code(error);
            }
            let outcome = classify(&response, JSON).outcome;
            (Ran::Answered(response), outcome)
        }
        other => (other, "timeout"),
    };
    span.record("outcome", outcome);
    let elapsed = started.elapsed().as_secs_f64();
    state.metrics.request(prepared.operation_type, prepared.operation_name.as_deref(), outcome, elapsed);
    ran
}

/// Runs a subscription: prepared as a query is (limits, the document cache, the introspection
/// gate, the caller's data), each response in its `graphql` span with every error's code; it is
/// counted in the metrics once it ends (or is cut). A subscription takes no turn among the
/// operations executing at once (it lives for long) and has no execution timeout.
pub(super) fn execute_stream(
    state: &AppState,
    client: Option<IpAddr>,
    viewer: Viewer,
    request: async_graphql::Request,
    document: Resolved,
) -> BoxStream<'static, async_graphql::Response> {
    let prepared = prepare(state, client, viewer, request, document);
    let span = prepared.span();
    let record = Recorded {
        metrics: state.metrics.clone(),
        operation_type: prepared.operation_type,
        operation_name: prepared.operation_name,
        started: Instant::now(),
        outcome: Mutex::new("ok"),
        span: span.clone(),
    };
    let responses: BoxStream<'static, async_graphql::Response> = match prepared.request {
        Err(answer) => futures::stream::once(futures::future::ready(answer)).boxed(),
        Ok(request) => state.schema.execute_stream(request).boxed(),
    };
    tracing_futures::Instrument::instrument(coded(responses, record), span).boxed()
}

/// The responses with a code on every error, counted by `record` when the stream is dropped.
fn coded(
    responses: BoxStream<'static, async_graphql::Response>,
    record: Recorded,
) -> impl Stream<Item = async_graphql::Response> {
    responses.map(move |mut response| {
        for error in &mut response.errors {
            ensure_code(error);
        }
        let outcome = classify(&response, JSON).outcome;
        if outcome != "ok"
            && let Ok(mut worst) = record.outcome.lock()
        {
            *worst = outcome;
        }
        response
    })
}

/// A subscription's entry in the metrics, made when its stream is dropped: `ok` when no
/// response carried an error, else the outcome of the last that did (`error`, `invalid`, …).
struct Recorded {
    metrics: Arc<Metrics>,
    operation_type: &'static str,
    operation_name: Option<String>,
    started: Instant,
    outcome: Mutex<&'static str>,
    span: tracing::Span,
}

impl Drop for Recorded {
    fn drop(&mut self) {
        let outcome = self.outcome.lock().map_or("error", |o| *o);
        self.span.record("outcome", outcome);
        let elapsed = self.started.elapsed().as_secs_f64();
        self.metrics.request(self.operation_type, self.operation_name.as_deref(), outcome, elapsed);
    }
}

/// The error of an operation stopped at the execution timeout.
pub(super) fn timed_out_error(timeout: Duration) -> ServerError {
    let message = format!("the request took longer than {} s and was stopped", timeout.as_secs_f32());
    with_code(ServerError::new(message, None), code::INTERNAL)
}

/// The error of an operation turned away because every turn stayed taken: RATE_LIMITED with
/// `retryAfter`.
pub(super) fn busy_error() -> ServerError {
    let mut error = with_code(
        ServerError::new(format!("the server is busy: retry in {RETRY_AFTER_SECS} s"), None),
        code::RATE_LIMITED,
    );
    if let Some(extensions) = error.extensions.as_mut() {
        extensions.set("retryAfter", RETRY_AFTER_SECS);
    }
    error
}

/// `error` with `extensions.code` set to `code`.
pub(super) fn with_code(mut error: ServerError, code: &str) -> ServerError {
    let mut extensions = ErrorExtensionValues::default();
    extensions.set("code", code);
    error.extensions = Some(extensions);
    error
}
