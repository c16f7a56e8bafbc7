//! A stream resumed with the last cursor received continues exactly where it stopped.

use serde_json::{Value, json};
use workplan_tests::TestApp;

use super::{CHANGES, accept, assert_quiet, connect, event, submit, subscribe};

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

/// The cursor of the last change in the feed now (on PostgreSQL once the feed has settled). A
/// stream subscribed after it starts there whenever the server takes up the subscription: a
/// stream "from now on" would start wherever the server's "now" falls, before or after a
/// write the test makes right after subscribing.
async fn end_of_feed(app: &TestApp) -> String {
    app.settle_feed().await;
    let d = app.data(FEED, json!({ "after": null })).await;
    let edges = d["changes"]["edges"].as_array().expect("edges");
    edges.last().and_then(|e| e["cursor"].as_str()).expect("a change in the feed").to_owned()
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

const REPORT_CHANGED: &str = "subscription($f: ProgressReportFilter, $after: String) {
  progressReportChanged(filter: $f, after: $after) { cursor kind report { id period } } }";

const QUEUE: &str = "subscription($after: String) { reviewQueueChanged(after: $after) {
  cursor inQueue change { reportId kind } } }";

/// The report id and period of a `progressReportChanged` event, and its cursor.
fn report_event(e: &Value) -> (String, String, String) {
    let c = &e["progressReportChanged"];
    (
        c["cursor"].as_str().expect("cursor").to_owned(),
        c["report"]["id"].as_str().expect("id").to_owned(),
        c["report"]["period"].as_str().expect("period").to_owned(),
    )
}

#[tokio::test]
async fn a_filtered_report_stream_resumed_with_its_last_cursor_replays_only_what_matched_while_away() {
    let app = TestApp::spawn().await;
    // Reports for 2016 only: those written for 2017 are in the feed but not in the filter.
    let filter = json!({ "periodFrom": "2016-01", "periodTo": "2016-12" });
    submit(&app, 31).await; // 2018-08: outside the filter, and before the stream starts
    let start = end_of_feed(&app).await;
    let mut ws = connect(&app, Some(&app.admin)).await;
    subscribe(&mut ws, "r", REPORT_CHANGED, json!({ "f": filter, "after": start })).await;
    let (first, version) = submit(&app, 0).await;
    let (last, id, _) = report_event(&event(&mut ws, "r").await);
    assert_eq!(id, first);
    drop(ws);

    // Away: months 1 to 23 are written; 1 to 11 fall in 2016 and match.
    let mut matching = Vec::new();
    for n in 1..24 {
        let id = submit(&app, n).await.0;
        if n < 12 {
            matching.push(id);
        }
    }
    app.settle_feed().await;
    let mut ws = connect(&app, Some(&app.admin)).await;
    subscribe(&mut ws, "r", REPORT_CHANGED, json!({ "f": filter, "after": last })).await;
    let mut resumed = Vec::new();
    for _ in 0..matching.len() {
        resumed.push(report_event(&event(&mut ws, "r").await));
    }
    assert_eq!(resumed.iter().map(|r| r.1.clone()).collect::<Vec<_>>(), matching, "the 11 that match, in order");
    assert!(resumed.iter().all(|r| r.2.starts_with("2016-")), "{resumed:?}");
    // Their cursors are the feed's own.
    let feed = feed(&app, &last).await;
    for (cursor, id, _) in &resumed {
        assert!(feed.contains(&(cursor.clone(), id.clone())), "{cursor} {id} is in the feed");
    }
    // Then it goes on live: a 2018 report does not match; the first report's review does, once.
    submit(&app, 30).await;
    accept(&app, &first, version).await;
    let live = event(&mut ws, "r").await;
    assert_eq!(live["progressReportChanged"]["kind"], "REVIEWED", "{live}");
    assert_eq!(live["progressReportChanged"]["report"]["id"], first.as_str());
    assert_quiet(&mut ws).await;
}

#[tokio::test]
async fn the_review_queue_resumed_with_its_last_cursor_replays_the_moves_made_while_away() {
    let app = TestApp::spawn().await;
    submit(&app, 50).await; // in the queue before the stream starts
    let start = end_of_feed(&app).await;
    let mut ws = connect(&app, Some(&app.admin)).await;
    subscribe(&mut ws, "q", QUEUE, json!({ "after": start })).await;
    let (first, version) = submit(&app, 0).await;
    let e = event(&mut ws, "q").await;
    assert_eq!(
        (&e["reviewQueueChanged"]["inQueue"], e["reviewQueueChanged"]["change"]["reportId"].as_str()),
        (&json!(true), Some(first.as_str()))
    );
    let last = e["reviewQueueChanged"]["cursor"].as_str().expect("cursor").to_owned();
    drop(ws);

    let mut away: Vec<(String, bool)> = Vec::new();
    for n in 1..4 {
        away.push((submit(&app, n).await.0, true));
    }
    accept(&app, &first, version).await;
    away.push((first.clone(), false));
    app.settle_feed().await;
    let mut ws = connect(&app, Some(&app.admin)).await;
    subscribe(&mut ws, "q", QUEUE, json!({ "after": last })).await;
    let mut resumed = Vec::new();
    for _ in 0..away.len() {
        let e = event(&mut ws, "q").await;
        let q = &e["reviewQueueChanged"];
        resumed.push((q["change"]["reportId"].as_str().expect("id").to_owned(), q["inQueue"].as_bool().expect("bool")));
    }
    assert_eq!(resumed, away, "three reports came in and the first left, in order");
    assert_quiet(&mut ws).await;
}
