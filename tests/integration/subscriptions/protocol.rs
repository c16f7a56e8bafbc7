//! Subscribing, receiving and completing; a subscription the caller may not open is refused
//! with the code a query would get; a filter narrows the reports a stream reports.

use serde_json::json;
use workplan_domain::token::AccessRole;
use workplan_tests::TestApp;

use super::{CHANGES, accept, assert_quiet, connect, event, refusal, send, submit, subscribe};

const QUEUE: &str = "subscription { reviewQueueChanged { inQueue cursor change { kind state reportId } } }";

const REPORTS: &str = "subscription($filter: ProgressReportFilter) { progressReportChanged(filter: $filter) {
  kind cursor report { id period state } change { version } } }";

#[tokio::test]
async fn a_subscriber_receives_each_change_until_it_completes_the_subscription() {
    let app = TestApp::spawn().await;
    let mut ws = connect(&app, Some(&app.admin)).await;
    subscribe(&mut ws, "feed", CHANGES, json!({ "after": null })).await;
    let (id, _) = submit(&app, 0).await;
    let e = event(&mut ws, "feed").await;
    assert_eq!(e["changes"]["change"]["reportId"], id.as_str(), "{e}");
    assert_eq!(e["changes"]["change"]["kind"], "CREATED", "{e}");
    assert_eq!(e["changes"]["change"]["state"], "SUBMITTED", "{e}");
    assert!(e["changes"]["cursor"].as_str().is_some_and(|c| !c.is_empty()), "{e}");

    let (second, version) = submit(&app, 1).await;
    let e = event(&mut ws, "feed").await;
    assert_eq!(e["changes"]["change"]["reportId"], second.as_str(), "{e}");
    accept(&app, &second, version).await;
    let e = event(&mut ws, "feed").await;
    assert_eq!(
        (e["changes"]["change"]["kind"].as_str(), e["changes"]["change"]["state"].as_str()),
        (Some("REVIEWED"), Some("ACCEPTED"))
    );

    send(&mut ws, json!({ "type": "complete", "id": "feed" })).await;
    submit(&app, 2).await;
    app.settle_feed().await;
    assert_quiet(&mut ws).await;
}

#[tokio::test]
async fn the_review_queue_is_for_supervisors_and_admins_only() {
    let app = TestApp::spawn().await;
    let gd = app.token("gd", AccessRole::ProvinceReporter, None, Some("440000")).await;
    let mut ws = connect(&app, Some(&gd)).await;
    subscribe(&mut ws, "q", QUEUE, json!({})).await;
    let errors = refusal(&mut ws, "q").await;
    assert_eq!(errors[0]["extensions"]["code"], "FORBIDDEN", "{errors:?}");

    let mut ws = connect(&app, None).await;
    subscribe(&mut ws, "q", QUEUE, json!({})).await;
    let errors = refusal(&mut ws, "q").await;
    assert_eq!(errors[0]["extensions"]["code"], "UNAUTHENTICATED", "{errors:?}");

    let sup = app.token("sup", AccessRole::Supervisor, None, None).await;
    let mut ws = connect(&app, Some(&sup)).await;
    subscribe(&mut ws, "q", QUEUE, json!({})).await;
    // Subscribed from now on: give the stream its start before writing.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (id, version) = submit(&app, 3).await;
    let e = event(&mut ws, "q").await;
    assert_eq!(e["reviewQueueChanged"]["inQueue"], true, "{e}");
    assert_eq!(e["reviewQueueChanged"]["change"]["reportId"], id.as_str(), "{e}");
    accept(&app, &id, version).await;
    let e = event(&mut ws, "q").await;
    assert_eq!(e["reviewQueueChanged"]["inQueue"], false, "{e}");
    assert_eq!(e["reviewQueueChanged"]["change"]["state"], "ACCEPTED", "{e}");
}

#[tokio::test]
async fn report_changes_come_only_for_reports_matching_the_filter() {
    let app = TestApp::spawn().await;
    let mut ws = connect(&app, Some(&app.admin)).await;
    subscribe(&mut ws, "r", REPORTS, json!({ "filter": { "period": "2016-03" } })).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    submit(&app, 1).await; // 2016-02
    let (id, version) = submit(&app, 2).await; // 2016-03
    let e = event(&mut ws, "r").await;
    let changed = &e["progressReportChanged"];
    assert_eq!(
        (changed["kind"].as_str(), changed["report"]["id"].as_str()),
        (Some("CREATED"), Some(id.as_str())),
        "{e}"
    );
    assert_eq!(changed["report"]["period"], "2016-03", "{e}");
    submit(&app, 4).await; // 2016-05
    accept(&app, &id, version).await;
    let e = event(&mut ws, "r").await;
    let changed = &e["progressReportChanged"];
    assert_eq!(
        (changed["kind"].as_str(), changed["report"]["state"].as_str()),
        (Some("REVIEWED"), Some("ACCEPTED")),
        "{e}"
    );
    assert_eq!(changed["report"]["id"], id.as_str(), "{e}");
}
