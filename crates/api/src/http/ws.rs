//! GraphQL over WebSocket (`graphql-transport-ws` and the older `graphql-ws`) at `/graphql/ws`.

use std::any::TypeId;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_graphql::parser::types::ExecutableDocument;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use futures::stream::BoxStream;
use futures::{FutureExt as _, SinkExt as _, Stream, StreamExt as _, future};
use tracing_futures::Instrument as _;
use workplan_domain::Error;
use workplan_domain::access::Viewer;
use workplan_domain::ports::TokenStore;

use super::AppState;
use super::caller::Caller;
use super::graphql::operation_of;
use crate::admission::RETRY_AFTER_SECS;
use crate::auth::viewer_from_headers;
use crate::documents::{DocumentCache, DocumentError, QueryHash};
use crate::error::{code, to_graphql};
use crate::limits::{Limits, check_variables};
use crate::metrics::Metrics;
use crate::rate::{RateKey, RateLimiter, retry_after_secs};
use crate::schema::WorkplanSchema;

/// Why a WebSocket message was refused.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct WsRefused(String);

/// The upgrade to GraphQL over WebSocket. The token goes in the `connection_init` payload as
/// `{"Authorization": "Bearer wpt_…"}`. Every message passes the request limits before it
/// reaches the parser; a message over a limit closes the connection. Each operation
/// (`subscribe`, `start`) costs one request from the bucket the upgrade was charged to (the
/// upgrade request's caller: its address, as browsers send no header); past it the connection
/// is closed too.
pub(super) async fn graphql_ws(
    State(state): State<AppState>,
    caller: Caller,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade
        .protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .max_message_size(state.config.limits.max_body_bytes)
        .on_upgrade(move |socket| serve(socket, state, caller, protocol))
}

/// Serves one connection until either side closes it.
async fn serve(socket: WebSocket, state: AppState, caller: Caller, protocol: GraphQLProtocol) {
    let client = caller.client;
    let (sink, stream) = socket.split();
    let counted = state.requests.clone().map(|limiter| (limiter, caller.rate_key()));
    let stream = checked(stream, state.config.limits, state.documents.clone(), state.metrics.clone(), counted);
    let refusal = Refusal::default();
    let revoked = Arc::new(AtomicBool::new(false));
    let sink = sink.with_flat_map({
        let (refusal, revoked) = (refusal.clone(), revoked.clone());
        move |message| {
            let messages = unauthorized(with_code(message, &refusal), &revoked);
            futures::stream::iter(messages.into_iter().map(Ok::<_, axum::Error>))
        }
    });
    let executor = CachedExecutor {
        schema: state.schema.clone(),
        documents: state.documents.clone(),
        tokens: state.ports.tokens.clone(),
        revoked,
        admission: state.admission.clone(),
        metrics: state.metrics.clone(),
    };
    GraphQLWebSocket::new_with_pair(sink, stream, executor, protocol)
        .on_connection_init(move |payload| async move {
            let data = connection_data(&state, client, &payload).await.map_err(|e| to_graphql(&e));
            if let (Err(error), Ok(mut slot)) = (&data, refusal.lock()) {
                *slot = Some(error.clone());
            }
            data
        })
        .serve()
        .await;
}

/// What the connection's operations may take from the context, once its caller is known.
async fn connection_data(
    state: &AppState,
    client: Option<IpAddr>,
    payload: &serde_json::Value,
) -> workplan_domain::Result<async_graphql::Data> {
    let token = ConnectionToken(
        ["Authorization", "authorization"].iter().find_map(|k| payload.get(*k)?.as_str().map(str::to_owned)),
    );
    let viewer = viewer_of(state.ports.tokens.as_ref(), &token).await?;
    if viewer == Viewer::Anonymous && !state.config.public_read {
        return Err(Error::Unauthenticated("public reading is off: send a token".into()));
    }
    let mut data = state.request_data(viewer, client);
    data.insert(token);
    Ok(data)
}

/// The `Authorization` value the connection was opened with, checked again before each
/// operation: a token revoked or expired since stops working on open sockets too.
struct ConnectionToken(Option<String>);

/// The close code for an operation refused because the connection's token was revoked or
/// has expired since `connection_init`: graphql-transport-ws's "Unauthorized".
const UNAUTHORIZED: u16 = 4401;

/// Once an operation was refused for a revoked or expired token (`revoked` is set), the
/// `next` message carrying its UNAUTHENTICATED error goes out as an `error` message for that
/// id, as graphql-transport-ws answers an operation that cannot run, followed by a close frame
/// 4401 "Unauthorized". Any other message passes unchanged.
fn unauthorized(message: Message, revoked: &AtomicBool) -> Vec<Message> {
    if !revoked.load(Ordering::Acquire) {
        return vec![message];
    }
    let Message::Text(text) = &message else { return vec![message] };
    let Ok(value) = serde_json::from_str::<serde_json::Value>(text.as_str()) else { return vec![message] };
    let errors = value.pointer("/payload/errors").cloned().unwrap_or_default();
    let refused = value["type"] == "next"
        && errors.as_array().is_some_and(|e| e.iter().any(|e| e["extensions"]["code"] == code::UNAUTHENTICATED));
    if !refused {
        return vec![message];
    }
    let error = serde_json::json!({ "type": "error", "id": value["id"], "payload": errors });
    let close = CloseFrame { code: UNAUTHORIZED, reason: "Unauthorized".into() };
    vec![Message::Text(error.to_string().into()), Message::Close(Some(close))]
}

/// A refused `connection_init`, kept for the message that announces the refusal: async-graphql
/// passes on only an error's message, so its code is put back on the way out.
type Refusal = Arc<Mutex<Option<async_graphql::Error>>>;

/// The longest close reason a WebSocket close frame carries, in bytes.
const MAX_CLOSE_REASON: usize = 123;

/// Puts the code back into the message refusing a `connection_init` (when one was refused;
/// any other message passes unchanged). graphql-transport-ws refuses with a close frame: 4403,
/// its "Forbidden", or 4500 for our own failures, with the GraphQL error as JSON for the
/// reason. graphql-ws refuses with a `connection_error` message carrying the GraphQL error.
fn with_code(message: Message, refusal: &Refusal) -> Message {
    let Some(error) = refusal.lock().ok().and_then(|mut slot| slot.take()) else { return message };
    match message {
        Message::Close(_) => {
            let internal = error_code(&error) == Some(code::INTERNAL);
            let reason = close_reason(&error);
            Message::Close(Some(CloseFrame { code: if internal { 4500 } else { 4403 }, reason: reason.into() }))
        }
        Message::Text(_) => {
            Message::Text(serde_json::json!({ "type": "connection_error", "payload": error }).to_string().into())
        }
        other => other,
    }
}

/// The error's `extensions.code`.
fn error_code(error: &async_graphql::Error) -> Option<&str> {
    match error.extensions.as_ref()?.get("code")? {
        async_graphql::Value::String(code) => Some(code),
        _ => None,
    }
}

/// The GraphQL error as JSON, or only its code when the whole would not fit a close frame.
fn close_reason(error: &async_graphql::Error) -> String {
    let full = serde_json::to_string(error).unwrap_or_default();
    if !full.is_empty() && full.len() <= MAX_CLOSE_REASON {
        return full;
    }
    let code = error_code(error).unwrap_or(code::INTERNAL);
    serde_json::json!({ "message": "connection refused", "extensions": { "code": code } }).to_string()
}

/// The caller a `connection_init` payload names, like an `Authorization` header would.
async fn viewer_of(tokens: &dyn TokenStore, token: &ConnectionToken) -> workplan_domain::Result<Viewer> {
    let mut headers = HeaderMap::new();
    if let Some(value) = token.0.as_deref().and_then(|t| HeaderValue::from_str(t).ok()) {
        headers.insert(header::AUTHORIZATION, value);
    }
    viewer_from_headers(tokens, &headers).await
}

/// The client's messages, each checked against the limits; the first refused one ends the
/// stream, which closes the connection.
fn checked(
    stream: impl Stream<Item = Result<Message, axum::Error>>,
    limits: Limits,
    documents: Arc<DocumentCache>,
    metrics: Arc<Metrics>,
    counted: Option<(Arc<RateLimiter>, RateKey)>,
) -> impl Stream<Item = Result<Message, axum::Error>> {
    stream
        .map(move |message| match message {
            Ok(Message::Text(text)) => match check_ws_message(text.as_str(), &limits, &documents, &metrics) {
                Ok(false) => Ok(Message::Text(text)),
                Ok(true) => match counted.as_ref().map_or(Ok(()), |(limiter, key)| limiter.take(key, 1)) {
                    Ok(()) => Ok(Message::Text(text)),
                    Err(wait) => {
                        metrics.rejected("requests");
                        let why = format!("rate limit exceeded: retry in {} s", retry_after_secs(wait));
                        Err(axum::Error::new(WsRefused(why)))
                    }
                },
                Err(why) => {
                    metrics.rejected("webSocketMessage");
                    Err(axum::Error::new(WsRefused(why)))
                }
            },
            other => other,
        })
        .take_while(|m| future::ready(m.is_ok()))
}

/// Checks a graphql-ws / graphql-transport-ws client message before async-graphql sees it: the
/// same limits as POST and GET. Its document goes through the parsed-document cache, where
/// [`CachedExecutor`] finds it. Whether it starts an operation (which counts as a request).
fn check_ws_message(text: &str, limits: &Limits, documents: &DocumentCache, metrics: &Metrics) -> Result<bool, String> {
    if text.len() > limits.max_body_bytes {
        return Err("message too large".into());
    }
    let value: serde_json::Value = serde_json::from_str(text).map_err(|_| "not JSON".to_owned())?;
    check_variables(&value, limits).map_err(|e| e.message)?;
    let kind = value.get("type").and_then(serde_json::Value::as_str).unwrap_or_default();
    let operation = matches!(kind, "subscribe" | "start");
    if operation && let Some(query) = value.pointer("/payload/query").and_then(serde_json::Value::as_str) {
        let (_, source) = documents.document(query, limits).map_err(|e| match e {
            DocumentError::Limit(e) => e.message,
            DocumentError::Syntax(e) => e.message,
        })?;
        metrics.document(source.label());
    }
    Ok(operation)
}

/// The schema as the WebSocket runs it: each operation takes its parse from the document cache
/// (its message was checked and parsed on the way in, see [`check_ws_message`]) and runs in a
/// `graphql` span with the operation's name and type, as over HTTP. Apollo's persisted queries
/// are HTTP only: an operation here always carries its text. Before each operation the
/// connection's token is checked again (the token table is in memory, so this usually costs no
/// statement) and the operation runs as the token's current viewer; a token revoked or expired
/// since answers UNAUTHENTICATED and sets `revoked`, which closes the connection (see
/// [`unauthorized`]).
#[derive(Clone)]
struct CachedExecutor {
    schema: WorkplanSchema,
    documents: Arc<DocumentCache>,
    tokens: Arc<dyn TokenStore>,
    revoked: Arc<AtomicBool>,
    /// The bound on operations executing at once, shared with HTTP: a query or mutation here
    /// takes a turn as one over HTTP does (a subscription, which lives for long, does not).
    admission: Option<Arc<crate::admission::Admission>>,
    metrics: Arc<crate::metrics::Metrics>,
}

impl async_graphql::Executor for CachedExecutor {
    async fn execute(&self, request: async_graphql::Request) -> async_graphql::Response {
        self.schema.execute(request).await
    }

    fn execute_stream(
        &self,
        mut request: async_graphql::Request,
        session_data: Option<Arc<async_graphql::Data>>,
    ) -> BoxStream<'static, async_graphql::Response> {
        let mut operation = ("unknown", None);
        // A hit: the message passed `check_ws_message`, which cached its document. (Had the
        // cache let it go since, the text would simply be parsed by async-graphql.)
        if let Some(doc) = self.documents.get(&QueryHash::of(&request.query)) {
            operation = operation_of(&doc, request.operation_name.as_deref());
            request.set_parsed_query(ExecutableDocument::clone(&doc));
        }
        let (operation_type, operation_name) = operation;
        let span = tracing::info_span!(
            "graphql",
            graphql.operation.name = operation_name.as_deref().unwrap_or(""),
            graphql.operation.type = operation_type,
        );
        let session_data = session_data.unwrap_or_default();
        let token = session_data
            .get(&TypeId::of::<ConnectionToken>())
            .and_then(|token| token.downcast_ref::<ConnectionToken>())
            .and_then(|token| token.0.clone());
        let (schema, tokens, revoked) = (self.schema.clone(), self.tokens.clone(), self.revoked.clone());
        let (admission, metrics) = (self.admission.clone(), self.metrics.clone());
        let stream = async move {
            if token.is_some() {
                match viewer_of(tokens.as_ref(), &ConnectionToken(token)).await {
                    Ok(viewer) => request = request.data(viewer),
                    Err(error) => {
                        if matches!(error, Error::Unauthenticated(_)) {
                            revoked.store(true, Ordering::Release);
                        }
                        let error = to_graphql(&error).into_server_error(async_graphql::Pos::default());
                        return futures::stream::once(future::ready(async_graphql::Response::from_errors(vec![error])))
                            .boxed();
                    }
                }
            }
            let turn = match admission.filter(|_| operation_type != "subscription") {
                Some(admission) => {
                    let Ok(permit) = admission.enter().await else {
                        metrics.rejected("maxOperations");
                        let mut busy = async_graphql::ServerError::new(
                            format!("the server is busy: retry in {RETRY_AFTER_SECS} s"),
                            None,
                        );
                        let mut extensions = async_graphql::ErrorExtensionValues::default();
                        extensions.set("code", crate::error::code::RATE_LIMITED);
                        extensions.set("retryAfter", RETRY_AFTER_SECS);
                        busy.extensions = Some(extensions);
                        return futures::stream::once(future::ready(async_graphql::Response::from_errors(vec![busy])))
                            .boxed();
                    };
                    Some(permit)
                }
                None => None,
            };
            // The turn is held until the operation's answer is sent (the stream ends).
            schema
                .execute_stream_with_session_data(request, session_data)
                .map(move |response| {
                    let _held = &turn;
                    response
                })
                .boxed()
        }
        .flatten_stream();
        Box::pin(stream.instrument(span))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(error: &Error) -> Refusal {
        Arc::new(Mutex::new(Some(to_graphql(error))))
    }

    fn close_frame(message: Message) -> (u16, serde_json::Value) {
        let Message::Close(Some(frame)) = message else { panic!("not a close frame: {message:?}") };
        (frame.code, serde_json::from_str(frame.reason.as_str()).expect("the reason is JSON"))
    }

    #[test]
    fn an_internal_refusal_carries_its_code_and_never_its_cause() {
        let cause = std::io::Error::other("no such table: api_tokens");
        let refusal = refused(&Error::internal(cause));
        let (status, error) = close_frame(with_code(Message::Close(None), &refusal));
        assert_eq!(status, 4500);
        assert_eq!(error["extensions"]["code"], code::INTERNAL);
        assert!(!error.to_string().contains("api_tokens"), "{error}");

        let refusal = refused(&Error::internal(std::io::Error::other("no such table: api_tokens")));
        let Message::Text(text) = with_code(Message::Text("{}".into()), &refusal) else { panic!("not text") };
        let message: serde_json::Value = serde_json::from_str(text.as_str()).expect("JSON");
        assert_eq!(message["type"], "connection_error");
        assert_eq!(message["payload"]["extensions"]["code"], code::INTERNAL);
        assert!(!text.as_str().contains("api_tokens"), "{text}");
    }

    #[test]
    fn an_unauthenticated_refusal_is_forbidden_with_its_message() {
        let refusal = refused(&Error::Unauthenticated("the API token is unknown, revoked or expired".into()));
        let (status, error) = close_frame(with_code(Message::Close(None), &refusal));
        assert_eq!(status, 4403);
        assert_eq!(error["extensions"]["code"], code::UNAUTHENTICATED);
        assert_eq!(error["message"], "the API token is unknown, revoked or expired");
    }

    #[test]
    fn a_long_message_is_dropped_to_fit_the_close_frame() {
        let refusal = refused(&Error::Unauthenticated("x".repeat(200)));
        let Message::Close(Some(frame)) = with_code(Message::Close(None), &refusal) else { panic!("not closed") };
        assert!(frame.reason.len() <= MAX_CLOSE_REASON);
        let error: serde_json::Value = serde_json::from_str(frame.reason.as_str()).expect("JSON");
        assert_eq!(error["extensions"]["code"], code::UNAUTHENTICATED);
    }

    #[test]
    fn after_a_revocation_the_unauthenticated_answer_becomes_an_error_and_a_4401_close() {
        let next = r#"{"type":"next","id":"7","payload":{"data":null,"errors":[{"message":"m","extensions":{"code":"UNAUTHENTICATED"}}]}}"#;
        let message = Message::Text(next.into());
        assert_eq!(unauthorized(message.clone(), &AtomicBool::new(false)), vec![message.clone()]);
        let out = unauthorized(message, &AtomicBool::new(true));
        let [Message::Text(error), Message::Close(Some(frame))] = out.as_slice() else { panic!("{out:?}") };
        let error: serde_json::Value = serde_json::from_str(error.as_str()).expect("JSON");
        assert_eq!((error["type"].as_str(), error["id"].as_str()), (Some("error"), Some("7")));
        assert_eq!(error["payload"][0]["extensions"]["code"], code::UNAUTHENTICATED);
        assert_eq!((frame.code, frame.reason.as_str()), (UNAUTHORIZED, "Unauthorized"));
        let other = Message::Text(r#"{"type":"next","id":"8","payload":{"data":{"x":1}}}"#.into());
        assert_eq!(unauthorized(other.clone(), &AtomicBool::new(true)), vec![other]);
    }

    #[test]
    fn other_messages_pass_unchanged() {
        let refusal = Refusal::default();
        let message = with_code(Message::Text("{\"type\":\"connection_ack\"}".into()), &refusal);
        assert_eq!(message, Message::Text("{\"type\":\"connection_ack\"}".into()));
    }
}
