//! One live report per reporter, task, period and kind: a second is a CONFLICT naming the
//! first, on submit, on an update that moves the period, in a sync batch and under a race;
//! CONSOLIDATED reports from the lead of a DIVIDED task; sync adopting a manual report.

use std::sync::Arc;

use serde_json::{Value, json};
use workplan_domain::token::AccessRole;
use workplan_tests::TestApp;

const SUBMIT: &str = "mutation($i: SubmitProgressReportInput!) { submitProgressReport(input: $i) {
  report { id version state kind clientReportId } } }";
const PATCH: &str = "mutation($id: ID!, $v: Int!, $p: ProgressReportPatch!) {
  updateProgressReport(id: $id, expectedVersion: $v, patch: $p) { report { version period } } }";
const WITHDRAW: &str =
    "mutation($id: ID!, $v: Int!) { withdrawProgressReport(id: $id, expectedVersion: $v) { report { state } } }";
const SYNC: &str = "mutation($i: SyncProgressReportsInput!) { syncProgressReports(input: $i) {
  created updated unchanged rejected
  results { outcome errorCode message report { id version state clientReportId summary } } } }";

fn report(task: i32, period: &str, summary: &str) -> Value {
    json!({ "taskNumber": task, "period": period, "status": "IN_PROGRESS", "percentComplete": 30, "summary": summary })
}

fn with(mut v: Value, field: &str, value: Value) -> Value {
    v[field] = value;
    v
}

/// The first error's `existingReport` extension, or panics with the body.
fn existing(body: &Value) -> Value {
    let e = &body["errors"][0];
    assert_eq!(e["extensions"]["code"], "CONFLICT", "{body}");
    e["extensions"]["existingReport"].clone()
}

async fn live_count(app: &TestApp, filter: Value) -> i64 {
    let q = "query($f: ProgressReportFilter) { progressReports(filter: $f) { nodes { state } } }";
    let d = app.data(q, json!({ "f": filter })).await;
    d["progressReports"]["nodes"].as_array().expect("nodes").iter().filter(|n| n["state"] != "WITHDRAWN").count() as i64
}

#[tokio::test]
async fn a_second_live_report_for_a_key_is_a_conflict_naming_the_first() {
    let app = TestApp::spawn().await;
    let gd = app.token("gd", AccessRole::ProvinceReporter, None, Some("440000")).await;
    let first =
        app.data_as(Some(&gd), SUBMIT, json!({ "i": with(report(16, "2016-Q4", "a"), "asDraft", json!(true)) })).await;
    let first = first["submitProgressReport"]["report"].clone();
    // A draft counts as live; the period is compared normalised.
    let again = app.graphql_as(Some(&gd), SUBMIT, json!({ "i": report(16, " 2016-Q4 ", "b") })).await;
    assert_eq!(existing(&again), json!({ "id": first["id"], "version": 1, "state": "DRAFT" }));
    let message = again["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains(first["id"].as_str().unwrap_or("?")), "{message}");
    assert_eq!(live_count(&app, json!({ "taskNumber": 16 })).await, 1);
    // Other periods, tasks and reporters are other keys.
    app.data_as(Some(&gd), SUBMIT, json!({ "i": report(16, "2016-Q3", "c") })).await;
    app.data_as(Some(&gd), SUBMIT, json!({ "i": report(17, "2016-Q4", "d") })).await;
    app.data(SUBMIT, json!({ "i": with(report(16, "2016-Q4", "e"), "reporter", json!({ "provinceCode": "110000" })) }))
        .await;
    // A withdrawn report frees its key.
    app.data_as(Some(&gd), WITHDRAW, json!({ "id": first["id"], "v": 1 })).await;
    let d = app.data_as(Some(&gd), SUBMIT, json!({ "i": report(16, "2016-Q4", "f") })).await;
    assert_eq!(d["submitProgressReport"]["report"]["state"], "SUBMITTED");
}

#[tokio::test]
async fn an_update_cannot_move_a_report_onto_an_occupied_key() {
    let app = TestApp::spawn().await;
    let gd = app.token("gd", AccessRole::ProvinceReporter, None, Some("440000")).await;
    let q3 = app.data_as(Some(&gd), SUBMIT, json!({ "i": report(16, "2016-Q3", "q3") })).await;
    let q3 = q3["submitProgressReport"]["report"].clone();
    let q4 = app.data_as(Some(&gd), SUBMIT, json!({ "i": report(16, "2016-Q4", "q4") })).await;
    let q4 = q4["submitProgressReport"]["report"]["id"].clone();
    let body = app.graphql_as(Some(&gd), PATCH, json!({ "id": q4, "v": 1, "p": { "period": "2016-Q3" } })).await;
    assert_eq!(existing(&body), json!({ "id": q3["id"], "version": 1, "state": "SUBMITTED" }));
    // Nothing changed; moving to a free period works.
    let d = app.data_as(Some(&gd), PATCH, json!({ "id": q4, "v": 1, "p": { "period": "2016-Q2" } })).await;
    assert_eq!(d["updateProgressReport"]["report"], json!({ "version": 2, "period": "2016-Q2" }));
}

#[tokio::test]
async fn sync_rejects_a_key_held_by_another_client_id_and_applies_the_rest() {
    let app = TestApp::spawn().await;
    let gd = app.token("gd", AccessRole::ProvinceReporter, None, Some("440000")).await;
    let items = |a: &str, b: &str| {
        json!({ "i": { "reports": [
            with(report(16, "2016-Q4", "one"), "clientReportId", json!(a)),
            with(report(17, "2016-Q4", "two"), "clientReportId", json!(b)),
        ] } })
    };
    let d = app.data_as(Some(&gd), SYNC, items("a", "b")).await;
    let held = d["syncProgressReports"]["results"][0]["report"]["id"].clone();
    // Within one batch too: the second item for a key is refused.
    let batch = json!({ "i": { "reports": [
        with(report(18, "2016-Q4", "x"), "clientReportId", json!("c")),
        with(report(16, "2016-Q4", "other id, same key"), "clientReportId", json!("d")),
        with(report(18, "2016-Q4", "y"), "clientReportId", json!("e")),
        with(report(19, "2016-Q4", "z"), "clientReportId", json!("f")),
    ] } });
    let s = app.data_as(Some(&gd), SYNC, batch).await["syncProgressReports"].clone();
    assert_eq!((s["created"].as_i64(), s["rejected"].as_i64()), (Some(2), Some(2)), "{s}");
    let r = &s["results"];
    assert_eq!((r[1]["outcome"].as_str(), r[1]["errorCode"].as_str()), (Some("REJECTED"), Some("CONFLICT")));
    assert!(r[1]["message"].as_str().is_some_and(|m| m.contains(held.as_str().unwrap_or("?"))), "{}", r[1]);
    let first_c = r[0]["report"]["id"].clone();
    assert!(r[2]["message"].as_str().is_some_and(|m| m.contains(first_c.as_str().unwrap_or("?"))), "{}", r[2]);
    assert_eq!(r[3]["outcome"], "CREATED");
    assert_eq!(live_count(&app, json!({ "taskNumber": 18 })).await, 1);
}

#[tokio::test]
async fn sync_adopts_a_manually_filed_report() {
    let app = TestApp::spawn().await;
    let gd = app.token("gd", AccessRole::ProvinceReporter, None, Some("440000")).await;
    let manual = app.data_as(Some(&gd), SUBMIT, json!({ "i": report(16, "2016-Q4", "by hand") })).await;
    let manual = manual["submitProgressReport"]["report"].clone();
    assert_eq!(manual["clientReportId"], Value::Null);
    let identical = app.data_as(Some(&gd), SUBMIT, json!({ "i": report(17, "2016-Q4", "same") })).await;
    let identical = identical["submitProgressReport"]["report"]["id"].clone();
    let batch = json!({ "i": { "reports": [
        with(report(16, "2016-Q4", "by the integrator"), "clientReportId", json!("gd-16")),
        with(report(17, "2016-Q4", "same"), "clientReportId", json!("gd-17")),
    ] } });
    let s = app.data_as(Some(&gd), SYNC, batch.clone()).await["syncProgressReports"].clone();
    assert_eq!((s["created"].as_i64(), s["updated"].as_i64(), s["unchanged"].as_i64()), (Some(0), Some(1), Some(1)));
    let r = &s["results"];
    assert_eq!(
        r[0]["report"],
        json!({ "id": manual["id"], "version": 2, "state": "SUBMITTED", "clientReportId": "gd-16", "summary": "by the integrator" })
    );
    assert_eq!((r[1]["report"]["id"].clone(), r[1]["report"]["clientReportId"].clone()), (identical, json!("gd-17")));
    // From now on the client id names them.
    let again = app.data_as(Some(&gd), SYNC, batch).await["syncProgressReports"].clone();
    assert_eq!(again["unchanged"], 2);
    assert_eq!(live_count(&app, json!({ "period": "2016-Q4" })).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_racing_submissions_make_one_live_report() {
    let app = Arc::new(TestApp::spawn().await);
    let gd = app.token("gd", AccessRole::ProvinceReporter, None, Some("440000")).await;
    let mut racers = tokio::task::JoinSet::new();
    for i in 0..20 {
        let (app, gd) = (app.clone(), gd.clone());
        racers.spawn(async move {
            app.graphql_as(Some(&gd), SUBMIT, json!({ "i": report(16, "2016-Q4", &format!("racer {i}")) })).await
        });
    }
    let mut codes = Vec::new();
    while let Some(body) = racers.join_next().await {
        let body = body.expect("racer");
        codes.push(body["errors"][0]["extensions"]["code"].as_str().unwrap_or("OK").to_owned());
    }
    codes.sort();
    let expected: Vec<String> =
        std::iter::repeat_n("CONFLICT".to_owned(), 19).chain(std::iter::once("OK".to_owned())).collect();
    assert_eq!(codes, expected);
    assert_eq!(live_count(&app, json!({ "taskNumber": 16 })).await, 1);
}

#[tokio::test]
async fn a_consolidated_report_stands_beside_the_leads_own_part() {
    let app = TestApp::spawn().await;
    // Task 14 is DIVIDED, led by the Supreme People's Court; SIPO takes part. Task 1 is JOINT.
    let spc = app.token("spc", AccessRole::AgencyReporter, Some("Supreme People's Court"), None).await;
    let sipo = app.token("sipo", AccessRole::AgencyReporter, Some("SIPO"), None).await;
    let gd = app.token("gd", AccessRole::ProvinceReporter, None, Some("440000")).await;
    let part = app.data_as(Some(&spc), SUBMIT, json!({ "i": report(14, "2016", "our part") })).await;
    assert_eq!(part["submitProgressReport"]["report"]["kind"], "PART");
    let whole = with(report(14, "2016", "the whole task"), "kind", json!("CONSOLIDATED"));
    let d = app.data_as(Some(&spc), SUBMIT, json!({ "i": whole })).await;
    assert_eq!(d["submitProgressReport"]["report"]["kind"], "CONSOLIDATED");
    let body = app.graphql_as(Some(&spc), SUBMIT, json!({ "i": whole })).await;
    assert_eq!(existing(&body)["id"], d["submitProgressReport"]["report"]["id"]);

    assert_eq!(app.error_as(Some(&sipo), SUBMIT, json!({ "i": whole })).await.0, "FORBIDDEN");
    assert_eq!(app.error_as(Some(&gd), SUBMIT, json!({ "i": whole })).await.0, "FORBIDDEN");
    let joint = with(report(1, "2016", "joint"), "kind", json!("CONSOLIDATED"));
    assert_eq!(
        app.error_as(Some(&sipo), SUBMIT, json!({ "i": joint })).await,
        ("BAD_USER_INPUT".into(), Some("kind".into()))
    );
    let sync = json!({ "i": { "reports": [with(whole.clone(), "clientReportId", json!("s1"))] } });
    let s = app.data_as(Some(&sipo), SYNC, sync).await["syncProgressReports"].clone();
    assert_eq!(s["results"][0]["errorCode"], "FORBIDDEN");
    assert_eq!(live_count(&app, json!({ "taskNumber": 14 })).await, 2);

    // Reports filter by kind: the lead's consolidated report apart from every part.
    let q = "query($f: ProgressReportFilter) { progressReports(filter: $f) { totalCount nodes { id kind summary } } }";
    let consolidated = app.data(q, json!({ "f": { "taskNumber": 14, "kind": "CONSOLIDATED" } })).await;
    let nodes = &consolidated["progressReports"]["nodes"];
    assert_eq!(consolidated["progressReports"]["totalCount"], 1);
    assert_eq!(nodes[0]["id"], d["submitProgressReport"]["report"]["id"]);
    let parts = app.data(q, json!({ "f": { "taskNumber": 14, "kind": "PART" } })).await;
    let summaries: Vec<&str> = parts["progressReports"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter_map(|n| n["summary"].as_str())
        .collect();
    assert_eq!(summaries, ["our part"]);
}
