//! Hostile and careless requests: oversized, deep, wide, aliased, batched, malformed and
//! mis-typed. Each must be refused with the right status and code, quickly, and the server must
//! still answer afterwards.

mod rate_limits;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use workplan_tests::TestApp;

mod input;
mod leaks;

/// Sends a raw POST body; returns status, body and time taken.
async fn post(app: &TestApp, body: String) -> (u16, Value, Duration) {
    let start = Instant::now();
    let r = app
        .client
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("send");
    let status = r.status().as_u16();
    let body = r.json().await.unwrap_or(Value::Null);
    (status, body, start.elapsed())
}

async fn still_serving(app: &TestApp) {
    let d = app.data_as(None, "{ plan { taskCount } }", json!({})).await;
    assert_eq!(d["plan"]["taskCount"], 106, "the server still answers");
}

fn query(q: &str) -> String {
    json!({ "query": q }).to_string()
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or_default()
}

const QUICK: Duration = Duration::from_secs(5);

#[tokio::test]
async fn deep_nesting_never_reaches_the_parser() {
    let app = TestApp::spawn().await;
    // Well under the document size limit, so the nesting check itself must refuse these.
    let n = 10_000;
    let cases = [
        ("list argument", format!("{{ task(number: {}1{}) {{ number }} }}", "[".repeat(n), "]".repeat(n))),
        (
            "object argument",
            format!("{{ tasks(filter: {}) {{ totalCount }} }}", "{a:".repeat(n) + "1" + &"}".repeat(n)),
        ),
        ("variable default", format!("query($v: Int = {}1{}) {{ plan {{ id }} }}", "[".repeat(n), "]".repeat(n))),
        ("selections", format!("{}{}", "{a".repeat(n), "}".repeat(n))),
        ("parentheses", format!("{{ plan{} }}", "(".repeat(n))),
    ];
    for (what, q) in cases {
        let body = query(&q);
        let (status, body_json, took) = post(&app, body).await;
        assert_eq!(status, 400, "{what}");
        assert_eq!(body_json["errors"][0]["extensions"]["limit"], "maxNesting", "{what}");
        assert_eq!(code(&body_json), "BAD_USER_INPUT", "{what}");
        assert!(took < QUICK, "{what} took {took:?}");
    }
    // Just under the limit parses and is judged normally.
    let ok = format!("{{ task(number: {}1{}) {{ number }} }}", "[".repeat(60), "]".repeat(60));
    let (status, body, _) = post(&app, query(&ok)).await;
    assert_eq!(status, 200);
    assert_eq!(code(&body), "BAD_USER_INPUT", "a type error, reported as one");
    // Deep variables.
    let mut v = json!(1);
    for _ in 0..100 {
        v = json!([v]);
    }
    let (status, _, _) =
        post(&app, json!({ "query": "query($x: Int) { plan { id } }", "variables": { "x": v } }).to_string()).await;
    assert_eq!(status, 400);
    // JSON nested past serde's own limit is simply not JSON we accept.
    let deep_json = format!(
        "{{\"query\":\"{{plan{{id}}}}\",\"variables\":{{\"x\":{}1{}}}}}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let (status, _, took) = post(&app, deep_json).await;
    assert_eq!(status, 400);
    assert!(took < QUICK);
    // And over GET.
    let deep = format!("{{ task(number: {}1{}) {{ number }} }}", "[".repeat(5000), "]".repeat(5000));
    let r = app.client.get(app.url("/graphql")).query(&[("query", deep.as_str())]).send().await.expect("get");
    assert_eq!(r.status(), 400);
    still_serving(&app).await;
}

#[tokio::test]
async fn wide_aliased_and_long_documents_are_refused() {
    let app = TestApp::spawn().await;
    let many_tokens = format!("{{ plan {{ {} }} }}", "id ".repeat(20_000));
    let (status, body, _) = post(&app, query(&many_tokens)).await;
    assert_eq!((status, body["errors"][0]["extensions"]["limit"].as_str()), (400, Some("maxTokens")));
    let aliases = format!("{{ plan {{ {} }} }}", (0..100).map(|i| format!("a{i}: id")).collect::<Vec<_>>().join(" "));
    let (status, body, _) = post(&app, query(&aliases)).await;
    assert_eq!((status, body["errors"][0]["extensions"]["limit"].as_str()), (400, Some("maxAliases")));
    let roots = format!("{{ {} }}", (0..40).map(|i| format!("p{i}: plan {{ id }}")).collect::<Vec<_>>().join(" "));
    let (status, body, _) = post(&app, query(&roots)).await;
    assert_eq!((status, body["errors"][0]["extensions"]["limit"].as_str()), (400, Some("maxRootFields")));
    let long = format!("{{ plan {{ id }} }} #{}", "x".repeat(70_000));
    let (status, body, _) = post(&app, query(&long)).await;
    assert_eq!((status, body["errors"][0]["extensions"]["limit"].as_str()), (413, Some("maxDocumentBytes")));
    let directives = format!("{{ plan {} {{ id }} }}", "@include(if: true) ".repeat(20));
    let (status, body, _) = post(&app, query(&directives)).await;
    assert_eq!(status, 200);
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    still_serving(&app).await;
}

#[tokio::test]
async fn deep_and_costly_selections_are_refused() {
    let app = TestApp::spawn().await;
    let mut deep = "number".to_owned();
    for _ in 0..12 {
        deep = format!("section {{ tasks(first: 1) {{ nodes {{ {deep} }} }} }}");
    }
    let (status, body, took) = post(&app, query(&format!("{{ task(number: 1) {{ {deep} }} }}"))).await;
    assert_eq!(status, 200);
    assert_eq!(code(&body), "BAD_USER_INPUT", "too deep: {body}");
    assert!(took < QUICK);
    let costly = "{ tasks(first: 100) { nodes { reports(first: 100) { nodes { task { reports(first: 100) { nodes { id summary } } } } } } } }";
    let (status, body, _) = post(&app, query(costly)).await;
    assert_eq!(status, 200);
    assert!(body["errors"][0]["message"].as_str().is_some_and(|m| m.contains("omplex")), "{body}");
    assert_eq!(code(&body), "BAD_USER_INPUT");
    // The refusal says what the query costs and what it may cost.
    let extensions = &body["errors"][0]["extensions"];
    let (cost, limit) = (extensions["cost"].as_u64(), extensions["limit"].as_u64());
    assert_eq!(limit, Some(150_000), "{body}");
    assert!(cost > limit, "{body}");
    // With the new media type, a refused query is a 400, as any request that never ran.
    let r = app
        .client
        .post(app.url("/graphql"))
        .header("accept", "application/graphql-response+json")
        .json(&json!({ "query": costly }))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 400);
    let huge_page = "{ tasks(first: 1000) { totalCount } }";
    let (_, body, _) = post(&app, query(huge_page)).await;
    assert_eq!(code(&body), "BAD_USER_INPUT");
    still_serving(&app).await;
}

/// What a dashboard shows of each task.
const DASHBOARD_TASK: &str = "number text responsibilities { role agency { name abbreviation } } \
                              latestReport { period status percentComplete submittedAt }";

#[tokio::test]
async fn the_whole_plan_is_one_query_in_production() {
    let db = workplan_tests::TestDb::create().await.expect("db");
    let config = workplan_api::config::ApiConfig::default().production();
    let app = TestApp::spawn_with(db, workplan_server::store_options(3), config).await;
    // An accepted report, so that anonymous callers see it.
    let submitted = app
        .data(
            "mutation($i: SubmitProgressReportInput!) { submitProgressReport(input: $i) { report { id version } } }",
            json!({ "i": { "taskNumber": 106, "reporter": { "provinceCode": "440000" }, "period": "2016",
                           "status": "ONGOING", "summary": "s" } }),
        )
        .await;
    let report = &submitted["submitProgressReport"]["report"];
    app.data(
        "mutation($id: ID!, $v: Int!) { reviewProgressReport(id: $id, expectedVersion: $v, decision: ACCEPT) { report { state } } }",
        json!({ "id": report["id"], "v": report["version"] }),
    )
    .await;
    let numbers = |tasks: Vec<&Value>| {
        let mut n: Vec<i64> = tasks.iter().filter_map(|t| t["number"].as_i64()).collect();
        n.sort_unstable();
        n
    };
    let nodes = |v: &Value| v["tasks"]["nodes"].as_array().cloned().unwrap_or_default();

    let nested = format!(
        "{{ sections {{ numeral title subsections {{ numeral title tasks(first: 200) {{ nodes {{ {DASHBOARD_TASK} }} }} }} }} }}"
    );
    let d = app.data_as(None, &nested, json!({})).await;
    let subsections: Vec<Value> = d["sections"]
        .as_array()
        .expect("sections")
        .iter()
        .flat_map(|s| s["subsections"].as_array().cloned().unwrap_or_default())
        .collect();
    let tasks: Vec<Value> = subsections.iter().flat_map(nodes).collect();
    assert_eq!(numbers(tasks.iter().collect()), (1..=106).collect::<Vec<_>>(), "every task, once");
    let last = tasks.iter().find(|t| t["number"] == 106).expect("task 106");
    assert_eq!(last["latestReport"]["period"], "2016");
    assert!(last["responsibilities"][0]["agency"]["name"].is_string());

    let flat = format!("{{ tasks(first: 200) {{ totalCount nodes {{ {DASHBOARD_TASK} }} }} }}");
    let d = app.data_as(None, &flat, json!({})).await;
    assert_eq!(d["tasks"]["totalCount"], 106);
    assert_eq!(numbers(nodes(&d).iter().collect()), (1..=106).collect::<Vec<_>>());
    // The largest page is 200.
    let (_, body, _) = post(&app, query("{ tasks(first: 201) { totalCount } }")).await;
    assert_eq!(code(&body), "BAD_USER_INPUT");
}

#[tokio::test]
async fn malformed_batched_and_mistyped_requests() {
    let app = TestApp::spawn().await;
    for (what, body, status) in [
        ("not JSON", "{\"query\":".to_owned(), 400),
        ("JSON but not an object", "42".to_owned(), 400),
        ("no query", "{\"variables\":{}}".to_owned(), 400),
        ("query not a string", "{\"query\":7}".to_owned(), 400),
        ("batched", json!([{ "query": "{ plan { id } }" }, { "query": "{ plan { id } }" }]).to_string(), 400),
        ("variables not an object", json!({ "query": "{ plan { id } }", "variables": [1] }).to_string(), 400),
        ("NUL in the document", json!({ "query": "{ plan { id\u{0} } }" }).to_string(), 400),
        ("invalid UTF-8", String::from_utf8_lossy(b"{\"query\":\"\xff\xfe\"}").into_owned(), 200),
    ] {
        let (got, body, took) = post(&app, body).await;
        assert_eq!(got, status, "{what}: {body}");
        if got != 200 {
            assert_eq!(code(&body), "BAD_USER_INPUT", "{what}");
        }
        assert!(took < QUICK, "{what}");
    }
    for (q, vars) in [
        ("query($n: Int!) { task(number: $n) { number } }", json!({ "n": "seven" })),
        ("query($n: Int!) { task(number: $n) { number } }", json!({ "n": 1e40 })),
        ("query($n: Int!) { task(number: $n) { number } }", json!({})),
        ("{ task(number: \"1\") { number } }", json!({})),
        ("{ nope }", json!({})),
        ("{ plan { id ", json!({})),
        ("mutation { nope }", json!({})),
    ] {
        let body = app.graphql_as(None, q, vars.clone()).await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{q} {vars}: {body}");
        let text = body.to_string();
        assert!(
            !text.contains("sqlx") && !text.contains("SELECT") && !text.contains("/src/"),
            "no internals leak: {text}"
        );
    }
    still_serving(&app).await;
}

#[tokio::test]
async fn oversized_bodies_are_refused_on_the_graphql_route() {
    let app = TestApp::spawn().await;
    let big = json!({ "query": "{ plan { id } }", "variables": { "x": "a".repeat(2 << 20) } }).to_string();
    let (status, _, took) = post(&app, big).await;
    assert_eq!(status, 413);
    assert!(took < QUICK);
    still_serving(&app).await;
}

#[tokio::test]
async fn a_slow_request_times_out_cleanly() {
    let db = workplan_tests::TestDb::create().await.expect("db");
    let mut config = workplan_api::config::ApiConfig::default();
    config.limits.request_timeout = Duration::from_secs(10);
    let setup = TestApp::spawn_with(db, workplan_server::store_options(3), config.clone()).await;
    // Reports, so that the request below needs several database waves one after another (the
    // page, then each report's history and task's reports, then theirs): it cannot be done in
    // one poll, however late a busy machine gets round to the timer.
    let submit = "mutation($i: SubmitProgressReportInput!) { submitProgressReport(input: $i) { report { id } } }";
    for task in 1..=3 {
        let input = json!({ "i": { "taskNumber": task, "period": "2016-Q4", "status": "IN_PROGRESS", "summary": "s",
            "reporter": { "provinceCode": "440000" } } });
        setup.data_as(Some(&setup.admin), submit, input).await;
    }
    // A second server on the same database, whose requests may take 1 ms.
    config.limits.request_timeout = Duration::from_millis(1);
    let listen = "127.0.0.1:0".parse().expect("addr");
    let hurried =
        workplan_server::Application::build(setup.db.url(), listen, &workplan_server::store_options(3), config)
            .await
            .expect("a second server");
    let url = format!("http://{}/graphql", hurried.local_addr().expect("addr"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(hurried.run_until(async move {
        let _ = stopped.await;
    }));
    let q = "{ progressReports(first: 5) { nodes { history { action } task { reports(first: 5) {
      nodes { history { action } task { reports(first: 5) { totalCount } } } } } } } }";
    let start = Instant::now();
    let r = setup
        .client
        .post(&url)
        .bearer_auth(&setup.admin)
        .header("content-type", "application/json")
        .body(query(q))
        .send()
        .await
        .expect("send");
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    assert_eq!(status, 504, "{body}");
    assert_eq!(code(&body), "INTERNAL");
    assert!(start.elapsed() < QUICK);
    let _ = stop.send(());
}

#[tokio::test]
async fn production_hides_introspection_and_suggestions_from_anonymous_callers() {
    let db = workplan_tests::TestDb::create().await.expect("db");
    let config = workplan_api::config::ApiConfig::default().production();
    let app = TestApp::spawn_with(db, workplan_server::store_options(3), config).await;
    let intro = "{ __schema { queryType { name } } }";
    // Refused as a request error (no `data` entry), never a silent null in a non-null field:
    // with application/json the status is 200, with the GraphQL response media type a 4xx.
    for query in
        [intro, "{ tasks(first: 1) { nodes { number } } ...F } fragment F on Query { __type(name: \"Task\") { name } }"]
    {
        let anon = app.graphql_as(None, query, json!({})).await;
        assert!(anon.get("data").is_none(), "{anon}");
        assert_eq!(anon["errors"][0]["extensions"]["code"], "FORBIDDEN", "{anon}");
        assert_eq!(anon["errors"][0]["message"], "introspection needs a token", "{anon}");
    }
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("accept", "application/graphql-response+json")
        .json(&json!({ "query": intro }))
        .send()
        .await
        .expect("send");
    assert!(response.status().is_client_error(), "{}", response.status());
    assert_eq!(app.graphql_as(None, "{ __typename }", json!({})).await["data"]["__typename"], "Query");
    let staff = app.data(intro, json!({})).await;
    assert_eq!(staff["__schema"]["queryType"]["name"], "Query");
    let typo = app.graphql_as(None, "{ plam { id } }", json!({})).await;
    assert!(!typo.to_string().contains("Did you mean"), "{typo}");
    let dev = TestApp::spawn().await;
    let typo = dev.graphql_as(None, "{ plam { id } }", json!({})).await;
    assert!(typo.to_string().contains("Did you mean"), "suggestions stay on outside production: {typo}");
}

#[tokio::test]
async fn costly_callers_are_rate_limited_per_token_and_per_ip() {
    let db = workplan_tests::TestDb::create().await.expect("db");
    let config = workplan_api::config::ApiConfig {
        rate_limit: Some(workplan_api::rate::RateLimit::new(3000, 1.0).expect("a valid limit")),
        ..Default::default()
    };
    let app = TestApp::spawn_with(db, workplan_server::store_options(3), config).await;
    let q = "{ tasks(first: 100) { nodes { number text } } }"; // costs about 100 × 3
    let mut limited = None;
    for i in 0..20 {
        let r = app.client.post(app.url("/graphql")).json(&json!({ "query": q })).send().await.expect("send");
        if r.status() == 429 {
            limited = Some((i, r));
            break;
        }
        assert_eq!(r.status(), 200);
    }
    let (i, r) = limited.expect("an anonymous caller is limited");
    assert!(i >= 5, "the bucket allowed some requests first ({i})");
    let retry: u64 = r.headers()["retry-after"].to_str().expect("text").parse().expect("seconds");
    assert!(retry >= 1);
    let body: Value = r.json().await.expect("json");
    assert_eq!(code(&body), "RATE_LIMITED");
    // Another caller (a token) has its own bucket.
    let d = app.data(q, json!({})).await;
    assert_eq!(d["tasks"]["nodes"].as_array().map(Vec::len), Some(100));
}

#[tokio::test]
async fn introspection_can_be_turned_off_for_everyone() {
    let db = workplan_tests::TestDb::create().await.expect("db");
    let config = workplan_api::config::ApiConfig {
        introspection: workplan_api::config::Introspection::Off,
        ..Default::default()
    };
    let app = TestApp::spawn_with(db, workplan_server::store_options(3), config).await;
    let staff = app.graphql("{ __schema { queryType { name } } }", json!({})).await;
    assert!(staff.get("errors").is_some() || staff["data"]["__schema"].is_null(), "{staff}");
    still_serving(&app).await;
}

mod websocket {
    use futures::{SinkExt as _, StreamExt as _};
    use serde_json::{Value, json};
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
    use workplan_tests::TestApp;

    type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

    async fn connect(app: &TestApp, init: Value) -> Ws {
        let mut request = format!("ws://{}/graphql/ws", app.addr).into_client_request().expect("request");
        request.headers_mut().insert("sec-websocket-protocol", "graphql-transport-ws".parse().expect("header"));
        let (mut ws, _) = tokio_tungstenite::connect_async(request).await.expect("connect");
        ws.send(Message::Text(json!({ "type": "connection_init", "payload": init }).to_string().into()))
            .await
            .expect("init");
        ws
    }

    async fn next_json(ws: &mut Ws) -> Option<Value> {
        loop {
            match tokio::time::timeout(std::time::Duration::from_secs(5), ws.next()).await.ok()?? {
                Ok(Message::Text(t)) => return serde_json::from_str(t.as_str()).ok(),
                Ok(Message::Close(_)) | Err(_) => return None,
                Ok(_) => {}
            }
        }
    }

    #[tokio::test]
    async fn queries_run_over_graphql_ws_with_a_token_in_connection_init() {
        let app = TestApp::spawn().await;
        let mut ws = connect(&app, json!({ "Authorization": format!("Bearer {}", app.admin) })).await;
        assert_eq!(next_json(&mut ws).await.expect("ack")["type"], "connection_ack");
        let sub =
            json!({ "id": "1", "type": "subscribe", "payload": { "query": "{ viewer { role } plan { taskCount } }" } });
        ws.send(Message::Text(sub.to_string().into())).await.expect("send");
        let next = next_json(&mut ws).await.expect("next");
        assert_eq!(next["type"], "next");
        assert_eq!(next["payload"]["data"], json!({ "viewer": { "role": "ADMIN" }, "plan": { "taskCount": 106 } }));
    }

    #[tokio::test]
    async fn deep_or_oversized_messages_close_the_connection_before_parsing() {
        let app = TestApp::spawn().await;
        for query in [
            format!("{{ task(number: {}1{}) {{ number }} }}", "[".repeat(10_000), "]".repeat(10_000)),
            format!("{{ plan {{ {} }} }}", (0..100).map(|i| format!("a{i}: id")).collect::<Vec<_>>().join(" ")),
        ] {
            let mut ws = connect(&app, json!({})).await;
            assert_eq!(next_json(&mut ws).await.expect("ack")["type"], "connection_ack");
            let sub = json!({ "id": "1", "type": "subscribe", "payload": { "query": query } });
            let _ = ws.send(Message::Text(sub.to_string().into())).await;
            assert!(next_json(&mut ws).await.is_none(), "the connection is closed, nothing answered");
        }
        let mut deep_init = json!(1);
        for _ in 0..100 {
            deep_init = json!([deep_init]);
        }
        let mut ws = connect(&app, json!({ "x": deep_init })).await;
        assert!(next_json(&mut ws).await.is_none(), "a deep connection_init payload closes the connection");
        let d = app.data_as(None, "{ plan { taskCount } }", json!({})).await;
        assert_eq!(d["plan"]["taskCount"], 106, "the server still answers");
    }

    #[tokio::test]
    async fn a_bad_token_in_connection_init_is_refused() {
        let app = TestApp::spawn().await;
        let mut ws = connect(&app, json!({ "Authorization": "Bearer wpt_nope" })).await;
        let first = next_json(&mut ws).await;
        assert!(first.as_ref().is_none_or(|m| m["type"] != "connection_ack"), "{first:?}");
    }
}
