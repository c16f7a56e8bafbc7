//! Signed export links: five minutes, the rights of the token that asked, every parameter signed.

use chrono::Duration;
use serde_json::json;
use workplan_domain::ports::TokenStore as _;

use super::{assert_rows, csv_rows, download, export_url, graphql_matrix, report_of, small_world};

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
    assert_eq!(rows.len(), 459 + 106 * 31);
    let task_16: Vec<_> = rows.iter().filter(|r| r[0] == "16").cloned().collect();
    let expected = graphql_matrix(&app, None, "2016-Q4", json!({ "taskNumber": 16 })).await;
    assert_rows(&task_16, &expected, "an anonymous link, where the reports are");
}
