//! A stream resumed with the last cursor received continues exactly where it stopped.

use serde_json::{Value, json};
use workplan_tests::TestApp;

use super::{CHANGES, assert_quiet, connect, event, submit, subscribe};

const FEED: &str = "query($after: String) { changes(after: $after, first: 500) {
  edges { cursor node { reportId kind } } } }";

/// The `changes` query after `after`: (cursor, report id) in feed order.
async fn feed(app: &TestApp, after: &str) -> Vec<(String, String)> {
    let d = app.data(FEED, json!({ "after": after })).await;
    d["changes"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| {
            (e["cursor"].as_str().expect("cursor").to_owned(), e["node"]["reportId"].as_str().expect("id").to_owned())
        })
        .collect()
}

fn pair(e: &Value) -> (String, String) {
    let c = &e["changes"];
    (c["cursor"].as_str().expect("cursor").to_owned(), c["change"]["reportId"].as_str().expect("id").to_owned())
}

#[tokio::test]
async fn a_resumed_stream_delivers_exactly_what_was_written_while_it_was_away_in_order() {
    let app = TestApp::spawn().await;
    let mut ws = connect(&app, Some(&app.admin)).await;
    subscribe(&mut ws, "feed", CHANGES, json!({ "after": null })).await;
    let mut written = Vec::new();
    for n in 0..5 {
        written.push(submit(&app, n).await.0);
    }
    let mut seen = Vec::new();
    for _ in 0..5 {
        seen.push(pair(&event(&mut ws, "feed").await));
    }
    assert_eq!(seen.iter().map(|s| s.1.clone()).collect::<Vec<_>>(), written);
    let last = seen.last().expect("a change").0.clone();
    drop(ws);

    let mut away = Vec::new();
    for n in 5..55 {
        away.push(submit(&app, n).await.0);
    }
    app.settle_feed().await;
    let mut ws = connect(&app, Some(&app.admin)).await;
    subscribe(&mut ws, "feed", CHANGES, json!({ "after": last })).await;
    let mut resumed = Vec::new();
    for _ in 0..50 {
        resumed.push(pair(&event(&mut ws, "feed").await));
    }
    assert_eq!(resumed.iter().map(|r| r.1.clone()).collect::<Vec<_>>(), away, "exactly the 50, in order");
    assert_eq!(resumed, feed(&app, &last).await, "the same changes and cursors as the query");
    assert_quiet(&mut ws).await;
}
