//! GraphQL over WebSocket (graphql-transport-ws) against the running server: the socket obeys
//! every rule HTTP does, because both run operations through one path ([`parity`]: the same
//! cases over both, the same answers and the same metrics); the connection's token is checked at
//! `connection_init`, before every operation and periodically, and a revoked or expired one
//! closes the socket with 4403 with nothing more run under it ([`tokens`]); the protocol's rules
//! and close codes ([`protocol`]); and the caps on what one socket may run at once ([`caps`]).
//! This module holds the client they share.

mod caps;
mod parity;
mod protocol;
mod tokens;

use futures::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use workplan_tests::TestApp;

pub(crate) type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens a graphql-transport-ws connection without a word said.
pub(crate) async fn connect(app: &TestApp) -> Ws {
    let mut request = format!("ws://{}/graphql/ws", app.addr).into_client_request().expect("request");
    request.headers_mut().insert("sec-websocket-protocol", "graphql-transport-ws".parse().expect("header"));
    let (ws, _) = tokio_tungstenite::connect_async(request).await.expect("connect");
    ws
}

/// Sends `message` as JSON.
pub(crate) async fn send(ws: &mut Ws, message: Value) {
    ws.send(Message::Text(message.to_string().into())).await.expect("send");
}

/// Opens a connection and sends `connection_init` with `payload`.
pub(crate) async fn init(app: &TestApp, payload: Value) -> Ws {
    let mut ws = connect(app).await;
    send(&mut ws, json!({ "type": "connection_init", "payload": payload })).await;
    ws
}

/// What the server said next: a message, or the close frame's code and reason.
#[derive(Debug)]
pub(crate) enum Answer {
    Text(Value),
    Closed(u16, String),
}

/// The server's next message (within 5 s in all, whatever control frames come meanwhile).
pub(crate) async fn answer(ws: &mut Ws) -> Answer {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let next = tokio::time::timeout_at(deadline, ws.next()).await.expect("an answer in time");
        match next.expect("the connection is open").expect("a message") {
            Message::Text(t) => return Answer::Text(serde_json::from_str(t.as_str()).expect("JSON")),
            Message::Close(frame) => {
                let frame = frame.expect("a close frame with a code");
                return Answer::Closed(frame.code.into(), frame.reason.to_string());
            }
            _ => {}
        }
    }
}

/// The next message, which must be one.
pub(crate) async fn message(ws: &mut Ws) -> Value {
    match answer(ws).await {
        Answer::Text(message) => message,
        closed @ Answer::Closed(..) => panic!("closed: {closed:?}"),
    }
}

/// The close frame the server sends next, as its code and reason.
pub(crate) async fn closed(ws: &mut Ws) -> (u16, String) {
    match answer(ws).await {
        Answer::Closed(code, reason) => (code, reason),
        Answer::Text(message) => panic!("not closed: {message}"),
    }
}

/// Opens a connection as `secret` (anonymous with `None`) and waits for the acknowledgement.
pub(crate) async fn open(app: &TestApp, secret: Option<&str>) -> Ws {
    let payload = secret.map_or_else(|| json!({}), |s| json!({ "Authorization": format!("Bearer {s}") }));
    let mut ws = init(app, payload).await;
    let ack = message(&mut ws).await;
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    ws
}

/// Sends a `subscribe` with `id`.
pub(crate) async fn subscribe(ws: &mut Ws, id: &str, query: &str, variables: Value) {
    send(ws, json!({ "type": "subscribe", "id": id, "payload": { "query": query, "variables": variables } })).await;
}

/// Runs a query or mutation under `id`: its `next` payload, once `complete` followed.
pub(crate) async fn run(ws: &mut Ws, id: &str, query: &str, variables: Value) -> Value {
    subscribe(ws, id, query, variables).await;
    let next = message(ws).await;
    assert_eq!((next["type"].as_str(), next["id"].as_str()), (Some("next"), Some(id)), "{next}");
    let complete = message(ws).await;
    assert_eq!((complete["type"].as_str(), complete["id"].as_str()), (Some("complete"), Some(id)), "{complete}");
    next["payload"].clone()
}

/// A GraphQL POST as `secret` (anonymous with `None`): its status and body.
pub(crate) async fn post(app: &TestApp, secret: Option<&str>, query: &str, variables: Value) -> (u16, Value) {
    let mut request = app.client.post(app.url("/graphql")).json(&json!({ "query": query, "variables": variables }));
    if let Some(secret) = secret {
        request = request.bearer_auth(secret);
    }
    let response = request.send().await.expect("post");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON body"))
}

/// A series of `/metrics`, 0 when absent.
pub(crate) async fn metric(app: &TestApp, series: &str) -> u64 {
    let text = app.client.get(app.url("/metrics")).send().await.expect("get").text().await.expect("text");
    text.lines().find_map(|l| l.strip_prefix(series).and_then(|rest| rest.trim().parse().ok())).unwrap_or(0)
}

pub(crate) const SUBMIT: &str =
    "mutation($input: SubmitProgressReportInput!) { submitProgressReport(input: $input) { report { id } } }";

/// Guangdong's report on task 16 for `period`.
pub(crate) fn report(period: &str) -> Value {
    json!({ "input": { "taskNumber": 16, "reporter": { "provinceCode": "440000" }, "period": period,
                       "status": "IN_PROGRESS", "percentComplete": 10, "summary": "Over the socket." } })
}

/// How many reports there are, asked over HTTP.
pub(crate) async fn report_count(app: &TestApp) -> i64 {
    let d = app.data("{ progressReports { totalCount } }", json!({})).await;
    d["progressReports"]["totalCount"].as_i64().expect("count")
}

/// A config for tests: no rate limits (they have tests of their own).
pub(crate) fn config() -> workplan_api::config::ApiConfig {
    workplan_api::config::ApiConfig { rate_limit: None, request_limit: None, ..Default::default() }
}

/// A server with `config`.
pub(crate) async fn spawn(config: workplan_api::config::ApiConfig) -> TestApp {
    let db = workplan_tests::TestDb::create().await.expect("db");
    TestApp::spawn_with(db, workplan_server::store_options(5), config).await
}
