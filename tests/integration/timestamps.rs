//! Report times on a manual clock: created, last submitted and first submitted, and the orders
//! that follow the submission time (latest report, review queue).

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::{Value, json};
use workplan_domain::token::AccessRole;
use workplan_tests::TestApp;

const SUBMIT: &str = "mutation($i: SubmitProgressReportInput!) { submitProgressReport(input: $i) {
  report { id version state createdAt submittedAt firstSubmittedAt } } }";
const PATCH: &str = "mutation($id: ID!, $v: Int!, $p: ProgressReportPatch!) {
  updateProgressReport(id: $id, expectedVersion: $v, patch: $p) { report { version state createdAt submittedAt firstSubmittedAt } } }";
const REVIEW: &str = "mutation($id: ID!, $v: Int!, $d: ReviewDecision!, $c: String) {
  reviewProgressReport(id: $id, expectedVersion: $v, decision: $d, comment: $c) { report { version state } } }";

/// 2017-01-05 06:58:15 UTC.
fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2017, 1, 5, 6, 58, 15).single().expect("valid time")
}

/// A time field of `report`, parsed; `None` when null.
fn time(report: &Value, field: &str) -> Option<DateTime<Utc>> {
    report[field].as_str().map(|s| DateTime::parse_from_rfc3339(s).expect("RFC 3339").with_timezone(&Utc))
}

fn input(task: i32, period: &str, draft: bool) -> Value {
    json!({ "i": { "taskNumber": task, "period": period, "status": "IN_PROGRESS", "summary": "s", "asDraft": draft } })
}

#[tokio::test]
async fn a_draft_submitted_later_is_timed_by_its_submission() {
    let (app, clock) = TestApp::spawn_at(t0()).await;
    let gd = app.token("gd", AccessRole::ProvinceReporter, None, Some("440000")).await;
    let sup = app.token("sup", AccessRole::Supervisor, None, None).await;
    let d = app.data_as(Some(&gd), SUBMIT, input(16, "2016-Q4", true)).await;
    let draft = &d["submitProgressReport"]["report"];
    let id = draft["id"].clone();
    assert_eq!(time(draft, "createdAt"), Some(t0()));
    assert_eq!((time(draft, "submittedAt"), time(draft, "firstSubmittedAt")), (None, None), "{draft}");

    clock.advance(Duration::seconds(3));
    let d = app.data_as(Some(&gd), PATCH, json!({ "id": id, "v": 1, "p": { "submit": true } })).await;
    let submitted = &d["updateProgressReport"]["report"];
    assert_eq!(submitted["state"], "SUBMITTED");
    assert_eq!(time(submitted, "createdAt"), Some(t0()));
    assert_eq!(time(submitted, "submittedAt"), Some(t0() + Duration::seconds(3)));
    assert_eq!(time(submitted, "firstSubmittedAt"), Some(t0() + Duration::seconds(3)));

    // Returned and resubmitted: the last submission moves, the first stays.
    clock.advance(Duration::minutes(10));
    app.data_as(Some(&sup), REVIEW, json!({ "id": id, "v": 2, "d": "RETURN", "c": "More." })).await;
    clock.advance(Duration::hours(2));
    let d = app.data_as(Some(&gd), PATCH, json!({ "id": id, "v": 3, "p": { "summary": "t", "submit": true } })).await;
    let resubmitted = &d["updateProgressReport"]["report"];
    assert_eq!(time(resubmitted, "submittedAt"), Some(t0() + Duration::seconds(3 + 600 + 7200)));
    assert_eq!(time(resubmitted, "firstSubmittedAt"), Some(t0() + Duration::seconds(3)));
    assert_eq!(time(resubmitted, "createdAt"), Some(t0()));
}

#[tokio::test]
async fn latest_report_and_review_queue_follow_submission_time_not_id() {
    let (app, clock) = TestApp::spawn_at(t0()).await;
    let gd = app.token("gd", AccessRole::ProvinceReporter, None, Some("440000")).await;
    let bj = app.token("bj", AccessRole::ProvinceReporter, None, Some("110000")).await;
    let sup = app.token("sup", AccessRole::Supervisor, None, None).await;
    // The older id is the later submission; a draft made later in id (but earlier in time)
    // sorts by its creation time.
    clock.set(t0() + Duration::hours(1));
    let late = app.data_as(Some(&gd), SUBMIT, input(16, "2016-Q4", false)).await;
    let late = late["submitProgressReport"]["report"]["id"].clone();
    clock.set(t0());
    let early = app.data_as(Some(&bj), SUBMIT, input(16, "2016-Q4", false)).await;
    let early = early["submitProgressReport"]["report"]["id"].clone();
    clock.set(t0() - Duration::hours(1));
    app.data_as(Some(&gd), SUBMIT, input(16, "2016-Q3", true)).await;

    let d = app.data_as(Some(&sup), "{ task(number: 16) { latestReport { id } } }", json!({})).await;
    assert_eq!(d["task"]["latestReport"]["id"], late);
    let d = app.data_as(Some(&sup), "{ reviewQueue { nodes { id } } }", json!({})).await;
    assert_eq!(d["reviewQueue"]["nodes"], json!([{ "id": early }, { "id": late }]));
    // Paging the queue keeps the order.
    let d =
        app.data_as(Some(&sup), "{ reviewQueue(first: 1) { pageInfo { endCursor } nodes { id } } }", json!({})).await;
    assert_eq!(d["reviewQueue"]["nodes"], json!([{ "id": early }]));
    let cursor = d["reviewQueue"]["pageInfo"]["endCursor"].clone();
    let q = "query($a: String) { reviewQueue(first: 5, after: $a) { nodes { id } } }";
    let d = app.data_as(Some(&sup), q, json!({ "a": cursor })).await;
    assert_eq!(d["reviewQueue"]["nodes"], json!([{ "id": late }]));
}
