//! Health and obstacles on reports: said on submit, changed and cleared by edits, synced, kept in
//! the accepted version (which readers limited to accepted reports see while a report is
//! corrected), recorded in history, and refused naming the field with nothing stored.

use serde_json::{Value, json};
use workplan_domain::token::AccessRole;
use workplan_tests::TestApp;

const SUBMIT: &str = "mutation($i: SubmitProgressReportInput!) { submitProgressReport(input: $i) {
  report { id version health obstacles } } }";
const PATCH: &str = "mutation($id: ID!, $v: Int!, $p: ProgressReportPatch!) {
  updateProgressReport(id: $id, expectedVersion: $v, patch: $p) { report { version health obstacles summary } } }";
const REVIEW: &str = "mutation($id: ID!, $v: Int!) {
  reviewProgressReport(id: $id, expectedVersion: $v, decision: ACCEPT) { report { version } } }";
const REOPEN: &str = "mutation($id: ID!, $v: Int!) {
  reopenProgressReport(input: { id: $id, expectedVersion: $v, reason: \"Too rosy.\" }) { report { version } } }";
const READ: &str = "query($id: ID!) { node(id: $id) { ... on ProgressReport { version state health obstacles
  acceptedVersion { version health obstacles } } } }";
const HISTORY: &str =
    "query($id: ID!) { node(id: $id) { ... on ProgressReport { history { action changes { field before after } } } } }";
const SYNC: &str = "mutation($i: SyncProgressReportsInput!) { syncProgressReports(input: $i) {
  created updated unchanged rejected results { outcome code field message report { id version health obstacles } } } }";

fn input(extra: &Value) -> Value {
    let mut i = json!({ "taskNumber": 16, "period": "2016-Q4", "status": "IN_PROGRESS", "percentComplete": 40, "summary": "Centres opened." });
    for (k, v) in extra.as_object().expect("object") {
        i[k] = v.clone();
    }
    json!({ "i": i })
}

async fn count(app: &TestApp) -> Option<i64> {
    app.data("{ progressReports { totalCount } }", json!({})).await["progressReports"]["totalCount"].as_i64()
}

/// Asserts `body` is a GraphQL validation error (BAD_USER_INPUT) whose message names `path`.
fn refused_naming(body: &Value, path: &str) {
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
    assert!(body["errors"][0]["message"].as_str().is_some_and(|m| m.contains(&format!("\"{path}\""))), "{body}");
}

/// The fields changed by history entry `entry`, as (field, before, after).
fn changes(history: &Value, entry: usize) -> Vec<(String, Value, Value)> {
    history[entry]["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| (c["field"].as_str().unwrap_or_default().to_owned(), c["before"].clone(), c["after"].clone()))
        .collect()
}

#[tokio::test]
async fn health_and_obstacles_are_said_changed_and_cleared() {
    let app = TestApp::spawn().await;
    let gd = app.token("gd", AccessRole::ProvinceReporter, None, Some("440000")).await;
    let said = input(
        &json!({ "health": "AT_RISK", "obstacles": "  Funding arrives late.\nStaff short.  ", "idempotencyKey": "k1" }),
    );
    let d = app.data_as(Some(&gd), SUBMIT, said.clone()).await;
    let report = d["submitProgressReport"]["report"].clone();
    assert_eq!(
        (report["health"].clone(), report["obstacles"].clone()),
        (json!("AT_RISK"), json!("Funding arrives late.\nStaff short."))
    );
    let id = report["id"].clone();
    // The same key and input replays; the same key without the health is another request.
    let replay = app.data_as(Some(&gd), SUBMIT, said).await;
    assert_eq!(replay["submitProgressReport"]["report"], report);
    let plain = input(&json!({ "obstacles": "  Funding arrives late.\nStaff short.  ", "idempotencyKey": "k1" }));
    assert_eq!(app.error_as(Some(&gd), SUBMIT, plain).await.0, "CONFLICT");

    // Left out keeps them; a new health leaves the obstacles alone.
    let d = app.data_as(Some(&gd), PATCH, json!({ "id": id, "v": 1, "p": { "summary": "More centres." } })).await;
    assert_eq!(d["updateProgressReport"]["report"]["health"], "AT_RISK");
    let d = app.data_as(Some(&gd), PATCH, json!({ "id": id, "v": 2, "p": { "health": "OFF_TRACK" } })).await;
    assert_eq!(
        d["updateProgressReport"]["report"],
        json!({ "version": 3, "health": "OFF_TRACK", "obstacles": "Funding arrives late.\nStaff short.", "summary": "More centres." })
    );
    // null clears the health; a blank text clears the obstacles (and null would too).
    let d =
        app.data_as(Some(&gd), PATCH, json!({ "id": id, "v": 3, "p": { "health": null, "obstacles": "  " } })).await;
    assert_eq!(
        d["updateProgressReport"]["report"],
        json!({ "version": 4, "health": null, "obstacles": null, "summary": "More centres." })
    );
    let d = app.data_as(Some(&gd), PATCH, json!({ "id": id, "v": 4, "p": { "obstacles": "Land approvals." } })).await;
    assert_eq!(d["updateProgressReport"]["report"]["obstacles"], "Land approvals.");
    let d = app.data_as(Some(&gd), PATCH, json!({ "id": id, "v": 5, "p": { "obstacles": null } })).await;
    assert_eq!(d["updateProgressReport"]["report"]["obstacles"], Value::Null);

    let h = app.data_as(Some(&gd), HISTORY, json!({ "id": id })).await["node"]["history"].clone();
    let created = changes(&h, 0);
    assert!(created.contains(&("health".into(), Value::Null, json!("AT_RISK"))), "{created:?}");
    assert!(created.contains(&("obstacles".into(), Value::Null, json!("Funding arrives late.\nStaff short."))));
    assert_eq!(changes(&h, 1), [("summary".to_owned(), json!("Centres opened."), json!("More centres."))]);
    assert_eq!(changes(&h, 2), [("health".to_owned(), json!("AT_RISK"), json!("OFF_TRACK"))]);
    assert_eq!(
        changes(&h, 3),
        [
            ("health".to_owned(), json!("OFF_TRACK"), Value::Null),
            ("obstacles".to_owned(), json!("Funding arrives late.\nStaff short."), Value::Null),
        ]
    );
    assert_eq!(changes(&h, 5), [("obstacles".to_owned(), json!("Land approvals."), Value::Null)]);
}

#[tokio::test]
async fn readers_limited_to_accepted_reports_see_the_accepted_health() {
    let app = TestApp::spawn().await;
    let gd = app.token("gd", AccessRole::ProvinceReporter, None, Some("440000")).await;
    let sup = app.token("sup", AccessRole::Supervisor, None, None).await;
    let d = app.data_as(Some(&gd), SUBMIT, input(&json!({ "health": "ON_TRACK" }))).await;
    let id = d["submitProgressReport"]["report"]["id"].clone();
    app.data_as(Some(&sup), REVIEW, json!({ "id": id, "v": 1 })).await;
    app.data_as(Some(&sup), REOPEN, json!({ "id": id, "v": 2 })).await;
    app.data_as(
        Some(&gd),
        PATCH,
        json!({ "id": id, "v": 3, "p": { "health": "OFF_TRACK", "obstacles": "Land approvals stalled.", "submit": true } }),
    )
    .await;

    let official = json!({ "version": 2, "health": "ON_TRACK", "obstacles": null });
    let anonymous = app.data_as(None, READ, json!({ "id": id })).await["node"].clone();
    assert_eq!(
        anonymous,
        json!({ "version": 2, "state": "ACCEPTED", "health": "ON_TRACK", "obstacles": null, "acceptedVersion": official })
    );
    let list = "{ progressReports(filter: { state: ACCEPTED }) { nodes { version health obstacles } } }";
    for token in [None, Some(sup.as_str())] {
        let d = app.data_as(token, list, json!({})).await;
        assert_eq!(d["progressReports"]["nodes"], json!([{ "version": 2, "health": "ON_TRACK", "obstacles": null }]));
    }
    let supervisor = app.data_as(Some(&sup), READ, json!({ "id": id })).await["node"].clone();
    assert_eq!(
        supervisor,
        json!({ "version": 4, "state": "SUBMITTED", "health": "OFF_TRACK", "obstacles": "Land approvals stalled.",
                "acceptedVersion": official })
    );

    app.data_as(Some(&sup), REVIEW, json!({ "id": id, "v": 4 })).await;
    let anonymous = app.data_as(None, READ, json!({ "id": id })).await["node"].clone();
    assert_eq!(
        (anonymous["health"].clone(), anonymous["obstacles"].clone(), anonymous["acceptedVersion"].clone()),
        (
            json!("OFF_TRACK"),
            json!("Land approvals stalled."),
            json!({ "version": 5, "health": "OFF_TRACK", "obstacles": "Land approvals stalled." })
        )
    );
}

#[tokio::test]
async fn an_accepted_version_stored_before_health_reads_as_saying_none() {
    let app = TestApp::spawn().await;
    let sup = app.token("sup", AccessRole::Supervisor, None, None).await;
    let d = app
        .data(
            SUBMIT,
            json!({ "i": { "reporter": { "provinceCode": "440000" }, "taskNumber": 16, "period": "2016",
                                          "status": "ONGOING", "summary": "s", "health": "AT_RISK" } }),
        )
        .await;
    let id = d["submitProgressReport"]["report"]["id"].clone();
    app.data_as(Some(&sup), REVIEW, json!({ "id": id, "v": 1 })).await;
    // As the report-integrity migration wrote it, before reports had a health.
    let db = sea_orm::Database::connect(app.db.url()).await.expect("connect");
    sea_orm::ConnectionTrait::execute_unprepared(
        &db,
        r#"UPDATE progress_reports SET accepted_content = '{"version":2,"status":"ONGOING","percentComplete":null,"summary":"s","evidenceUrls":[],"period":"2016","acceptedAt":"2016-12-20T08:00:00Z"}'"#,
    )
    .await
    .expect("an old accepted version");
    db.close().await.expect("close");
    app.data_as(Some(&sup), REOPEN, json!({ "id": id, "v": 2 })).await;
    let anonymous = app.data_as(None, READ, json!({ "id": id })).await["node"].clone();
    assert_eq!(
        anonymous,
        json!({ "version": 2, "state": "ACCEPTED", "health": null, "obstacles": null,
                "acceptedVersion": { "version": 2, "health": null, "obstacles": null } })
    );
}

#[tokio::test]
async fn sync_items_carry_health_and_obstacles() {
    let app = TestApp::spawn().await;
    let gd = app.token("gd", AccessRole::ProvinceReporter, None, Some("440000")).await;
    let item = |extra: Value| {
        let mut i = json!({ "clientReportId": "gd-16", "taskNumber": 16, "period": "2016-Q4", "status": "IN_PROGRESS", "summary": "s" });
        for (k, v) in extra.as_object().expect("object") {
            i[k] = v.clone();
        }
        i
    };
    let sync = |items: Vec<Value>| json!({ "i": { "reports": items } });
    let said = item(json!({ "health": "AT_RISK", "obstacles": " Late funds. " }));
    let r = app.data_as(Some(&gd), SYNC, sync(vec![said.clone()])).await["syncProgressReports"].clone();
    assert_eq!(r["created"], 1);
    assert_eq!(
        (r["results"][0]["report"]["health"].clone(), r["results"][0]["report"]["obstacles"].clone()),
        (json!("AT_RISK"), json!("Late funds."))
    );
    let r = app.data_as(Some(&gd), SYNC, sync(vec![said])).await["syncProgressReports"].clone();
    assert_eq!(r["unchanged"], 1, "the same health and obstacles change nothing");
    let r = app
        .data_as(Some(&gd), SYNC, sync(vec![item(json!({ "health": "ON_TRACK", "obstacles": "Late funds." }))]))
        .await["syncProgressReports"]
        .clone();
    assert_eq!((r["updated"].clone(), r["results"][0]["report"]["health"].clone()), (json!(1), json!("ON_TRACK")));
    // An item is the whole report: one without them clears them.
    let r = app.data_as(Some(&gd), SYNC, sync(vec![item(json!({}))])).await["syncProgressReports"].clone();
    assert_eq!(r["updated"], 1);
    assert_eq!(
        r["results"][0]["report"],
        json!({ "id": r["results"][0]["report"]["id"], "version": 3, "health": null, "obstacles": null })
    );

    let long = item(json!({ "clientReportId": "gd-17", "taskNumber": 17, "obstacles": "x".repeat(2001) }));
    let r = app.data_as(Some(&gd), SYNC, sync(vec![long])).await["syncProgressReports"].clone();
    assert_eq!(r["rejected"], 1);
    assert_eq!(
        (r["results"][0]["code"].clone(), r["results"][0]["field"].clone()),
        (json!("BAD_USER_INPUT"), json!("obstacles"))
    );
    assert_eq!(app.data("{ progressReports { totalCount } }", json!({})).await["progressReports"]["totalCount"], 1);
    let bad = app.graphql_as(Some(&gd), SYNC, sync(vec![item(json!({ "health": "FINE" }))])).await;
    refused_naming(&bad, "input.reports.0.health");
    assert_eq!(count(&app).await, Some(1), "nothing stored");
}

#[tokio::test]
async fn bad_health_or_obstacles_are_refused_naming_the_field_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let gd = app.token("gd", AccessRole::ProvinceReporter, None, Some("440000")).await;

    // An unknown health is refused by GraphQL validation, naming the input field.
    for health in [json!("FINE"), json!("on_track"), json!(3)] {
        refused_naming(&app.graphql_as(Some(&gd), SUBMIT, input(&json!({ "health": health }))).await, "input.health");
    }
    let literal = "mutation { submitProgressReport(input: { taskNumber: 16, period: \"2016\", status: ONGOING,
      summary: \"s\", health: FINE }) { report { id } } }";
    refused_naming(&app.graphql_as(Some(&gd), literal, json!({})).await, "input.health");

    // Too long, or with a NUL (written as an escape in the document, so it reaches the rules).
    assert_eq!(
        app.error_as(Some(&gd), SUBMIT, input(&json!({ "obstacles": "é".repeat(2001) }))).await,
        ("BAD_USER_INPUT".into(), Some("obstacles".into()))
    );
    let nul = "mutation { submitProgressReport(input: { taskNumber: 16, period: \"2016\", status: ONGOING,
      summary: \"s\", obstacles: \"late\\u0000funds\" }) { report { id } } }";
    assert_eq!(app.error_as(Some(&gd), nul, json!({})).await, ("BAD_USER_INPUT".into(), Some("obstacles".into())));
    // A NUL in the variables is refused before execution.
    let r = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&gd)
        .json(&json!({ "query": SUBMIT, "variables": input(&json!({ "obstacles": "late\u{0}funds" })) }))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(count(&app).await, Some(0), "no rejected report was written");

    // The same rules on an edit, and the report stays as it was.
    let d =
        app.data_as(Some(&gd), SUBMIT, input(&json!({ "health": "ON_TRACK", "obstacles": "x".repeat(2000) }))).await;
    let id = d["submitProgressReport"]["report"]["id"].clone();
    assert_eq!(
        app.error_as(Some(&gd), PATCH, json!({ "id": id, "v": 1, "p": { "obstacles": "x".repeat(2001) } })).await,
        ("BAD_USER_INPUT".into(), Some("patch.obstacles".into()))
    );
    let body = app.graphql_as(Some(&gd), PATCH, json!({ "id": id, "v": 1, "p": { "health": "FINE" } })).await;
    refused_naming(&body, "patch.health");
    let node = app.data_as(Some(&gd), READ, json!({ "id": id })).await["node"].clone();
    assert_eq!((node["version"].clone(), node["health"].clone()), (json!(1), json!("ON_TRACK")));
    assert_eq!(node["obstacles"].as_str().map(str::len), Some(2000));
    assert_eq!(count(&app).await, Some(1));
}

#[tokio::test]
async fn derived_progress_takes_the_accepted_health() {
    let app = TestApp::spawn().await;
    let sipo = app.token("sipo", AccessRole::AgencyReporter, Some("SIPO"), None).await;
    let sup = app.token("sup", AccessRole::Supervisor, None, None).await;
    let progress = "{ task(number: 16) { progress(period: \"2016-Q4\") { health basis { id } } } }";
    let health = |d: Value| d["task"]["progress"]["health"].clone();
    let d = app.data_as(Some(&sipo), SUBMIT, input(&json!({ "health": "AT_RISK" }))).await;
    let id = d["submitProgressReport"]["report"]["id"].clone();
    assert_eq!(health(app.data_as(None, progress, json!({})).await), Value::Null, "not accepted yet");
    app.data_as(Some(&sup), REVIEW, json!({ "id": id, "v": 1 })).await;
    let d = app.data_as(None, progress, json!({})).await;
    assert_eq!((health(d.clone()), d["task"]["progress"]["basis"].clone()), (json!("AT_RISK"), json!([{ "id": id }])));
    // While a correction is under way, the accepted health still counts.
    app.data_as(Some(&sup), REOPEN, json!({ "id": id, "v": 2 })).await;
    app.data_as(Some(&sipo), PATCH, json!({ "id": id, "v": 3, "p": { "health": "OFF_TRACK", "submit": true } })).await;
    assert_eq!(health(app.data_as(None, progress, json!({})).await), "AT_RISK");
    app.data_as(Some(&sup), REVIEW, json!({ "id": id, "v": 4 })).await;
    assert_eq!(health(app.data_as(None, progress, json!({})).await), "OFF_TRACK");
}
