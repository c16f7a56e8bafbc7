//! GraphQL subscriptions over `graphql-transport-ws`: the change feed as a stream, report
//! changes under a filter and the review queue, with the permission rules of the queries, and a
//! resumed stream that misses nothing and repeats nothing.

mod protocol;
mod resume;
mod visibility;

use std::time::Duration;

use futures::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use workplan_tests::TestApp;

pub(super) type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// How long a test waits for one event. On PostgreSQL a change shows in the feed once no
/// transaction that began writing before it is still running anywhere in the cluster, where
/// other tests write at the same time.
pub(super) const WAIT: Duration = Duration::from_secs(20);

pub(super) const SUBMIT: &str =
    "mutation($input: SubmitProgressReportInput!) { submitProgressReport(input: $input) { report { id version } } }";

pub(super) const REVIEW: &str = "mutation($id: ID!, $v: Int!, $d: ReviewDecision!) {
  reviewProgressReport(id: $id, expectedVersion: $v, decision: $d) { report { version state } } }";

/// The feed as a subscription.
pub(super) const CHANGES: &str = "subscription($after: String) { changes(after: $after) {
  cursor change { kind reportId version state } } }";

/// A new report by Guangdong on task 16 for the `n`th month from January 2016.
pub(super) fn report(n: usize) -> Value {
    let period = format!("{}-{:02}", 2016 + n / 12, n % 12 + 1);
    json!({ "input": { "taskNumber": 16, "reporter": { "provinceCode": "440000" }, "period": period,
                       "status": "IN_PROGRESS", "percentComplete": 10, "summary": "For the stream." } })
}

/// Submits report `n` as the admin; its id and version.
pub(super) async fn submit(app: &TestApp, n: usize) -> (String, i64) {
    let d = app.data(SUBMIT, report(n)).await;
    let r = &d["submitProgressReport"]["report"];
    (r["id"].as_str().expect("id").to_owned(), r["version"].as_i64().expect("version"))
}

/// Accepts report `id` at `version` as the admin.
pub(super) async fn accept(app: &TestApp, id: &str, version: i64) {
    let d = app.data(REVIEW, json!({ "id": id, "v": version, "d": "ACCEPT" })).await;
    assert_eq!(d["reviewProgressReport"]["report"]["state"], "ACCEPTED", "{d}");
}

/// Opens a `graphql-transport-ws` connection as `token` (anonymous when `None`) and waits for
/// the acknowledgement.
pub(super) async fn connect_to(addr: &str, token: Option<&str>) -> Ws {
    let mut request = format!("ws://{addr}/graphql/ws").into_client_request().expect("request");
    request.headers_mut().insert("sec-websocket-protocol", "graphql-transport-ws".parse().expect("header"));
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.expect("connect");
    let payload = token.map_or_else(|| json!({}), |t| json!({ "Authorization": format!("Bearer {t}") }));
    send(&mut ws, json!({ "type": "connection_init", "payload": payload })).await;
    let ack = message(&mut ws).await;
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    ws
}

/// [`connect_to`] the test's server.
pub(super) async fn connect(app: &TestApp, token: Option<&str>) -> Ws {
    connect_to(&app.addr.to_string(), token).await
}

pub(super) async fn send(ws: &mut Ws, message: Value) {
    ws.send(Message::Text(message.to_string().into())).await.expect("send");
}

/// Starts operation `id`.
pub(super) async fn subscribe(ws: &mut Ws, id: &str, query: &str, variables: Value) {
    send(ws, json!({ "type": "subscribe", "id": id, "payload": { "query": query, "variables": variables } })).await;
}

/// The server's next text message (pings answered, pongs skipped), within [`WAIT`] in all:
/// the server's keep-alive pings do not extend the wait.
pub(super) async fn message(ws: &mut Ws) -> Value {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let next = tokio::time::timeout_at(deadline, ws.next()).await.expect("a message in time");
        match next.expect("the connection is open").expect("a message") {
            Message::Text(t) => {
                let value: Value = serde_json::from_str(t.as_str()).expect("JSON");
                match value["type"].as_str() {
                    Some("ping") => send(ws, json!({ "type": "pong" })).await,
                    Some("pong") => {}
                    _ => return value,
                }
            }
            Message::Close(frame) => panic!("closed: {frame:?}"),
            _ => {}
        }
    }
}

/// The data of the next event of operation `id`.
pub(super) async fn event(ws: &mut Ws, id: &str) -> Value {
    let m = message(ws).await;
    assert_eq!((m["type"].as_str(), m["id"].as_str()), (Some("next"), Some(id)), "{m}");
    assert!(m["payload"]["errors"].is_null(), "{m}");
    m["payload"]["data"].clone()
}

/// The errors operation `id` was refused with: an `error` message, or a `next` carrying errors
/// (then `complete`), as `graphql-transport-ws` allows both.
pub(super) async fn refusal(ws: &mut Ws, id: &str) -> Vec<Value> {
    let m = message(ws).await;
    assert_eq!(m["id"], id, "{m}");
    match m["type"].as_str() {
        Some("error") => m["payload"].as_array().expect("errors").clone(),
        Some("next") => {
            let errors = m["payload"]["errors"].as_array().expect("errors").clone();
            let end = message(ws).await;
            assert_eq!((end["type"].as_str(), end["id"].as_str()), (Some("complete"), Some(id)), "{end}");
            errors
        }
        _ => panic!("not a refusal: {m}"),
    }
}

/// Nothing more arrives for a while: a ping is answered before any other message, and no
/// operation's message follows within twice the follower's catch-up period.
pub(super) async fn assert_quiet(ws: &mut Ws) {
    send(ws, json!({ "type": "ping" })).await;
    let mut pong = message_or_pong(ws, WAIT).await.expect("a pong in time");
    // A server may acknowledge a client's `complete` with its own.
    while pong["type"] == "complete" {
        pong = message_or_pong(ws, WAIT).await.expect("a pong in time");
    }
    assert_eq!(pong["type"], "pong", "nothing before the pong: {pong}");
    if let Some(more) = message_or_pong(ws, Duration::from_millis(2500)).await {
        panic!("unexpected: {more}");
    }
}

/// The next text message within `wait` (the server's pings answered and skipped), pongs
/// included.
async fn message_or_pong(ws: &mut Ws, wait: Duration) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let next = tokio::time::timeout_at(deadline, ws.next()).await.ok()?;
        if let Message::Text(t) = next.expect("open").expect("a message") {
            let value: Value = serde_json::from_str(t.as_str()).expect("JSON");
            if value["type"] == "ping" {
                send(ws, json!({ "type": "pong" })).await;
                continue;
            }
            return Some(value);
        }
    }
}
