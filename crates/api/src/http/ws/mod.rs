//! GraphQL over WebSocket (graphql-transport-ws) at `/graphql/ws`: the upgrade and the
//! connection loop. Every operation runs through the path HTTP takes
//! ([`crate::http::execute`]), so the rules are the same on both: the introspection gate, the
//! execution timeout, the bound on operations executing at once, error codes, the `graphql`
//! span and the metrics. The limits of a connection are in [`crate::socket_limits`] and
//! `docs/sync.md`.
//!
//! The connection's token (`{"Authorization": "Bearer wpt_…"}` in `connection_init`) is checked
//! at `connection_init`, again before every operation and every `token_recheck` while the socket
//! is open (the token table is in memory, so this usually costs no statement): a token revoked
//! or expired since stops every operation with an `error` message (UNAUTHENTICATED) and closes
//! the socket with 4403.

mod operation;
mod protocol;

use std::net::IpAddr;

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use futures::stream::SplitSink;
use futures::{SinkExt as _, StreamExt as _};
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior, interval_at};
use workplan_domain::Error;
use workplan_domain::access::Viewer;

use super::AppState;
use super::caller::Caller;
use super::execute::operation_type;
use super::persisted::{Refusal, resolve};
use super::respond::error_response;
use crate::auth::viewer_from_headers;
use crate::error::{code, to_graphql};
use crate::limits::check_variables;
use crate::rate::retry_after_secs;
use operation::{Event, Job, Kind, Operations, Refused};
use protocol::{ClientMessage, Close, SUBPROTOCOL, ServerMessage, SubscribePayload, error_reason};

/// The upgrade to GraphQL over WebSocket, in graphql-transport-ws (the legacy `graphql-ws`
/// subprotocol is not spoken: asking only for it is a bad request). Every message passes the
/// request limits before it reaches the parser; a message over a limit closes the connection
/// (4400). Each operation (`subscribe`) costs one request from the bucket the upgrade was
/// charged to (the upgrade request's caller: its address, as browsers send no header); past
/// it the connection is closed (4429).
pub(super) async fn graphql_ws(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    if !offers_subprotocol(&headers) {
        let message = "GraphQL over WebSocket speaks graphql-transport-ws: ask for it in Sec-WebSocket-Protocol";
        return error_response(StatusCode::BAD_REQUEST, code::BAD_USER_INPUT, message);
    }
    upgrade
        .protocols([SUBPROTOCOL])
        .max_message_size(state.config.limits.max_body_bytes)
        .on_upgrade(move |socket| serve(socket, state, caller))
}

/// Whether the client asks for graphql-transport-ws (or names no subprotocol at all).
fn offers_subprotocol(headers: &HeaderMap) -> bool {
    let mut offered = headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .peekable();
    offered.peek().is_none() || offered.any(|p| p == SUBPROTOCOL)
}

/// Why the connection loop ends.
enum Stop {
    /// The server closes the connection.
    Close(Close),
    /// The client left (or its socket broke).
    Gone,
}

impl From<Close> for Stop {
    fn from(close: Close) -> Self {
        Self::Close(close)
    }
}

/// One connection.
struct Connection {
    state: AppState,
    client: Option<IpAddr>,
    caller: Caller,
    sink: SplitSink<WebSocket, Message>,
    /// The caller, once `connection_init` was accepted.
    viewer: Option<Viewer>,
    /// The `Authorization` value of `connection_init`, checked again before each operation.
    token: Option<String>,
    operations: Operations,
    events: mpsc::Sender<Event>,
}

/// Serves one connection until either side closes it.
async fn serve(socket: WebSocket, state: AppState, caller: Caller) {
    let limits = state.config.socket;
    let (sink, mut stream) = socket.split();
    let (events, mut answers) = mpsc::channel(64);
    let mut connection = Connection {
        client: caller.client,
        state,
        caller,
        sink,
        viewer: None,
        token: None,
        operations: Operations::new(limits),
        events,
    };
    let init_deadline = tokio::time::sleep(limits.init_timeout);
    tokio::pin!(init_deadline);
    // (An interval of zero would panic; a millisecond is the least either may be.)
    let every = |period: std::time::Duration| period.max(std::time::Duration::from_millis(1));
    let mut keep_alive = interval_at(Instant::now() + every(limits.keep_alive), every(limits.keep_alive));
    keep_alive.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut recheck = interval_at(Instant::now() + every(limits.token_recheck), every(limits.token_recheck));
    recheck.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let stop = loop {
        let acknowledged = connection.viewer.is_some();
        let step = tokio::select! {
            message = stream.next() => match message {
                Some(Ok(Message::Text(text))) => connection.on_text(text.as_str()).await,
                Some(Ok(Message::Binary(_))) => Err(Close::Invalid("binary messages are not graphql-transport-ws".into()).into()),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => Ok(()),
                Some(Ok(Message::Close(_)) | Err(_)) | None => Err(Stop::Gone),
            },
            Some(event) = answers.recv() => connection.on_event(event).await,
            () = &mut init_deadline, if !acknowledged => Err(Close::InitTimeout.into()),
            _ = keep_alive.tick(), if acknowledged => connection.send(ServerMessage::Ping.text()).await,
            _ = recheck.tick(), if acknowledged => connection.recheck(None).await,
        };
        if let Err(stop) = step {
            break stop;
        }
    };
    connection.operations.stop_all();
    if let Stop::Close(close) = stop {
        let frame = CloseFrame { code: close.code(), reason: close.reason().into() };
        let _ = connection.sink.send(Message::Close(Some(frame))).await;
    }
    let _ = connection.sink.close().await;
}

impl Connection {
    /// Writes a message.
    async fn send(&mut self, text: String) -> Result<(), Stop> {
        self.sink.send(Message::Text(text.into())).await.map_err(|_| Stop::Gone)
    }

    /// Writes what an operation's task tells, unless the operation was stopped since.
    async fn on_event(&mut self, event: Event) -> Result<(), Stop> {
        match event {
            Event::Next { id, run, text } if self.operations.is_on(&id, run) => self.send(text).await,
            Event::Complete { id, run } if self.operations.finish(&id, run) => {
                self.send(ServerMessage::Complete { id: &id }.text()).await
            }
            Event::Next { .. } | Event::Complete { .. } => Ok(()),
        }
    }

    /// Handles one text message from the client.
    async fn on_text(&mut self, text: &str) -> Result<(), Stop> {
        let limits = &self.state.config.limits;
        if text.len() > limits.max_body_bytes {
            self.state.metrics.rejected("webSocketMessage");
            return Err(Close::Invalid("message too large".into()).into());
        }
        let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else {
            self.state.metrics.rejected("webSocketMessage");
            return Err(Close::Invalid("not JSON".into()).into());
        };
        if let Err(e) = check_variables(&value, limits) {
            self.state.metrics.rejected(e.limit);
            return Err(Close::Invalid(e.message).into());
        }
        let Ok(message) = serde_json::from_value::<ClientMessage>(value) else {
            self.state.metrics.rejected("webSocketMessage");
            return Err(Close::Invalid("not a graphql-transport-ws message".into()).into());
        };
        match message {
            ClientMessage::ConnectionInit { payload } => self.init(payload.as_ref()).await,
            ClientMessage::Ping { payload } => self.send(ServerMessage::Pong { payload }.text()).await,
            ClientMessage::Pong { .. } => Ok(()),
            ClientMessage::Subscribe { .. } | ClientMessage::Complete { .. } if self.viewer.is_none() => {
                Err(Close::Unauthorized.into())
            }
            ClientMessage::Subscribe { id, payload } => self.subscribe(id, payload).await,
            ClientMessage::Complete { id } => {
                self.operations.stop(&id);
                Ok(())
            }
        }
    }

    /// `connection_init`: who is calling. A bad token closes with 4403, as does no token where
    /// public reading is off.
    async fn init(&mut self, payload: Option<&serde_json::Value>) -> Result<(), Stop> {
        if self.viewer.is_some() || self.token.is_some() {
            return Err(Close::TooMany("Too many initialisation requests".into()).into());
        }
        let token = payload.and_then(|p| {
            ["Authorization", "authorization"].iter().find_map(|k| p.get(*k)?.as_str().map(str::to_owned))
        });
        let viewer = viewer_of(&self.state, token.as_deref()).await.map_err(refusal)?;
        if viewer == Viewer::Anonymous && !self.state.config.public_read {
            return Err(refusal(Error::Unauthenticated("public reading is off: send a token".into())));
        }
        self.token = token;
        self.viewer = Some(viewer);
        self.send(ServerMessage::ConnectionAck.text()).await
    }

    /// Checks the connection's token again. A token revoked or expired since answers every
    /// running operation and `starting` (an operation about to start) with an `error` message
    /// (UNAUTHENTICATED), stops them and closes the connection (4403).
    async fn recheck(&mut self, starting: Option<&str>) -> Result<(), Stop> {
        if self.token.is_none() {
            return Ok(());
        }
        let error = match viewer_of(&self.state, self.token.as_deref()).await {
            Ok(viewer) => {
                self.viewer = Some(viewer);
                return Ok(());
            }
            Err(error) => error,
        };
        let graphql = server_error(&error);
        let errors = [graphql.clone()];
        let mut ids = self.operations.stop_all();
        ids.extend(starting.map(str::to_owned));
        for id in &ids {
            self.send(ServerMessage::Error { id, payload: &errors }.text()).await?;
        }
        let reason = error_reason(&graphql);
        Err(match error {
            Error::Unauthenticated(_) => Close::Forbidden(reason),
            _ => Close::Internal(reason),
        }
        .into())
    }

    /// `subscribe`: checks the operation (its id, its document against the limits, the request
    /// limit, the token, the connection's caps) and starts it.
    async fn subscribe(&mut self, id: String, payload: SubscribePayload) -> Result<(), Stop> {
        if self.operations.contains(&id) {
            return Err(Close::Duplicate(id).into());
        }
        let Some(query) = payload.query else {
            return Err(Close::Invalid("subscribe without a query".into()).into());
        };
        let document = match resolve(&self.state, Some(&query), None, "") {
            Ok(document) => document,
            Err(Refusal::Limit(e)) => {
                self.state.metrics.rejected(e.limit);
                return Err(Close::Invalid(e.message).into());
            }
            Err(Refusal::BadRequest(why)) => return Err(Close::Invalid(why).into()),
            Err(Refusal::PersistedQueryNotFound) => return Err(Close::Invalid("no query".into()).into()),
        };
        let mut request = async_graphql::Request::new(query);
        if let Some(name) = payload.operation_name {
            request = request.operation_name(name);
        }
        match payload.variables {
            None | Some(serde_json::Value::Null) => {}
            Some(variables @ serde_json::Value::Object(_)) => {
                request = request.variables(async_graphql::Variables::from_json(variables));
            }
            Some(_) => return Err(Close::Invalid("`variables` must be a JSON object".into()).into()),
        }
        if let Some(limiter) = &self.state.requests
            && let Err(wait) = limiter.take(&self.caller.rate_key(), 1)
        {
            self.state.metrics.rejected("requests");
            let why = format!("rate limit exceeded: retry in {} s", retry_after_secs(wait));
            return Err(Close::TooMany(why).into());
        }
        self.recheck(Some(&id)).await?;
        let kind = match operation_type(&request, &document) {
            "subscription" => Kind::Subscription,
            _ => Kind::Operation,
        };
        let run = match self.operations.admit(&id, kind) {
            Ok(run) => run,
            Err(Refused::Duplicate) => return Err(Close::Duplicate(id).into()),
            Err(Refused::Capped(error)) => {
                let limit = match kind {
                    Kind::Operation => "webSocketOperations",
                    Kind::Subscription => "webSocketSubscriptions",
                };
                self.state.metrics.rejected(limit);
                return self.send(ServerMessage::Error { id: &id, payload: &[error] }.text()).await;
            }
        };
        let Some(viewer) = self.viewer.clone() else { return Err(Close::Unauthorized.into()) };
        let job = Job { id: id.clone(), run, kind, viewer, client: self.client, request, document };
        let task = operation::spawn(self.state.clone(), job, self.events.clone());
        self.operations.attach(&id, run, task);
        Ok(())
    }
}

/// The close for a refused `connection_init`: 4403 with the GraphQL error, or 4500 for our own
/// failures (logged by the error mapping, whose message says nothing of the cause).
fn refusal(error: Error) -> Stop {
    let graphql = server_error(&error);
    let reason = error_reason(&graphql);
    match error {
        Error::Unauthenticated(_) => Close::Forbidden(reason),
        _ => Close::Internal(reason),
    }
    .into()
}

/// A domain error as a GraphQL error outside execution (no location, no path), through the one
/// mapping ([`to_graphql`]).
fn server_error(error: &Error) -> async_graphql::ServerError {
    let graphql = to_graphql(error);
    let mut server_error = async_graphql::ServerError::new(graphql.message, None);
    server_error.extensions = graphql.extensions;
    server_error
}

/// The caller a `connection_init` `Authorization` value names, as the header would.
async fn viewer_of(state: &AppState, token: Option<&str>) -> workplan_domain::Result<Viewer> {
    let mut headers = HeaderMap::new();
    if let Some(token) = token {
        let value = HeaderValue::from_str(token)
            .map_err(|_| Error::Unauthenticated("the Authorization value is not a header value".into()))?;
        headers.insert(header::AUTHORIZATION, value);
    }
    viewer_from_headers(state.ports.tokens.as_ref(), &headers).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offered(values: &[&str]) -> bool {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append(header::SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_str(v).expect("header"));
        }
        offers_subprotocol(&headers)
    }

    #[test]
    fn only_graphql_transport_ws_is_spoken() {
        assert!(offered(&[]));
        assert!(offered(&["graphql-transport-ws"]));
        assert!(offered(&["graphql-ws, graphql-transport-ws"]));
        assert!(!offered(&["graphql-ws"]));
    }

    #[test]
    fn a_refused_init_is_forbidden_or_internal_and_never_says_the_cause() {
        let Stop::Close(close) = refusal(Error::Unauthenticated("the API token is unknown".into())) else {
            panic!("not closed")
        };
        assert_eq!(close.code(), 4403);
        let error: serde_json::Value = serde_json::from_str(&close.reason()).expect("JSON");
        assert_eq!(error["extensions"]["code"], code::UNAUTHENTICATED);
        let Stop::Close(close) = refusal(Error::internal(std::io::Error::other("no such table: api_tokens"))) else {
            panic!("not closed")
        };
        assert_eq!(close.code(), 4500);
        assert!(!close.reason().contains("api_tokens"), "{}", close.reason());
    }
}
