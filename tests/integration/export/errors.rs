//! Bad export requests get a JSON error with a code and a fitting status, never a 500; without
//! public reading anonymous callers are refused; exports are charged to the rate limit.

use serde_json::{Value, json};
use workplan_tests::TestApp;

use super::{EXPORT_URL, SCHEDULE, download, export_url, small_world};

#[tokio::test]
async fn bad_export_requests_get_a_code_and_a_fitting_status_never_a_500() {
    let (app, _clock, sup, _gd) = small_world().await;
    let cases: [(&str, u16, &str); 13] = [
        ("/export/reporting-matrix.csv", 400, "BAD_USER_INPUT"),
        ("/export/reporting-matrix.csv?period=", 400, "BAD_USER_INPUT"),
        ("/export/reporting-matrix.csv?period=2016-Q5", 400, "BAD_USER_INPUT"),
        ("/export/reporting-matrix.xlsx?period=%FF", 400, "BAD_USER_INPUT"),
        ("/export/reporting-matrix.csv?period=2017-Q2", 404, "NOT_FOUND"),
        ("/export/reporting-matrix.csv?period=2016-Q4&period=2016-Q3", 400, "BAD_USER_INPUT"),
        ("/export/reporting-matrix.csv?period=2016-Q4&by=section", 400, "BAD_USER_INPUT"),
        ("/export/rollup.csv?period=2016-Q4", 400, "BAD_USER_INPUT"),
        ("/export/rollup.xlsx?period=2016-Q4&by=county", 400, "BAD_USER_INPUT"),
        ("/export/rollup.csv?period=2018-Q1&by=agency", 404, "NOT_FOUND"),
        ("/export/reporting-matrix.pdf?period=2016-Q4", 404, "NOT_FOUND"),
        ("/export/matrix.csv?period=2016-Q4", 404, "NOT_FOUND"),
        ("/export/reporting-matrix.csv?period=2016-Q4&expires=1&token=sup", 400, "BAD_USER_INPUT"),
    ];
    for (path, status, code) in cases {
        for token in [None, Some(sup.as_str())] {
            assert_eq!(download(&app, path, token).await.error(), (status, code.to_owned()), "{path} {token:?}");
        }
    }
    let forged = download(&app, "/export/reporting-matrix.csv?period=2016-Q4&expires=9999999999&sig=abc", None).await;
    assert_eq!(forged.error(), (401, "UNAUTHENTICATED".into()));
    let error = download(&app, "/export/reporting-matrix.csv?period=2016-Q5", None).await.json();
    assert_eq!(error["errors"][0]["extensions"]["field"], "period");
    let bad_token = download(&app, "/export/rollup.csv?period=2016-Q4&by=section", Some("wpt_nope")).await;
    assert_eq!(bad_token.error(), (401, "UNAUTHENTICATED".into()));

    // exportUrl checks the same things before it signs anything.
    let ask = |vars: Value| {
        let app = &app;
        async move { app.error_as(None, EXPORT_URL, vars).await }
    };
    let error = ask(json!({ "k": "ROLLUP", "p": "2016-Q4", "f": "CSV" })).await;
    assert_eq!(error, ("BAD_USER_INPUT".into(), Some("by".into())));
    let error = ask(json!({ "k": "REPORTING_MATRIX", "p": "2016-Q4", "by": "AGENCY", "f": "CSV" })).await;
    assert_eq!(error, ("BAD_USER_INPUT".into(), Some("by".into())));
    let error = ask(json!({ "k": "REPORTING_MATRIX", "p": "Q4", "f": "CSV" })).await;
    assert_eq!(error, ("BAD_USER_INPUT".into(), Some("period".into())));
    let error = ask(json!({ "k": "REPORTING_MATRIX", "p": "2017-Q2", "f": "XLSX" })).await;
    assert_eq!(error, ("NOT_FOUND".into(), Some("period".into())));
}

#[tokio::test]
async fn without_public_reading_anonymous_exports_and_links_are_refused() {
    let db = workplan_tests::TestDb::create().await.expect("a database");
    let config = workplan_api::config::ApiConfig {
        public_read: false,
        rate_limit: None,
        request_limit: None,
        ..Default::default()
    };
    let app = TestApp::spawn_with(db, workplan_server::store_options(5), config).await;
    app.data(SCHEDULE, json!({ "i": { "period": "2016-Q4", "dueAt": "2017-01-16T00:00:00+08:00" } })).await;
    let path = "/export/reporting-matrix.csv?period=2016-Q4";
    assert_eq!(download(&app, path, None).await.error(), (401, "UNAUTHENTICATED".into()));
    assert_eq!(download(&app, path, Some(&app.admin)).await.status, 200);
    let url = export_url(&app, Some(&app.admin), json!({ "k": "REPORTING_MATRIX", "p": "2016-Q4", "f": "CSV" })).await;
    assert_eq!(download(&app, &url, None).await.status, 200, "a token's link needs no header");
}

#[tokio::test]
async fn exports_are_charged_to_the_callers_rate_limit() {
    let db = workplan_tests::TestDb::create().await.expect("a database");
    let limit = workplan_api::rate::RateLimit::new(60_000, 1.0).expect("a valid limit");
    let config = workplan_api::config::ApiConfig { rate_limit: Some(limit), ..Default::default() };
    let app = TestApp::spawn_with(db, workplan_server::store_options(5), config).await;
    app.data(SCHEDULE, json!({ "i": { "period": "2016-Q4", "dueAt": "2017-01-16T00:00:00+08:00" } })).await;
    let path = "/export/rollup.csv?period=2016-Q4&by=section";
    assert_eq!(download(&app, path, None).await.status, 200);
    let refused = download(&app, path, None).await;
    assert_eq!(refused.error(), (429, "RATE_LIMITED".into()));
    assert!(refused.retry_after.as_deref().and_then(|s| s.parse::<u64>().ok()).is_some_and(|s| s > 0));
    assert_eq!(download(&app, path, Some(&app.admin)).await.status, 200, "each caller has its own bucket");
}
