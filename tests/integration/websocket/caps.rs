//! What one socket may run at once: past its cap on operations in flight an operation is
//! answered with an `error` message (RATE_LIMITED) and the socket stays open; its operations
//! take turns with everyone's (the server-wide bound on operations executing at once) and are
//! turned away as over HTTP when none is free.

use std::time::Duration;

use serde_json::json;
use workplan_api::config::ApiConfig;
use workplan_api::socket_limits::SocketLimits;

use super::{message, metric, open, run, spawn, subscribe};

/// A query that reads the database.
const QUERY: &str = "{ progressReports(first: 1) { totalCount } }";

#[tokio::test]
async fn past_the_cap_on_operations_in_flight_an_operation_is_refused_and_the_socket_stays_open() {
    let socket = SocketLimits { max_operations: 2, ..SocketLimits::default() };
    let app = spawn(ApiConfig { socket, ..super::config() }).await;
    let mut ws = open(&app, Some(&app.admin)).await;
    // Forty at once, each reading the database, against two places.
    for id in 0..40 {
        subscribe(&mut ws, &id.to_string(), QUERY, json!({})).await;
    }
    let (mut answered, mut refused, mut completed) = (0, 0, 0);
    while completed + refused < 40 {
        let message = message(&mut ws).await;
        match message["type"].as_str() {
            Some("next") => {
                assert!(message["payload"]["data"]["progressReports"]["totalCount"].is_i64(), "{message}");
                answered += 1;
            }
            Some("complete") => completed += 1,
            Some("error") => {
                let error = &message["payload"][0];
                assert_eq!(error["extensions"]["code"], "RATE_LIMITED", "{message}");
                let text = error["message"].as_str().unwrap_or_default();
                assert!(text.contains("queries and mutations in flight on this connection (at most 2)"), "{text}");
                refused += 1;
            }
            _ => panic!("unexpected: {message}"),
        }
    }
    assert_eq!((answered, completed), (40 - refused, 40 - refused));
    assert!(refused >= 1, "none refused: {answered} answered");
    let series = r#"workplan_requests_rejected_total{limit="webSocketOperations"}"#;
    assert_eq!(metric(&app, series).await, refused);
    // The socket is still open, and its places are free again.
    for id in ["after-1", "after-2"] {
        assert!(run(&mut ws, id, QUERY, json!({})).await["data"]["progressReports"]["totalCount"].is_i64());
    }
}

#[tokio::test]
async fn operations_over_a_socket_take_turns_with_the_rest_and_are_turned_away_quickly_when_none_is_free() {
    let config = ApiConfig {
        admission: Some(workplan_api::admission::AdmissionLimit { max_operations: 1, queue_wait: Duration::ZERO }),
        socket: SocketLimits { max_operations: 64, ..SocketLimits::default() },
        ..super::config()
    };
    let db = workplan_tests::TestDb::create().await.expect("db");
    let app = workplan_tests::TestApp::spawn_with(db, workplan_server::store_options(3), config).await;
    let mut ws = open(&app, Some(&app.admin)).await;
    // Forty operations at once, each reading the database, against one turn and no queue.
    for id in 0..40 {
        subscribe(&mut ws, &id.to_string(), QUERY, json!({})).await;
    }
    let (mut answered, mut turned_away, mut completed) = (0, 0, 0);
    while completed < 40 {
        let message = message(&mut ws).await;
        match message["type"].as_str() {
            Some("next") if message["payload"]["data"]["progressReports"]["totalCount"].is_i64() => answered += 1,
            Some("next") => {
                let error = &message["payload"]["errors"][0];
                assert_eq!(error["extensions"]["code"], "RATE_LIMITED", "{message}");
                assert_eq!(error["extensions"]["retryAfter"], 1, "{message}");
                assert!(message["payload"].get("data").is_none(), "as over HTTP, no data: {message}");
                turned_away += 1;
            }
            Some("complete") => completed += 1,
            _ => panic!("unexpected: {message}"),
        }
    }
    assert_eq!(answered + turned_away, 40);
    assert!(answered >= 1 && turned_away >= 1, "answered {answered}, turned away {turned_away}");
    // The turns were all given back.
    assert!(run(&mut ws, "after", QUERY, json!({})).await["data"]["progressReports"]["totalCount"].is_i64());
}
