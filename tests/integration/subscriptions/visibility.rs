//! An anonymous subscriber sees what an anonymous query sees: accepted reports only.

use serde_json::json;
use workplan_tests::TestApp;

use super::{CHANGES, accept, connect, submit, subscribe};

const REPORTS: &str = "subscription { progressReportChanged { kind report { id state } } }";

#[tokio::test]
async fn an_anonymous_subscriber_sees_accepted_changes_only() {
    let app = TestApp::spawn().await;
    let mut ws = connect(&app, None).await;
    subscribe(&mut ws, "feed", CHANGES, json!({ "after": null })).await;
    subscribe(&mut ws, "reports", REPORTS, json!({})).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    let mut accepted = Vec::new();
    for n in 0..3 {
        // Each report is submitted (not for the public), and every other one accepted.
        let (id, version) = submit(&app, n).await;
        if n % 2 == 0 {
            accept(&app, &id, version).await;
            accepted.push(id);
        }
    }
    let (mut feed, mut reports) = (Vec::new(), Vec::new());
    while feed.len() < accepted.len() || reports.len() < accepted.len() {
        let m = super::message(&mut ws).await;
        assert_eq!(m["type"], "next", "{m}");
        assert!(m["payload"]["errors"].is_null(), "{m}");
        let data = &m["payload"]["data"];
        if m["id"] == "feed" {
            let change = &data["changes"]["change"];
            assert_eq!(
                (change["kind"].as_str(), change["state"].as_str()),
                (Some("REVIEWED"), Some("ACCEPTED")),
                "{m}"
            );
            feed.push(change["reportId"].as_str().expect("id").to_owned());
        } else {
            let changed = &data["progressReportChanged"];
            assert_eq!(changed["report"]["state"], "ACCEPTED", "{m}");
            assert_eq!(changed["kind"], "REVIEWED", "{m}");
            reports.push(changed["report"]["id"].as_str().expect("id").to_owned());
        }
    }
    assert_eq!(feed, accepted);
    assert_eq!(reports, accepted);
    // A submission after them is not shown either: the next event of each stream is the next
    // acceptance (the two streams' events may come in either order).
    let (id, version) = submit(&app, 5).await;
    accept(&app, &id, version).await;
    let mut next = std::collections::BTreeMap::new();
    while next.len() < 2 {
        let m = super::message(&mut ws).await;
        assert_eq!(m["type"], "next", "{m}");
        let stream = m["id"].as_str().expect("an id").to_owned();
        assert!(next.insert(stream, m["payload"]["data"].clone()).is_none(), "one event per stream: {m}");
    }
    assert_eq!(next["feed"]["changes"]["change"]["reportId"], id.as_str(), "{next:?}");
    assert_eq!(next["feed"]["changes"]["change"]["state"], "ACCEPTED", "{next:?}");
    assert_eq!(next["reports"]["progressReportChanged"]["report"]["id"], id.as_str(), "{next:?}");
}
