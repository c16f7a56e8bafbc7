//! `seed --demo` on a real database: a demo quarter's reporting matrix shows a newcomer
//! obligations accepted, waiting for review and overdue, reported on time and late.

use std::collections::HashMap;

use serde_json::{Value, json};
use workplan_server::commands::seed::seed_demo;
use workplan_tests::TestApp;

const MATRIX: &str = "query($after: String) {
  reportingMatrix(period: \"2016-Q4\", first: 500, after: $after) {
    totalCount countsByState { state count } pageInfo { hasNextPage endCursor }
    nodes { state onTime daysLate report { state kind firstSubmittedAt submittedAt } } } }";

/// Every obligation of 2016-Q4 (pages of 500), and the counts by state.
async fn matrix(app: &TestApp) -> (Vec<Value>, HashMap<String, i64>) {
    let (mut nodes, mut after) = (Vec::new(), Value::Null);
    loop {
        let m = app.data(MATRIX, json!({ "after": after })).await["reportingMatrix"].clone();
        assert_eq!(m["totalCount"], 3745, "459 agency and 106 × 31 province obligations");
        let counts = m["countsByState"]
            .as_array()
            .expect("counts")
            .iter()
            .map(|c| (c["state"].as_str().expect("state").to_owned(), c["count"].as_i64().expect("count")))
            .collect();
        nodes.extend(m["nodes"].as_array().expect("nodes").iter().cloned());
        if m["pageInfo"]["hasNextPage"] == false {
            return (nodes, counts);
        }
        after = m["pageInfo"]["endCursor"].clone();
    }
}

#[tokio::test]
async fn a_demo_quarter_shows_every_state_a_past_quarter_can_show() {
    let app = TestApp::spawn().await;
    let seeded = seed_demo(&app.store, 4000, 2016, false).await.expect("seed the demo");
    assert_eq!((seeded.inserted, seeded.scheduled), (4000, 20));
    for state in ["DRAFT", "SUBMITTED", "ACCEPTED", "RETURNED"] {
        assert!(
            seeded.by_state.get(state).copied().unwrap_or_default() > 0,
            "no {state} report: {:?}",
            seeded.by_state
        );
    }

    let (nodes, counts) = matrix(&app).await;
    assert_eq!(nodes.len(), 3745);
    let mut tallied: HashMap<String, i64> = HashMap::new();
    for n in &nodes {
        *tallied.entry(n["state"].as_str().expect("state").to_owned()).or_default() += 1;
    }
    for (state, count) in &counts {
        assert_eq!(tallied.get(state).copied().unwrap_or_default(), *count, "{state}: counts agree with the rows");
    }
    for state in ["OVERDUE", "SUBMITTED", "ACCEPTED"] {
        assert!(counts[state] > 0, "no {state} obligation: {counts:?}");
    }
    // The server's clock is today's: every demo quarter is long past due.
    assert_eq!((counts["NOT_DUE"], counts["EXEMPT"]), (0, 0), "{counts:?}");

    // Reported obligations were first submitted on both sides of the due date
    // (2017-01-16T00:00+08:00), and daysLate agrees with onTime.
    let reported: Vec<&Value> =
        nodes.iter().filter(|n| n["state"] == "SUBMITTED" || n["state"] == "ACCEPTED").collect();
    let on_time = reported.iter().filter(|n| n["onTime"] == true).count();
    let late = reported.iter().filter(|n| n["onTime"] == false).count();
    assert!(on_time > 0 && late > 0, "{on_time} on time, {late} late");
    assert_eq!(on_time + late, reported.len());
    for n in &reported {
        let days = n["daysLate"].as_i64().expect("daysLate");
        assert_eq!(n["onTime"] == true, days == 0, "{n}");
        assert_eq!(n["report"]["kind"], "PART");
    }
    // Overdue: mostly never reported (late by the days since the due date), some returned or
    // still drafts.
    let overdue: Vec<&Value> = nodes.iter().filter(|n| n["state"] == "OVERDUE").collect();
    let (unreported, held): (Vec<&Value>, Vec<&Value>) = overdue.iter().partition(|n| n["report"].is_null());
    assert!(!unreported.is_empty(), "some obligations were never reported");
    assert!(unreported.iter().all(|n| n["onTime"] == false && n["daysLate"].as_i64().is_some_and(|d| d > 3000)));
    assert!(held.iter().all(|n| n["report"]["state"] == "RETURNED" || n["report"]["state"] == "DRAFT"), "{held:?}");
    assert!(!held.is_empty(), "some reports were returned or are still drafts");
}
