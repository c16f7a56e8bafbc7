//! Sync item results in the GraphQL codes with the field at fault, dry runs that invent no ids,
//! and an ADMIN importing historical reports with their original submission time.

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::{Value, json};
use workplan_domain::token::AccessRole;
use workplan_tests::TestApp;

const SYNC: &str = "mutation($i: SyncProgressReportsInput!) { syncProgressReports(input: $i) {
  created updated unchanged rejected
  results { outcome code field errorCode message report { id createdAt submittedAt firstSubmittedAt } } } }";
const HISTORY: &str = "query($id: ID!) { node(id: $id) { ... on ProgressReport {
  history { action at changes { field before after } } } } }";
const REVIEW: &str = "mutation($id: ID!, $v: Int!) {
  reviewProgressReport(id: $id, expectedVersion: $v, decision: ACCEPT) { report { state } } }";

fn item(id: &str, task: i32, period: &str) -> Value {
    json!({ "clientReportId": id, "taskNumber": task, "period": period, "status": "ONGOING", "summary": id })
}

fn with(mut v: Value, field: &str, value: Value) -> Value {
    v[field] = value;
    v
}

fn time(v: &Value) -> Option<DateTime<Utc>> {
    v.as_str().map(|s| DateTime::parse_from_rfc3339(s).expect("RFC 3339").with_timezone(&Utc))
}

#[tokio::test]
async fn an_admin_imports_a_report_with_its_original_submission_time() {
    let now = Utc.with_ymd_and_hms(2020, 3, 1, 12, 0, 0).single().expect("time");
    let (app, _clock) = TestApp::spawn_at(now).await;
    let gd = app.token("gd", AccessRole::ProvinceReporter, None, Some("440000")).await;
    let then = Utc.with_ymd_and_hms(2017, 1, 10, 8, 30, 0).single().expect("time");
    let old = json!({ "i": { "reporter": { "provinceCode": "440000" }, "reports": [
        with(item("gd-2016-16", 16, "2016"), "submittedAt", json!(then.to_rfc3339()))
    ] } });
    let d = app.data(SYNC, old).await;
    let r = &d["syncProgressReports"]["results"][0];
    assert_eq!(r["outcome"], "CREATED", "{r}");
    let report = &r["report"];
    for field in ["createdAt", "submittedAt", "firstSubmittedAt"] {
        assert_eq!(time(&report[field]), Some(then), "{field}");
    }
    let h = app.data(HISTORY, json!({ "id": report["id"] })).await;
    let history = h["node"]["history"].as_array().expect("history");
    assert_eq!(history.len(), 1);
    assert_eq!(history[0]["action"], "BACKFILL");
    let submitted = history[0]["changes"].as_array().expect("changes").iter().find(|c| c["field"] == "submittedAt");
    assert_eq!(submitted.map(|c| time(&c["after"])), Some(Some(then)), "{history:?}");

    // Only an admin may say when; nor may it be in the future.
    let own =
        json!({ "i": { "reports": [with(item("gd-2016-17", 17, "2016"), "submittedAt", json!(then.to_rfc3339()))] } });
    let r = app.data_as(Some(&gd), SYNC, own).await["syncProgressReports"]["results"][0].clone();
    assert_eq!((r["outcome"].as_str(), r["code"].as_str()), (Some("REJECTED"), Some("FORBIDDEN")), "{r}");
    let later = (now + Duration::days(1)).to_rfc3339();
    let future = json!({ "i": { "reporter": { "provinceCode": "440000" }, "reports": [with(item("gd-x", 17, "2016"), "submittedAt", json!(later))] } });
    let r = app.data(SYNC, future).await["syncProgressReports"]["results"][0].clone();
    assert_eq!((r["code"].as_str(), r["field"].as_str()), (Some("BAD_USER_INPUT"), Some("submittedAt")), "{r}");
    // Nor before the period it reports on began (2016 starts at 2015-12-31T16:00Z, CST midnight).
    let early = json!({ "i": { "reporter": { "provinceCode": "440000" }, "reports": [with(item("gd-y", 17, "2016"), "submittedAt", json!("2015-12-31T15:59:59Z"))] } });
    let r = app.data(SYNC, early).await["syncProgressReports"]["results"][0].clone();
    assert_eq!((r["code"].as_str(), r["field"].as_str()), (Some("BAD_USER_INPUT"), Some("submittedAt")), "{r}");
}

#[tokio::test]
async fn item_results_carry_the_graphql_code_and_field_and_dry_runs_no_new_ids() {
    let app = TestApp::spawn().await;
    let gd = app.token("gd", AccessRole::ProvinceReporter, None, Some("440000")).await;
    let d = app.data_as(Some(&gd), SYNC, json!({ "i": { "reports": [item("a", 16, "2016")] } })).await;
    let a = d["syncProgressReports"]["results"][0]["report"]["id"].clone();
    app.data(REVIEW, json!({ "id": a, "v": 1 })).await;

    let mut bad_url = item("c", 18, "2016");
    bad_url["evidenceUrls"] = json!(["ftp://x.org/a"]);
    let batch = json!({ "i": { "dryRun": true, "reports": [
        with(item("a", 16, "2016"), "summary", json!("changed")),
        item("b", 17, "2016"),
        bad_url,
        item("d", 107, "2016"),
        item("e", 17, "2016-Q9"),
    ] } });
    let s = app.data_as(Some(&gd), SYNC, batch).await["syncProgressReports"].clone();
    let got: Vec<(Value, Value, Value, Value)> = s["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| (r["outcome"].clone(), r["code"].clone(), r["field"].clone(), r["errorCode"].clone()))
        .collect();
    assert_eq!(
        got,
        [
            (json!("REJECTED"), json!("CONFLICT"), Value::Null, json!("LOCKED")),
            (json!("CREATED"), Value::Null, Value::Null, Value::Null),
            (json!("REJECTED"), json!("BAD_USER_INPUT"), json!("evidenceUrls[0]"), json!("BAD_USER_INPUT")),
            (json!("REJECTED"), json!("NOT_FOUND"), json!("taskNumber"), json!("NOT_FOUND")),
            (json!("REJECTED"), json!("BAD_USER_INPUT"), json!("period"), json!("BAD_USER_INPUT")),
        ]
    );
    // The locked report is named; the one a dry run would create has no id.
    assert_eq!(s["results"][0]["report"]["id"], a);
    assert_eq!(s["results"][1]["report"], Value::Null);
    let n = app.data("{ progressReports { totalCount } }", json!({})).await;
    assert_eq!(n["progressReports"]["totalCount"], 1, "a dry run writes nothing");
}
