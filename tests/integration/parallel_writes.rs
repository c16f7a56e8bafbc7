//! Writers racing each other (on PostgreSQL they run at once; SQLite has one writer at a time):
//! every guarantee holds under the race — one edit wins per version, one report per idempotency
//! key, one live report per key (the others a CONFLICT naming it, and in a batch only that
//! item), batches that wait on each other's keys in opposite orders, one chain of versions per
//! reporting period, one exemption in force per obligation. Never an INTERNAL error.

use std::collections::BTreeSet;
use std::sync::Arc;

use sea_orm::{ConnectionTrait, Database, TransactionTrait};
use serde_json::{Value, json};
use workplan_domain::token::AccessRole;
use workplan_tests::TestApp;

const SUBMIT: &str = "mutation($i: SubmitProgressReportInput!) { submitProgressReport(input: $i) {
  report { id version state summary } } }";
const PATCH: &str = "mutation($id: ID!, $v: Int!, $p: ProgressReportPatch!) {
  updateProgressReport(id: $id, expectedVersion: $v, patch: $p) { report { id version summary } } }";
const SYNC: &str = "mutation($i: SyncProgressReportsInput!) { syncProgressReports(input: $i) {
  created updated unchanged rejected results { clientReportId outcome code message report { id version } } } }";
const REPORT: &str =
    "query($id: ID!) { node(id: $id) { ... on ProgressReport { version summary history { action } } } }";
const SCHEDULE: &str = "mutation($i: ScheduleReportingPeriodInput!) { scheduleReportingPeriod(input: $i) {
  reportingPeriod { version } } }";
const PERIOD: &str = "query($p: String!) { reportingPeriod(period: $p) { version dueAt history { version } } }";
const EXEMPT: &str = "mutation($i: ExemptObligationsInput!) { exemptObligations(input: $i) { adjustments { id } } }";
const IN_FORCE: &str = "{ obligationAdjustments(period: \"2016-Q4\") { id } }";

/// How many writers race in each test.
const RACERS: usize = 12;

/// The first error's code, or "OK".
fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or("OK")
}

fn report(task: i32, period: &str, summary: &str) -> Value {
    json!({ "taskNumber": task, "period": period, "status": "IN_PROGRESS", "percentComplete": 30, "summary": summary })
}

fn item(client_id: &str, task: i32, period: &str) -> Value {
    let mut item = report(task, period, client_id);
    item["clientReportId"] = json!(client_id);
    item
}

/// Sends `body(i)` as `token` from `RACERS` tasks at once; the answers in the racers' order.
async fn race(app: &Arc<TestApp>, token: &str, query: &'static str, body: impl Fn(usize) -> Value) -> Vec<Value> {
    let mut racers = tokio::task::JoinSet::new();
    for i in 0..RACERS {
        let (app, token, variables) = (app.clone(), token.to_owned(), body(i));
        racers.spawn(async move { (i, app.graphql_as(Some(&token), query, variables).await) });
    }
    let mut answers = racers.join_all().await;
    answers.sort_by_key(|(i, _)| *i);
    answers.into_iter().map(|(_, body)| body).collect()
}

/// The reporting province's token (Guangdong).
async fn guangdong(app: &TestApp) -> String {
    app.token("gd", AccessRole::ProvinceReporter, None, Some("440000")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_many_edits_at_one_version_exactly_one_wins() {
    let app = Arc::new(TestApp::spawn_pooled(16).await);
    let gd = guangdong(&app).await;
    let d = app.data_as(Some(&gd), SUBMIT, json!({ "i": report(16, "2016-Q4", "first") })).await;
    let id = d["submitProgressReport"]["report"]["id"].clone();
    let answers =
        race(&app, &gd, PATCH, |i| json!({ "id": id, "v": 1, "p": { "summary": format!("edit {i}") } })).await;
    let winners: Vec<&Value> = answers.iter().filter(|a| code(a) == "OK").collect();
    assert_eq!(winners.len(), 1, "{answers:#?}");
    for lost in answers.iter().filter(|a| code(a) != "OK") {
        assert_eq!(code(lost), "CONFLICT", "{lost}");
        assert_eq!(lost["errors"][0]["extensions"]["currentVersion"], 2, "{lost}");
    }
    let won = &winners[0]["data"]["updateProgressReport"]["report"];
    assert_eq!(won["version"], 2);
    let now = app.data(REPORT, json!({ "id": id })).await["node"].clone();
    assert_eq!((&now["version"], &now["summary"]), (&json!(2), &won["summary"]), "the winner's edit, and only it");
    assert_eq!(now["history"], json!([{ "action": "CREATE" }, { "action": "UPDATE" }]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_retries_of_one_idempotency_key_write_once() {
    let app = Arc::new(TestApp::spawn_pooled(16).await);
    let gd = guangdong(&app).await;
    // Most racers retry one request; a few reuse its key for a different one.
    let request = |i: usize| {
        let summary = if i % 4 == 3 { format!("another request {i}") } else { "the request".to_owned() };
        let mut input = report(16, "2016-Q4", &summary);
        input["idempotencyKey"] = json!("gd-16-q4");
        json!({ "i": input })
    };
    let answers = race(&app, &gd, SUBMIT, request).await;
    let reports: BTreeSet<String> =
        answers.iter().filter(|a| code(a) == "OK").map(|a| a["data"]["submitProgressReport"].to_string()).collect();
    assert_eq!(reports.len(), 1, "every success is the same answer: {answers:#?}");
    let winner: Value = serde_json::from_str(reports.first().expect("one")).expect("json");
    for (i, answer) in answers.iter().enumerate() {
        let same_request = request(i)["i"]["summary"] == winner["report"]["summary"];
        assert_eq!(code(answer), if same_request { "OK" } else { "CONFLICT" }, "racer {i}: {answer}");
    }
    app.settle_feed().await;
    let d = app.data("{ progressReports { totalCount } changes { edges { node { kind } } } }", json!({})).await;
    assert_eq!(d["progressReports"]["totalCount"], 1);
    assert_eq!(d["changes"]["edges"], json!([{ "node": { "kind": "CREATED" } }]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_submissions_of_one_key_each_name_the_one_that_won() {
    let app = Arc::new(TestApp::spawn_pooled(16).await);
    let gd = guangdong(&app).await;
    let answers = race(&app, &gd, SUBMIT, |i| json!({ "i": report(16, "2016-Q4", &format!("racer {i}")) })).await;
    let winners: Vec<&Value> = answers.iter().filter(|a| code(a) == "OK").collect();
    assert_eq!(winners.len(), 1, "{answers:#?}");
    let won = &winners[0]["data"]["submitProgressReport"]["report"];
    for lost in answers.iter().filter(|a| code(a) != "OK") {
        assert_eq!(code(lost), "CONFLICT", "{lost}");
        assert_eq!(
            lost["errors"][0]["extensions"]["existingReport"],
            json!({ "id": won["id"], "version": 1, "state": "SUBMITTED" })
        );
    }
}

/// Batches and single submissions race for one key (one reporter's batches take turns, but not
/// with its single writes): one of them creates its report (a batch may then adopt it, if a
/// submission made it without a client id); every batch still applies its other items and
/// refuses only that one, naming that report, and every other submission is that CONFLICT.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_batch_item_that_loses_its_key_to_a_racing_writer_is_the_only_one_rejected() {
    let app = Arc::new(TestApp::spawn_pooled(16).await);
    let gd = guangdong(&app).await;
    let batch = |i: usize| {
        let own = |n: usize| item(&format!("b{i}-{n}"), i32::try_from(20 + 2 * i + n).unwrap_or(1), "2016-Q4");
        json!({ "i": { "reports": [own(0), item(&format!("b{i}-shared"), 16, "2016-Q4"), own(1)] } })
    };
    let mut racers = tokio::task::JoinSet::new();
    for i in 0..RACERS {
        let (app, gd) = (app.clone(), gd.clone());
        racers.spawn(async move {
            if i % 2 == 0 {
                (true, app.graphql_as(Some(&gd), SYNC, batch(i)).await)
            } else {
                (false, app.graphql_as(Some(&gd), SUBMIT, json!({ "i": report(16, "2016-Q4", "by hand") })).await)
            }
        });
    }
    let answers = racers.join_all().await;
    // Who created the key's report, and which report each racer's answer names for it.
    let mut created = 0;
    let mut named = Vec::new();
    for (batch, answer) in &answers {
        if *batch {
            assert_eq!(code(answer), "OK", "{answer}");
            let r = &answer["data"]["syncProgressReports"]["results"];
            assert_eq!((&r[0]["outcome"], &r[2]["outcome"]), (&json!("CREATED"), &json!("CREATED")), "{answer}");
            // Created it, or adopted the one a submission created (it had no client id yet).
            if let Some(outcome @ ("CREATED" | "UPDATED")) = r[1]["outcome"].as_str() {
                created += usize::from(outcome == "CREATED");
                named.push(r[1]["report"]["id"].as_str().unwrap_or_default().to_owned());
            } else {
                assert_eq!((&r[1]["outcome"], &r[1]["code"]), (&json!("REJECTED"), &json!("CONFLICT")), "{answer}");
                named.push(r[1]["message"].as_str().unwrap_or_default().to_owned());
            }
        } else if code(answer) == "OK" {
            created += 1;
            named.push(answer["data"]["submitProgressReport"]["report"]["id"].as_str().unwrap_or_default().to_owned());
        } else {
            assert_eq!(code(answer), "CONFLICT", "{answer}");
            named.push(
                answer["errors"][0]["extensions"]["existingReport"]["id"].as_str().unwrap_or_default().to_owned(),
            );
        }
    }
    assert_eq!(created, 1, "{answers:#?}");
    let winner = named.iter().find(|n| !n.contains(' ')).cloned().unwrap_or_default();
    assert!(!winner.is_empty() && named.iter().all(|n| n.contains(&winner)), "all name one report: {named:?}");
    let d = app.data("{ progressReports { totalCount } }", json!({})).await;
    assert_eq!(d["progressReports"]["totalCount"], RACERS + 1, "two own reports per batch, and the key's one");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_batch_item_waiting_on_a_key_another_transaction_takes_is_rejected_alone() {
    let app = Arc::new(TestApp::spawn_pooled(8).await);
    if !app.db.is_postgres() {
        return; // SQLite has one writer at a time: no transaction can hold a key under a batch.
    }
    let gd = guangdong(&app).await;
    let d = app.data_as(Some(&gd), SYNC, json!({ "i": { "reports": [item("x", 20, "2016-Q3")] } })).await;
    let x = d["syncProgressReports"]["results"][0]["report"]["id"].as_str().expect("an id").to_owned();
    // Another writer moves report x onto task 20's 2016-Q4 key and holds its transaction open.
    let other = Database::connect(app.db.url()).await.expect("connect");
    let held = other.begin().await.expect("begin");
    held.execute_unprepared(&format!("UPDATE progress_reports SET period = '2016-Q4' WHERE id = {}", database_id(&x)))
        .await
        .expect("move report x");
    let batch =
        json!({ "i": { "reports": [item("a", 21, "2016-Q4"), item("b", 20, "2016-Q4"), item("c", 22, "2016-Q4")] } });
    let sending = {
        let (app, gd) = (app.clone(), gd.clone());
        tokio::spawn(async move { app.graphql_as(Some(&gd), SYNC, batch).await })
    };
    // The batch waits on the key the open transaction took…
    until_one_waits(&app).await;
    // …which that transaction then commits: only the item on it is refused, naming report x.
    held.commit().await.expect("commit");
    let answer = sending.await.expect("the batch");
    assert_eq!(code(&answer), "OK", "{answer}");
    let r = &answer["data"]["syncProgressReports"]["results"];
    let outcomes: Vec<&Value> = (0..3).map(|i| &r[i]["outcome"]).collect();
    assert_eq!(outcomes, [&json!("CREATED"), &json!("REJECTED"), &json!("CREATED")], "{answer}");
    assert_eq!(r[1]["code"], "CONFLICT");
    assert!(r[1]["message"].as_str().is_some_and(|m| m.contains(&x)), "names report x: {}", r[1]);
}

/// Waits until a session of the test's database waits for a lock.
async fn until_one_waits(app: &TestApp) {
    let watcher = Database::connect(app.db.url()).await.expect("connect");
    let waiting =
        "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'";
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let row = watcher.query_one_raw(sea_orm::Statement::from_string(watcher.get_database_backend(), waiting));
        let n: i64 = row.await.expect("query").and_then(|r| r.try_get("", "n").ok()).unwrap_or(0);
        if n > 0 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no session ever waited");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let _ = watcher.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_edit_ended_by_a_deadlock_runs_again_and_answers_as_it_would_have() {
    let app = Arc::new(TestApp::spawn_pooled(8).await);
    if !app.db.is_postgres() {
        return; // SQLite has one writer at a time: no deadlocks.
    }
    let gd = guangdong(&app).await;
    let submit = |period: &str| json!({ "i": report(16, period, period) });
    let r = app.data_as(Some(&gd), SUBMIT, submit("2016-Q3")).await["submitProgressReport"]["report"]["id"].clone();
    let s = app.data_as(Some(&gd), SUBMIT, submit("2016-Q2")).await["submitProgressReport"]["report"]["id"].clone();
    let (r_key, s_key) = (database_id(r.as_str().unwrap_or("?")), database_id(s.as_str().unwrap_or("?")));
    // Another writer takes 2016-Q4 (moving report s there) and holds it…
    let other = Database::connect(app.db.url()).await.expect("connect");
    let held = other.begin().await.expect("begin");
    held.execute_unprepared(&format!("UPDATE progress_reports SET period = '2016-Q4' WHERE id = {s_key}"))
        .await
        .expect("move report s");
    // …while an edit locks report r and waits to move it onto 2016-Q4 too…
    let editing = {
        let (app, gd) = (app.clone(), gd.clone());
        let move_r = json!({ "id": r, "v": 1, "p": { "period": "2016-Q4" } });
        tokio::spawn(async move { app.graphql_as(Some(&gd), PATCH, move_r).await })
    };
    until_one_waits(&app).await;
    // …then the other writer wants report r: each waits for the other.
    let other_wants_r = tokio::spawn(async move {
        let update = format!("UPDATE progress_reports SET summary = 'other' WHERE id = {r_key}");
        let wrote = held.execute_unprepared(&update).await.map(|_| ());
        (wrote, held)
    });
    let (wrote, held) = other_wants_r.await.expect("the other writer");
    if wrote.is_ok() {
        // PostgreSQL ended the edit (the usual victim: it waited first, so it looks first): the
        // edit ran again, waited for the other writer, and found 2016-Q4 taken by report s.
        held.commit().await.expect("commit");
        let answer = editing.await.expect("the edit");
        assert_eq!(code(&answer), "CONFLICT", "{answer}");
        assert_eq!(answer["errors"][0]["extensions"]["existingReport"]["id"], s);
        assert_eq!(app.store.write_retries(), 1);
    } else {
        // PostgreSQL ended the other writer instead: the edit went through.
        held.rollback().await.expect("rollback");
        let answer = editing.await.expect("the edit");
        assert_eq!(code(&answer), "OK", "{answer}");
        assert_eq!(app.store.write_retries(), 0);
    }
}

/// The database id inside a global id (base64 of "ProgressReport:17").
fn database_id(id: &str) -> i64 {
    use base64::Engine;
    let text = base64::engine::general_purpose::STANDARD.decode(id).expect("base64");
    let text = String::from_utf8(text).expect("utf-8");
    text.split_once(':').and_then(|(_, n)| n.parse().ok()).expect("Kind:id")
}

/// Two workers of one reporter send the same items, one in reverse order. Racing item by item,
/// each would take some keys and wait on the other's (a deadlock on PostgreSQL); one reporter's
/// batches take turns instead, so both succeed: one creates every report, the other finds them.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn batches_of_the_same_items_in_opposite_orders_both_succeed() {
    let app = Arc::new(TestApp::spawn_pooled(8).await);
    let gd = guangdong(&app).await;
    for round in 0..3 {
        let items: Vec<Value> =
            (0..40).map(|t| item(&format!("r{round}-t{t}"), t + 1, &(2016 + round).to_string())).collect();
        let reversed: Vec<Value> = items.iter().rev().cloned().collect();
        let mut both = tokio::task::JoinSet::new();
        for batch in [items, reversed] {
            let (app, gd) = (app.clone(), gd.clone());
            both.spawn(async move { app.graphql_as(Some(&gd), SYNC, json!({ "i": { "reports": batch } })).await });
        }
        let mut outcomes = Vec::new();
        for answer in both.join_all().await {
            assert_eq!(code(&answer), "OK", "{answer}");
            let s = &answer["data"]["syncProgressReports"];
            outcomes.push((s["created"].as_i64(), s["unchanged"].as_i64(), s["rejected"].as_i64()));
        }
        outcomes.sort();
        assert_eq!(outcomes, [(Some(0), Some(40), Some(0)), (Some(40), Some(0), Some(0))], "round {round}");
    }
    let d = app.data("{ progressReports { totalCount } }", json!({})).await;
    assert_eq!(d["progressReports"]["totalCount"], 120);
    assert_eq!(app.store.write_retries(), 0, "no deadlock to break");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_schedules_of_one_period_chain_their_versions() {
    let app = Arc::new(TestApp::spawn_pooled(16).await);
    let sup = app.token("sup", AccessRole::Supervisor, None, None).await;
    let due = |i: usize| format!("2017-01-{:02}T00:00:00+08:00", 10 + i);
    let answers = race(&app, &sup, SCHEDULE, |i| json!({ "i": { "period": "2016-Q4", "dueAt": due(i) } })).await;
    let mut versions: Vec<i64> = answers
        .iter()
        .map(|a| {
            assert_eq!(code(a), "OK", "{a}");
            a["data"]["scheduleReportingPeriod"]["reportingPeriod"]["version"].as_i64().unwrap_or(0)
        })
        .collect();
    versions.sort_unstable();
    let expected: Vec<i64> = (1..=i64::try_from(RACERS).unwrap_or(0)).collect();
    assert_eq!(versions, expected, "each schedule wrote the next version");
    let period = app.data(PERIOD, json!({ "p": "2016-Q4" })).await["reportingPeriod"].clone();
    assert_eq!(period["version"], json!(RACERS));
    let history: Vec<i64> =
        period["history"].as_array().expect("history").iter().filter_map(|h| h["version"].as_i64()).collect();
    assert_eq!(history, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_exemptions_of_one_obligation_store_one() {
    let app = Arc::new(TestApp::spawn_pooled(16).await);
    let sup = app.token("sup", AccessRole::Supervisor, None, None).await;
    let exempt = |i: usize| json!({ "i": { "taskNumbers": [1, 2], "provinceCodes": ["440000"], "period": "2016-Q4", "reason": format!("r{i}") } });
    let answers = race(&app, &sup, EXEMPT, exempt).await;
    let stored: BTreeSet<String> = answers
        .iter()
        .map(|a| {
            assert_eq!(code(a), "OK", "{a}");
            a["data"]["exemptObligations"]["adjustments"].to_string()
        })
        .collect();
    assert_eq!(stored.len(), 1, "every request answers with the same two exemptions: {stored:?}");
    let in_force = app.data_as(Some(&sup), IN_FORCE, json!({})).await;
    assert_eq!(in_force["obligationAdjustments"].as_array().map(Vec::len), Some(2));
}
