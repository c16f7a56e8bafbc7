//! The parsed-document cache and Apollo's automatic persisted queries, over HTTP (POST and GET)
//! and WebSocket.

use futures::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use workplan_tests::TestApp;

const QUERY: &str = "query Apq($n: Int!) { task(number: $n) { number } }";

/// The SHA-256 of `text` in lowercase hex, as Apollo's clients send it.
fn sha256(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn persisted(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

async fn post(app: &TestApp, body: Value) -> (u16, reqwest::header::HeaderMap, Value) {
    let r = app.client.post(app.url("/graphql")).json(&body).send().await.expect("send");
    let (status, headers) = (r.status().as_u16(), r.headers().clone());
    (status, headers, r.json().await.expect("json"))
}

async fn get(app: &TestApp, params: &[(&str, String)]) -> (u16, Value) {
    let r = app.client.get(app.url("/graphql")).query(params).send().await.expect("send");
    (r.status().as_u16(), r.json().await.expect("json"))
}

/// The value of the metric line starting with `series` (0 when absent).
async fn metric(app: &TestApp, series: &str) -> u64 {
    let text = app.client.get(app.url("/metrics")).send().await.expect("get").text().await.expect("text");
    text.lines().find_map(|l| l.strip_prefix(series).and_then(|rest| rest.trim().parse().ok())).unwrap_or(0)
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn a_persisted_query_is_not_found_then_registered_then_run_by_its_hash() {
    let app = TestApp::spawn().await;
    let hash = sha256(QUERY);
    let vars = json!({ "n": 3 });

    // Unknown: Apollo's PersistedQueryNotFound, status 200 and not cacheable, nothing run.
    let (status, headers, body) = post(&app, json!({ "variables": vars, "extensions": persisted(&hash) })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["errors"][0]["message"], "PersistedQueryNotFound");
    assert_eq!(code(&body), "PERSISTED_QUERY_NOT_FOUND");
    assert!(body.get("data").is_none(), "{body}");
    assert!(headers["cache-control"].to_str().unwrap_or_default().contains("no-cache"));
    let get_miss = [("variables", vars.to_string()), ("extensions", persisted(&hash).to_string())];
    let (status, body) = get(&app, &get_miss).await;
    assert_eq!((status, code(&body)), (200, "PERSISTED_QUERY_NOT_FOUND"), "{body}");

    // Registered: the text with its hash runs.
    let register = json!({ "query": QUERY, "variables": vars, "extensions": persisted(&hash) });
    let (status, _, body) = post(&app, register).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["task"]["number"], 3, "{body}");

    // Then the hash alone, by POST with other variables, and by GET as Apollo Client sends it.
    let (_, _, body) = post(&app, json!({ "variables": { "n": 5 }, "extensions": persisted(&hash) })).await;
    assert_eq!(body, json!({ "data": { "task": { "number": 5 } } }));
    let get_hit = [
        ("operationName", "Apq".to_owned()),
        ("variables", json!({ "n": 7 }).to_string()),
        ("extensions", persisted(&hash).to_string()),
    ];
    let (status, body) = get(&app, &get_hit).await;
    assert_eq!((status, body), (200, json!({ "data": { "task": { "number": 7 } } })));
    // In upper case too (the hash is a number, however it is written).
    let (_, _, body) =
        post(&app, json!({ "variables": { "n": 8 }, "extensions": persisted(&hash.to_uppercase()) })).await;
    assert_eq!(body["data"]["task"]["number"], 8, "{body}");

    assert_eq!(metric(&app, r#"workplan_graphql_persisted_queries_total{result="not_found"}"#).await, 2);
    assert_eq!(metric(&app, r#"workplan_graphql_persisted_queries_total{result="registered"}"#).await, 1);
    assert_eq!(metric(&app, r#"workplan_graphql_persisted_queries_total{result="hit"}"#).await, 3);
}

#[tokio::test]
async fn a_wrong_or_malformed_hash_is_refused() {
    let app = TestApp::spawn().await;
    // The hash of another text: BAD_USER_INPUT, and nothing is registered under either hash.
    let other = sha256("{ plan { id } }");
    let (status, _, body) = post(&app, json!({ "query": QUERY, "extensions": persisted(&other) })).await;
    assert_eq!((status, code(&body)), (400, "BAD_USER_INPUT"), "{body}");
    assert_eq!(body["errors"][0]["message"], "provided sha does not match query");
    let (_, _, body) = post(&app, json!({ "extensions": persisted(&other) })).await;
    assert_eq!(code(&body), "PERSISTED_QUERY_NOT_FOUND", "{body}");

    for extensions in [
        json!({ "persistedQuery": { "version": 2, "sha256Hash": sha256(QUERY) } }),
        json!({ "persistedQuery": { "version": 1, "sha256Hash": "abc" } }),
        json!({ "persistedQuery": { "version": 1 } }),
        json!({ "persistedQuery": "yes" }),
    ] {
        let (status, _, body) = post(&app, json!({ "query": QUERY, "extensions": extensions })).await;
        assert_eq!((status, code(&body)), (400, "BAD_USER_INPUT"), "{extensions}: {body}");
    }
    // Neither a query nor a hash is still a bad request.
    let (status, _, body) = post(&app, json!({ "extensions": {} })).await;
    assert_eq!((status, code(&body)), (400, "BAD_USER_INPUT"), "{body}");
}

#[tokio::test]
async fn persisted_documents_pass_the_same_limits_and_get_never_runs_a_mutation() {
    let app = TestApp::spawn().await;
    // Over a limit: refused before anything is kept, so the hash stays unknown.
    let deep = format!("{{ task(number: {}1{}) {{ number }} }}", "[".repeat(100), "]".repeat(100));
    let (status, _, body) = post(&app, json!({ "query": deep, "extensions": persisted(&sha256(&deep)) })).await;
    assert_eq!((status, code(&body)), (400, "BAD_USER_INPUT"), "{body}");
    assert_eq!(body["errors"][0]["extensions"]["limit"], "maxNesting");
    let (_, _, body) = post(&app, json!({ "extensions": persisted(&sha256(&deep)) })).await;
    assert_eq!(code(&body), "PERSISTED_QUERY_NOT_FOUND", "{body}");

    // A mutation registered by POST (here refused for a missing variable, so nothing is
    // written) cannot be run by GET with its hash.
    let mutation =
        "mutation Edit($i: SubmitProgressReportInput!) { submitProgressReport(input: $i) { report { id } } }";
    let hash = sha256(mutation);
    let (status, _, body) = post(&app, json!({ "query": mutation, "extensions": persisted(&hash) })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    let r = app
        .client
        .get(app.url("/graphql"))
        .query(&[("extensions", persisted(&hash).to_string())])
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers().get("allow").and_then(|v| v.to_str().ok()), Some("POST"));
}

#[tokio::test]
async fn a_document_is_parsed_once_and_then_reused_by_post_get_and_websocket() {
    let app = TestApp::spawn().await;
    let hits = r#"workplan_graphql_document_cache_total{result="hit"}"#;
    let misses = r#"workplan_graphql_document_cache_total{result="miss"}"#;
    for n in [1, 2, 3] {
        let d = app.data_as(None, QUERY, json!({ "n": n })).await;
        assert_eq!(d["task"]["number"], n);
    }
    let (status, body) = get(&app, &[("query", QUERY.to_owned()), ("variables", json!({ "n": 4 }).to_string())]).await;
    assert_eq!((status, &body["data"]["task"]["number"]), (200, &json!(4)), "{body}");
    assert_eq!((metric(&app, misses).await, metric(&app, hits).await), (1, 3), "parsed once, then reused");

    // The same text over WebSocket: the message's check finds it cached.
    let mut request = format!("ws://{}/graphql/ws", app.addr).into_client_request().expect("request");
    request.headers_mut().insert("sec-websocket-protocol", "graphql-transport-ws".parse().expect("header"));
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.expect("connect");
    ws.send(Message::Text(json!({ "type": "connection_init", "payload": {} }).to_string().into())).await.expect("init");
    let subscribe = json!({ "id": "1", "type": "subscribe", "payload": { "query": QUERY, "variables": { "n": 9 } } });
    ws.send(Message::Text(subscribe.to_string().into())).await.expect("subscribe");
    let mut answer = None;
    while answer.is_none() {
        let message = tokio::time::timeout(std::time::Duration::from_secs(5), ws.next()).await.expect("in time");
        if let Some(Ok(Message::Text(t))) = message {
            let v: Value = serde_json::from_str(t.as_str()).expect("JSON");
            if v["type"] == "next" {
                answer = Some(v);
            }
        }
    }
    assert_eq!(answer.expect("answered")["payload"]["data"]["task"]["number"], 9);
    assert_eq!((metric(&app, misses).await, metric(&app, hits).await), (1, 4), "the WebSocket reused it too");

    // A syntax error is parsed (and reported) once, as before the cache, and never kept.
    for _ in 0..2 {
        let body = app.graphql_as(None, "{ task(number: 1) { number }", json!({})).await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
        assert!(body.get("data").is_none(), "{body}");
    }
    assert_eq!((metric(&app, misses).await, metric(&app, hits).await), (3, 4));
}
