//! Corrections: an accepted report is reopened, edited, resubmitted and accepted again, while
//! its accepted version stays official and readable by everyone who could read it.

use serde_json::{Value, json};
use workplan_domain::token::AccessRole;
use workplan_tests::TestApp;

const SUBMIT: &str = "mutation($i: SubmitProgressReportInput!) { submitProgressReport(input: $i) { report { id } } }";
const PATCH: &str = "mutation($id: ID!, $v: Int!, $p: ProgressReportPatch!) {
  updateProgressReport(id: $id, expectedVersion: $v, patch: $p) { report { version state reviewComment } } }";
const REVIEW: &str = "mutation($id: ID!, $v: Int!, $d: ReviewDecision!, $c: String) {
  reviewProgressReport(id: $id, expectedVersion: $v, decision: $d, comment: $c) { report { version state } } }";
const REOPEN: &str = "mutation($i: ReopenProgressReportInput!) { reopenProgressReport(input: $i) {
  report { version state reviewComment summary acceptedVersion { version summary percentComplete } } } }";
const WITHDRAW: &str =
    "mutation($id: ID!, $v: Int!) { withdrawProgressReport(id: $id, expectedVersion: $v) { report { state } } }";
const READ: &str = "query($id: ID!) { node(id: $id) { ... on ProgressReport { version state summary percentComplete
  reviewComment acceptedVersion { version summary percentComplete acceptedAt } } } }";

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or_default()
}

/// What anonymous callers read of report `id`: the node, the list and the task's latest report.
async fn public_view(app: &TestApp, id: &Value) -> (Value, Vec<Value>, Value) {
    let node = app.data_as(None, READ, json!({ "id": id })).await["node"].clone();
    let q = "{ progressReports { nodes { id version summary state } } task(number: 16) { latestReport { id version summary } } }";
    let d = app.data_as(None, q, json!({})).await;
    let listed = d["progressReports"]["nodes"].as_array().expect("nodes").clone();
    (node, listed, d["task"]["latestReport"].clone())
}

#[tokio::test]
async fn reopen_edit_resubmit_accept_keeps_the_accepted_version_official() {
    let app = TestApp::spawn().await;
    let gd = app.token("gd", AccessRole::ProvinceReporter, None, Some("440000")).await;
    let sup = app.token("sup", AccessRole::Supervisor, None, None).await;
    let d = app
        .data_as(Some(&gd), SUBMIT, json!({ "i": { "taskNumber": 16, "period": "2016-Q4", "status": "IN_PROGRESS", "percentComplete": 30, "summary": "v1" } }))
        .await;
    let id = d["submitProgressReport"]["report"]["id"].clone();
    app.data_as(Some(&sup), REVIEW, json!({ "id": id, "v": 1, "d": "ACCEPT" })).await;

    // Who may reopen, and with what.
    let reopen = |v: i64, reason: &str| json!({ "i": { "id": id, "expectedVersion": v, "reason": reason } });
    assert_eq!(code(&app.graphql_as(Some(&gd), REOPEN, reopen(2, "typo")).await), "FORBIDDEN");
    assert_eq!(
        app.error_as(Some(&sup), REOPEN, reopen(2, "  ")).await,
        ("BAD_USER_INPUT".into(), Some("reason".into()))
    );
    assert_eq!(code(&app.graphql_as(Some(&sup), REOPEN, reopen(1, "stale")).await), "CONFLICT");
    let d = app.data_as(Some(&sup), REOPEN, reopen(2, "The percentage is wrong.")).await;
    assert_eq!(
        d["reopenProgressReport"]["report"],
        json!({ "version": 3, "state": "RETURNED", "reviewComment": "The percentage is wrong.", "summary": "v1",
                "acceptedVersion": { "version": 2, "summary": "v1", "percentComplete": 30 } })
    );
    assert_eq!(code(&app.graphql_as(Some(&sup), REOPEN, reopen(3, "again")).await), "CONFLICT", "only ACCEPTED");
    // A reopened report cannot be withdrawn.
    assert_eq!(code(&app.graphql_as(Some(&gd), WITHDRAW, json!({ "id": id, "v": 3 })).await), "CONFLICT");

    // The reporter corrects and resubmits: the return reason is cleared (it stays in history).
    let d = app
        .data_as(
            Some(&gd),
            PATCH,
            json!({ "id": id, "v": 3, "p": { "summary": "v2", "percentComplete": 60, "submit": true } }),
        )
        .await;
    assert_eq!(
        d["updateProgressReport"]["report"],
        json!({ "version": 4, "state": "SUBMITTED", "reviewComment": null })
    );

    // Meanwhile anonymous callers read the accepted version, everywhere.
    let (node, listed, latest) = public_view(&app, &id).await;
    assert_eq!(node["state"], "ACCEPTED");
    assert_eq!(
        (node["version"].clone(), node["summary"].clone(), node["percentComplete"].clone()),
        (json!(2), json!("v1"), json!(30))
    );
    assert_eq!(node["reviewComment"], Value::Null);
    assert_eq!(node["acceptedVersion"]["summary"], "v1");
    assert_eq!(listed, [json!({ "id": id, "version": 2, "summary": "v1", "state": "ACCEPTED" })]);
    assert_eq!(latest, json!({ "id": id, "version": 2, "summary": "v1" }));
    // The supervisor sees the correction, and the official version beside it.
    // Officially it is still the accepted version, for everyone.
    for token in [None, Some(sup.as_str())] {
        let q = "{ task(number: 16) { latestAcceptedReport { id version summary state } }
                   progressReports(filter: { state: ACCEPTED }) { totalCount nodes { version summary } } }";
        let d = app.data_as(token, q, json!({})).await;
        assert_eq!(
            d["task"]["latestAcceptedReport"],
            json!({ "id": id, "version": 2, "summary": "v1", "state": "ACCEPTED" })
        );
        assert_eq!(d["progressReports"], json!({ "totalCount": 1, "nodes": [{ "version": 2, "summary": "v1" }] }));
    }
    let sees = app.data_as(Some(&sup), READ, json!({ "id": id })).await["node"].clone();
    assert_eq!(
        (sees["state"].clone(), sees["summary"].clone(), sees["acceptedVersion"]["summary"].clone()),
        (json!("SUBMITTED"), json!("v2"), json!("v1"))
    );

    app.data_as(Some(&sup), REVIEW, json!({ "id": id, "v": 4, "d": "ACCEPT" })).await;
    let (node, _, _) = public_view(&app, &id).await;
    assert_eq!((node["version"].clone(), node["summary"].clone()), (json!(5), json!("v2")));
    assert_eq!(node["acceptedVersion"]["version"], 5);

    let h = app
        .data_as(Some(&gd), "query($id: ID!) { node(id: $id) { ... on ProgressReport { history { action changes { field before after } } } } }", json!({ "id": id }))
        .await;
    let history = h["node"]["history"].as_array().expect("history");
    let actions: Vec<&str> = history.iter().map(|e| e["action"].as_str().unwrap_or_default()).collect();
    assert_eq!(actions, ["CREATE", "ACCEPT", "REOPEN", "SUBMIT", "ACCEPT"]);
    assert_eq!(
        history[2]["changes"],
        json!([{ "field": "state", "before": "ACCEPTED", "after": "RETURNED" },
               { "field": "reviewComment", "before": null, "after": "The percentage is wrong." }])
    );
    assert!(
        history[3]["changes"]
            .as_array()
            .expect("changes")
            .contains(&json!({ "field": "reviewComment", "before": "The percentage is wrong.", "after": null }))
    );
    app.settle_feed().await;
    let feed = app.data_as(Some(&sup), "{ changes { edges { node { kind version state } } } }", json!({})).await;
    let kinds: Vec<(String, i64)> = feed["changes"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| {
            (e["node"]["kind"].as_str().unwrap_or_default().to_owned(), e["node"]["version"].as_i64().unwrap_or(0))
        })
        .collect();
    let expected = [("CREATED", 1), ("REVIEWED", 2), ("REOPENED", 3), ("STATUS_CHANGED", 4), ("REVIEWED", 5)];
    assert_eq!(kinds, expected.map(|(k, v)| (k.to_owned(), v)));
}

#[tokio::test]
async fn resubmitting_a_returned_report_clears_the_reason() {
    let app = TestApp::spawn().await;
    let gd = app.token("gd", AccessRole::ProvinceReporter, None, Some("440000")).await;
    let sup = app.token("sup", AccessRole::Supervisor, None, None).await;
    let d = app
        .data_as(
            Some(&gd),
            SUBMIT,
            json!({ "i": { "taskNumber": 16, "period": "2016", "status": "ONGOING", "summary": "s" } }),
        )
        .await;
    let id = d["submitProgressReport"]["report"]["id"].clone();
    app.data_as(Some(&sup), REVIEW, json!({ "id": id, "v": 1, "d": "RETURN", "c": "Add evidence." })).await;
    // Editing without resubmitting keeps the reason in view.
    let d = app.data_as(Some(&gd), PATCH, json!({ "id": id, "v": 2, "p": { "summary": "t" } })).await;
    assert_eq!(d["updateProgressReport"]["report"]["reviewComment"], "Add evidence.");
    let d = app.data_as(Some(&gd), PATCH, json!({ "id": id, "v": 3, "p": { "submit": true } })).await;
    assert_eq!(
        d["updateProgressReport"]["report"],
        json!({ "version": 4, "state": "SUBMITTED", "reviewComment": null })
    );
    // A returned report never accepted is not public, and may be withdrawn.
    app.data_as(Some(&sup), REVIEW, json!({ "id": id, "v": 4, "d": "RETURN", "c": "No." })).await;
    assert!(app.data_as(None, READ, json!({ "id": id })).await["node"].is_null());
    let d = app.data_as(Some(&gd), WITHDRAW, json!({ "id": id, "v": 5 })).await;
    assert_eq!(d["withdrawProgressReport"]["report"]["state"], "WITHDRAWN");
}
