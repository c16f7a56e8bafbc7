//! Text that displays as something it is not: evidence links with bidi overrides, invisible
//! characters or credentials, and free text with terminal escapes or bidi controls. Each is
//! refused with BAD_USER_INPUT naming the field — in a single mutation and in a sync batch
//! item — and nothing is written; links that are valid but spelled unusually are accepted and
//! stored normalised.

use sea_orm::{ConnectionTrait as _, Database};
use serde_json::{Value, json};
use workplan_domain::token::AccessRole;
use workplan_tests::TestApp;

const SUBMIT: &str = "mutation($i: SubmitProgressReportInput!) { submitProgressReport(input: $i) {
  report { id version summary obstacles evidenceUrls } } }";
const UPDATE: &str = "mutation($id: ID!, $p: ProgressReportPatch!) {
  updateProgressReport(id: $id, expectedVersion: 1, patch: $p) { report { version } } }";
const REVIEW: &str = "mutation($id: ID!, $c: String) {
  reviewProgressReport(id: $id, expectedVersion: 1, decision: RETURN, comment: $c) { report { state } } }";
const SYNC: &str = "mutation($i: SyncProgressReportsInput!) { syncProgressReports(input: $i) {
  created rejected results { outcome code field report { evidenceUrls summary } } } }";
const READ: &str = "query($id: ID!) { node(id: $id) { ... on ProgressReport { version state summary evidenceUrls } } }";
const COUNT: &str = "{ progressReports { totalCount } }";

/// Links refused, each with a word on why.
fn bad_links() -> Vec<(&'static str, String)> {
    vec![
        ("a bidi override", "https://example.org/\u{202E}gnp.exe".into()),
        ("a percent-encoded bidi override", "https://example.org/%E2%80%AEgnp.exe".into()),
        ("a bidi isolate", "https://example.org/\u{2067}x".into()),
        ("credentials", "https://gov.cn@evil.example/".into()),
        ("a password", "https://user:secret@example.org/".into()),
        ("a zero-width space in the host", "https://exa\u{200B}mple.org/".into()),
        ("a byte-order mark", "https://example.org/\u{FEFF}x".into()),
        ("a percent-encoded zero-width joiner", "https://example.org/a%E2%80%8Db".into()),
        ("a terminal escape", "https://example.org/\u{1B}[2J".into()),
        ("a percent-encoded escape", "https://example.org/%1B%5B2J".into()),
        ("a C1 control", "https://example.org/\u{9B}x".into()),
        ("another scheme", "javascript:alert(1)".into()),
    ]
}

/// Free texts refused, each with a word on why.
fn bad_texts() -> Vec<(&'static str, &'static str)> {
    vec![
        ("ESC", "done \u{1B}[31mred\u{1B}[0m"),
        ("BEL", "done \u{7}"),
        ("a lone CR", "done\rOVERWRITTEN"),
        ("DEL", "done \u{7F}"),
        ("a C1 control", "done \u{85}next"),
        ("RLO", "report \u{202E}fdp.exe"),
        ("LRE", "report \u{202A}x"),
        ("an isolate", "report \u{2068}x\u{2069}"),
    ]
}

fn submit(extra: &Value) -> Value {
    let mut i = json!({ "taskNumber": 16, "period": "2016", "status": "ONGOING", "summary": "s" });
    for (k, v) in extra.as_object().expect("an object") {
        i[k] = v.clone();
    }
    json!({ "i": i })
}

fn error(body: &Value) -> (String, Option<String>, String) {
    let e = &body["errors"][0];
    assert!(!e.is_null(), "expected an error: {body}");
    (
        e["extensions"]["code"].as_str().unwrap_or_default().to_owned(),
        e["extensions"]["field"].as_str().map(str::to_owned),
        e["message"].as_str().unwrap_or_default().to_owned(),
    )
}

/// A refusal must not quote the character back (a bidi override in the message would reorder
/// the message itself).
fn assert_quotes_no_control(message: &str) {
    assert!(
        !message.chars().any(|c| c.is_control()
            || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')),
        "{message:?}"
    );
}

async fn count(app: &TestApp) -> i64 {
    app.data(COUNT, json!({})).await["progressReports"]["totalCount"].as_i64().expect("a count")
}

#[tokio::test]
async fn links_and_texts_that_display_as_something_else_are_refused_on_submit() {
    let app = TestApp::spawn().await;
    let gd = app.token("gd", AccessRole::ProvinceReporter, None, Some("440000")).await;
    for (why, link) in bad_links() {
        let body =
            app.graphql_as(Some(&gd), SUBMIT, submit(&json!({ "evidenceUrls": ["https://ok.example/", link] }))).await;
        let (code, field, message) = error(&body);
        assert_eq!((code.as_str(), field.as_deref()), ("BAD_USER_INPUT", Some("evidenceUrls[1]")), "{why}: {body}");
        assert_quotes_no_control(&message);
    }
    for (why, text) in bad_texts() {
        for field in ["summary", "obstacles"] {
            let body = app.graphql_as(Some(&gd), SUBMIT, submit(&json!({ field: text }))).await;
            let (code, got, message) = error(&body);
            assert_eq!((code.as_str(), got.as_deref()), ("BAD_USER_INPUT", Some(field)), "{why} in {field}: {body}");
            assert_quotes_no_control(&message);
        }
    }
    assert_eq!(count(&app).await, 0, "nothing refused was written");

    // Valid, if unusually spelled: schemes and hosts are case-insensitive, and the link is
    // stored as the URL standard spells it. Line breaks (LF or CRLF) and tabs stay in text.
    let d = app
        .data_as(
            Some(&gd),
            SUBMIT,
            submit(&json!({
                "evidenceUrls": ["HTTPS://EXAMPLE.ORG/x", "http://Example.org", "https://example.org:443/a%20b.pdf?q=1#p"],
                "summary": "first line\nsecond\tline\r\nthird",
                "obstacles": "עברית \u{200F}and a mark"
            })),
        )
        .await;
    let report = &d["submitProgressReport"]["report"];
    assert_eq!(
        report["evidenceUrls"],
        json!(["https://example.org/x", "http://example.org/", "https://example.org/a%20b.pdf?q=1#p"])
    );
    assert_eq!(report["summary"], "first line\nsecond\tline\r\nthird");
    assert_eq!(report["obstacles"], "עברית \u{200F}and a mark");
}

#[tokio::test]
async fn edits_reviews_and_names_keep_to_the_same_rules_and_change_nothing_when_refused() {
    let app = TestApp::spawn().await;
    let gd = app.token("gd", AccessRole::ProvinceReporter, None, Some("440000")).await;
    let sup = app.token("sup", AccessRole::Supervisor, None, None).await;
    let d = app.data_as(Some(&gd), SUBMIT, submit(&json!({ "evidenceUrls": ["https://ok.example/a"] }))).await;
    let id = d["submitProgressReport"]["report"]["id"].clone();
    let before = app.data(READ, json!({ "id": id })).await;

    for (why, link) in bad_links() {
        let body = app.graphql_as(Some(&gd), UPDATE, json!({ "id": id, "p": { "evidenceUrls": [link] } })).await;
        let (code, field, _) = error(&body);
        assert_eq!(
            (code.as_str(), field.as_deref()),
            ("BAD_USER_INPUT", Some("patch.evidenceUrls[0]")),
            "{why}: {body}"
        );
    }
    for (why, text) in bad_texts() {
        let body = app.graphql_as(Some(&gd), UPDATE, json!({ "id": id, "p": { "summary": text } })).await;
        let (code, field, _) = error(&body);
        assert_eq!((code.as_str(), field.as_deref()), ("BAD_USER_INPUT", Some("patch.summary")), "{why}: {body}");
        let body = app.graphql_as(Some(&sup), REVIEW, json!({ "id": id, "c": text })).await;
        let (code, field, _) = error(&body);
        assert_eq!((code.as_str(), field.as_deref()), ("BAD_USER_INPUT", Some("comment")), "{why}: {body}");
    }
    assert_eq!(app.data(READ, json!({ "id": id })).await, before, "the report is as it was");

    // Reasons of the reporting calendar and of adjustments, and token names.
    let schedule = "mutation($i: ScheduleReportingPeriodInput!) { scheduleReportingPeriod(input: $i) { reportingPeriod { period } } }";
    let body = app
        .graphql_as(
            Some(&sup),
            schedule,
            json!({ "i": { "period": "2016-Q4", "dueAt": "2017-01-15T00:00:00Z", "reason": "moved \u{1B}[8m" } }),
        )
        .await;
    assert_eq!(error(&body).0, "BAD_USER_INPUT", "{body}");
    assert_eq!(error(&body).1.as_deref(), Some("reason"), "{body}");
    let exempt = "mutation($i: ExemptObligationsInput!) { exemptObligations(input: $i) { adjustments { id } } }";
    let body = app
        .graphql_as(
            Some(&sup),
            exempt,
            json!({ "i": { "taskNumbers": [16], "provinceCodes": ["440000"], "reason": "ok \u{202E}" } }),
        )
        .await;
    assert_eq!((error(&body).0.as_str(), error(&body).1.as_deref()), ("BAD_USER_INPUT", Some("reason")), "{body}");
    let create = "mutation($i: CreateApiTokenInput!) { createApiToken(input: $i) { secret } }";
    for name in ["ops \u{202E}nimda", "ops\u{1B}]0;pwned\u{7}", "two\nlines"] {
        let body = app.graphql(create, json!({ "i": { "name": name, "role": "READER" } })).await;
        assert_eq!((error(&body).0.as_str(), error(&body).1.as_deref()), ("BAD_USER_INPUT", Some("name")), "{body}");
    }
    let tokens = app.data("{ apiTokens { name } }", json!({})).await;
    assert_eq!(tokens["apiTokens"].as_array().map(Vec::len), Some(3), "no token was created: {tokens}");
}

#[tokio::test]
async fn sync_batch_items_keep_to_the_same_rules_one_by_one() {
    let app = TestApp::spawn().await;
    let gd = app.token("gd", AccessRole::ProvinceReporter, None, Some("440000")).await;
    let item = |n: usize, extra: Value| {
        let mut i = json!({ "clientReportId": format!("c{n}"), "taskNumber": 16, "period": format!("2016-{:02}", n % 12 + 1),
                            "status": "ONGOING", "summary": "s" });
        for (k, v) in extra.as_object().expect("an object") {
            i[k] = v.clone();
        }
        i
    };
    let mut items = vec![item(0, json!({ "evidenceUrls": ["HTTPS://EXAMPLE.ORG/x"] }))];
    let mut expected: Vec<(String, Option<String>)> = vec![("CREATED".into(), None)];
    for (why, link) in bad_links() {
        items.push(item(items.len(), json!({ "evidenceUrls": [link], "summary": why })));
        expected.push(("REJECTED".into(), Some("evidenceUrls[0]".into())));
    }
    for (_, text) in bad_texts() {
        items.push(item(items.len(), json!({ "summary": text })));
        expected.push(("REJECTED".into(), Some("summary".into())));
        items.push(item(items.len(), json!({ "obstacles": text })));
        expected.push(("REJECTED".into(), Some("obstacles".into())));
    }
    items.push(item(items.len(), json!({ "clientReportId": "id \u{202E}x" })));
    expected.push(("REJECTED".into(), Some("clientReportId".into())));
    let r = app.data_as(Some(&gd), SYNC, json!({ "i": { "reports": items } })).await["syncProgressReports"].clone();
    let results = r["results"].as_array().expect("results");
    let got: Vec<(String, Option<String>)> = results
        .iter()
        .map(|x| (x["outcome"].as_str().unwrap_or_default().to_owned(), x["field"].as_str().map(str::to_owned)))
        .collect();
    assert_eq!(got, expected);
    assert!(results.iter().skip(1).all(|x| x["code"] == "BAD_USER_INPUT"), "{results:?}");
    assert_eq!(results[0]["report"]["evidenceUrls"], json!(["https://example.org/x"]), "stored normalised");
    assert_eq!(count(&app).await, 1, "only the valid item was written");
}

#[tokio::test]
async fn links_stored_before_they_were_normalised_resync_unchanged() {
    let app = TestApp::spawn().await;
    let gd = app.token("gd", AccessRole::ProvinceReporter, None, Some("440000")).await;
    let item = json!({ "clientReportId": "old", "taskNumber": 16, "period": "2016", "status": "ONGOING", "summary": "s",
                       "evidenceUrls": ["HTTP://OLD.EXAMPLE"] });
    let batch = json!({ "i": { "reports": [item] } });
    let r = app.data_as(Some(&gd), SYNC, batch.clone()).await["syncProgressReports"].clone();
    assert_eq!(r["results"][0]["report"]["evidenceUrls"], json!(["http://old.example/"]));
    // As a report written before links were normalised holds it; then it is accepted.
    let db = Database::connect(app.db.url()).await.expect("connect");
    db.execute_unprepared(r#"UPDATE progress_reports SET evidence_urls = '["HTTP://OLD.EXAMPLE"]'"#)
        .await
        .expect("update");
    db.close().await.expect("close");
    let id =
        app.data("{ progressReports { nodes { id } } }", json!({})).await["progressReports"]["nodes"][0]["id"].clone();
    app.data("mutation($id: ID!) { reviewProgressReport(id: $id, expectedVersion: 1, decision: ACCEPT) { report { state } } }", json!({ "id": id }))
        .await;
    // Re-sending the same batch changes nothing; it is not refused as a change to a locked report.
    let again = app.data_as(Some(&gd), SYNC, batch).await["syncProgressReports"].clone();
    assert_eq!(again["results"][0]["outcome"], "UNCHANGED", "{again}");
}
