//! Reports and the review queue filtered by the keys people use: client id, reporter by any
//! agency name or province code, period ranges by start, several states, section numeral —
//! always within what the caller may see.

use serde_json::{Value, json};
use workplan_domain::token::AccessRole;
use workplan_tests::TestApp;

const SUBMIT: &str = "mutation($i: SubmitProgressReportInput!) { submitProgressReport(input: $i) { report { id } } }";
const SYNC: &str =
    "mutation($i: SyncProgressReportsInput!) { syncProgressReports(input: $i) { results { report { id } } } }";
const REPORTS: &str =
    "query($f: ProgressReportFilter) { progressReports(filter: $f, first: 100) { totalCount nodes { id } } }";
const QUEUE: &str = "query($f: ReviewQueueFilter) { reviewQueue(filter: $f, first: 100) { totalCount nodes { id } } }";

/// Six reports; returns their ids in filing order (1-based names in the comments).
async fn file_reports(app: &TestApp) -> Vec<Value> {
    let mofcom = app.data(r#"{ agency(name: "MOFCOM") { id } }"#, json!({})).await["agency"]["id"].clone();
    let mut ids = Vec::new();
    let submits = [
        (63, json!({ "agencyId": mofcom }), "2016-Q3", false), // 1: MOFCOM, section III
        (79, json!({ "agencyId": mofcom }), "2016-H2", true),  // 2: MOFCOM draft, section IV
        (1, json!({ "provinceCode": "440000" }), "2016-Q4", false), // 3: Guangdong
        (2, json!({ "provinceCode": "440000" }), "2017", false), // 4: Guangdong
    ];
    for (task, reporter, period, draft) in submits {
        let i = json!({ "taskNumber": task, "reporter": reporter, "period": period, "status": "ONGOING",
                        "summary": "s", "asDraft": draft });
        ids.push(app.data(SUBMIT, json!({ "i": i })).await["submitProgressReport"]["report"]["id"].clone());
    }
    // 5: Beijing through sync, with a client id; section III.
    let sync = json!({ "reporter": { "provinceCode": "110000" }, "reports": [
        { "clientReportId": "bj-45", "taskNumber": 45, "period": "2016-09", "status": "IN_PROGRESS", "summary": "s" } ] });
    ids.push(app.data(SYNC, json!({ "i": sync })).await["syncProgressReports"]["results"][0]["report"]["id"].clone());
    // 6: Beijing, accepted.
    let i = json!({ "taskNumber": 3, "reporter": { "provinceCode": "110000" }, "period": "2016", "status": "ONGOING", "summary": "s" });
    let id = app.data(SUBMIT, json!({ "i": i })).await["submitProgressReport"]["report"]["id"].clone();
    let review = "mutation($id: ID!) { reviewProgressReport(id: $id, expectedVersion: 1, decision: ACCEPT) { report { state } } }";
    assert_eq!(app.data(review, json!({ "id": id })).await["reviewProgressReport"]["report"]["state"], "ACCEPTED");
    ids.push(id);
    assert!(ids.iter().all(Value::is_string), "{ids:?}");
    ids
}

fn found(d: &Value, list: &str) -> Vec<Value> {
    let nodes = d[list]["nodes"].as_array().expect("nodes");
    assert_eq!(d[list]["totalCount"].as_u64(), Some(nodes.len() as u64), "totalCount agrees");
    nodes.iter().map(|n| n["id"].clone()).collect()
}

fn pick(ids: &[Value], which: &[usize]) -> Vec<Value> {
    which.iter().map(|n| ids[n - 1].clone()).collect()
}

#[tokio::test]
async fn reports_by_client_id_reporter_period_range_states_and_section() {
    let app = TestApp::spawn().await;
    let ids = file_reports(&app).await;
    // Lists are newest first.
    let cases = [
        (json!({ "clientReportId": "bj-45" }), vec![5]),
        (json!({ "clientReportId": "nobody" }), vec![]),
        (json!({ "reporter": { "agencyName": "商务部" } }), vec![2, 1]),
        (json!({ "reporter": { "agencyName": "ministry of commerce" }, "states": ["DRAFT"] }), vec![2]),
        (json!({ "reporter": { "provinceCode": "440000" } }), vec![4, 3]),
        (json!({ "periodFrom": "2016-Q3" }), vec![5, 4, 3, 2, 1]),
        (json!({ "periodTo": "2016-07" }), vec![6, 2, 1]),
        (json!({ "periodFrom": "2016-08", "periodTo": "2016-08" }), vec![]),
        (json!({ "periodFrom": "2016-08", "periodTo": "2016-12" }), vec![5, 3]),
        (json!({ "periodFrom": "2017", "periodTo": "2017" }), vec![4]),
        (json!({ "states": ["DRAFT", "ACCEPTED"] }), vec![6, 2]),
        (json!({ "states": ["DRAFT", "ACCEPTED"], "state": "ACCEPTED" }), vec![6]),
        (json!({ "sectionNumeral": "三" }), vec![5, 1]),
        (json!({ "sectionNumeral": "III", "reporter": { "provinceCode": "110000" } }), vec![5]),
    ];
    for (filter, want) in cases {
        assert_eq!(
            found(&app.data(REPORTS, json!({ "f": filter })).await, "progressReports"),
            pick(&ids, &want),
            "{filter}"
        );
    }
}

#[tokio::test]
async fn report_filters_stay_within_the_callers_scope() {
    let app = TestApp::spawn().await;
    let ids = file_reports(&app).await;
    let gd = app.token("gd", AccessRole::ProvinceReporter, None, Some("440000")).await;
    let mofcom = json!({ "f": { "reporter": { "agencyName": "MOFCOM" } } });
    assert!(found(&app.data_as(Some(&gd), REPORTS, mofcom.clone()).await, "progressReports").is_empty());
    let own = json!({ "f": { "periodFrom": "2016" } });
    assert_eq!(found(&app.data_as(Some(&gd), REPORTS, own).await, "progressReports"), pick(&ids, &[6, 4, 3]));
    let drafts = json!({ "f": { "states": ["DRAFT"] } });
    assert!(found(&app.data_as(None, REPORTS, drafts).await, "progressReports").is_empty(), "anonymous: accepted only");
    let early = json!({ "f": { "periodTo": "2016-07" } });
    assert_eq!(found(&app.data_as(None, REPORTS, early).await, "progressReports"), pick(&ids, &[6]));
}

#[tokio::test]
async fn report_filter_mistakes_name_their_field() {
    let app = TestApp::spawn().await;
    for (filter, field) in [
        (json!({ "periodFrom": "2016-Q5" }), "filter.periodFrom"),
        (json!({ "periodTo": "soon" }), "filter.periodTo"),
        (json!({ "periodFrom": "2017", "periodTo": "2016-Q4" }), "filter.periodTo"),
        (json!({ "reporter": { "agencyName": "MOFCOM", "provinceCode": "440000" } }), "filter.reporter"),
        (json!({ "reporter": {} }), "filter.reporter"),
        (json!({ "reporter": { "agencyId": "nonsense" } }), "filter.reporter.agencyId"),
        (json!({ "sectionNumeral": "IIII" }), "filter.sectionNumeral"),
    ] {
        assert_eq!(
            app.error(REPORTS, json!({ "f": filter })).await,
            ("BAD_USER_INPUT".into(), Some(field.into())),
            "{filter}"
        );
    }
    assert_eq!(
        app.error(QUEUE, json!({ "f": { "periodFrom": "2016-Q9" } })).await,
        ("BAD_USER_INPUT".into(), Some("filter.periodFrom".into()))
    );
}

#[tokio::test]
async fn the_review_queue_filters_by_task_section_reporter_and_period_oldest_first() {
    let app = TestApp::spawn().await;
    let ids = file_reports(&app).await;
    let cases = [
        (json!(null), vec![1, 3, 4, 5]),
        (json!({ "taskNumber": 63 }), vec![1]),
        (json!({ "sectionNumeral": "3" }), vec![1, 5]),
        (json!({ "reporter": { "provinceCode": "440000" } }), vec![3, 4]),
        (json!({ "reporter": { "agencyName": "MOFCOM" } }), vec![1]),
        (json!({ "period": "2016-09" }), vec![5]),
        (json!({ "periodFrom": "2016-Q4" }), vec![3, 4]),
        (json!({ "periodTo": "2016-Q3" }), vec![1]),
        (json!({ "taskNumber": 3 }), vec![]),
    ];
    for (filter, want) in cases {
        assert_eq!(found(&app.data(QUEUE, json!({ "f": filter })).await, "reviewQueue"), pick(&ids, &want), "{filter}");
    }
    let supervisor = app.token("sup", AccessRole::Supervisor, None, None).await;
    let d = app.data_as(Some(&supervisor), QUEUE, json!({ "f": { "sectionNumeral": "III" } })).await;
    assert_eq!(found(&d, "reviewQueue"), pick(&ids, &[1, 5]));
    let gd = app.token("gd", AccessRole::ProvinceReporter, None, Some("440000")).await;
    assert_eq!(app.error_as(Some(&gd), QUEUE, json!({})).await.0, "FORBIDDEN");
}

#[tokio::test]
async fn the_review_queue_is_ordered_by_submission_then_id_and_pages_by_it() {
    use sea_orm::ConnectionTrait;
    let app = TestApp::spawn().await;
    let mut ids = Vec::new();
    for task in [4, 5, 6] {
        let i = json!({ "taskNumber": task, "reporter": { "provinceCode": "440000" }, "period": "2016",
                        "status": "ONGOING", "summary": "s" });
        ids.push(app.data(SUBMIT, json!({ "i": i })).await["submitProgressReport"]["report"]["id"].clone());
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(found(&app.data(QUEUE, json!({})).await, "reviewQueue"), ids, "submitted in id order");
    // The first report now counts as submitted when the third was: it ties with the third, and
    // the id breaks the tie.
    let db = sea_orm::Database::connect(app.db.url()).await.expect("connect");
    db.execute_unprepared(
        "UPDATE progress_reports SET submitted_at = \
           (SELECT r.submitted_at FROM progress_reports r WHERE r.id = (SELECT MAX(id) FROM progress_reports)) \
         WHERE id = (SELECT MIN(id) FROM progress_reports)",
    )
    .await
    .expect("move the first submission");
    let want = pick(&ids, &[2, 1, 3]);
    assert_eq!(found(&app.data(QUEUE, json!({})).await, "reviewQueue"), want);
    // Page by page, one at a time, with the cursors the queue hands out.
    let page = "query($after: String) { reviewQueue(first: 1, after: $after) { nodes { id } pageInfo { endCursor hasNextPage } } }";
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let d = app.data(page, json!({ "after": after })).await;
        seen.extend(d["reviewQueue"]["nodes"].as_array().expect("nodes").iter().map(|n| n["id"].clone()));
        if d["reviewQueue"]["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = d["reviewQueue"]["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen, want);
    // Other report lists keep their order: newest recorded first.
    assert_eq!(found(&app.data(REPORTS, json!({})).await, "progressReports"), pick(&ids, &[3, 2, 1]));
}
