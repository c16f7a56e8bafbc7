//! What an endpoint receives: the kinds it asked for, of the reports its token may read — a
//! province reporter's endpoint hears of its own reports, and of others' only once accepted.

use std::time::Duration;

use workplan_domain::token::AccessRole;

use super::{Receiver, accept, app, register, submit};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_receives_its_kinds_within_its_tokens_read_rights() {
    let app = app().await;
    let gd = app.token("gd", AccessRole::ProvinceReporter, None, Some("440000")).await;
    let bj = app.token("bj", AccessRole::ProvinceReporter, None, Some("110000")).await;
    let bounded = Receiver::start(0).await;
    register(&app, &bounded.url(), &["CREATED", "REVIEWED"], "gd").await;
    let reviews_only = Receiver::start(0).await;
    register(&app, &reviews_only.url(), &["REVIEWED"], "test-admin").await;

    let (own, _) = submit(&app, &gd, 3).await;
    let (theirs, version) = submit(&app, &bj, 3).await;
    let (unreviewed, _) = submit(&app, &bj, 4).await;
    accept(&app, &theirs, version).await;

    bounded.wait_for(Duration::from_secs(30), "two deliveries", |r| r.len() >= 2).await;
    reviews_only.wait_for(Duration::from_secs(30), "one delivery", |r| !r.is_empty()).await;
    // Let anything that should not come have its chance to.
    tokio::time::sleep(Duration::from_millis(800)).await;

    let mut got: Vec<(String, String, String)> = bounded
        .accepted()
        .iter()
        .map(|r| {
            let b = r.json();
            let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
            (text(&b["type"]), text(&b["data"]["reportId"]), text(&b["data"]["actor"]))
        })
        .collect();
    got.sort();
    // Who wrote, as the reporter token is shown it: its own province by name, the admin by role.
    let mut want = vec![
        ("report.created".to_owned(), own.clone(), "Guangdong (PROVINCE_REPORTER)".to_owned()),
        ("report.reviewed".to_owned(), theirs.clone(), "ADMIN".to_owned()),
    ];
    want.sort();
    assert_eq!(got, want, "its own report, and Beijing's only once accepted; never {unreviewed}");

    let reviews: Vec<String> =
        reviews_only.accepted().iter().map(|r| r.json()["type"].as_str().unwrap_or_default().to_owned()).collect();
    assert_eq!(reviews, ["report.reviewed"], "the admin-bound endpoint asked for reviews only");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_stops_its_endpoints_deliveries() {
    let app = app().await;
    let gd = app.token("gd", AccessRole::ProvinceReporter, None, Some("440000")).await;
    let receiver = Receiver::start(0).await;
    register(&app, &receiver.url(), &["CREATED"], "gd").await;
    submit(&app, &gd, 3).await;
    receiver.wait_for(Duration::from_secs(30), "the first report", |r| r.len() == 1).await;
    let id = super::token_id(&app, "gd").await;
    app.data("mutation($id: ID!) { revokeApiToken(id: $id) { revokedAt } }", serde_json::json!({ "id": id })).await;
    let other = app.token("gd2", AccessRole::ProvinceReporter, None, Some("440000")).await;
    submit(&app, &other, 4).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(receiver.received().len(), 1, "nothing once the bounding token is revoked");
}
