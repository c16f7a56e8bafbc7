//! Spreadsheet exports: the reporting matrix and rollups as CSV (read back with the `csv`
//! crate) and XLSX (read back with calamine) hold exactly what GraphQL's `reportingMatrix` and
//! `rollup` say, for each caller's rights; signed links work for five minutes, with the rights
//! of the token that asked, and fail when altered; bad requests get a JSON error with a code,
//! never a 500; `workplan export` writes the bytes the download serves; and an export costs
//! the same number of SQL statements however many reports there are.

use std::io::Cursor;

use calamine::{Data, Reader as _, Xlsx, open_workbook_from_rs};
use chrono::{DateTime, Duration, SecondsFormat, TimeZone as _, Utc};
use serde_json::{Value, json};
use workplan_domain::ports::TokenStore as _;
use workplan_domain::report::period::CHINA_STANDARD_TIME;
use workplan_domain::token::AccessRole;
use workplan_tests::TestApp;

use crate::supervision::World;

const MATRIX: &str = "query($p: String!, $after: String) {
  reportingMatrix(period: $p, first: 500, after: $after) { pageInfo { hasNextPage endCursor }
    edges { node { role dueAt state onTime daysLate report { id } task { number text }
      party { __typename ... on Agency { abbreviation name nameZh } ... on Province { code name nameZh } } } } } }";
const ROLLUP: &str = "query($p: String!, $by: RollupDimension!) { rollup(period: $p, by: $by) {
  group { __typename ... on Section { numeral title } ... on Subsection { numeral title section { numeral } }
    ... on Agency { name } ... on Province { name } }
  role tasksByStatus { status count } obligationsByState { state count } meanPercentComplete onTimeRate pendingReview } }";
const EXPORT_URL: &str = "query($k: ExportKind!, $p: String!, $by: RollupDimension, $f: ExportFormat!) {
  exportUrl(kind: $k, period: $p, by: $by, format: $f) }";
const SCHEDULE: &str = "mutation($i: ScheduleReportingPeriodInput!) { scheduleReportingPeriod(input: $i) {
  reportingPeriod { period } } }";
const SUBMIT: &str =
    "mutation($i: SubmitProgressReportInput!) { submitProgressReport(input: $i) { report { id version } } }";
const REVIEW: &str = "mutation($id: ID!, $v: Int!) {
  reviewProgressReport(id: $id, expectedVersion: $v, decision: ACCEPT) { report { id } } }";

const MATRIX_HEADER: [&str; 12] = [
    "Task",
    "Task text",
    "Party kind",
    "Party code",
    "Party",
    "Party (Chinese)",
    "Role",
    "State",
    "Due at (UTC+08:00)",
    "On time",
    "Days late",
    "Report ID",
];
const STATUSES: [&str; 5] = ["NOT_REPORTED", "NOT_STARTED", "IN_PROGRESS", "ONGOING", "COMPLETED"];
const STATES: [&str; 5] = ["NOT_DUE", "OVERDUE", "SUBMITTED", "ACCEPTED", "EXEMPT"];

type Rows = Vec<Vec<String>>;

/// A downloaded file.
struct Download {
    status: u16,
    content_type: String,
    disposition: String,
    body: Vec<u8>,
}

impl Download {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("a JSON body: {}", String::from_utf8_lossy(&self.body)))
    }

    /// The error's status and `extensions.code`, checking the body's shape and that it leaks
    /// nothing.
    fn error(&self) -> (u16, String) {
        let body = self.json();
        assert_eq!(self.content_type, "application/json", "{body}");
        let message = body["errors"][0]["message"].as_str().unwrap_or_else(|| panic!("an error: {body}"));
        assert!(!message.contains("SELECT") && !message.contains("panicked"), "{message}");
        (self.status, body["errors"][0]["extensions"]["code"].as_str().expect("a code").to_owned())
    }
}

async fn download(app: &TestApp, path: &str, token: Option<&str>) -> Download {
    let mut request = app.client.get(app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request");
    let header = |name| response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let (content_type, disposition) = (header("content-type"), header("content-disposition"));
    Download {
        status: response.status().as_u16(),
        content_type,
        disposition,
        body: response.bytes().await.expect("body").to_vec(),
    }
}

/// A CSV download's header and rows; it must start with a byte-order mark.
fn csv_rows(bytes: &[u8]) -> (Vec<String>, Rows) {
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").expect("a UTF-8 byte-order mark");
    let mut reader = csv::Reader::from_reader(text);
    let header = reader.headers().expect("a header").iter().map(str::to_owned).collect();
    let rows = reader.records().map(|r| r.expect("a record").iter().map(str::to_owned).collect()).collect();
    (header, rows)
}

/// An XLSX download's header and rows, each cell written as the CSV writes it.
fn xlsx_rows(bytes: Vec<u8>) -> (Vec<String>, Rows) {
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).expect("an xlsx file");
    let range = book.worksheet_range_at(0).expect("a sheet").expect("readable");
    let mut rows = range.rows().map(|row| row.iter().map(cell).collect::<Vec<_>>());
    let header = rows.next().expect("a header");
    (header, rows.collect())
}

fn cell(data: &Data) -> String {
    match data {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Float(x) => x.to_string(),
        Data::Int(n) => n.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(t) => {
            let local = t.as_datetime().expect("a date-time");
            format!("{}+08:00", local.format("%Y-%m-%dT%H:%M:%S"))
        }
        other => panic!("unexpected cell {other:?}"),
    }
}

/// A GraphQL time as the export writes it: RFC 3339 in China Standard Time.
fn cst_text(v: &Value) -> String {
    DateTime::parse_from_rfc3339(v.as_str().expect("a time"))
        .expect("RFC 3339")
        .with_timezone(&CHINA_STANDARD_TIME)
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.as_f64().map_or_else(|| n.to_string(), |x| x.to_string()),
        other => other.to_string(),
    }
}

/// The whole reporting matrix as GraphQL shows it to `token`, as export rows.
async fn graphql_matrix(app: &TestApp, token: Option<&str>, period: &str) -> Rows {
    let mut rows = Vec::new();
    let mut after = Value::Null;
    loop {
        let d = app.data_as(token, MATRIX, json!({ "p": period, "after": after })).await;
        let m = &d["reportingMatrix"];
        for edge in m["edges"].as_array().expect("edges") {
            let n = &edge["node"];
            let p = &n["party"];
            let agency = p["__typename"] == "Agency";
            let code =
                if agency { p["abbreviation"].as_str().or_else(|| p["name"].as_str()) } else { p["code"].as_str() };
            rows.push(vec![
                text(&n["task"]["number"]),
                text(&n["task"]["text"]),
                (if agency { "AGENCY" } else { "PROVINCE" }).to_owned(),
                code.expect("a code").to_owned(),
                text(&p["name"]),
                text(&p["nameZh"]),
                text(&n["role"]),
                text(&n["state"]),
                cst_text(&n["dueAt"]),
                text(&n["onTime"]),
                text(&n["daysLate"]),
                text(&n["report"]["id"]),
            ]);
        }
        if m["pageInfo"]["hasNextPage"] != true {
            return rows;
        }
        after = m["pageInfo"]["endCursor"].clone();
    }
}

/// A rollup as GraphQL shows it, as export rows.
async fn graphql_rollup(app: &TestApp, period: &str, by: &str) -> Rows {
    let d = app.data(ROLLUP, json!({ "p": period, "by": by })).await;
    let count = |list: &Value, key: &str, of: &str| {
        let found = list.as_array().expect("counts").iter().find(|c| c[key] == of);
        found.map_or("0".to_owned(), |c| text(&c["count"]))
    };
    let mut rows = Vec::new();
    for r in d["rollup"].as_array().expect("rows") {
        let g = &r["group"];
        let name = match g["__typename"].as_str() {
            Some("Section") => format!("{}. {}", text(&g["numeral"]), text(&g["title"])),
            Some("Subsection") => {
                format!("{}.({}) {}", text(&g["section"]["numeral"]), text(&g["numeral"]), text(&g["title"]))
            }
            _ => text(&g["name"]),
        };
        let mut row = vec![by.to_owned(), name, text(&r["role"])];
        row.extend(STATUSES.iter().map(|s| count(&r["tasksByStatus"], "status", s)));
        row.extend(STATES.iter().map(|s| count(&r["obligationsByState"], "state", s)));
        row.extend([text(&r["meanPercentComplete"]), text(&r["onTimeRate"]), text(&r["pendingReview"])]);
        rows.push(row);
    }
    rows
}

/// Asserts two tables are equal, naming the first row that differs (not printing thousands).
#[track_caller]
fn assert_rows(actual: &Rows, expected: &Rows, what: &str) {
    if let Some(i) = (0..actual.len().max(expected.len())).find(|&i| actual.get(i) != expected.get(i)) {
        panic!(
            "{what}: row {i} differs ({} rows vs {} expected)\n  got      {:?}\n  expected {:?}",
            actual.len(),
            expected.len(),
            actual.get(i),
            expected.get(i)
        );
    }
}

/// The report ID column of the row of `task` and `party` (a code).
fn report_of<'a>(rows: &'a Rows, task: &str, party: &str) -> &'a str {
    let row = rows.iter().find(|r| r[0] == task && r[3] == party).unwrap_or_else(|| panic!("no row {task} {party}"));
    &row[11]
}

#[tokio::test]
async fn the_matrix_exports_hold_what_graphql_shows_each_caller() {
    let w = World::build().await;
    let callers = [("supervisor", Some(w.sup.as_str())), ("MOFCOM", Some(w.mofcom.as_str())), ("anonymous", None)];
    let mut seen = Vec::new();
    for (who, token) in callers {
        let expected = graphql_matrix(&w.app, token, "2016-Q3").await;
        assert_eq!(expected.len(), 459 + 106 * 31, "every obligation, {who}");

        let csv = download(&w.app, "/export/reporting-matrix.csv?period=2016-Q3", token).await;
        assert_eq!(csv.status, 200, "{who}");
        assert_eq!(csv.content_type, "text/csv; charset=utf-8");
        assert_eq!(csv.disposition, "attachment; filename=\"reporting-matrix-2016-Q3.csv\"");
        let (header, rows) = csv_rows(&csv.body);
        assert_eq!(header, MATRIX_HEADER);
        assert_rows(&rows, &expected, &format!("CSV rows equal the GraphQL matrix for {who}"));

        let xlsx = download(&w.app, "/export/reporting-matrix.xlsx?period=2016-Q3", token).await;
        assert_eq!(xlsx.status, 200, "{who}");
        assert_eq!(xlsx.content_type, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
        assert_eq!(xlsx.disposition, "attachment; filename=\"reporting-matrix-2016-Q3.xlsx\"");
        let (header, rows) = xlsx_rows(xlsx.body);
        assert_eq!(header, MATRIX_HEADER);
        assert_rows(&rows, &expected, &format!("XLSX rows equal the GraphQL matrix for {who}"));
        seen.push(expected);
    }

    // Who sees which report: Guangdong's task-37 report waits for review (the supervisor sees
    // it, MOFCOM and anonymous callers do not); MOFCOM's reopened report counts as accepted
    // and everyone sees it; the accepted ones everyone sees.
    let [sup, mofcom, anonymous] = &seen[..] else { panic!("three callers") };
    let gd_37 = w.gd_37.id.as_str().expect("id");
    assert_eq!(report_of(sup, "37", "440000"), gd_37);
    assert_eq!((report_of(mofcom, "37", "440000"), report_of(anonymous, "37", "440000")), ("", ""));
    let reopened = w.mofcom_q3.id.as_str().expect("id");
    for rows in [sup, mofcom, anonymous] {
        assert_eq!(report_of(rows, "37", "MOFCOM"), reopened);
        assert_eq!(report_of(rows, "33", "440000"), w.gd_33.id.as_str().expect("id"));
        assert_eq!(report_of(rows, "37", "110000"), "", "Beijing's report was withdrawn");
    }
    let row = sup.iter().find(|r| r[0] == "37" && r[3] == "440000").expect("row");
    assert_eq!(row[7..11], ["SUBMITTED", "2016-10-16T00:00:00+08:00", "false", "2"], "submitted 2 days late");

    // 2016-Q4 is not due yet: SIPO's draft shows to the supervisor only, MOFCOM's own report
    // (waiting for review) to MOFCOM too; SAIC's due date is its extension.
    let q4_sup = graphql_matrix(&w.app, Some(&w.sup), "2016-Q4").await;
    let (_, rows) = csv_rows(&download(&w.app, "/export/reporting-matrix.csv?period=2016-Q4", Some(&w.sup)).await.body);
    assert_rows(&rows, &q4_sup, "2016-Q4 as the supervisor");
    assert_eq!(report_of(&rows, "33", "SIPO"), w.sipo_q4_draft.id.as_str().expect("id"));
    let q4_mofcom = graphql_matrix(&w.app, Some(&w.mofcom), "2016-Q4").await;
    let (_, rows) =
        csv_rows(&download(&w.app, "/export/reporting-matrix.csv?period=2016-Q4", Some(&w.mofcom)).await.body);
    assert_rows(&rows, &q4_mofcom, "2016-Q4 as MOFCOM");
    assert_eq!(report_of(&rows, "33", "SIPO"), "");
    assert_ne!(report_of(&rows, "37", "MOFCOM"), "");
    let saic = rows.iter().find(|r| r[0] == "37" && r[3] == "SAIC").expect("SAIC");
    assert_eq!(saic[7..11], ["NOT_DUE", "2017-02-01T00:00:00+08:00", "", ""]);
}

#[tokio::test]
async fn rollup_exports_hold_what_graphql_shows_by_every_dimension() {
    let w = World::build().await;
    let mut sizes = Vec::new();
    for (asked, by) in
        [("section", "SECTION"), ("SubSection", "SUBSECTION"), ("AGENCY", "AGENCY"), ("province", "PROVINCE")]
    {
        let expected = graphql_rollup(&w.app, "2016-Q3", by).await;
        let path = format!("/export/rollup.csv?period=2016-Q3&by={asked}");
        let csv = download(&w.app, &path, Some(&w.sup)).await;
        assert_eq!(csv.status, 200, "{asked}");
        let filename = format!("attachment; filename=\"rollup-2016-Q3-by-{}.csv\"", by.to_lowercase());
        assert_eq!(csv.disposition, filename);
        let (header, rows) = csv_rows(&csv.body);
        assert_eq!(header[..3], ["Group kind", "Group", "Role"]);
        assert_eq!(header.len(), 16);
        assert_rows(&rows, &expected, &format!("CSV by {by}"));
        let xlsx = download(&w.app, &path.replace(".csv", ".xlsx"), None).await;
        assert_eq!(xlsx.status, 200, "{asked}");
        assert_rows(&xlsx_rows(xlsx.body).1, &expected, &format!("XLSX by {by}"));
        sizes.push(rows.len());
    }
    let agencies = sizes[2];
    assert_eq!((sizes[0], sizes[3], agencies % 2), (6, 31, 0), "six sections, 31 provinces, two rows per agency");
    let (_, rows) = csv_rows(&download(&w.app, "/export/rollup.csv?period=2016-Q3&by=section", None).await.body);
    assert!(rows[0][1].starts_with("I. "), "{:?}", rows[0]);
}

/// A server at 2016-12-20 10:00 CST with 2016-Q4 scheduled, a supervisor, Guangdong's
/// report on task 16 waiting for review and Beijing's accepted.
async fn small_world() -> (TestApp, std::sync::Arc<workplan_domain::ports::ManualClock>, String, String) {
    let now = Utc.with_ymd_and_hms(2016, 12, 20, 2, 0, 0).single().expect("time");
    let (app, clock) = TestApp::spawn_at(now).await;
    let sup = app.token("sup", AccessRole::Supervisor, None, None).await;
    let gd = app.token("gd", AccessRole::ProvinceReporter, None, Some("440000")).await;
    let bj = app.token("bj", AccessRole::ProvinceReporter, None, Some("110000")).await;
    app.data_as(Some(&sup), SCHEDULE, json!({ "i": { "period": "2016-Q4", "dueAt": "2017-01-16T00:00:00+08:00" } }))
        .await;
    let input =
        |s: &str| json!({ "i": { "taskNumber": 16, "period": "2016-Q4", "status": "IN_PROGRESS", "summary": s } });
    app.data_as(Some(&gd), SUBMIT, input("gd")).await;
    let d = app.data_as(Some(&bj), SUBMIT, input("bj")).await;
    let r = &d["submitProgressReport"]["report"];
    app.data_as(Some(&sup), REVIEW, json!({ "id": r["id"], "v": r["version"] })).await;
    (app, clock, sup, gd)
}

async fn export_url(app: &TestApp, token: Option<&str>, vars: Value) -> String {
    let d = app.data_as(token, EXPORT_URL, vars).await;
    d["exportUrl"].as_str().expect("a URL").to_owned()
}

#[tokio::test]
async fn signed_links_work_for_five_minutes_as_their_token_and_fail_when_altered() {
    let (app, clock, sup, gd) = small_world().await;
    let matrix = json!({ "k": "REPORTING_MATRIX", "p": "2016-Q4", "f": "CSV" });
    let url = export_url(&app, Some(&sup), matrix.clone()).await;
    assert!(url.starts_with("/export/reporting-matrix.csv?period=2016-Q4&expires="), "{url}");
    assert!(url.contains("&token=sup&sig="), "{url}");

    // Without any header, the link downloads what the supervisor's bearer token downloads.
    let signed = download(&app, &url, None).await;
    assert_eq!(signed.status, 200);
    let direct = download(&app, "/export/reporting-matrix.csv?period=2016-Q4", Some(&sup)).await;
    assert_eq!(signed.body, direct.body);
    assert_ne!(report_of(&csv_rows(&signed.body).1, "16", "440000"), "", "the supervisor sees the submitted report");

    // Every parameter is signed.
    let expires: i64 =
        url.split("expires=").nth(1).and_then(|s| s.split('&').next()).and_then(|s| s.parse().ok()).expect("expires");
    for altered in [
        url.replace("period=2016-Q4", "period=2016-Q3"),
        url.replace("period=2016-Q4", "period=2016-q4"),
        url.replace(".csv?", ".xlsx?"),
        url.replace("reporting-matrix.csv", "rollup.csv").replace("&expires", "&by=section&expires"),
        url.replace(&format!("expires={expires}"), &format!("expires={}", expires + 3600)),
        url.replace("token=sup", "token=gd"),
        url.replace("&token=sup", ""),
        url.replace("&sig=", "&sig=A"),
        url.split("&sig=").next().map(|u| format!("{u}&sig=")).expect("url"),
    ] {
        assert_eq!(download(&app, &altered, None).await.error(), (401, "UNAUTHENTICATED".into()), "{altered}");
    }
    let without_sig = url.split("&sig=").next().expect("url").to_owned();
    assert_eq!(download(&app, &without_sig, None).await.error(), (400, "BAD_USER_INPUT".into()));
    assert_eq!(download(&app, &url, Some(&sup)).await.error(), (400, "BAD_USER_INPUT".into()), "a link and a header");

    // Valid for five minutes by the server's clock.
    clock.advance(Duration::seconds(299));
    assert_eq!(download(&app, &url, None).await.status, 200);
    clock.advance(Duration::seconds(1));
    assert_eq!(download(&app, &url, None).await.error(), (401, "UNAUTHENTICATED".into()), "expired");

    // The link acts as its token: a reporter's link shows its own pending report, an
    // anonymous caller's link only accepted ones; a revoked token's link stops working.
    let rollup = json!({ "k": "ROLLUP", "p": "2016-Q4", "by": "PROVINCE", "f": "XLSX" });
    let gd_url = export_url(&app, Some(&gd), matrix.clone()).await;
    let gd_rows = csv_rows(&download(&app, &gd_url, None).await.body).1;
    assert_ne!(report_of(&gd_rows, "16", "440000"), "");
    let gd_rollup = export_url(&app, Some(&gd), rollup.clone()).await;
    assert!(gd_rollup.starts_with("/export/rollup.xlsx?period=2016-Q4&by=province&expires="), "{gd_rollup}");
    assert_eq!(download(&app, &gd_rollup, None).await.status, 200);
    let altered = gd_rollup.replace("by=province", "by=agency");
    assert_eq!(download(&app, &altered, None).await.error(), (401, "UNAUTHENTICATED".into()));
    let token = app.store.token_by_name("gd").await.expect("lookup").expect("the token");
    app.store.revoke_token(token.id).await.expect("revoke");
    for link in [&gd_url, &gd_rollup] {
        assert_eq!(download(&app, link, None).await.error(), (401, "UNAUTHENTICATED".into()), "revoked");
    }

    let anonymous = export_url(&app, None, matrix).await;
    assert!(!anonymous.contains("token="), "{anonymous}");
    let rows = csv_rows(&download(&app, &anonymous, None).await.body).1;
    assert_eq!(report_of(&rows, "16", "440000"), "", "anonymous callers see accepted reports only");
    assert_ne!(report_of(&rows, "16", "110000"), "");
    assert_rows(&rows, &graphql_matrix(&app, None, "2016-Q4").await, "an anonymous link");
}

#[tokio::test]
async fn bad_export_requests_get_a_code_and_a_fitting_status_never_a_500() {
    let (app, _clock, sup, _gd) = small_world().await;
    let cases: [(&str, u16, &str); 13] = [
        ("/export/reporting-matrix.csv", 400, "BAD_USER_INPUT"),
        ("/export/reporting-matrix.csv?period=", 400, "BAD_USER_INPUT"),
        ("/export/reporting-matrix.csv?period=2016-Q5", 400, "BAD_USER_INPUT"),
        ("/export/reporting-matrix.xlsx?period=%FF", 400, "BAD_USER_INPUT"),
        ("/export/reporting-matrix.csv?period=2017-Q2", 404, "NOT_FOUND"),
        ("/export/reporting-matrix.csv?period=2016-Q4&period=2016-Q3", 400, "BAD_USER_INPUT"),
        ("/export/reporting-matrix.csv?period=2016-Q4&by=section", 400, "BAD_USER_INPUT"),
        ("/export/rollup.csv?period=2016-Q4", 400, "BAD_USER_INPUT"),
        ("/export/rollup.xlsx?period=2016-Q4&by=county", 400, "BAD_USER_INPUT"),
        ("/export/rollup.csv?period=2018-Q1&by=agency", 404, "NOT_FOUND"),
        ("/export/reporting-matrix.pdf?period=2016-Q4", 404, "NOT_FOUND"),
        ("/export/matrix.csv?period=2016-Q4", 404, "NOT_FOUND"),
        ("/export/reporting-matrix.csv?period=2016-Q4&expires=1&token=sup", 400, "BAD_USER_INPUT"),
    ];
    for (path, status, code) in cases {
        for token in [None, Some(sup.as_str())] {
            assert_eq!(download(&app, path, token).await.error(), (status, code.to_owned()), "{path} {token:?}");
        }
    }
    let forged = download(&app, "/export/reporting-matrix.csv?period=2016-Q4&expires=9999999999&sig=abc", None).await;
    assert_eq!(forged.error(), (401, "UNAUTHENTICATED".into()));
    let error = download(&app, "/export/reporting-matrix.csv?period=2016-Q5", None).await.json();
    assert_eq!(error["errors"][0]["extensions"]["field"], "period");
    let bad_token = download(&app, "/export/rollup.csv?period=2016-Q4&by=section", Some("wpt_nope")).await;
    assert_eq!(bad_token.error(), (401, "UNAUTHENTICATED".into()));

    // exportUrl checks the same things before it signs anything.
    let ask = |vars: Value| {
        let app = &app;
        async move { app.error_as(None, EXPORT_URL, vars).await }
    };
    let error = ask(json!({ "k": "ROLLUP", "p": "2016-Q4", "f": "CSV" })).await;
    assert_eq!(error, ("BAD_USER_INPUT".into(), Some("by".into())));
    let error = ask(json!({ "k": "REPORTING_MATRIX", "p": "2016-Q4", "by": "AGENCY", "f": "CSV" })).await;
    assert_eq!(error, ("BAD_USER_INPUT".into(), Some("by".into())));
    let error = ask(json!({ "k": "REPORTING_MATRIX", "p": "Q4", "f": "CSV" })).await;
    assert_eq!(error, ("BAD_USER_INPUT".into(), Some("period".into())));
    let error = ask(json!({ "k": "REPORTING_MATRIX", "p": "2017-Q2", "f": "XLSX" })).await;
    assert_eq!(error, ("NOT_FOUND".into(), Some("period".into())));
}

#[tokio::test]
async fn without_public_reading_anonymous_exports_and_links_are_refused() {
    let db = workplan_tests::TestDb::create().await.expect("a database");
    let config = workplan_api::config::ApiConfig { public_read: false, rate_limit: None, ..Default::default() };
    let app = TestApp::spawn_with(db, workplan_server::store_options(5), config).await;
    app.data(SCHEDULE, json!({ "i": { "period": "2016-Q4", "dueAt": "2017-01-16T00:00:00+08:00" } })).await;
    let path = "/export/reporting-matrix.csv?period=2016-Q4";
    assert_eq!(download(&app, path, None).await.error(), (401, "UNAUTHENTICATED".into()));
    assert_eq!(download(&app, path, Some(&app.admin)).await.status, 200);
    let url = export_url(&app, Some(&app.admin), json!({ "k": "REPORTING_MATRIX", "p": "2016-Q4", "f": "CSV" })).await;
    assert_eq!(download(&app, &url, None).await.status, 200, "a token's link needs no header");
}

#[tokio::test]
async fn the_cli_writes_the_bytes_the_download_serves() {
    let app = TestApp::spawn().await;
    // Due far ahead, so nothing turns overdue between the download and the command.
    app.data(SCHEDULE, json!({ "i": { "period": "2016-Q4", "dueAt": "2099-01-01T00:00:00+08:00" } })).await;
    let gd = app.token("gd", AccessRole::ProvinceReporter, None, Some("440000")).await;
    let input =
        json!({ "i": { "taskNumber": 16, "period": "2016-Q4", "status": "ONGOING", "summary": "广东, \"quoted\"" } });
    app.data_as(Some(&gd), SUBMIT, input).await;

    let dir = tempfile::tempdir().expect("a directory");
    for (args, path) in [
        (vec!["reporting-matrix", "--period", "2016-Q4"], "/export/reporting-matrix.csv?period=2016-Q4"),
        (
            vec!["rollup", "--period", "2016-Q4", "--by", "Agency", "--format", "csv"],
            "/export/rollup.csv?period=2016-Q4&by=agency",
        ),
        (
            vec!["reporting-matrix", "--period", "2016-Q4", "--format", "xlsx"],
            "/export/reporting-matrix.xlsx?period=2016-Q4",
        ),
    ] {
        let out = dir.path().join("out");
        let out_text = out.display().to_string();
        let argv = [&["workplan", "--database-url", app.db.url(), "export"][..], &args, &["--out", &out_text]].concat();
        let cli = <workplan_server::cli::Cli as clap::Parser>::try_parse_from(argv).expect("valid flags");
        let settings = workplan_server::config::Settings::from_cli(&cli).expect("valid settings");
        workplan_server::commands::run(cli.command, &settings).await.expect("the export runs");
        let written = std::fs::read(&out).expect("the file");
        let served = download(&app, path, Some(&app.admin)).await;
        assert_eq!(served.status, 200);
        if path.contains(".csv") {
            assert_eq!(written, served.body, "{args:?}");
        } else {
            // A workbook records when it was made, so compare what it holds.
            let (written, served) = (xlsx_rows(written), xlsx_rows(served.body));
            assert_eq!(written.0, served.0, "{args:?}");
            assert_rows(&written.1, &served.1, &format!("{args:?}"));
        }
    }
}

#[tokio::test]
async fn an_export_costs_the_same_statements_however_many_reports_there_are() {
    let (app, _clock, sup, _gd) = small_world().await;
    let paths = ["/export/reporting-matrix.csv?period=2016-Q4", "/export/rollup.xlsx?period=2016-Q4&by=agency"];
    let mut before = Vec::new();
    for path in paths {
        let start = app.statements();
        assert_eq!(download(&app, path, None).await.status, 200);
        before.push(app.statements() - start);
    }
    // Thirty more reports, some accepted.
    let codes = ["120000", "130000", "140000", "150000", "210000", "220000"];
    for (i, code) in codes.iter().enumerate() {
        let token = app.token(&format!("p{i}"), AccessRole::ProvinceReporter, None, Some(code)).await;
        for task in 20..25 {
            let input =
                json!({ "i": { "taskNumber": task, "period": "2016-Q4", "status": "IN_PROGRESS", "summary": "s" } });
            let d = app.data_as(Some(&token), SUBMIT, input).await;
            let r = &d["submitProgressReport"]["report"];
            if task % 2 == 0 {
                app.data_as(Some(&sup), REVIEW, json!({ "id": r["id"], "v": r["version"] })).await;
            }
        }
    }
    for (path, before) in paths.iter().zip(before) {
        let start = app.statements();
        assert_eq!(download(&app, path, None).await.status, 200);
        assert_eq!(app.statements() - start, before, "{path}");
    }
}
