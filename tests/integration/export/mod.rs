//! Spreadsheet exports: the reporting matrix and rollups as CSV (read back with the `csv`
//! crate) and XLSX (read back with calamine) hold exactly what GraphQL's `reportingMatrix` and
//! `rollup` say, for each caller's rights ([`contents`]); signed links work for five minutes,
//! with the rights of the token that asked, and fail when altered ([`links`]); bad requests
//! get a JSON error with a code, never a 500 ([`errors`]); `workplan export` writes the bytes
//! the download serves ([`cli`]); and an export costs the same number of SQL statements however
//! many reports there are ([`statements`]). This module holds what they share: downloading,
//! reading the files back, and the GraphQL answers as export rows.

use std::io::Cursor;

use calamine::{Data, Reader as _, Xlsx, open_workbook_from_rs};
use chrono::{DateTime, SecondsFormat, TimeZone as _, Utc};
use serde_json::{Value, json};
use workplan_domain::report::period::CHINA_STANDARD_TIME;
use workplan_domain::token::AccessRole;
use workplan_tests::TestApp;

mod cli;
mod contents;
mod errors;
mod links;
mod statements;
mod turns;

const MATRIX: &str = "query($p: String!, $f: ObligationFilterInput, $after: String) {
  reportingMatrix(period: $p, filter: $f, first: 500, after: $after) { pageInfo { hasNextPage endCursor }
    edges { node { role dueAt state onTime daysLate report { id } task { number text }
      party { __typename ... on Agency { abbreviation name nameZh } ... on Province { code name nameZh } } } } } }";
pub(crate) const ROLLUP: &str = "query($p: String!, $by: RollupDimension!) { rollup(period: $p, by: $by) {
  group { __typename ... on Section { numeral title } ... on Subsection { numeral title section { numeral } }
    ... on Agency { name } ... on Province { name } }
  role tasksByStatus { status count } obligationsByState { state count } meanPercentComplete onTimeRate pendingReview } }";
pub(crate) const EXPORT_URL: &str = "query($k: ExportKind!, $p: String!, $by: RollupDimension, $f: ExportFormat!) {
  exportUrl(kind: $k, period: $p, by: $by, format: $f) }";
pub(crate) const SCHEDULE: &str = "mutation($i: ScheduleReportingPeriodInput!) { scheduleReportingPeriod(input: $i) {
  reportingPeriod { period } } }";
pub(crate) const SUBMIT: &str =
    "mutation($i: SubmitProgressReportInput!) { submitProgressReport(input: $i) { report { id version } } }";
pub(crate) const REVIEW: &str = "mutation($id: ID!, $v: Int!) {
  reviewProgressReport(id: $id, expectedVersion: $v, decision: ACCEPT) { report { id } } }";

pub(crate) const MATRIX_HEADER: [&str; 12] = [
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

pub(crate) type Rows = Vec<Vec<String>>;

/// A downloaded file.
pub(crate) struct Download {
    pub(crate) status: u16,
    pub(crate) content_type: String,
    pub(crate) disposition: String,
    pub(crate) retry_after: Option<String>,
    pub(crate) body: Vec<u8>,
}

impl Download {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("a JSON body: {}", String::from_utf8_lossy(&self.body)))
    }

    /// The error's status and `extensions.code`, checking the body's shape and that it leaks
    /// nothing.
    pub(crate) fn error(&self) -> (u16, String) {
        let body = self.json();
        assert_eq!(self.content_type, "application/json", "{body}");
        let message = body["errors"][0]["message"].as_str().unwrap_or_else(|| panic!("an error: {body}"));
        assert!(!message.contains("SELECT") && !message.contains("panicked"), "{message}");
        (self.status, body["errors"][0]["extensions"]["code"].as_str().expect("a code").to_owned())
    }
}

pub(crate) async fn download(app: &TestApp, path: &str, token: Option<&str>) -> Download {
    let mut request = app.client.get(app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request");
    let header = |name| response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let (content_type, disposition) = (header("content-type"), header("content-disposition"));
    let retry_after = response.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
    Download {
        status: response.status().as_u16(),
        content_type,
        disposition,
        retry_after,
        body: response.bytes().await.expect("body").to_vec(),
    }
}

/// A CSV download's header and rows; it must start with a byte-order mark.
pub(crate) fn csv_rows(bytes: &[u8]) -> (Vec<String>, Rows) {
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").expect("a UTF-8 byte-order mark");
    let mut reader = csv::Reader::from_reader(text);
    let header = reader.headers().expect("a header").iter().map(str::to_owned).collect();
    let rows = reader.records().map(|r| r.expect("a record").iter().map(str::to_owned).collect()).collect();
    (header, rows)
}

/// An XLSX download's header and rows, each cell written as the CSV writes it.
pub(crate) fn xlsx_rows(bytes: Vec<u8>) -> (Vec<String>, Rows) {
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

/// The reporting matrix (all of it, or what `filter` selects) as GraphQL shows it to `token`,
/// as export rows.
pub(crate) async fn graphql_matrix(app: &TestApp, token: Option<&str>, period: &str, filter: Value) -> Rows {
    let mut rows = Vec::new();
    let mut after = Value::Null;
    loop {
        let d = app.data_as(token, MATRIX, json!({ "p": period, "f": filter, "after": after })).await;
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
pub(crate) async fn graphql_rollup(app: &TestApp, period: &str, by: &str) -> Rows {
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
pub(crate) fn assert_rows(actual: &Rows, expected: &Rows, what: &str) {
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
pub(crate) fn report_of<'a>(rows: &'a Rows, task: &str, party: &str) -> &'a str {
    let row = rows.iter().find(|r| r[0] == task && r[3] == party).unwrap_or_else(|| panic!("no row {task} {party}"));
    &row[11]
}

/// A server at 2016-12-20 10:00 CST with 2016-Q4 scheduled, a supervisor, Guangdong's
/// report on task 16 waiting for review and Beijing's accepted.
pub(crate) async fn small_world() -> (TestApp, std::sync::Arc<workplan_domain::ports::ManualClock>, String, String) {
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

pub(crate) async fn export_url(app: &TestApp, token: Option<&str>, vars: Value) -> String {
    let d = app.data_as(token, EXPORT_URL, vars).await;
    d["exportUrl"].as_str().expect("a URL").to_owned()
}
