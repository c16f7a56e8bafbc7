//! What a caller can learn that it was not meant to: token names as the actor of a write,
//! whether a report id exists, and the text of a draft its reporter withdrew unsubmitted.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sea_orm::{ConnectionTrait as _, Database};
use serde_json::{Value, json};
use workplan_domain::token::AccessRole;
use workplan_tests::TestApp;

const SUBMIT: &str =
    "mutation($i: SubmitProgressReportInput!) { submitProgressReport(input: $i) { report { id version state } } }";
const UPDATE: &str = "mutation($id: ID!, $v: Int!) {
  updateProgressReport(id: $id, expectedVersion: $v, patch: { summary: \"edited\" }) { report { version } } }";
const WITHDRAW: &str =
    "mutation($id: ID!, $v: Int!) { withdrawProgressReport(id: $id, expectedVersion: $v) { report { state } } }";
const REVIEW: &str = "mutation($id: ID!, $v: Int!) {
  reviewProgressReport(id: $id, expectedVersion: $v, decision: ACCEPT) { report { state } } }";
const FEED: &str = "{ changes(first: 500) { nodes { kind reportId actor report { summary } } } }";
const HISTORY: &str = "query($id: ID!) { node(id: $id) { ... on ProgressReport { history { action actor } } } }";
const READ: &str = "query($id: ID!) { node(id: $id) { ... on ProgressReport { state summary } } }";
const LIST: &str = "{ progressReports(first: 100) { totalCount nodes { id summary } } }";

/// Token names no one but ADMIN and SUPERVISOR may read.
const REPORTER_NAME: &str = "li-na-workstation-7";
const SUPERVISOR_NAME: &str = "zhang-wei-laptop";

fn report(period: &str, summary: &str, draft: bool) -> Value {
    json!({ "i": { "taskNumber": 16, "period": period, "status": "ONGOING", "summary": summary, "asDraft": draft } })
}

/// The global ID of report `n`, as a caller guessing ids would make it.
fn guessed(n: i64) -> String {
    STANDARD.encode(format!("ProgressReport:{n}"))
}

fn actors(nodes: &Value) -> Vec<String> {
    nodes.as_array().expect("a list").iter().map(|n| n["actor"].as_str().unwrap_or("?").to_owned()).collect()
}

#[tokio::test]
async fn token_names_are_shown_as_actors_only_to_admins_and_supervisors() {
    let app = TestApp::spawn().await;
    let gd = app.token(REPORTER_NAME, AccessRole::ProvinceReporter, None, Some("440000")).await;
    let sup = app.token(SUPERVISOR_NAME, AccessRole::Supervisor, None, None).await;
    let reader = app.token("reader", AccessRole::Reader, None, None).await;
    let beijing = app.token("beijing", AccessRole::ProvinceReporter, None, Some("110000")).await;
    let d = app.data_as(Some(&gd), SUBMIT, report("2016", "done", false)).await;
    let id = d["submitProgressReport"]["report"]["id"].clone();
    app.data_as(Some(&sup), REVIEW, json!({ "id": id, "v": 1 })).await;
    app.settle_feed().await;

    let named = [format!("{REPORTER_NAME} (PROVINCE_REPORTER)"), format!("{SUPERVISOR_NAME} (SUPERVISOR)")];
    let shown = ["Guangdong (PROVINCE_REPORTER)".to_owned(), "SUPERVISOR".to_owned()];
    for (who, token) in [("admin", Some(app.admin.as_str())), ("supervisor", Some(sup.as_str()))] {
        let feed = app.data_as(token, FEED, json!({})).await;
        assert_eq!(actors(&feed["changes"]["nodes"]), named, "{who} reads the feed's token names");
        let history = app.data_as(token, HISTORY, json!({ "id": id })).await;
        assert_eq!(actors(&history["node"]["history"]), named, "{who} reads the history's token names");
    }
    // Everyone else: the reporter (for its own writes) or the role, never a token's name.
    // (Another reporter reads only accepted reports, so only the acceptance is in its feed.)
    for (who, token, in_feed) in [
        ("reader", Some(reader.as_str()), &shown[..]),
        ("the reporter", Some(gd.as_str()), &shown[..]),
        ("another reporter", Some(beijing.as_str()), &shown[1..]),
    ] {
        let feed = app.graphql_as(token, FEED, json!({})).await;
        assert_eq!(actors(&feed["data"]["changes"]["nodes"]), in_feed, "{who}: {feed}");
        let history = app.graphql_as(token, HISTORY, json!({ "id": id })).await;
        assert_eq!(actors(&history["data"]["node"]["history"]), shown, "{who}: {history}");
        for body in [feed, history] {
            let text = body.to_string();
            assert!(
                !text.contains(REPORTER_NAME) && !text.contains(SUPERVISOR_NAME),
                "{who} reads a token name: {text}"
            );
        }
    }
    // Anonymous callers read accepted reports only, so the acceptance alone.
    let feed = app.graphql_as(None, FEED, json!({})).await;
    assert_eq!(actors(&feed["data"]["changes"]["nodes"]), ["SUPERVISOR"], "{feed}");
    assert!(!feed.to_string().contains(SUPERVISOR_NAME), "{feed}");

    // A record that names no role (written by hand, or by an old version) shows nothing of it.
    let db = Database::connect(app.db.url()).await.expect("connect");
    db.execute_unprepared(
        "INSERT INTO report_changes (report_id, kind, version, state, agency_id, province_id, actor, at)
         SELECT 999999, 'UPDATED', 2, 'ACCEPTED', NULL, id, 'ops person', '2016-12-20T08:00:00+00:00'
         FROM provinces WHERE code = '440000'",
    )
    .await
    .expect("a change");
    db.close().await.expect("close");
    app.settle_feed().await;
    let last = |feed: &Value| actors(&feed["changes"]["nodes"]).last().cloned();
    assert_eq!(last(&app.data_as(None, FEED, json!({})).await).as_deref(), Some("unknown"));
    assert_eq!(last(&app.data_as(Some(&reader), FEED, json!({})).await).as_deref(), Some("unknown"));
    assert_eq!(last(&app.data_as(Some(&sup), FEED, json!({})).await).as_deref(), Some("ops person"));
}

#[tokio::test]
async fn a_report_the_caller_cannot_read_is_not_found_exactly_like_one_that_does_not_exist() {
    let app = TestApp::spawn().await;
    let gd = app.token("gd", AccessRole::ProvinceReporter, None, Some("440000")).await;
    let beijing = app.token("beijing", AccessRole::ProvinceReporter, None, Some("110000")).await;
    let sipo = app.token("sipo", AccessRole::AgencyReporter, Some("SIPO"), None).await;
    let reader = app.token("reader", AccessRole::Reader, None, None).await;
    let draft =
        app.data_as(Some(&gd), SUBMIT, report("2016-Q1", "draft", true)).await["submitProgressReport"]["report"]["id"]
            .clone();
    let submitted =
        app.data_as(Some(&gd), SUBMIT, report("2016-Q2", "sent", false)).await["submitProgressReport"]["report"]["id"]
            .clone();
    let accepted = app.data_as(Some(&gd), SUBMIT, report("2016-Q3", "accepted", false)).await["submitProgressReport"]["report"]["id"].clone();
    app.data(REVIEW, json!({ "id": accepted, "v": 1 })).await;
    let nobody = json!(guessed(987_654));

    for (action, query) in [("update", UPDATE), ("withdraw", WITHDRAW), ("review", REVIEW)] {
        for (who, token, target) in [
            ("another reporter", &beijing, &draft),
            ("another reporter", &beijing, &submitted),
            ("an agency", &sipo, &draft),
            ("a reader", &reader, &draft),
        ] {
            // The same answer, word for word, as for an id that names nothing.
            let unreadable = app.graphql_as(Some(token), query, json!({ "id": target, "v": 1 })).await;
            let missing = app.graphql_as(Some(token), query, json!({ "id": nobody, "v": 1 })).await;
            assert_eq!(unreadable["errors"][0]["extensions"]["code"], "NOT_FOUND", "{who} {action}: {unreadable}");
            assert_eq!(unreadable, missing, "{who} {action} tells a hidden report from a missing one");
        }
        // Readable but not theirs to change: FORBIDDEN.
        for (who, token, target) in [
            ("a reader", &reader, &submitted),
            ("another reporter", &beijing, &accepted),
            ("an agency", &sipo, &accepted),
        ] {
            let body = app.graphql_as(Some(token), query, json!({ "id": target, "v": 1 })).await;
            assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN", "{who} {action}: {body}");
        }
    }
    // The reporter reads its own report, so it is told it may not review it.
    let own = app.graphql_as(Some(&gd), REVIEW, json!({ "id": submitted, "v": 1 })).await;
    assert_eq!(own["errors"][0]["extensions"]["code"], "FORBIDDEN", "{own}");
    // Nothing changed.
    for id in [&draft, &submitted] {
        let d = app.data(READ, json!({ "id": id })).await;
        assert_ne!(d["node"]["summary"], "edited");
        assert_ne!(d["node"]["state"], "WITHDRAWN");
    }
}

#[tokio::test]
async fn a_draft_withdrawn_unsubmitted_stays_invisible_to_others() {
    let app = TestApp::spawn().await;
    let gd = app.token("gd", AccessRole::ProvinceReporter, None, Some("440000")).await;
    let reader = app.token("reader", AccessRole::Reader, None, None).await;
    let beijing = app.token("beijing", AccessRole::ProvinceReporter, None, Some("110000")).await;
    let secret = "unreleased figures: 41% of the budget spent";
    let draft = app.data_as(Some(&gd), SUBMIT, report("2016-Q1", secret, true)).await["submitProgressReport"]["report"]
        ["id"]
        .clone();
    app.data_as(Some(&gd), WITHDRAW, json!({ "id": draft, "v": 1 })).await;
    // A report withdrawn after it was submitted was meant to be read: readers still read it.
    let sent =
        app.data_as(Some(&gd), SUBMIT, report("2016-Q2", "sent, then withdrawn", false)).await["submitProgressReport"]
            ["report"]["id"]
            .clone();
    app.data_as(Some(&gd), WITHDRAW, json!({ "id": sent, "v": 1 })).await;
    app.settle_feed().await;

    for (who, token) in
        [("a reader", Some(reader.as_str())), ("anonymous", None), ("another reporter", Some(beijing.as_str()))]
    {
        let read = app.data_as(token, READ, json!({ "id": draft })).await;
        assert!(read["node"].is_null(), "{who} reads the withdrawn draft: {read}");
        let list = app.data_as(token, LIST, json!({})).await;
        let feed = app.data_as(token, FEED, json!({})).await;
        let filtered = app
            .data_as(
                token,
                "{ progressReports(filter: { state: WITHDRAWN }) { totalCount nodes { summary } } }",
                json!({}),
            )
            .await;
        for body in [&list, &feed, &filtered] {
            assert!(!body.to_string().contains(secret), "{who} reads the draft's text: {body}");
        }
        let ids: Vec<&Value> =
            feed["changes"]["nodes"].as_array().expect("nodes").iter().map(|n| &n["reportId"]).collect();
        assert!(!ids.contains(&&draft), "{who} sees the draft in the feed: {feed}");
        let sees_sent = who == "a reader";
        assert_eq!(ids.contains(&&sent), sees_sent, "{who}: a submitted-then-withdrawn report");
        assert_eq!(list["progressReports"]["totalCount"], i64::from(sees_sent), "{who}: {list}");
    }
    // Its reporter and the supervisors still read it.
    for token in [Some(gd.as_str()), Some(app.admin.as_str())] {
        let read = app.data_as(token, READ, json!({ "id": draft })).await;
        assert_eq!(read["node"], json!({ "state": "WITHDRAWN", "summary": secret }));
    }
}
