//! Every role × action × target, with the expected outcome; refusals write nothing.

use serde_json::{Value, json};
use workplan_domain::token::AccessRole;
use workplan_tests::TestApp;

const SUBMIT: &str =
    "mutation($i: SubmitProgressReportInput!) { submitProgressReport(input: $i) { report { id version state } } }";
const UPDATE: &str = "mutation($id: ID!, $v: Int!) { updateProgressReport(id: $id, expectedVersion: $v, patch: { summary: \"edited\" }) { report { version } } }";
const WITHDRAW: &str =
    "mutation($id: ID!, $v: Int!) { withdrawProgressReport(id: $id, expectedVersion: $v) { report { state } } }";
const REVIEW: &str = "mutation($id: ID!, $v: Int!) { reviewProgressReport(id: $id, expectedVersion: $v, decision: ACCEPT) { report { state } } }";
const READ: &str = "query($id: ID!) { node(id: $id) { id } }";

struct Actors {
    tokens: Vec<(&'static str, Option<String>)>,
}

impl Actors {
    async fn new(app: &TestApp) -> Self {
        let mut tokens = vec![("anonymous", None), ("admin", Some(app.admin.clone()))];
        for (name, role, agency, province) in [
            ("reader", AccessRole::Reader, None, None),
            ("supervisor", AccessRole::Supervisor, None, None),
            ("sipo", AccessRole::AgencyReporter, Some("SIPO"), None),
            ("mofcom", AccessRole::AgencyReporter, Some("MOFCOM"), None),
            ("guangdong", AccessRole::ProvinceReporter, None, Some("440000")),
            ("beijing", AccessRole::ProvinceReporter, None, Some("110000")),
        ] {
            tokens.push((name, Some(app.token(name, role, agency, province).await)));
        }
        Self { tokens }
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.tokens.iter().find(|(n, _)| *n == name).and_then(|(_, t)| t.as_deref())
    }
}

/// `None` = allowed; `Some(code)` = refused with that code.
fn outcome(body: &Value) -> Option<String> {
    body["errors"][0]["extensions"]["code"].as_str().map(str::to_owned)
}

async fn count(app: &TestApp) -> i64 {
    app.data("{ progressReports { totalCount } }", json!({})).await["progressReports"]["totalCount"]
        .as_i64()
        .expect("n")
}

/// The `i`-th month from January 2016: a period no other report of the test uses (one live
/// report per reporter, task, period and kind).
fn month(i: usize) -> String {
    format!("{}-{:02}", 2016 + i / 12, i % 12 + 1)
}

/// A fresh SUBMITTED report (or draft) by Guangdong on task 1, each for a period of its own.
async fn target(app: &TestApp, actors: &Actors, draft: bool) -> (Value, i64) {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let period = month(NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    let d = app
        .data_as(
            actors.get("guangdong"),
            SUBMIT,
            json!({ "i": { "taskNumber": 1, "period": period, "status": "ONGOING", "summary": "gd", "asDraft": draft } }),
        )
        .await;
    (d["submitProgressReport"]["report"]["id"].clone(), 1)
}

#[tokio::test]
async fn submitting() {
    let app = TestApp::spawn().await;
    let actors = Actors::new(&app).await;
    let sipo = app.data(r#"{ agency(name: "SIPO") { id } }"#, json!({})).await["agency"]["id"].clone();
    let mofcom = app.data(r#"{ agency(name: "MOFCOM") { id } }"#, json!({})).await["agency"]["id"].clone();
    let base = json!({ "taskNumber": 1, "period": "2016", "status": "ONGOING", "summary": "s" });
    let with = |extra: Value| {
        let mut i = base.clone();
        for (k, v) in extra.as_object().expect("obj") {
            i[k] = v.clone();
        }
        json!({ "i": i })
    };
    // Task 1 is SIPO's alone; MOFCOM is not responsible for it.
    let cases: Vec<(&str, Value, Option<&str>)> = vec![
        ("anonymous", with(json!({})), Some("UNAUTHENTICATED")),
        ("reader", with(json!({})), Some("FORBIDDEN")),
        ("supervisor", with(json!({})), Some("FORBIDDEN")),
        ("admin", with(json!({})), Some("BAD_USER_INPUT")),
        ("admin", with(json!({ "reporter": { "agencyId": sipo } })), None),
        ("admin", with(json!({ "reporter": { "agencyId": mofcom } })), Some("BAD_USER_INPUT")),
        ("admin", with(json!({ "reporter": { "provinceCode": "110000" } })), None),
        ("sipo", with(json!({})), None),
        ("sipo", with(json!({ "reporter": { "agencyId": sipo } })), None),
        ("sipo", with(json!({ "reporter": { "agencyId": mofcom } })), Some("FORBIDDEN")),
        ("sipo", with(json!({ "reporter": { "provinceCode": "440000" } })), Some("FORBIDDEN")),
        ("mofcom", with(json!({})), Some("FORBIDDEN")),
        ("mofcom", with(json!({ "taskNumber": 79 })), None),
        ("guangdong", with(json!({})), None),
        ("guangdong", with(json!({ "taskNumber": 79 })), None),
        ("guangdong", with(json!({ "reporter": { "provinceCode": "440000" } })), None),
        ("guangdong", with(json!({ "reporter": { "provinceCode": "110000" } })), Some("FORBIDDEN")),
        ("guangdong", with(json!({ "reporter": { "agencyId": sipo } })), Some("FORBIDDEN")),
        ("beijing", with(json!({})), None),
    ];
    for (n, (actor, mut vars, expected)) in cases.into_iter().enumerate() {
        vars["i"]["period"] = json!(month(n));
        let before = count(&app).await;
        let body = app.graphql_as(actors.get(actor), SUBMIT, vars.clone()).await;
        assert_eq!(outcome(&body).as_deref(), expected, "{actor} {vars}: {body}");
        assert_eq!(
            count(&app).await,
            before + i64::from(expected.is_none()),
            "{actor} {vars}: writes only when allowed"
        );
    }
}

#[tokio::test]
async fn editing_withdrawing_reviewing_and_reading() {
    let app = TestApp::spawn().await;
    let actors = Actors::new(&app).await;
    let all = ["anonymous", "reader", "supervisor", "admin", "sipo", "mofcom", "guangdong", "beijing"];
    // The target is Guangdong's SUBMITTED report: the other reporters cannot read it, so to
    // them it does not exist (NOT_FOUND, as a guessed id); the reader reads it but may not
    // change it (FORBIDDEN).
    let owner_or_admin = |a: &str| match a {
        "anonymous" => Some("UNAUTHENTICATED"),
        "admin" | "guangdong" => None,
        "sipo" | "mofcom" | "beijing" => Some("NOT_FOUND"),
        _ => Some("FORBIDDEN"),
    };
    let reviewers = |a: &str| match a {
        "anonymous" => Some("UNAUTHENTICATED"),
        "admin" | "supervisor" => None,
        "sipo" | "mofcom" | "beijing" => Some("NOT_FOUND"),
        _ => Some("FORBIDDEN"),
    };
    for (action, query, rule) in [
        ("update", UPDATE, &owner_or_admin as &dyn Fn(&str) -> Option<&'static str>),
        ("withdraw", WITHDRAW, &owner_or_admin),
        ("review", REVIEW, &reviewers),
    ] {
        for actor in all {
            let (id, version) = target(&app, &actors, false).await;
            let body = app.graphql_as(actors.get(actor), query, json!({ "id": id, "v": version })).await;
            let expected = rule(actor);
            assert_eq!(outcome(&body).as_deref(), expected, "{actor} {action}: {body}");
            let now = app
                .data("query($id: ID!) { node(id: $id) { ... on ProgressReport { version } } }", json!({ "id": id }))
                .await;
            assert_eq!(now["node"]["version"], if expected.is_none() { 2 } else { 1 }, "{actor} {action}");
        }
    }

    // Who sees a draft, and a submitted report, of Guangdong's.
    let (draft, _) = target(&app, &actors, true).await;
    let (submitted, _) = target(&app, &actors, false).await;
    for (actor, sees_draft, sees_submitted) in [
        ("anonymous", false, false),
        ("reader", false, true),
        ("supervisor", true, true),
        ("admin", true, true),
        ("sipo", false, false),
        ("guangdong", true, true),
        ("beijing", false, false),
    ] {
        let d = app.data_as(actors.get(actor), READ, json!({ "id": draft })).await;
        assert_eq!(!d["node"].is_null(), sees_draft, "{actor} draft");
        let s = app.data_as(actors.get(actor), READ, json!({ "id": submitted })).await;
        assert_eq!(!s["node"].is_null(), sees_submitted, "{actor} submitted");
        let listed =
            app.data_as(actors.get(actor), "{ progressReports(first: 100) { nodes { id } } }", json!({})).await;
        let ids: Vec<_> =
            listed["progressReports"]["nodes"].as_array().expect("nodes").iter().map(|n| n["id"].clone()).collect();
        assert_eq!(ids.contains(&draft), sees_draft, "{actor} lists the draft");
        assert_eq!(ids.contains(&submitted), sees_submitted, "{actor} lists the submitted report");
    }
    // Once accepted, everyone sees it.
    app.data(REVIEW, json!({ "id": submitted, "v": 1 })).await;
    for actor in all {
        let s = app.data_as(actors.get(actor), READ, json!({ "id": submitted })).await;
        assert!(!s["node"].is_null(), "{actor} sees the accepted report");
    }
}
