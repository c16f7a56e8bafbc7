//! graphql-transport-ws's rules: `connection_init` within the init timeout (4408), no operation
//! before the acknowledgement (4401), one `connection_init` (4429), no duplicate operation id
//! (4409), nothing that is not a protocol message (4400); `ping` is answered with `pong`, the
//! server pings an idle connection, and the legacy `graphql-ws` subprotocol is refused.

use std::time::{Duration, Instant};

use futures::SinkExt as _;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use workplan_api::config::ApiConfig;
use workplan_api::socket_limits::SocketLimits;
use workplan_tests::TestApp;

use super::{closed, config, connect, message, open, run, send, spawn, subscribe};

fn with_socket(socket: SocketLimits) -> ApiConfig {
    ApiConfig { socket, ..config() }
}

#[tokio::test]
async fn a_connection_without_connection_init_is_closed_with_4408_at_the_init_timeout() {
    let app =
        spawn(with_socket(SocketLimits { init_timeout: Duration::from_millis(300), ..SocketLimits::default() })).await;
    let started = Instant::now();
    let mut ws = connect(&app).await;
    let (code, reason) = closed(&mut ws).await;
    assert_eq!((code, reason.as_str()), (4408, "Connection initialisation timeout"));
    assert!(started.elapsed() >= Duration::from_millis(300), "not before the timeout: {:?}", started.elapsed());
    // An initialised connection outlives the timeout.
    let mut ws = open(&app, None).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(run(&mut ws, "1", "{ plan { taskCount } }", json!({})).await["data"]["plan"]["taskCount"], 106);
}

#[tokio::test]
async fn an_operation_before_the_acknowledgement_closes_with_4401() {
    let app = TestApp::spawn().await;
    let mut ws = connect(&app).await;
    subscribe(&mut ws, "1", "{ plan { taskCount } }", json!({})).await;
    assert_eq!(closed(&mut ws).await, (4401, "Unauthorized".to_owned()));
}

#[tokio::test]
async fn a_second_connection_init_closes_with_4429() {
    let app = TestApp::spawn().await;
    let mut ws = open(&app, None).await;
    send(&mut ws, json!({ "type": "connection_init", "payload": {} })).await;
    assert_eq!(closed(&mut ws).await, (4429, "Too many initialisation requests".to_owned()));
}

#[tokio::test]
async fn a_duplicate_operation_id_closes_with_4409() {
    let app = TestApp::spawn().await;
    let mut ws = open(&app, Some(&app.admin)).await;
    // Both go out in one write, so the second is read while the first (which reads the
    // database) still runs.
    let query = "{ progressReports(first: 50) { totalCount nodes { id } } }";
    let text = json!({ "type": "subscribe", "id": "same", "payload": { "query": query } }).to_string();
    for _ in 0..2 {
        ws.feed(Message::Text(text.clone().into())).await.expect("feed");
    }
    ws.flush().await.expect("flush");
    loop {
        match super::answer(&mut ws).await {
            super::Answer::Closed(code, reason) => {
                assert_eq!((code, reason.as_str()), (4409, "Subscriber for same already exists"));
                break;
            }
            super::Answer::Text(m) => assert_ne!(m["type"], "complete", "the first ended before the second: {m}"),
        }
    }
    // An id is free again once its operation completed.
    let mut ws = open(&app, None).await;
    for _ in 0..2 {
        assert_eq!(run(&mut ws, "again", "{ plan { taskCount } }", json!({})).await["data"]["plan"]["taskCount"], 106);
    }
}

#[tokio::test]
async fn what_is_not_a_protocol_message_closes_with_4400() {
    let app = TestApp::spawn().await;
    for bad in [json!({ "type": "start", "id": "1", "payload": {} }), json!({ "id": "1" }), json!([1])] {
        let mut ws = open(&app, None).await;
        send(&mut ws, bad.clone()).await;
        assert_eq!(closed(&mut ws).await.0, 4400, "{bad}");
    }
    let mut ws = open(&app, None).await;
    send(&mut ws, json!({ "type": "subscribe", "id": "1", "payload": { "query": "{ a }", "variables": [1] } })).await;
    assert_eq!(closed(&mut ws).await.0, 4400);
}

#[tokio::test]
async fn ping_is_answered_and_the_server_keeps_an_idle_connection_alive() {
    let app =
        spawn(with_socket(SocketLimits { keep_alive: Duration::from_millis(200), ..SocketLimits::default() })).await;
    let mut ws = open(&app, None).await;
    send(&mut ws, json!({ "type": "ping", "payload": { "n": 1 } })).await;
    assert_eq!(message(&mut ws).await, json!({ "type": "pong", "payload": { "n": 1 } }));
    let started = Instant::now();
    assert_eq!(message(&mut ws).await, json!({ "type": "ping" }));
    assert!(started.elapsed() < Duration::from_secs(2));
    send(&mut ws, json!({ "type": "pong" })).await;
    assert_eq!(message(&mut ws).await, json!({ "type": "ping" }), "and again");
}

#[tokio::test]
async fn the_legacy_graphql_ws_subprotocol_is_refused() {
    let app = TestApp::spawn().await;
    let mut request = format!("ws://{}/graphql/ws", app.addr).into_client_request().expect("request");
    request.headers_mut().insert("sec-websocket-protocol", "graphql-ws".parse().expect("header"));
    let Err(tokio_tungstenite::tungstenite::Error::Http(response)) = tokio_tungstenite::connect_async(request).await
    else {
        panic!("the upgrade was accepted");
    };
    assert_eq!(response.status(), 400);
}
