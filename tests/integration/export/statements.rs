//! An export costs the same number of SQL statements however many reports there are.

use serde_json::json;
use workplan_domain::token::AccessRole;

use super::{REVIEW, SUBMIT, download, small_world};

/// The statements a download of `path` costs: the least of three, since a period's report facts
/// are read once and then kept in memory (until a report changes, which the writing replica
/// also hears a moment later from its own announcement).
async fn statements_of(app: &workplan_tests::TestApp, path: &str) -> u64 {
    let mut least = u64::MAX;
    for _ in 0..3 {
        let start = app.statements();
        assert_eq!(download(app, path, None).await.status, 200);
        least = least.min(app.statements() - start);
    }
    least
}

#[tokio::test]
async fn an_export_costs_the_same_statements_however_many_reports_there_are() {
    let (app, _clock, sup, _gd) = small_world().await;
    let paths = ["/export/reporting-matrix.csv?period=2016-Q4", "/export/rollup.xlsx?period=2016-Q4&by=agency"];
    let mut before = Vec::new();
    for path in paths {
        before.push(statements_of(&app, path).await);
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
        assert_eq!(statements_of(&app, path).await, before, "{path}");
    }
}
