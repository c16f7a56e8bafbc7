//! The same cases over HTTP and over the WebSocket, with the same answers: the body HTTP
//! answers with is the payload of the socket's `next` message, to the byte of its JSON —
//! anonymous introspection where introspection is off or for tokens only, an operation stopped
//! at the execution timeout, a FORBIDDEN mutation, BAD_USER_INPUT (from the domain and from the
//! parser), NOT_FOUND — and each counts in the metrics alike (one series, one more per
//! transport).

use std::time::Duration;

use serde_json::{Value, json};
use workplan_api::config::{ApiConfig, Introspection};
use workplan_domain::token::AccessRole;
use workplan_tests::TestApp;

use super::{config, metric, open, post, run, spawn};

/// One case: who asks, what, and the code its first error must carry.
struct Case {
    secret: Option<String>,
    query: &'static str,
    variables: Value,
    code: &'static str,
    /// The `/metrics` series the case counts in.
    series: String,
}

/// Runs `case` over HTTP and over a WebSocket; asserts the same answer and one more in the
/// metrics for each; returns HTTP's status.
async fn same_over_both(app: &TestApp, case: &Case) -> u16 {
    let counted = metric(app, &case.series).await;
    let (status, http) = post(app, case.secret.as_deref(), case.query, case.variables.clone()).await;
    assert_eq!(http["errors"][0]["extensions"]["code"], case.code, "{}: {http}", case.query);
    assert_eq!(metric(app, &case.series).await, counted + 1, "HTTP counts in {}", case.series);

    let mut ws = open(app, case.secret.as_deref()).await;
    let socket = run(&mut ws, "1", case.query, case.variables.clone()).await;
    assert_eq!(socket, http, "{}: the socket answers as HTTP does", case.query);
    assert_eq!(metric(app, &case.series).await, counted + 2, "the socket counts in {} too", case.series);
    status
}

fn series(operation_type: &str, name: &str, outcome: &str) -> String {
    format!(
        r#"workplan_graphql_requests_total{{operation_type="{operation_type}",operation_name="{name}",outcome="{outcome}"}}"#
    )
}

const INTROSPECT: &str = "query Introspect { __schema { queryType { name } } }";

#[tokio::test]
async fn anonymous_introspection_is_refused_alike_where_introspection_is_off() {
    let app = spawn(ApiConfig { introspection: Introspection::Off, ..config() }).await;
    for secret in [None, Some(app.admin.clone())] {
        let case = Case {
            secret,
            query: INTROSPECT,
            variables: json!({}),
            code: "FORBIDDEN",
            series: series("query", "Introspect", "invalid"),
        };
        assert_eq!(same_over_both(&app, &case).await, 200);
    }
}

#[tokio::test]
async fn under_the_production_profile_anonymous_introspection_is_refused_alike_and_a_token_may_introspect() {
    let app = spawn(config().production()).await;
    let case = Case {
        secret: None,
        query: INTROSPECT,
        variables: json!({}),
        code: "FORBIDDEN",
        series: series("query", "Introspect", "invalid"),
    };
    same_over_both(&app, &case).await;
    // With a token, the same data over both.
    let (_, http) = post(&app, Some(&app.admin), INTROSPECT, json!({})).await;
    assert_eq!(http["data"]["__schema"]["queryType"]["name"], "Query", "{http}");
    let mut ws = open(&app, Some(&app.admin)).await;
    assert_eq!(run(&mut ws, "1", INTROSPECT, json!({})).await, http);
}

/// Holds the write lock on the reports (on one connection of its own) until dropped: writers
/// wait behind it.
struct WriteLock(sea_orm::DatabaseConnection);

impl WriteLock {
    async fn take(app: &TestApp) -> Self {
        use sea_orm::ConnectionTrait as _;
        let options = sea_orm::ConnectOptions::new(app.db.url()).max_connections(1).min_connections(1).to_owned();
        let db = sea_orm::Database::connect(options).await.expect("connect");
        if app.db.is_postgres() {
            db.execute_unprepared("BEGIN").await.expect("begin");
            db.execute_unprepared("LOCK TABLE progress_reports IN EXCLUSIVE MODE").await.expect("lock");
        } else {
            db.execute_unprepared("BEGIN IMMEDIATE").await.expect("lock");
        }
        Self(db)
    }

    async fn release(self) {
        use sea_orm::ConnectionTrait as _;
        self.0.execute_unprepared("ROLLBACK").await.expect("release");
        self.0.close().await.expect("close");
    }
}

#[tokio::test]
async fn an_operation_past_the_execution_timeout_is_stopped_alike() {
    let limits = workplan_api::limits::Limits {
        request_timeout: Duration::from_millis(300),
        ..workplan_api::limits::Limits::default()
    };
    let app = spawn(ApiConfig { limits, ..config() }).await;
    let gd = app.token("gd", AccessRole::ProvinceReporter, None, Some("440000")).await;
    // The token is used once first: its last use is recorded now, not behind the lock.
    assert_eq!(super::post(&app, Some(&gd), "{ viewer { role } }", json!({})).await.0, 200);
    // The write waits behind the lock past the timeout.
    let lock = WriteLock::take(&app).await;
    let case = Case {
        secret: Some(gd),
        query: "mutation Slow($input: SubmitProgressReportInput!) { submitProgressReport(input: $input) { report { id } } }",
        variables: super::report("2016-09"),
        code: "INTERNAL",
        series: series("mutation", "Slow", "timeout"),
    };
    let status = same_over_both(&app, &case).await;
    lock.release().await;
    assert_eq!(status, 504);
    assert_eq!(super::report_count(&app).await, 0, "the stopped writes wrote nothing");
}

#[tokio::test]
async fn forbidden_bad_input_and_not_found_are_answered_alike() {
    let app = TestApp::spawn().await;
    let gd = app.token("gd", AccessRole::ProvinceReporter, None, Some("440000")).await;
    let submit =
        "mutation Submit($input: SubmitProgressReportInput!) { submitProgressReport(input: $input) { report { id } } }";
    let input = |task: i64, percent: i64| {
        json!({ "input": { "taskNumber": task, "reporter": { "provinceCode": "440000" }, "period": "2016-09",
                           "status": "IN_PROGRESS", "percentComplete": percent, "summary": "Parity." } })
    };
    let cases = [
        Case {
            secret: Some(gd.clone()),
            query: r#"mutation Forbidden { createApiToken(input: { name: "x", role: ADMIN }) { secret } }"#,
            variables: json!({}),
            code: "FORBIDDEN",
            series: series("mutation", "Forbidden", "error"),
        },
        Case {
            secret: Some(gd.clone()),
            query: submit,
            variables: input(16, 150),
            code: "BAD_USER_INPUT",
            series: series("mutation", "Submit", "error"),
        },
        Case {
            secret: Some(gd.clone()),
            query: submit,
            variables: input(107, 10),
            code: "NOT_FOUND",
            series: series("mutation", "Submit", "error"),
        },
        Case {
            secret: None,
            query: "query Broken { task(number: 1) { number }",
            variables: json!({}),
            code: "BAD_USER_INPUT",
            series: series("unknown", "anonymous", "invalid"),
        },
    ];
    for case in &cases {
        assert_eq!(same_over_both(&app, case).await, 200, "{}", case.query);
    }
    // A case that works works alike too, and is counted alike.
    let case = Case {
        secret: Some(gd),
        query: "query Me { viewer { role } }",
        variables: json!({}),
        code: "",
        series: series("query", "Me", "ok"),
    };
    let counted = metric(&app, &case.series).await;
    let (_, http) = post(&app, case.secret.as_deref(), case.query, json!({})).await;
    let mut ws = open(&app, case.secret.as_deref()).await;
    assert_eq!(run(&mut ws, "1", case.query, json!({})).await, http);
    assert_eq!(http["data"]["viewer"]["role"], "PROVINCE_REPORTER", "{http}");
    assert_eq!(metric(&app, &case.series).await, counted + 2);
    assert_eq!(super::report_count(&app).await, 0, "nothing was written");
}

#[tokio::test]
async fn a_subscription_takes_the_stream_path_with_the_same_rules() {
    let app = TestApp::spawn().await;
    // No such subscription field: refused by validation, through the stream path, in its
    // span, with a code, and counted as a subscription.
    let query = "subscription Nothing { noSuchField }";
    let counted = metric(&app, &series("subscription", "Nothing", "invalid")).await;
    let mut ws = open(&app, None).await;
    let payload = run(&mut ws, "1", query, json!({})).await;
    assert!(payload.get("data").is_none(), "{payload}");
    assert_eq!(payload["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{payload}");
    assert_eq!(metric(&app, &series("subscription", "Nothing", "invalid")).await, counted + 1);
    // Introspection in a subscription is gated as anywhere else.
    let app = spawn(ApiConfig { introspection: Introspection::Off, ..config() }).await;
    let mut ws = open(&app, None).await;
    let payload = run(&mut ws, "1", "subscription S { __schema { queryType { name } } }", json!({})).await;
    assert_eq!(payload["errors"][0]["extensions"]["code"], "FORBIDDEN", "{payload}");
    assert_eq!(payload["errors"][0]["message"], "introspection needs a token", "{payload}");
}
