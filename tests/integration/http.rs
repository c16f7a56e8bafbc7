use serde_json::{Value, json};
use workplan_tests::TestApp;

#[tokio::test]
async fn get_runs_queries_but_never_mutations() {
    let app = TestApp::spawn().await;
    let r = app
        .client
        .get(app.url("/graphql"))
        .query(&[("query", "{ task(number: 3) { number } }")])
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["data"]["task"]["number"], 3);

    let mutation = r#"mutation { submitProgressReport(input: { taskNumber: 1, reporter: { provinceCode: "110000" }, period: "2016", status: ONGOING, summary: "x" }) { report { id } } }"#;
    let r = app.client.get(app.url("/graphql")).query(&[("query", mutation)]).send().await.expect("get");
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers().get("allow").and_then(|v| v.to_str().ok()), Some("POST"));
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    // Named operations: the selected one decides.
    let doc = format!("query Q {{ plan {{ id }} }} {mutation}");
    let doc = doc.replacen("mutation {", "mutation M {", 1);
    let r = app
        .client
        .get(app.url("/graphql"))
        .query(&[("query", doc.as_str()), ("operationName", "M")])
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 405);
    let r = app
        .client
        .get(app.url("/graphql"))
        .query(&[("query", doc.as_str()), ("operationName", "Q")])
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 200);
    let count = app.data("{ progressReports { totalCount } }", json!({})).await;
    assert_eq!(count["progressReports"]["totalCount"], 0, "nothing was written through GET");
}

#[tokio::test]
async fn content_types_and_accept() {
    let app = TestApp::spawn().await;
    let post = |content_type: &'static str, accept: Option<&'static str>, body: &'static str| {
        let mut req = app.client.post(app.url("/graphql")).header("content-type", content_type).body(body);
        if let Some(a) = accept {
            req = req.header("accept", a);
        }
        req.send()
    };
    let q = r#"{"query":"{ plan { documentNumber } }"}"#;
    assert_eq!(post("text/plain", None, q).await.expect("send").status(), 415);
    assert_eq!(
        post("application/x-www-form-urlencoded", None, "query=%7Bplan%7Bid%7D%7D").await.expect("send").status(),
        415
    );
    assert_eq!(post("application/graphql", None, "{ plan { id } }").await.expect("send").status(), 415);

    let r = post("application/json", Some("application/graphql-response+json"), q).await.expect("send");
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/graphql-response+json");
    let r = post("application/json; charset=utf-8", Some("application/json"), q).await.expect("send");
    assert_eq!(r.headers()["content-type"], "application/json");
    let r = post("application/json", None, q).await.expect("send");
    assert_eq!(r.headers()["content-type"], "application/json");
    assert_eq!(post("application/json", Some("text/html"), q).await.expect("send").status(), 406);

    // Unparsable or invalid requests.
    assert_eq!(post("application/json", None, "{not json").await.expect("send").status(), 400);
    assert_eq!(post("application/json", None, r#"[{"query":"{ plan { id } }"}]"#).await.expect("send").status(), 400);
    assert_eq!(post("application/json", None, r#"{"variables":{}}"#).await.expect("send").status(), 400);
    let r = post("application/json", Some("application/graphql-response+json"), r#"{"query":"{ plan { nope } }"}"#)
        .await
        .expect("send");
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    let r = post("application/json", Some("application/json"), r#"{"query":"{ plan { nope } }"}"#).await.expect("send");
    assert_eq!(r.status(), 200);
    let r = post("application/json", None, r#"{"query":"{ plan { "}"#).await.expect("send");
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
}

#[tokio::test]
async fn oversized_body_is_refused() {
    let app = TestApp::spawn().await;
    let big = format!(r#"{{"query":"{{ plan {{ id }} }}","variables":{{"x":"{}"}}}}"#, "a".repeat(2 << 20));
    let r = app
        .client
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 413);
    assert_eq!(app.client.get(app.url("/healthz")).send().await.expect("send").status(), 200, "still serving");
}

#[tokio::test]
async fn graphiql_is_served_from_the_binary() {
    let app = TestApp::spawn().await;
    for path in ["/", "/graphiql"] {
        let r = app.client.get(app.url(path)).send().await.expect("get");
        assert_eq!(r.status(), 200);
        assert!(r.headers()["content-type"].to_str().unwrap_or_default().starts_with("text/html"));
        let html = r.text().await.expect("text");
        assert!(html.contains("/graphiql/assets/graphiql.min.js"));
        assert!(
            !html.contains("src=\"http") && !html.contains("href=\"http") && !html.contains("//cdn"),
            "no CDN references"
        );
        assert!(html.contains("query Dashboard") && html.contains("submitProgressReport"), "example operations");
    }
    for (file, ty) in [
        ("graphiql.min.js", "text/javascript"),
        ("graphiql.min.css", "text/css"),
        ("react.production.min.js", "text/javascript"),
        ("react-dom.production.min.js", "text/javascript"),
    ] {
        let r = app.client.get(app.url(&format!("/graphiql/assets/{file}"))).send().await.expect("get");
        assert_eq!(r.status(), 200, "{file}");
        assert!(r.headers()["content-type"].to_str().unwrap_or_default().starts_with(ty), "{file}");
        assert!(r.bytes().await.expect("bytes").len() > 5000, "{file}");
    }
    assert_eq!(app.client.get(app.url("/graphiql/assets/../Cargo.toml")).send().await.expect("get").status(), 404);
    assert_eq!(app.client.get(app.url("/graphiql/assets/nope.js")).send().await.expect("get").status(), 404);
}

#[tokio::test]
async fn health_and_readiness() {
    let app = TestApp::spawn().await;
    assert_eq!(app.client.get(app.url("/healthz")).send().await.expect("get").status(), 200);
    assert_eq!(app.client.get(app.url("/readyz")).send().await.expect("get").status(), 200);
    let r = app.client.get(app.url("/graphql")).query(&[("query", "{ plan { id } }")]).send().await.expect("get");
    assert!(r.headers().get("x-request-id").is_some(), "responses carry a request id");
}

#[tokio::test]
async fn restarting_on_the_same_database_changes_nothing() {
    let app = TestApp::spawn().await;
    let before = app.data("{ plan { id taskCount agencyCount } provinces { id } }", json!({})).await;
    // Prepare the same database again, as a second `serve` would.
    let again = workplan_server::prepare_database(app.db.url(), &workplan_server::store_options(2))
        .await
        .expect("prepare again");
    drop(again);
    let after = app.data("{ plan { id taskCount agencyCount } provinces { id } }", json!({})).await;
    assert_eq!(before, after);
}

/// Replicas started together on a fresh PostgreSQL database take turns preparing it (an
/// advisory lock): without the lock two of them race to create the same tables and load the
/// same plan, and one fails. SQLite is one process's file, so this is PostgreSQL only.
#[tokio::test]
async fn replicas_started_together_prepare_a_fresh_database_once() {
    use sea_orm::ConnectionTrait as _;

    let db = workplan_tests::TestDb::create().await.expect("a database");
    if !db.is_postgres() {
        return;
    }
    let options = workplan_server::store_options(3);
    let starts = (0..4).map(|_| workplan_server::prepare_database(db.url(), &options));
    let stores = futures::future::join_all(starts).await;
    for store in &stores {
        if let Err(error) = store {
            panic!("a replica failed to prepare the database: {error:#}");
        }
    }
    let admin = sea_orm::Database::connect(db.url()).await.expect("connect");
    let count = |sql: &'static str| {
        let admin = &admin;
        async move {
            let row = admin
                .query_one_raw(sea_orm::Statement::from_string(sea_orm::DatabaseBackend::Postgres, sql))
                .await
                .expect("query")
                .expect("a row");
            row.try_get_by_index::<i64>(0).expect("a count")
        }
    };
    assert_eq!(count("SELECT count(*) FROM plans").await, 1, "the plan is loaded once");
    assert_eq!(count("SELECT count(*) FROM tasks").await, 106);
    assert_eq!(count("SELECT count(*) FROM provinces").await, 31);
    assert_eq!(
        count(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' \
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        .await,
        0,
        "no replica keeps the preparation lock"
    );
    drop(stores);
    admin.close().await.expect("close");
}

/// The example operations GraphiQL opens with, as written in its page.
fn graphiql_examples(html: &str) -> Vec<(String, Value)> {
    html.split("query: `")
        .skip(1)
        .map(|chunk| {
            let (query, rest) = chunk.split_once('`').expect("closing backtick");
            let next_tab = rest.find("query: `").unwrap_or(rest.len());
            let variables = rest[..next_tab]
                .split_once("variables: `")
                .and_then(|(_, v)| v.split_once('`'))
                .map_or(json!({}), |(v, _)| serde_json::from_str(v).expect("variables are JSON"));
            (query.to_owned(), variables)
        })
        .collect()
}

#[tokio::test]
async fn graphiql_examples_run_without_errors() {
    let app = TestApp::spawn().await;
    let html = app.client.get(app.url("/")).send().await.expect("get").text().await.expect("text");
    let examples = graphiql_examples(&html);
    assert_eq!(
        examples.len(),
        18,
        "dashboard, human keys, task, agency, search, report, viewer, sync, feed, live feed, review queue, \
         calendar, matrix, progress, rollup, scorecard, webhooks and export examples"
    );
    // The supervision tabs read 2016-Q4, which `seed --demo` schedules.
    let schedule = "mutation { scheduleReportingPeriod(input: { period: \"2016-Q4\", dueAt: \"2017-01-16T00:00:00+08:00\" }) { reportingPeriod { version } } }";
    app.data(schedule, json!({})).await;
    assert!(examples[0].0.contains("tasks(first: 200)"), "the first tab is the one-query dashboard");
    assert!(examples[1].0.contains("agencyName") && examples[1].0.contains("sectionNumeral"));
    let human = app.data(&examples[1].0, json!({})).await;
    assert_eq!(human["aqsiq"]["abbreviation"], "AQSIQ");
    assert_eq!(human["commerceLeads"]["totalCount"], 9);
    for (query, variables) in &examples {
        if query.contains("\nsubscription ") {
            // A subscription runs over the WebSocket (tests/integration/subscriptions runs this
            // one); over HTTP it must still be a valid document, refused only for its transport.
            let body = app.graphql(query, variables.clone()).await;
            let message = body["errors"][0]["message"].as_str().unwrap_or_default().to_owned();
            assert!(message.to_lowercase().contains("subscription"), "{query} gave {body}");
            assert!(!message.contains("Unknown field") && !message.contains("Unknown argument"), "{body}");
            continue;
        }
        let data = app.data(query, variables.clone()).await;
        assert!(data.as_object().is_some_and(|o| o.values().all(|v| !v.is_null())), "{query} gave {data}");
    }

    // The dashboard tab also runs in production, anonymously, under its cost limit.
    let db = workplan_tests::TestDb::create().await.expect("db");
    let config = workplan_api::config::ApiConfig::default().production();
    let production = TestApp::spawn_with(db, workplan_server::store_options(3), config).await;
    let dashboard = production.data_as(None, &examples[0].0, json!({})).await;
    let tasks: usize = dashboard["sections"]
        .as_array()
        .expect("sections")
        .iter()
        .flat_map(|s| s["subsections"].as_array().cloned().unwrap_or_default())
        .map(|ss| ss["tasks"]["nodes"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(tasks, 106);
}

#[tokio::test]
async fn cors_is_off_by_default_and_an_explicit_allow_list_when_on() {
    let preflight = |app: &TestApp, origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/graphql"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type,authorization")
            .send()
    };
    let app = TestApp::spawn().await;
    let r = preflight(&app, "https://dash.example").await.expect("send");
    assert!(r.headers().get("access-control-allow-origin").is_none(), "no CORS by default");

    let db = workplan_tests::TestDb::create().await.expect("db");
    let config =
        workplan_api::config::ApiConfig { cors_origins: vec!["https://dash.example".into()], ..Default::default() };
    let app = TestApp::spawn_with(db, workplan_server::store_options(3), config).await;
    let r = preflight(&app, "https://dash.example").await.expect("send");
    assert_eq!(
        r.headers().get("access-control-allow-origin").and_then(|v| v.to_str().ok()),
        Some("https://dash.example")
    );
    let r = preflight(&app, "https://evil.example").await.expect("send");
    assert!(r.headers().get("access-control-allow-origin").is_none(), "other origins get nothing");
}

#[tokio::test]
async fn metrics_in_prometheus_text() {
    let app = TestApp::spawn().await;
    app.data("query Dashboard { plan { taskCount } }", json!({})).await;
    let sync = "mutation($i: SyncProgressReportsInput!) { syncProgressReports(input: $i) { created } }";
    let item =
        json!({ "clientReportId": "m1", "taskNumber": 1, "period": "2016", "status": "ONGOING", "summary": "s" });
    app.data(sync, json!({ "i": { "reports": [item], "reporter": { "provinceCode": "110000" } } })).await;
    let deep = format!("{{ task(number: {}1{}) {{ number }} }}", "[".repeat(100), "]".repeat(100));
    let r = app.client.post(app.url("/graphql")).json(&json!({ "query": deep })).send().await.expect("send");
    assert_eq!(r.status(), 400);
    // OpenMetrics when asked for (the default is the Prometheus text format 0.0.4: otlp.rs in
    // crates/server/tests checks the negotiation).
    let r =
        app.client.get(app.url("/metrics")).header("accept", "application/openmetrics-text").send().await.expect("get");
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap_or_default().starts_with("application/openmetrics-text"));
    let text = r.text().await.expect("text");
    for needle in [
        r#"workplan_graphql_requests_total{operation_type="query",operation_name="Dashboard",outcome="ok"} 1"#,
        r#"workplan_graphql_request_duration_seconds_count{operation_type="query",operation_name="Dashboard"} 1"#,
        r#"workplan_requests_rejected_total{limit="maxNesting"} 1"#,
        r#"workplan_sync_items_total{outcome="CREATED"} 1"#,
        r#"workplan_db_pool_connections{state="idle"}"#,
        "workplan_db_statements_total",
    ] {
        assert!(text.contains(needle), "{needle} missing from\n{text}");
    }
}
