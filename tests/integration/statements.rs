//! The number of SQL statements a query issues must not grow with the rows it returns.

use serde_json::json;
use workplan_tests::TestApp;

/// How many more statements a query may cost when a loader batch splits (the loaders batch by
/// a 2 ms window; a busy debug build can overrun it). An N+1 costs a statement per row.
pub(crate) const SPLITS: u64 = 2;

/// The same for the one-query dashboard: a wide page resolves longer than the batching window
/// when the machine is busy (the whole suite runs in parallel on two cores), so a batch may split
/// a few times more; an N+1 would add a statement per row: 78 and 101 more there.
pub(crate) const SPLITS_UNDER_LOAD: u64 = 6;

const TASK_BITS: &str = "number text responsibilityMode section { title } subsection { title }
  responsibilities { role position agency { name abbreviation aliases taskCount } }
  leadAgencies { name }
  latestReport { period status reporter { __typename ... on Agency { name } ... on Province { name } } task { number } }";

/// The statements one run of `query` issues; the least of five runs.
///
/// DataLoaders gather keys for a short window (2 ms) and then run one batch. When resolving a
/// wave of objects takes longer than the window (debug builds, a busy machine), a batch can
/// split in two: a statement more, however many rows. That is why the comparisons below allow
/// a split or two; an N+1 would cost a statement per row (hundreds here) on every run.
pub(crate) async fn statements_for(app: &TestApp, query: &str) -> u64 {
    let mut least = u64::MAX;
    for _ in 0..5 {
        let before = app.statements();
        let body = app.graphql(query, json!({})).await;
        assert!(body.get("errors").is_none(), "{body:#}");
        least = least.min(app.statements() - before);
    }
    least
}

/// [`statements_for`], asked anonymously.
async fn anonymous_statements_for(app: &TestApp, query: &str) -> u64 {
    let mut least = u64::MAX;
    for _ in 0..5 {
        let before = app.statements();
        let body = app.graphql_as(None, query, json!({})).await;
        assert!(body.get("errors").is_none(), "{body:#}");
        least = least.min(app.statements() - before);
    }
    least
}

#[tokio::test]
async fn all_tasks_cost_what_five_cost() {
    let app = TestApp::spawn().await;
    // Reports from agencies and provinces, placed so that every compared selection (tasks 1–5,
    // 1–100, the first task of each section, all 106) holds both kinds of reporter.
    let sipo = app.data(r#"{ agency(name: "SIPO") { id } }"#, json!({})).await["agency"]["id"].clone();
    for (n, reporter) in [
        (1, json!({ "agencyId": sipo })),
        (2, json!({ "provinceCode": "110000" })),
        (14, json!({ "provinceCode": "440000" })),
        (20, json!({ "provinceCode": "510000" })),
    ] {
        app.data(
            "mutation($i: SubmitProgressReportInput!) { submitProgressReport(input: $i) { report { id } } }",
            json!({ "i": { "taskNumber": n, "reporter": reporter, "period": "2016", "status": "ONGOING", "summary": "s" } }),
        )
        .await;
    }

    let five = statements_for(&app, &format!("{{ tasks(first: 5) {{ nodes {{ {TASK_BITS} }} }} }}")).await;
    let hundred = statements_for(&app, &format!("{{ tasks(first: 100) {{ nodes {{ {TASK_BITS} }} }} }}")).await;
    let all_by_section =
        statements_for(&app, &format!("{{ sections {{ tasks(first: 100) {{ nodes {{ {TASK_BITS} }} }} }} }}")).await;
    let one_per_section =
        statements_for(&app, &format!("{{ sections {{ tasks(first: 1) {{ nodes {{ {TASK_BITS} }} }} }} }}")).await;
    eprintln!(
        "statements: 5 tasks {five}, 100 tasks {hundred}, all 106 by section {all_by_section}, 6 by section {one_per_section}"
    );
    assert!(hundred <= five + SPLITS, "100 tasks cost what 5 cost: {hundred} vs {five}");
    assert!(
        all_by_section <= one_per_section + SPLITS,
        "106 tasks cost what 6 cost: {all_by_section} vs {one_per_section}"
    );
    assert!(five <= 14 && one_per_section <= 15, "a small, fixed number of statements: {five}, {one_per_section}");

    // The same holds for agencies with their tasks and reports.
    let agencies = |n: u32| {
        format!(
            "{{ agencies(first: {n}) {{ nodes {{ name taskCount leadTaskCount responsibilities(role: LEAD) {{ task {{ number }} }} reports(first: 2) {{ totalCount nodes {{ period }} }} }} }} }}"
        )
    };
    let few = statements_for(&app, &agencies(3)).await;
    let all = statements_for(&app, &agencies(42)).await;
    assert!(all <= few + SPLITS && few <= 12, "42 agencies cost what 3 cost: {all} vs {few}");
}

/// The dashboard's fields on each task.
const DASHBOARD_TASK: &str = "number text responsibilities { role agency { name } } latestReport { id }";

#[tokio::test]
async fn the_whole_plan_in_one_query_costs_what_a_few_tasks_cost() {
    let app = TestApp::spawn().await;
    let sipo = app.data(r#"{ agency(name: "SIPO") { id } }"#, json!({})).await["agency"]["id"].clone();
    for (n, reporter) in [
        (1, json!({ "agencyId": sipo })),
        (39, json!({ "provinceCode": "440000" })),
        (106, json!({ "provinceCode": "110000" })),
    ] {
        app.data(
            "mutation($i: SubmitProgressReportInput!) { submitProgressReport(input: $i) { report { id } } }",
            json!({ "i": { "taskNumber": n, "reporter": reporter, "period": "2016", "status": "ONGOING", "summary": "s" } }),
        )
        .await;
    }
    let nested = |first: u32| {
        format!(
            "{{ sections {{ numeral title subsections {{ numeral title tasks(first: {first}) {{ nodes {{ {DASHBOARD_TASK} }} }} }} }} }}"
        )
    };
    let flat = |first: u32| format!("{{ tasks(first: {first}) {{ totalCount nodes {{ {DASHBOARD_TASK} }} }} }}");

    let whole = app.data(&nested(200), json!({})).await;
    let tasks: usize = whole["sections"]
        .as_array()
        .expect("sections")
        .iter()
        .flat_map(|s| s["subsections"].as_array().cloned().unwrap_or_default())
        .map(|ss| ss["tasks"]["nodes"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(tasks, 106, "the nested query returns the whole plan");
    let all = app.data(&flat(200), json!({})).await;
    assert_eq!(all["tasks"]["nodes"].as_array().map(Vec::len), Some(106), "so does the flat one");
    let reported: Vec<&serde_json::Value> =
        all["tasks"]["nodes"].as_array().expect("nodes").iter().filter(|t| !t["latestReport"].is_null()).collect();
    assert_eq!(reported.len(), 3);

    let one_per_subsection = statements_for(&app, &nested(1)).await;
    let every_task_nested = statements_for(&app, &nested(200)).await;
    let five = statements_for(&app, &flat(5)).await;
    let every_task_flat = statements_for(&app, &flat(200)).await;
    eprintln!(
        "dashboard statements: nested 28 tasks {one_per_subsection}, nested 106 {every_task_nested}, flat 5 {five}, flat 106 {every_task_flat}"
    );
    assert!(every_task_nested <= one_per_subsection + SPLITS_UNDER_LOAD, "{every_task_nested} vs {one_per_subsection}");
    assert!(every_task_flat <= five + SPLITS_UNDER_LOAD, "{every_task_flat} vs {five}");
    assert!(one_per_subsection <= 12 && five <= 10, "few statements: {one_per_subsection}, {five}");
}

#[tokio::test]
async fn every_reporting_period_with_its_history_costs_what_one_costs() {
    let app = TestApp::spawn().await;
    let schedule = "mutation($i: ScheduleReportingPeriodInput!) { scheduleReportingPeriod(input: $i) { reportingPeriod { version } } }";
    let query = "{ reportingPeriods { period dueAt history { version action changes { field after } } } }";
    app.data(schedule, json!({ "i": { "period": "2016-Q1", "dueAt": "2016-04-16T00:00:00+08:00" } })).await;
    let one = statements_for(&app, query).await;
    for year in 2016..=2020 {
        for q in 1..=4 {
            let due = format!("{year}-12-31T00:00:00+08:00");
            app.data(schedule, json!({ "i": { "period": format!("{year}-Q{q}"), "dueAt": due } })).await;
        }
    }
    let twenty = statements_for(&app, query).await;
    eprintln!("statements: 1 period {one}, 20 periods {twenty}");
    assert!(twenty <= one + 2, "20 periods with their history cost what 1 costs: {twenty} vs {one}");
}

#[tokio::test]
async fn the_plan_comes_from_memory_and_the_dashboard_costs_at_most_two_statements() {
    let app = TestApp::spawn().await;
    app.data(
        "mutation($i: SubmitProgressReportInput!) { submitProgressReport(input: $i) { report { id } } }",
        json!({ "i": { "taskNumber": 3, "reporter": { "provinceCode": "110000" }, "period": "2016", "status": "ONGOING", "summary": "s" } }),
    )
    .await;
    let plan = "{ sections { title subsections { title } } tasks(first: 106) { totalCount nodes { number text
      section { title } subsection { title } responsibilities { role agency { name aliases taskCount } } } }
      agencies(first: 50) { nodes { name aliases } } provinces { code name } }";
    // Anonymous: a token lookup may read the token table (when it is a second old), which a
    // slow machine would count against the query.
    assert_eq!(anonymous_statements_for(&app, plan).await, 0, "the whole plan, with no report, reads no SQL");
    let dashboard = "{ tasks(first: 106) { nodes { number section { title } subsection { title }
      responsibilities { role agency { name } }
      latestReport { period status reporter { __typename ... on Agency { name } ... on Province { name } } } } } }";
    // One statement for every task's latest report, as the benchmark's release build shows on
    // a quiet machine; a busy debug build may split the batch (see `SPLITS`).
    let n = anonymous_statements_for(&app, dashboard).await;
    assert!(n <= 2 + SPLITS, "the dashboard with every task's latest report: {n} statements");
}
