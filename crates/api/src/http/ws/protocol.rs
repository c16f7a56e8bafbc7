//! The messages of graphql-transport-ws (the `graphql-ws` library's protocol,
//! <https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md>) and its close codes.

use async_graphql::ServerError;
use serde::{Deserialize, Serialize};

use crate::http::respond::Payload;

/// The subprotocol, as negotiated in `Sec-WebSocket-Protocol`.
pub(super) const SUBPROTOCOL: &str = "graphql-transport-ws";

/// A message from the client.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum ClientMessage {
    /// The first message: who is calling (`{"Authorization": "Bearer wpt_…"}`).
    ConnectionInit {
        /// The caller's parameters.
        #[serde(default)]
        payload: Option<serde_json::Value>,
    },
    /// Asks for a `pong`.
    Ping {
        /// Anything; sent back in the `pong`.
        #[serde(default)]
        payload: Option<serde_json::Value>,
    },
    /// The answer to the server's `ping`.
    Pong {
        /// Anything; ignored.
        #[serde(default)]
        #[allow(dead_code)]
        payload: Option<serde_json::Value>,
    },
    /// Runs an operation under `id`.
    Subscribe {
        /// The operation's id, unique among the connection's running operations.
        id: String,
        /// The GraphQL request.
        payload: SubscribePayload,
    },
    /// Stops the operation `id`.
    Complete {
        /// The operation's id.
        id: String,
    },
}

/// The GraphQL request of a `subscribe` message.
#[derive(Debug, Deserialize)]
pub(super) struct SubscribePayload {
    /// The document.
    #[serde(default)]
    pub(super) query: Option<String>,
    /// Which operation of the document to run.
    #[serde(default, rename = "operationName")]
    pub(super) operation_name: Option<String>,
    /// The variables, a JSON object.
    #[serde(default)]
    pub(super) variables: Option<serde_json::Value>,
}

/// A message from the server.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum ServerMessage<'a> {
    /// The connection is accepted.
    ConnectionAck,
    /// Keep-alive: asks for a `pong`.
    Ping,
    /// The answer to the client's `ping`.
    Pong {
        /// The `ping`'s payload.
        #[serde(skip_serializing_if = "Option::is_none")]
        payload: Option<serde_json::Value>,
    },
    /// A result of operation `id`: the body HTTP would answer with.
    Next {
        /// The operation's id.
        id: &'a str,
        /// The result.
        payload: Payload<'a>,
    },
    /// Operation `id` could not run (or was stopped); nothing more comes for it.
    Error {
        /// The operation's id.
        id: &'a str,
        /// Why.
        payload: &'a [ServerError],
    },
    /// Operation `id` ended.
    Complete {
        /// The operation's id.
        id: &'a str,
    },
}

impl ServerMessage<'_> {
    /// The message as the text of a WebSocket frame.
    pub(super) fn text(&self) -> String {
        // Serialising these types cannot fail: every key is a string.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Why the server closes a connection: a close code of graphql-transport-ws and its reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Close {
    /// 4400: a message that is not a graphql-transport-ws message, or over a limit.
    Invalid(String),
    /// 4401: an operation before the connection was acknowledged.
    Unauthorized,
    /// 4403: the caller may not use the connection (a bad, revoked or expired token; no token
    /// where public reading is off). The reason is the GraphQL error as JSON.
    Forbidden(String),
    /// 4408: no `connection_init` within the init timeout.
    InitTimeout,
    /// 4409: an operation id already in use.
    Duplicate(String),
    /// 4429: a second `connection_init`, or the caller's request limit is spent.
    TooMany(String),
    /// 4500: something broke on our side (logged). The reason is the GraphQL error as JSON.
    Internal(String),
}

/// The longest close reason a WebSocket close frame carries, in bytes.
pub(super) const MAX_CLOSE_REASON: usize = 123;

impl Close {
    /// The close code.
    pub(super) fn code(&self) -> u16 {
        match self {
            Self::Invalid(_) => 4400,
            Self::Unauthorized => 4401,
            Self::Forbidden(_) => 4403,
            Self::InitTimeout => 4408,
            Self::Duplicate(_) => 4409,
            Self::TooMany(_) => 4429,
            Self::Internal(_) => 4500,
        }
    }

    /// The reason, at most [`MAX_CLOSE_REASON`] bytes.
    pub(super) fn reason(&self) -> String {
        let reason = match self {
            Self::Invalid(why) | Self::TooMany(why) | Self::Forbidden(why) | Self::Internal(why) => why.clone(),
            Self::Unauthorized => "Unauthorized".to_owned(),
            Self::InitTimeout => "Connection initialisation timeout".to_owned(),
            Self::Duplicate(id) => format!("Subscriber for {id} already exists"),
        };
        truncate(reason, MAX_CLOSE_REASON)
    }
}

/// `text` cut to at most `max` bytes, on a character boundary.
fn truncate(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

/// A GraphQL error as a close reason: the error as JSON, or only a generic message and its code
/// when the whole would not fit a close frame.
pub(super) fn error_reason(error: &ServerError) -> String {
    let full = serde_json::to_string(error).unwrap_or_default();
    if !full.is_empty() && full.len() <= MAX_CLOSE_REASON {
        return full;
    }
    let code = error
        .extensions
        .as_ref()
        .and_then(|e| e.get("code"))
        .and_then(|c| match c {
            async_graphql::Value::String(c) => Some(c.clone()),
            _ => None,
        })
        .unwrap_or_else(|| crate::error::code::INTERNAL.to_owned());
    serde_json::json!({ "message": "connection refused", "extensions": { "code": code } }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::code;

    fn coded(message: &str, code: &str) -> ServerError {
        crate::http::execute::with_code(ServerError::new(message, None), code)
    }

    #[test]
    fn client_messages_parse_and_unknown_ones_do_not() {
        let init: ClientMessage = serde_json::from_str(r#"{"type":"connection_init"}"#).expect("init");
        assert!(matches!(init, ClientMessage::ConnectionInit { payload: None }));
        let sub: ClientMessage =
            serde_json::from_str(r#"{"type":"subscribe","id":"1","payload":{"query":"{ a }","operationName":"A"}}"#)
                .expect("subscribe");
        let ClientMessage::Subscribe { id, payload } = sub else { panic!("not subscribe") };
        assert_eq!((id.as_str(), payload.operation_name.as_deref()), ("1", Some("A")));
        for bad in [r#"{"type":"start","id":"1"}"#, r#"{"type":"subscribe","payload":{}}"#, r#"{"id":"1"}"#, "[]"] {
            assert!(serde_json::from_str::<ClientMessage>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn server_messages_are_graphql_transport_ws() {
        assert_eq!(ServerMessage::ConnectionAck.text(), r#"{"type":"connection_ack"}"#);
        assert_eq!(ServerMessage::Ping.text(), r#"{"type":"ping"}"#);
        assert_eq!(ServerMessage::Pong { payload: None }.text(), r#"{"type":"pong"}"#);
        assert_eq!(ServerMessage::Complete { id: "7" }.text(), r#"{"type":"complete","id":"7"}"#);
        let errors = [coded("no", code::RATE_LIMITED)];
        let error: serde_json::Value =
            serde_json::from_str(&ServerMessage::Error { id: "7", payload: &errors }.text()).expect("JSON");
        assert_eq!(error["payload"][0]["extensions"]["code"], code::RATE_LIMITED);
        let response = async_graphql::Response::from_errors(vec![coded("bad", code::BAD_USER_INPUT)]);
        let next: serde_json::Value =
            serde_json::from_str(&ServerMessage::Next { id: "7", payload: Payload::of(&response, true) }.text())
                .expect("JSON");
        assert!(next["payload"].get("data").is_none(), "{next}");
        assert_eq!(next["payload"]["errors"][0]["message"], "bad");
    }

    #[test]
    fn close_reasons_fit_a_close_frame() {
        let long = Close::Duplicate("é".repeat(100));
        assert!(long.reason().len() <= MAX_CLOSE_REASON);
        assert!(long.reason().starts_with("Subscriber for é"));
        assert_eq!(Close::Duplicate("1".into()).reason(), "Subscriber for 1 already exists");
        let reason = error_reason(&coded(&"x".repeat(200), code::UNAUTHENTICATED));
        assert!(reason.len() <= MAX_CLOSE_REASON);
        let error: serde_json::Value = serde_json::from_str(&reason).expect("JSON");
        assert_eq!(error["extensions"]["code"], code::UNAUTHENTICATED);
        let short: serde_json::Value =
            serde_json::from_str(&error_reason(&coded("revoked", code::UNAUTHENTICATED))).expect("JSON");
        assert_eq!(short["message"], "revoked");
    }
}
