//! `workplan export …` writes the bytes the download serves.

use serde_json::json;
use workplan_domain::token::AccessRole;
use workplan_tests::TestApp;

use super::{SCHEDULE, SUBMIT, assert_rows, download, xlsx_rows};

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
