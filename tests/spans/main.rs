//! Tracing spans (a test binary of its own: it sets a thread's default subscriber): one `graphql` span per operation, over HTTP and WebSocket; a span per resolved
//! field (and async-graphql's other spans) only when `trace_fields` asks for it. The spans are
//! collected through the server's own filter (`telemetry::library_spans`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tracing_subscriber::layer::SubscriberExt as _;
use workplan_api::config::ApiConfig;
use workplan_server::telemetry::library_spans;
use workplan_tests::{TestApp, TestDb};

/// Spans opened, by crate and name (`async_graphql::field`).
#[derive(Clone, Default)]
struct Opened(Arc<Mutex<HashMap<String, usize>>>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Opened {
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        _: &tracing::span::Id,
        _: tracing_subscriber::layer::Context<'_, S>,
    ) {
        if let Ok(mut opened) = self.0.lock() {
            let krate = attrs.metadata().target().split("::").next().unwrap_or_default();
            *opened.entry(format!("{krate}::{}", attrs.metadata().name())).or_default() += 1;
        }
    }
}

impl Opened {
    fn count(&self, name: &str) -> usize {
        self.0.lock().map_or(0, |o| o.get(name).copied().unwrap_or(0))
    }
}

const DASHBOARD: &str = "{ tasks(first: 8) { nodes { number text responsibilities { agency { name } } } } }";

/// Runs the dashboard twice over HTTP and once over WebSocket with `trace_fields`, on a
/// current-thread runtime whose only thread carries the span counter (the server runs on it).
async fn spans(trace_fields: bool) -> Opened {
    let opened = Opened::default();
    let subscriber = tracing_subscriber::registry().with(library_spans(trace_fields)).with(opened.clone());
    workplan_tests::subscriber::keep_out();
    let _guard = tracing::subscriber::set_default(subscriber);
    let db = TestDb::create().await.expect("db");
    let config = ApiConfig { trace_fields, rate_limit: None, request_limit: None, ..ApiConfig::default() };
    let app = TestApp::spawn_with(db, workplan_server::store_options(3), config).await;
    for _ in 0..2 {
        let d = app.data_as(None, DASHBOARD, json!({})).await;
        assert_eq!(d["tasks"]["nodes"].as_array().map(Vec::len), Some(8));
    }
    let mut request = format!("ws://{}/graphql/ws", app.addr).into_client_request().expect("request");
    request.headers_mut().insert("sec-websocket-protocol", "graphql-transport-ws".parse().expect("header"));
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.expect("connect");
    ws.send(Message::Text(json!({ "type": "connection_init", "payload": {} }).to_string().into())).await.expect("init");
    let subscribe = json!({ "id": "1", "type": "subscribe", "payload": { "query": DASHBOARD } });
    ws.send(Message::Text(subscribe.to_string().into())).await.expect("subscribe");
    loop {
        let message = tokio::time::timeout(std::time::Duration::from_secs(5), ws.next()).await.expect("in time");
        if let Some(Ok(Message::Text(t))) = message {
            let v: Value = serde_json::from_str(t.as_str()).expect("JSON");
            if v["type"] == "next" {
                assert_eq!(v["payload"]["data"]["tasks"]["nodes"].as_array().map(Vec::len), Some(8), "{v}");
                break;
            }
        }
    }
    opened
}

#[tokio::test]
async fn one_span_per_operation_and_no_field_spans_by_default() {
    let opened = spans(false).await;
    assert_eq!(opened.count("workplan_api::graphql"), 3, "one per operation, HTTP and WebSocket alike");
    let of_async_graphql = opened.0.lock().map(|o| o.keys().filter(|k| k.starts_with("async_graphql")).count());
    assert_eq!(of_async_graphql.ok(), Some(0), "no span per field, nor any other of async-graphql's: {:?}", opened.0);
}

#[tokio::test]
async fn field_spans_when_asked_for() {
    let opened = spans(true).await;
    assert_eq!(opened.count("workplan_api::graphql"), 3, "the operation span stays");
    // Per run: `tasks`, `nodes`, each of the 8 tasks, their `responsibilities` and each
    // responsibility's `agency` (leaf fields such as `number` get none).
    let fields = opened.count("async_graphql::field");
    assert!(fields >= 3 * (2 + 8 + 8 + 8), "{fields} field spans");
    assert_eq!(opened.count("async_graphql::execute"), 3);
    // (No DataLoader spans here: this query's relations are all plan relations, which are
    // looked up in the plan snapshot without the DataLoader.)
}
