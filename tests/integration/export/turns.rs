//! An export takes a turn among the operations executing at once, as a GraphQL request does:
//! beyond the bound it is turned away at once with 503, `RATE_LIMITED` and `Retry-After`.

use serde_json::json;
use workplan_tests::{TestApp, TestDb};

use super::{SCHEDULE, download};

#[tokio::test]
async fn exports_take_turns_and_are_turned_away_quickly_when_none_is_free() {
    let db = TestDb::create().await.expect("db");
    let config = workplan_api::config::ApiConfig {
        admission: Some(workplan_api::admission::AdmissionLimit {
            max_operations: 1,
            queue_wait: std::time::Duration::ZERO,
        }),
        // Not the cost limit (an export costs 50,000): only the bound may turn one away here.
        rate_limit: None,
        ..workplan_api::config::ApiConfig::default()
    };
    let app = TestApp::spawn_with(db, workplan_server::store_options(3), config).await;
    app.data_as(
        Some(&app.admin),
        SCHEDULE,
        json!({ "i": { "period": "2016-Q4", "dueAt": "2017-01-16T00:00:00+08:00" } }),
    )
    .await;
    let path = "/export/reporting-matrix.xlsx?period=2016-Q4";
    let downloads = futures::future::join_all((0..20).map(|_| download(&app, path, Some(&app.admin)))).await;
    let ok = downloads.iter().filter(|d| d.status == 200).count();
    let busy: Vec<_> = downloads.iter().filter(|d| d.status == 503).collect();
    assert_eq!(
        ok + busy.len(),
        20,
        "only answers and 503: {:?}",
        downloads.iter().map(|d| d.status).collect::<Vec<_>>()
    );
    assert!(ok >= 1 && !busy.is_empty(), "{ok} answered, {} turned away", busy.len());
    for d in busy {
        assert_eq!(d.retry_after.as_deref(), Some("1"));
        assert_eq!(d.json()["errors"][0]["extensions"]["code"], "RATE_LIMITED", "{}", d.json());
    }
    // The turns were all given back.
    assert_eq!(download(&app, path, Some(&app.admin)).await.status, 200);
}
