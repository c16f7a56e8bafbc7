//! Supervision reads cost a constant number of SQL statements, however many obligations, tasks,
//! rows or parties they return (the project's N+1 rule).

use super::World;
use crate::statements::{SPLITS, SPLITS_UNDER_LOAD, statements_for};

const OBLIGATION: &str = "state onTime daysLate dueAt role task { number text }
  party { ... on Agency { name } ... on Province { code } } report { id state reporter { __typename } }";

#[tokio::test]
async fn the_matrix_progress_rollups_and_scorecards_cost_the_same_at_any_size() {
    let w = World::build().await;
    let matrix = |n: u32| {
        format!(
            "{{ reportingMatrix(period: \"2016-Q3\", first: {n}) {{ totalCount countsByState {{ count }} nodes {{ {OBLIGATION} }} }} }}"
        )
    };
    let five = statements_for(&w.app, &matrix(5)).await;
    let page = statements_for(&w.app, &matrix(500)).await;
    assert!(page <= five + SPLITS, "500 obligations cost what 5 cost: {page} vs {five}");

    let progress = |n: u32| {
        format!(
            "{{ tasks(first: {n}) {{ nodes {{ number progress(period: \"2016-Q3\") {{ status percentComplete explanation
              basis {{ id }} missing {{ __typename ... on Agency {{ name }} }} }}
              responsibilities {{ progress {{ status }} }} }} }} }}"
        )
    };
    let few = statements_for(&w.app, &progress(5)).await;
    let all = statements_for(&w.app, &progress(106)).await;
    // Progress resolves in several waves (parts and responsibilities, then the basis reports and
    // the missing agencies, then each responsibility's part), and an agency batch costs three
    // statements, so a split under load costs more here than elsewhere; an N+1 would cost at
    // least 101 more (one per task).
    assert!(all <= few + 4 * SPLITS_UNDER_LOAD, "106 tasks' progress costs what 5 cost: {all} vs {few}");

    let rollup = |by: &str| {
        format!(
            "{{ rollup(period: \"2016-Q3\", by: {by}) {{ group {{ id }} role tasksByStatus {{ count }}
              obligationsByState {{ count }} meanPercentComplete onTimeRate pendingReview }} }}"
        )
    };
    let sections = statements_for(&w.app, &rollup("SECTION")).await;
    let agencies = statements_for(&w.app, &rollup("AGENCY")).await;
    let provinces = statements_for(&w.app, &rollup("PROVINCE")).await;
    assert!(agencies <= sections + SPLITS && provinces <= sections + SPLITS, "{sections}, {agencies}, {provinces}");

    let cards = |n: u32| {
        format!(
            "{{ agencies(first: {n}) {{ nodes {{ scorecard {{ due onTime late missing returned exempt meanDaysLate onTimeRate }} }} }} }}"
        )
    };
    let three = statements_for(&w.app, &cards(3)).await;
    let every = statements_for(&w.app, &cards(42)).await;
    assert!(every <= three + SPLITS, "42 scorecards cost what 3 cost: {every} vs {three}");
    let overdue = |n: u32| format!("{{ overdue(first: {n}) {{ totalCount nodes {{ {OBLIGATION} }} }} }}");
    let (small, large) = (statements_for(&w.app, &overdue(5)).await, statements_for(&w.app, &overdue(500)).await);
    assert!(large <= small + SPLITS, "{large} vs {small}");
    eprintln!(
        "supervision statements: matrix {five}/{page}, progress {few}/{all}, rollup {sections}/{agencies}/{provinces}, \
         scorecards {three}/{every}, overdue {small}/{large}"
    );
    assert!(page <= 16 && sections <= 14 && every <= 14, "a small, fixed number: {page}, {sections}, {every}");
}

/// A page of the scenario's matrix without reports (whose loads may split under load), so that
/// its statements are exact: the period, its adjustments and, unless they are in memory, its
/// report facts.
const GUANGDONG_PAGE: &str = "{ reportingMatrix(period: \"2016-Q4\", filter: { provinceCode: \"440000\" }, first: 20) {
  totalCount nodes { state task { number } } } }";

/// The statements one run of `query` costs.
async fn statements_once(w: &World, query: &str) -> u64 {
    let before = w.app.statements();
    let body = w.app.graphql(query, serde_json::json!({})).await;
    assert!(body.get("errors").is_none(), "{body:#}");
    w.app.statements() - before
}

/// The state of Guangdong's obligation on task 5 in 2016-Q4.
async fn guangdong_on_task_5(w: &World) -> String {
    let d = w.app.data_as(Some(&w.sup), GUANGDONG_PAGE, serde_json::json!({})).await;
    let nodes = d["reportingMatrix"]["nodes"].as_array().cloned().unwrap_or_default();
    let node = nodes.iter().find(|n| n["task"]["number"] == 5).expect("task 5 is on the first page");
    node["state"].as_str().expect("a state").to_owned()
}

#[tokio::test]
async fn paging_the_matrix_reads_a_periods_report_facts_once_until_a_report_changes() {
    let w = World::build().await;
    assert_eq!(guangdong_on_task_5(&w).await, "NOT_DUE");
    // Right after a report write the facts are read again: the write forgot them before it
    // answered, so the page sees the report at once.
    w.submit(&w.gd.clone(), 5, "2016-Q4", "IN_PROGRESS", Some(10)).await;
    let cold = statements_once(&w, GUANGDONG_PAGE).await;
    assert_eq!(guangdong_on_task_5(&w).await, "SUBMITTED");
    // Then they come from memory (the keeper's own announcement of the write may make one more
    // page read them again, so look at a few pages).
    let mut warm = Vec::new();
    for _ in 0..10 {
        warm.push(statements_once(&w, GUANGDONG_PAGE).await);
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let least = warm.iter().copied().min().unwrap_or(cold);
    assert_eq!(least + 1, cold, "a page whose facts are in memory costs one statement less: {cold} then {warm:?}");
    assert!(warm.iter().all(|n| *n <= cold), "never more than a cold page: {cold} then {warm:?}");
}

/// Guangdong's obligation on task 6 in 2016-Q4: (state, daysLate).
async fn guangdong_on_task_6(w: &World) -> (String, serde_json::Value) {
    let q = "{ reportingMatrix(period: \"2016-Q4\", filter: { provinceCode: \"440000\", taskNumber: 6 }) {
      nodes { state daysLate } } }";
    let d = w.app.data_as(Some(&w.sup), q, serde_json::json!({})).await;
    let node = &d["reportingMatrix"]["nodes"][0];
    (node["state"].as_str().expect("a state").to_owned(), node["daysLate"].clone())
}

#[tokio::test]
async fn a_judgement_kept_between_pages_follows_the_clock_and_the_adjustments() {
    let w = World::build().await;
    let due = super::cst(2017, 1, 16, 0);
    let judged = |state: &str, days: Option<i64>| (state.to_owned(), days.map_or(serde_json::Value::Null, Into::into));
    assert_eq!(guangdong_on_task_6(&w).await, judged("NOT_DUE", None));
    w.at(due - chrono::Duration::seconds(1));
    assert_eq!(guangdong_on_task_6(&w).await, judged("NOT_DUE", None));
    // The due date passes: the kept judgement no longer holds.
    w.at(due);
    assert_eq!(guangdong_on_task_6(&w).await, judged("OVERDUE", Some(0)));
    w.at(due + chrono::Duration::seconds(1));
    assert_eq!(guangdong_on_task_6(&w).await, judged("OVERDUE", Some(1)));
    w.at(due + chrono::Duration::days(1));
    assert_eq!(guangdong_on_task_6(&w).await, judged("OVERDUE", Some(1)));
    w.at(due + chrono::Duration::days(1) + chrono::Duration::seconds(1));
    assert_eq!(guangdong_on_task_6(&w).await, judged("OVERDUE", Some(2)));
    // An exemption changes the adjustments: judged again.
    let exempt = serde_json::json!({ "i": { "period": "2016-Q4", "taskNumbers": [6], "provinceCodes": ["440000"],
        "reason": "merged into task 5" } });
    w.app.data_as(Some(&w.sup), super::EXEMPT, exempt).await;
    assert_eq!(guangdong_on_task_6(&w).await, judged("EXEMPT", None));
}
