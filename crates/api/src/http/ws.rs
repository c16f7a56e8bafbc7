//! GraphQL over WebSocket (`graphql-transport-ws` and the older `graphql-ws`) at `/graphql/ws`.

use std::sync::Arc;

use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use futures::{Stream, StreamExt as _, future};
use workplan_domain::auth::Viewer;

use super::{AppState, ClientAddr};
use crate::auth::viewer_from_headers;
use crate::limits::{Limits, check_document, check_shape, check_variables};
use crate::metrics::Metrics;

/// Why a WebSocket message was refused.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct WsRefused(String);

/// The upgrade to GraphQL over WebSocket. The token goes in the `connection_init` payload as
/// `{"Authorization": "Bearer wpt_…"}`. Every message passes the request limits before it
/// reaches the parser; a message over a limit closes the connection.
pub(super) async fn graphql_ws(
    State(state): State<AppState>,
    client: ClientAddr,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade
        .protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .max_message_size(state.config.limits.max_body_bytes)
        .on_upgrade(move |socket| serve(socket, state, client, protocol))
}

/// Serves one connection until either side closes it.
async fn serve(socket: WebSocket, state: AppState, client: ClientAddr, protocol: GraphQLProtocol) {
    let (sink, stream) = socket.split();
    let stream = checked(stream, state.config.limits, state.metrics.clone());
    let schema = state.schema.clone();
    GraphQLWebSocket::new_with_pair(sink, stream, schema, protocol)
        .on_connection_init(move |payload| async move {
            let viewer = viewer_of(&state, &payload).await.map_err(|e| async_graphql::Error::new(e.to_string()))?;
            if viewer == Viewer::Anonymous && !state.config.public_read {
                return Err(async_graphql::Error::new("public reading is off: send a token"));
            }
            Ok(state.request_data(viewer, client.0))
        })
        .serve()
        .await;
}

/// The caller a `connection_init` payload names, like an `Authorization` header would.
async fn viewer_of(state: &AppState, payload: &serde_json::Value) -> workplan_domain::Result<Viewer> {
    let token = ["Authorization", "authorization"].iter().find_map(|k| payload.get(*k).and_then(|v| v.as_str()));
    let mut headers = HeaderMap::new();
    if let Some(value) = token.and_then(|t| HeaderValue::from_str(t).ok()) {
        headers.insert(header::AUTHORIZATION, value);
    }
    viewer_from_headers(state.store.as_ref(), &headers).await
}

/// The client's messages, each checked against the limits; the first refused one ends the
/// stream, which closes the connection.
fn checked(
    stream: impl Stream<Item = Result<Message, axum::Error>>,
    limits: Limits,
    metrics: Arc<Metrics>,
) -> impl Stream<Item = Result<Message, axum::Error>> {
    stream
        .map(move |message| match message {
            Ok(Message::Text(text)) => match check_ws_message(text.as_str(), &limits) {
                Ok(()) => Ok(Message::Text(text)),
                Err(why) => {
                    metrics.rejected("webSocketMessage");
                    Err(axum::Error::new(WsRefused(why)))
                }
            },
            other => other,
        })
        .take_while(|m| future::ready(m.is_ok()))
}

/// Checks a graphql-ws / graphql-transport-ws client message before async-graphql parses it:
/// the same limits as POST and GET.
fn check_ws_message(text: &str, limits: &Limits) -> Result<(), String> {
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
