//! Rate limiting by request count, against the running server: every request costs at least 1,
//! refused ones included; a flood of unknown tokens costs the database next to nothing; the
//! client address comes from `X-Forwarded-For` only through a trusted proxy.

use std::time::Instant;

use futures::StreamExt as _;
use serde_json::{Value, json};
use workplan_api::client_address::TrustedProxies;
use workplan_api::config::ApiConfig;
use workplan_api::rate::RateLimit;
use workplan_tests::{TestApp, TestDb};

/// How many requests are in flight at once in the floods below.
const IN_FLIGHT: usize = 16;

/// A server with `config`.
async fn spawn(config: ApiConfig) -> TestApp {
    let db = TestDb::create().await.expect("a database");
    TestApp::spawn_with(db, workplan_server::store_options(5), config).await
}

/// A limit by request count of `n` requests that, for the length of a test, does not refill.
fn requests(n: u32) -> Option<RateLimit> {
    Some(RateLimit::new(n, 0.001).expect("a valid limit"))
}

/// POSTs `body` as JSON text with the given headers; returns the status, `Retry-After` and body.
async fn post(app: &TestApp, body: &str, headers: &[(&str, &str)]) -> (u16, Option<String>, Value) {
    let mut request = app.client.post(app.url("/graphql")).header("content-type", "application/json");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.body(body.to_owned()).send().await.expect("send");
    let status = response.status().as_u16();
    let retry = response.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
    (status, retry, response.json().await.unwrap_or(Value::Null))
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or_default()
}

const TYPENAME: &str = r#"{"query":"{ __typename }"}"#;

/// Asserts the answer is the rate limiter's: 429, `Retry-After` in whole seconds, RATE_LIMITED.
fn assert_limited((status, retry, body): &(u16, Option<String>, Value), what: &str) {
    assert_eq!(*status, 429, "{what}: {body}");
    let secs: u64 = retry.as_deref().and_then(|s| s.parse().ok()).unwrap_or_default();
    assert!(secs >= 1, "{what}: Retry-After {retry:?}");
    assert_eq!(code(body), "RATE_LIMITED", "{what}: {body}");
    assert_eq!(body["errors"][0]["extensions"]["retryAfter"], secs, "{what}: {body}");
}

#[tokio::test]
async fn two_thousand_cheap_requests_from_one_address_are_limited() {
    // The defaults, as a server started without flags has them.
    let app = spawn(ApiConfig::default()).await;
    let limit = RateLimit::default_requests();
    let started = Instant::now();
    let answers: Vec<_> =
        futures::stream::iter(0..2000).map(|_| post(&app, TYPENAME, &[])).buffer_unordered(IN_FLIGHT).collect().await;
    let elapsed = started.elapsed().as_secs_f64();
    let ok = answers.iter().filter(|a| a.0 == 200).count();
    let limited: Vec<_> = answers.iter().filter(|a| a.0 == 429).collect();
    assert_eq!(ok + limited.len(), 2000, "only answers or 429");
    assert!(!limited.is_empty(), "2,000 requests in {elapsed:.1} s, none limited");
    assert_limited(limited[0], "{ __typename }");
    // No more got through than the bucket holds plus what it refilled meanwhile.
    #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "small positive numbers")]
    let most = (f64::from(limit.capacity()) + limit.refill_per_second() * (elapsed + 1.0)) as usize;
    assert!(ok <= most, "{ok} answered in {elapsed:.1} s; at most {most} may be");
    // A token holder has a bucket of its own.
    assert_eq!(app.data("{ __typename }", json!({})).await["__typename"], "Query");
}

/// What a request is, its body, its headers and the status it is answered with.
type Kind<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>, u16);

#[tokio::test]
async fn refused_requests_count_as_much_as_any() {
    let app = spawn(ApiConfig { request_limit: requests(40), ..ApiConfig::default() }).await;
    let unknown = format!("Bearer {}", workplan_api::auth::new_secret().expect("a secret"));
    let kinds: [Kind<'_>; 4] = [
        ("bad JSON", "{not json", vec![], 400),
        ("a validation error", r#"{"query":"{ nothing }"}"#, vec![], 200),
        ("an unknown token", TYPENAME, vec![("authorization", unknown.as_str())], 401),
        ("{ __typename }", TYPENAME, vec![], 200),
    ];
    for (what, body, headers, status) in &kinds {
        for _ in 0..10 {
            assert_eq!(post(&app, body, headers).await.0, *status, "{what}");
        }
    }
    // 40 requests: the bucket is empty, whatever each was.
    for (what, body, headers, _) in &kinds {
        assert_limited(&post(&app, body, headers).await, what);
    }
    let over_get = app.client.get(app.url("/graphql?query=%7B__typename%7D")).send().await.expect("get");
    assert_eq!(over_get.status(), 429, "GET counts too");
    let export = app.client.get(app.url("/export/rollup.csv?period=2016")).send().await.expect("export");
    assert_eq!(export.status(), 429, "exports count too");
    let health = app.client.get(app.url("/healthz")).send().await.expect("healthz");
    assert_eq!(health.status(), 200, "health checks are not limited");
    assert_eq!(app.data("{ __typename }", json!({})).await["__typename"], "Query", "a token has its own bucket");
}

/// `workplan_db_statements_total` from `/metrics`.
async fn statements(app: &TestApp) -> u64 {
    let text = app.client.get(app.url("/metrics")).send().await.expect("metrics").text().await.expect("text");
    text.lines()
        .find_map(|line| line.strip_prefix("workplan_db_statements_total "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no workplan_db_statements_total in {text}"))
}

#[tokio::test]
async fn a_flood_of_unknown_tokens_costs_next_to_no_statements() {
    // No limit by count: every one of these reaches authentication.
    let app = spawn(ApiConfig { request_limit: None, ..ApiConfig::default() }).await;
    let app = &app;
    let secrets: Vec<String> =
        (0..2000).map(|_| format!("Bearer {}", workplan_api::auth::new_secret().expect("a secret"))).collect();
    let before = statements(app).await;
    let started = Instant::now();
    let answers: Vec<_> = futures::stream::iter(&secrets)
        .map(|secret| async move { post(app, TYPENAME, &[("authorization", secret.as_str())]).await })
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    let elapsed = started.elapsed();
    let spent = statements(app).await - before;
    assert!(answers.iter().all(|a| a.0 == 401 && code(&a.2) == "UNAUTHENTICATED"), "every token is refused");
    // The token table is read again at most once a second (live_tokens.rs), whatever the rate.
    let most = 2 + elapsed.as_secs();
    eprintln!("2,000 unknown tokens in {elapsed:?}: {spent} statements");
    assert!(spent <= most, "2,000 unknown tokens in {elapsed:?} cost {spent} statements; at most {most} may");
    // A token made now still works at once on this replica.
    let fresh = app.token("fresh", workplan_domain::token::AccessRole::Reader, None, None).await;
    assert_eq!(app.data_as(Some(&fresh), "{ viewer { role } }", json!({})).await["viewer"]["role"], "READER");
}

/// A server behind a proxy on `trusted`, with a limit of `n` requests.
async fn behind_proxy(trusted: &[&str], n: u32) -> TestApp {
    let trusted_proxies = TrustedProxies::parse(trusted).expect("CIDRs");
    spawn(ApiConfig { request_limit: requests(n), trusted_proxies, ..ApiConfig::default() }).await
}

#[tokio::test]
async fn clients_behind_a_trusted_proxy_have_buckets_of_their_own() {
    // The test's requests come from 127.0.0.1: here that is the trusted proxy.
    let app = behind_proxy(&["127.0.0.0/8"], 5).await;
    let a = [("x-forwarded-for", "198.51.100.1")];
    for _ in 0..5 {
        assert_eq!(post(&app, TYPENAME, &a).await.0, 200);
    }
    assert_limited(&post(&app, TYPENAME, &a).await, "client A, sixth request");
    // What client A writes itself stands left of what the proxy appends: it changes nothing.
    let spoofed = [("x-forwarded-for", "203.0.113.9, 198.51.100.1")];
    assert_limited(&post(&app, TYPENAME, &spoofed).await, "client A, with its own header");
    // Client B, behind the same proxy, is another caller; so is the proxy itself.
    let b = [("x-forwarded-for", "198.51.100.2")];
    assert_eq!(post(&app, TYPENAME, &b).await.0, 200, "client B");
    assert_eq!(post(&app, TYPENAME, &[]).await.0, 200, "the proxy's own requests");
    // Several proxies in a row: the rightmost untrusted address is the client.
    let chain = [("x-forwarded-for", "198.51.100.1, 198.51.100.3, 127.0.0.9")];
    assert_eq!(post(&app, TYPENAME, &chain).await.0, 200, "client C, through two proxies");
}

#[tokio::test]
async fn an_untrusted_peer_cannot_choose_its_address() {
    // 127.0.0.1 is not in the trusted network: its X-Forwarded-For is ignored.
    let app = behind_proxy(&["10.0.0.0/8"], 5).await;
    for i in 0..5 {
        let forwarded = format!("198.51.100.{i}");
        assert_eq!(post(&app, TYPENAME, &[("x-forwarded-for", forwarded.as_str())]).await.0, 200);
    }
    for forwarded in ["198.51.100.77", "10.0.0.1", "::1", "garbage"] {
        assert_limited(&post(&app, TYPENAME, &[("x-forwarded-for", forwarded)]).await, forwarded);
    }
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next text message on `ws`, as JSON; `None` once it is closed (or silent for 5 s).
async fn next(ws: &mut Ws) -> Option<Value> {
    match tokio::time::timeout(std::time::Duration::from_secs(5), ws.next()).await {
        Ok(Some(Ok(tokio_tungstenite::tungstenite::Message::Text(text)))) => serde_json::from_str(text.as_str()).ok(),
        _ => None,
    }
}

#[tokio::test]
async fn operations_over_a_websocket_count_as_requests() {
    use futures::SinkExt as _;
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

    let app = spawn(ApiConfig { request_limit: requests(4), ..ApiConfig::default() }).await;
    let mut request = format!("ws://{}/graphql/ws", app.addr).into_client_request().expect("request");
    request.headers_mut().insert("sec-websocket-protocol", "graphql-transport-ws".parse().expect("header"));
    // The upgrade is the first request.
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.expect("connect");
    let init = json!({ "type": "connection_init", "payload": {} });
    ws.send(Message::Text(init.to_string().into())).await.expect("init");
    assert_eq!(next(&mut ws).await.expect("ack")["type"], "connection_ack");
    let mut answers = Vec::new();
    for id in 1..=4 {
        let subscribe = json!({ "id": id.to_string(), "type": "subscribe", "payload": { "query": "{ __typename }" } });
        if ws.send(Message::Text(subscribe.to_string().into())).await.is_err() {
            break;
        }
        match next(&mut ws).await {
            Some(answer) if answer["type"] == "next" => answers.push(answer["payload"]["data"].clone()),
            _ => break,
        }
        let _complete = next(&mut ws).await;
    }
    // Three operations ran (with the upgrade, four requests); the fourth closed the connection.
    assert_eq!(answers.len(), 3, "{answers:?}");
    // And the bucket stays empty for a new connection's upgrade.
    let over = app.client.get(app.url("/graphql?query=%7B__typename%7D")).send().await.expect("get");
    assert_eq!(over.status(), 429);
}
