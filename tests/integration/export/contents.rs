//! The matrix and rollup exports hold, row for row, what GraphQL shows the same caller.

use serde_json::{Value, json};

use super::{
    MATRIX_HEADER, Rows, assert_rows, csv_rows, download, graphql_matrix, graphql_rollup, report_of, xlsx_rows,
};
use crate::supervision::World;

/// The rows of tasks 33 and 37, the scenario's only tasks with reports.
fn reported(rows: &Rows) -> Rows {
    rows.iter().filter(|r| r[0] == "33" || r[0] == "37").cloned().collect()
}

/// The same rows as GraphQL shows them to `token`.
async fn graphql_reported(w: &World, token: Option<&str>, period: &str) -> Rows {
    let mut rows = graphql_matrix(&w.app, token, period, json!({ "taskNumber": 33 })).await;
    rows.extend(graphql_matrix(&w.app, token, period, json!({ "taskNumber": 37 })).await);
    rows
}

#[tokio::test]
async fn the_matrix_exports_hold_what_graphql_shows_each_caller() {
    let w = World::build().await;
    // The whole matrix as the supervisor sees it, row for row, in both formats.
    let full = graphql_matrix(&w.app, Some(&w.sup), "2016-Q3", Value::Null).await;
    assert_eq!(full.len(), 459 + 106 * 31, "every obligation");
    let csv = download(&w.app, "/export/reporting-matrix.csv?period=2016-Q3", Some(&w.sup)).await;
    assert_eq!(csv.status, 200);
    assert_eq!(csv.content_type, "text/csv; charset=utf-8");
    assert_eq!(csv.disposition, "attachment; filename=\"reporting-matrix-2016-Q3.csv\"");
    let (header, rows) = csv_rows(&csv.body);
    assert_eq!(header, MATRIX_HEADER);
    assert_rows(&rows, &full, "CSV rows equal the GraphQL matrix");
    let xlsx = download(&w.app, "/export/reporting-matrix.xlsx?period=2016-Q3", Some(&w.sup)).await;
    assert_eq!(xlsx.status, 200);
    assert_eq!(xlsx.content_type, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    assert_eq!(xlsx.disposition, "attachment; filename=\"reporting-matrix-2016-Q3.xlsx\"");
    let (header, rows) = xlsx_rows(xlsx.body);
    assert_eq!(header, MATRIX_HEADER);
    assert_rows(&rows, &full, "XLSX rows equal the GraphQL matrix");

    // Each caller's export differs from the supervisor's only in the report IDs it may see, and
    // where there are reports its rows are GraphQL's rows for the same caller.
    let callers = [("supervisor", Some(w.sup.as_str())), ("MOFCOM", Some(w.mofcom.as_str())), ("anonymous", None)];
    let mut seen = Vec::new();
    for (who, token) in callers {
        let (_, rows) = csv_rows(&download(&w.app, "/export/reporting-matrix.csv?period=2016-Q3", token).await.body);
        assert_eq!(rows.len(), full.len(), "{who}");
        for (row, sup) in rows.iter().zip(&full) {
            assert_eq!(row[..11], sup[..11], "{who}");
            assert!(row[11].is_empty() || row[11] == sup[11], "{who}: {row:?}");
        }
        assert_rows(&reported(&rows), &graphql_reported(&w, token, "2016-Q3").await, &format!("reports seen by {who}"));
        seen.push(rows);
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
    let path = "/export/reporting-matrix.csv?period=2016-Q4";
    let (_, rows) = csv_rows(&download(&w.app, path, Some(&w.sup)).await.body);
    assert_rows(&reported(&rows), &graphql_reported(&w, Some(&w.sup), "2016-Q4").await, "2016-Q4, supervisor");
    assert_eq!(report_of(&rows, "33", "SIPO"), w.sipo_q4_draft.id.as_str().expect("id"));
    let (_, rows) = csv_rows(&download(&w.app, path, Some(&w.mofcom)).await.body);
    assert_rows(&reported(&rows), &graphql_reported(&w, Some(&w.mofcom), "2016-Q4").await, "2016-Q4, MOFCOM");
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
