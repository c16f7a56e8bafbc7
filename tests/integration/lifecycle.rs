use serde_json::{Value, json};
use workplan_domain::token::AccessRole;
use workplan_tests::TestApp;

const SUBMIT: &str =
    "mutation($i: SubmitProgressReportInput!) { submitProgressReport(input: $i) { report { id version state } } }";
const PATCH: &str = "mutation($id: ID!, $v: Int!, $p: ProgressReportPatch!, $k: String) {
  updateProgressReport(id: $id, expectedVersion: $v, patch: $p, idempotencyKey: $k) { report { version state summary percentComplete } } }";
const REVIEW: &str = "mutation($id: ID!, $v: Int!, $d: ReviewDecision!, $c: String) {
  reviewProgressReport(id: $id, expectedVersion: $v, decision: $d, comment: $c) { report { version state reviewComment } } }";
const WITHDRAW: &str = "mutation($id: ID!, $v: Int!) { withdrawProgressReport(id: $id, expectedVersion: $v) { report { version state } } }";

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn draft_submit_return_resubmit_accept_with_history() {
    let app = TestApp::spawn().await;
    let gd = app.token("gd", AccessRole::ProvinceReporter, None, Some("440000")).await;
    let sup = app.token("sup", AccessRole::Supervisor, None, None).await;
    let d = app
        .data_as(Some(&gd), SUBMIT, json!({ "i": { "taskNumber": 16, "period": "2016-Q3", "status": "IN_PROGRESS", "percentComplete": 10, "summary": "first", "asDraft": true } }))
        .await;
    let id = d["submitProgressReport"]["report"]["id"].clone();
    assert_eq!(d["submitProgressReport"]["report"]["state"], "DRAFT");

    // A draft is not in the review queue.
    let queue = app.data_as(Some(&sup), "{ reviewQueue { totalCount } }", json!({})).await;
    assert_eq!(queue["reviewQueue"]["totalCount"], 0);

    let d = app
        .data_as(Some(&gd), PATCH, json!({ "id": id, "v": 1, "p": { "summary": "second", "percentComplete": 20 } }))
        .await;
    assert_eq!(
        d["updateProgressReport"]["report"],
        json!({ "version": 2, "state": "DRAFT", "summary": "second", "percentComplete": 20 })
    );
    // A stale version is a conflict that names the current one, and changes nothing.
    let stale = app.graphql_as(Some(&gd), PATCH, json!({ "id": id, "v": 1, "p": { "summary": "lost" } })).await;
    assert_eq!(code(&stale), "CONFLICT");
    assert_eq!(stale["errors"][0]["extensions"]["currentVersion"], 2);
    let d = app.data_as(Some(&gd), PATCH, json!({ "id": id, "v": 2, "p": { "submit": true } })).await;
    assert_eq!(d["updateProgressReport"]["report"]["state"], "SUBMITTED");
    let queue = app.data_as(Some(&sup), "{ reviewQueue { nodes { id viewerCanReview } } }", json!({})).await;
    assert_eq!(queue["reviewQueue"]["nodes"], json!([{ "id": id, "viewerCanReview": true }]));
    assert_eq!(code(&app.graphql_as(Some(&gd), "{ reviewQueue { totalCount } }", json!({})).await), "FORBIDDEN");

    // Returning needs a reason.
    let no_reason = app.graphql_as(Some(&sup), REVIEW, json!({ "id": id, "v": 3, "d": "RETURN" })).await;
    assert_eq!(code(&no_reason), "BAD_USER_INPUT");
    let d = app.data_as(Some(&sup), REVIEW, json!({ "id": id, "v": 3, "d": "RETURN", "c": "Add evidence." })).await;
    assert_eq!(
        d["reviewProgressReport"]["report"],
        json!({ "version": 4, "state": "RETURNED", "reviewComment": "Add evidence." })
    );
    // Review comments are not for anonymous callers (nor is the returned report).
    let anon = app.data_as(None, "query($id: ID!) { node(id: $id) { id } }", json!({ "id": id })).await;
    assert!(anon["node"].is_null());

    let d = app
        .data_as(
            Some(&gd),
            PATCH,
            json!({ "id": id, "v": 4, "p": { "evidenceUrls": ["https://gd.example/e.pdf"], "submit": true } }),
        )
        .await;
    assert_eq!(d["updateProgressReport"]["report"]["state"], "SUBMITTED");
    let d = app.data_as(Some(&sup), REVIEW, json!({ "id": id, "v": 5, "d": "ACCEPT" })).await;
    assert_eq!(d["reviewProgressReport"]["report"]["state"], "ACCEPTED");

    // Accepted reports are locked.
    assert_eq!(
        code(&app.graphql_as(Some(&gd), PATCH, json!({ "id": id, "v": 6, "p": { "summary": "x" } })).await),
        "CONFLICT"
    );
    assert_eq!(code(&app.graphql_as(Some(&gd), WITHDRAW, json!({ "id": id, "v": 6 })).await), "CONFLICT");
    assert_eq!(
        code(&app.graphql_as(Some(&sup), REVIEW, json!({ "id": id, "v": 6, "d": "RETURN", "c": "no" })).await),
        "CONFLICT"
    );

    // Official status: now visible to everyone, and the task's latest accepted report.
    let anon = app
        .data_as(
            None,
            "{ task(number: 16) { latestAcceptedReport { state reviewComment } latestReport { state } } }",
            json!({}),
        )
        .await;
    assert_eq!(anon["task"]["latestAcceptedReport"], json!({ "state": "ACCEPTED", "reviewComment": null }));

    let h = app
        .data_as(Some(&gd), "query($id: ID!) { node(id: $id) { ... on ProgressReport { viewerCanEdit history { version action actor changes { field before after } } } } }", json!({ "id": id }))
        .await;
    assert_eq!(h["node"]["viewerCanEdit"], false);
    let history = h["node"]["history"].as_array().expect("history");
    let actions: Vec<_> = history
        .iter()
        .map(|e| (e["version"].as_i64().unwrap_or(0), e["action"].as_str().unwrap_or_default()))
        .collect();
    assert_eq!(actions, [(1, "CREATE"), (2, "UPDATE"), (3, "SUBMIT"), (4, "RETURN"), (5, "SUBMIT"), (6, "ACCEPT")]);
    // A reporter reads no token names: its own writes show as the reporter, the others' as the role.
    assert_eq!(history[1]["actor"], "Guangdong (PROVINCE_REPORTER)");
    assert_eq!(history[3]["actor"], "SUPERVISOR");
    let changes = &history[1]["changes"];
    assert!(
        changes
            .as_array()
            .expect("changes")
            .contains(&json!({ "field": "summary", "before": "first", "after": "second" }))
    );
    assert!(
        changes
            .as_array()
            .expect("changes")
            .contains(&json!({ "field": "percentComplete", "before": 10, "after": 20 }))
    );
    assert_eq!(
        history[3]["changes"],
        json!([{ "field": "state", "before": "SUBMITTED", "after": "RETURNED" }, { "field": "reviewComment", "before": null, "after": "Add evidence." }])
    );
    // History needs a token, and there is no way to edit it through the API.
    let anon_history =
        app.graphql_as(None, "{ task(number: 16) { latestAcceptedReport { history { action } } } }", json!({})).await;
    assert_eq!(code(&anon_history), "UNAUTHENTICATED");
}

#[tokio::test]
async fn withdrawing_leaves_a_tombstone() {
    let app = TestApp::spawn().await;
    let gd = app.token("gd", AccessRole::ProvinceReporter, None, Some("440000")).await;
    let d = app
        .data_as(
            Some(&gd),
            SUBMIT,
            json!({ "i": { "taskNumber": 3, "period": "2016", "status": "ONGOING", "summary": "x" } }),
        )
        .await;
    let id = d["submitProgressReport"]["report"]["id"].clone();
    let d = app.data_as(Some(&gd), WITHDRAW, json!({ "id": id, "v": 1 })).await;
    assert_eq!(d["withdrawProgressReport"]["report"], json!({ "version": 2, "state": "WITHDRAWN" }));
    assert_eq!(code(&app.graphql_as(Some(&gd), WITHDRAW, json!({ "id": id, "v": 2 })).await), "CONFLICT");
    app.settle_feed().await;
    let feed =
        app.data_as(Some(&gd), "{ changes { edges { node { kind reportId version state } } } }", json!({})).await;
    assert_eq!(
        feed["changes"]["edges"],
        json!([
            { "node": { "kind": "CREATED", "reportId": id, "version": 1, "state": "SUBMITTED" } },
            { "node": { "kind": "WITHDRAWN", "reportId": id, "version": 2, "state": "WITHDRAWN" } }
        ])
    );
}

#[tokio::test]
async fn idempotency_keys_replay_or_conflict() {
    let app = TestApp::spawn().await;
    let gd = app.token("gd", AccessRole::ProvinceReporter, None, Some("440000")).await;
    let input = json!({ "taskNumber": 3, "period": "2016", "status": "ONGOING", "summary": "once", "idempotencyKey": "gd-2016-3" });
    let first = app.data_as(Some(&gd), SUBMIT, json!({ "i": input })).await;
    let again = app.data_as(Some(&gd), SUBMIT, json!({ "i": input })).await;
    assert_eq!(first, again, "a retry returns the first result");
    let mut changed = input.clone();
    changed["summary"] = json!("twice");
    assert_eq!(code(&app.graphql_as(Some(&gd), SUBMIT, json!({ "i": changed })).await), "CONFLICT");
    let n = app.data("{ progressReports { totalCount } }", json!({})).await;
    assert_eq!(n["progressReports"]["totalCount"], 1);

    // Keys belong to their token: another reporter's same key is its own.
    let bj = app.token("bj", AccessRole::ProvinceReporter, None, Some("110000")).await;
    app.data_as(Some(&bj), SUBMIT, json!({ "i": input })).await;
    let id = first["submitProgressReport"]["report"]["id"].clone();
    let p = json!({ "id": id, "v": 1, "p": { "summary": "edit" }, "k": "edit-1" });
    let a = app.data_as(Some(&gd), PATCH, p.clone()).await;
    let b = app.data_as(Some(&gd), PATCH, p).await;
    assert_eq!(a, b);
    assert_eq!(a["updateProgressReport"]["report"]["version"], 2);
}

#[tokio::test]
async fn capability_flags() {
    let app = TestApp::spawn().await;
    let sipo = app.token("sipo", AccessRole::AgencyReporter, Some("SIPO"), None).await;
    let reader = app.token("reader", AccessRole::Reader, None, None).await;
    let q = "{ t1: task(number: 1) { viewerCanReport } t7: task(number: 7) { viewerCanReport } }";
    assert_eq!(
        app.data_as(Some(&sipo), q, json!({})).await,
        json!({ "t1": { "viewerCanReport": true }, "t7": { "viewerCanReport": false } })
    );
    assert_eq!(
        app.data_as(Some(&reader), q, json!({})).await,
        json!({ "t1": { "viewerCanReport": false }, "t7": { "viewerCanReport": false } })
    );
    assert_eq!(
        app.data_as(None, q, json!({})).await,
        json!({ "t1": { "viewerCanReport": false }, "t7": { "viewerCanReport": false } })
    );
    let d = app
        .data_as(
            Some(&sipo),
            SUBMIT,
            json!({ "i": { "taskNumber": 1, "period": "2016", "status": "ONGOING", "summary": "x" } }),
        )
        .await;
    let id = d["submitProgressReport"]["report"]["id"].clone();
    let flags = "query($id: ID!) { node(id: $id) { ... on ProgressReport { viewerCanEdit viewerCanReview } } }";
    assert_eq!(
        app.data_as(Some(&sipo), flags, json!({ "id": id })).await["node"],
        json!({ "viewerCanEdit": true, "viewerCanReview": false })
    );
    assert_eq!(
        app.data(flags, json!({ "id": id })).await["node"],
        json!({ "viewerCanEdit": true, "viewerCanReview": true })
    );
    assert_eq!(
        app.data_as(Some(&reader), flags, json!({ "id": id })).await["node"],
        json!({ "viewerCanEdit": false, "viewerCanReview": false })
    );
}
