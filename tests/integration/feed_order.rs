//! The change feed's order with writers in parallel: a change whose transaction commits late is
//! still delivered, before everything written after it began (so a poller never skips it), and
//! cursors handed out before feed positions existed (plain change ids) keep working.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sea_orm::{ConnectionTrait, Database, TransactionTrait};
use serde_json::{Value, json};
use workplan_api::config::ApiConfig;
use workplan_domain::token::AccessRole;
use workplan_migration::{Migrator, MigratorTrait};
use workplan_tests::{TestApp, TestDb};

const FEED: &str = "query($after: String) { changes(after: $after, first: 100) {
  edges { cursor node { kind actor reportId } } pageInfo { endCursor } } }";
const SUBMIT: &str = "mutation($i: SubmitProgressReportInput!) { submitProgressReport(input: $i) { report { id } } }";

fn report(task: i32) -> Value {
    json!({ "i": { "taskNumber": task, "period": "2016", "status": "ONGOING", "summary": "x" } })
}

/// The feed after `after`, as (kind, actor) pairs.
async fn feed(app: &TestApp, after: Option<&str>) -> Vec<(String, String)> {
    let d = app.data(FEED, json!({ "after": after })).await;
    d["changes"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| {
            (
                e["node"]["kind"].as_str().unwrap_or("?").to_owned(),
                e["node"]["actor"].as_str().unwrap_or("?").to_owned(),
            )
        })
        .collect()
}

/// A change written by hand, as another writer would, in `db`'s open transaction.
const LATE_CHANGE: &str =
    "INSERT INTO report_changes (report_id, kind, version, state, agency_id, province_id, actor, at)
  SELECT 999999, 'UPDATED', 2, 'SUBMITTED', NULL, id, 'late writer', now() FROM provinces WHERE code = '440000'";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_that_commits_late_comes_before_everything_written_after_it_began() {
    let app = TestApp::spawn().await;
    if !app.db.is_postgres() {
        return; // SQLite has one writer at a time: changes commit in the order they are written.
    }
    let gd = app.token("gd", AccessRole::ProvinceReporter, None, Some("440000")).await;
    // A writer begins and records a change, but has not committed yet…
    let other = Database::connect(app.db.url()).await.expect("connect");
    let late = other.begin().await.expect("begin");
    late.execute_unprepared(LATE_CHANGE).await.expect("a change");
    // …while another write begins after it and commits at once.
    app.data_as(Some(&gd), SUBMIT, report(3)).await;
    // Delivering that one now would let a poller's cursor pass the late change before it is
    // there to see: nothing is delivered while it may still commit.
    assert_eq!(feed(&app, None).await, [], "nothing ahead of a change that may still commit");
    late.commit().await.expect("commit");
    app.settle_feed().await;
    let kinds = feed(&app, None).await;
    assert_eq!(
        kinds,
        [("UPDATED".to_owned(), "late writer".to_owned()), ("CREATED".to_owned(), "gd (PROVINCE_REPORTER)".to_owned())],
        "the late change first"
    );
}

/// base64 of "change|<key>", as cursors were and are made.
fn cursor(key: &str) -> String {
    STANDARD.encode(format!("change|{key}"))
}

#[tokio::test]
async fn cursors_handed_out_before_feed_positions_keep_working() {
    // A database as it stood before the feed-position migration, with three changes in it.
    let db = TestDb::create().await.expect("db");
    let conn = Database::connect(db.url()).await.expect("connect");
    let all = Migrator::migrations();
    let position = all.iter().position(|m| m.name() == "m20261129_000008_feed_xid").expect("the migration");
    Migrator::up(&conn, Some(u32::try_from(position).expect("a few"))).await.expect("the migrations before it");
    for actor in ["old 1", "old 2", "old 3"] {
        conn.execute_unprepared(&format!(
            "INSERT INTO report_changes (report_id, kind, version, state, agency_id, province_id, actor, at)
             VALUES (999999, 'UPDATED', 2, 'SUBMITTED', NULL, 1, '{actor}', '2016-12-20T08:00:00+00:00')"
        ))
        .await
        .expect("an old change");
    }
    conn.close().await.expect("close");
    let app = TestApp::spawn_with(
        db,
        workplan_server::store_options(5),
        ApiConfig { rate_limit: None, request_limit: None, ..ApiConfig::default() },
    )
    .await;
    let gd = app.token("gd", AccessRole::ProvinceReporter, None, Some("440000")).await;
    app.data_as(Some(&gd), SUBMIT, report(3)).await;
    app.settle_feed().await;

    // The old changes sit at position 0, in their order, before every new one.
    let d = app.data(FEED, json!({ "after": null })).await;
    let cursors: Vec<&str> =
        d["changes"]["edges"].as_array().expect("edges").iter().filter_map(|e| e["cursor"].as_str()).collect();
    assert_eq!(cursors[..3], [cursor("0:1"), cursor("0:2"), cursor("0:3")]);
    let actors: Vec<String> = feed(&app, None).await.into_iter().map(|(_, actor)| actor).collect();
    assert_eq!(actors, ["old 1", "old 2", "old 3", "gd (PROVINCE_REPORTER)"]);
    // A cursor from before (the plain id 1) continues after change 1, and the one for the last
    // old change continues with the new ones.
    let after_1: Vec<String> = feed(&app, Some(&cursor("1"))).await.into_iter().map(|(_, a)| a).collect();
    assert_eq!(after_1, ["old 2", "old 3", "gd (PROVINCE_REPORTER)"]);
    let after_3: Vec<String> = feed(&app, Some(&cursor("3"))).await.into_iter().map(|(_, a)| a).collect();
    assert_eq!(after_3, ["gd (PROVINCE_REPORTER)"]);
    // A new change's cursor carries its writer's transaction on PostgreSQL (0 on SQLite).
    let last = cursors.get(3).copied().unwrap_or_default();
    let key = String::from_utf8(STANDARD.decode(last).expect("base64")).expect("utf-8");
    let txn: i64 = key.trim_start_matches("change|").split(':').next().and_then(|t| t.parse().ok()).expect("txn");
    assert_eq!(txn > 0, app.db.is_postgres(), "{key}");
}

#[tokio::test]
async fn the_feed_position_migration_goes_down_and_up_again() {
    let db = TestDb::create().await.expect("db");
    let conn = Database::connect(db.url()).await.expect("connect");
    Migrator::up(&conn, None).await.expect("every migration");
    let insert = "INSERT INTO report_changes (report_id, kind, version, state, agency_id, province_id, actor, at)
      VALUES (1, 'CREATED', 1, 'SUBMITTED', NULL, 1, 'x', '2016-12-20T08:00:00+00:00')";
    conn.execute_unprepared(insert).await.expect("a change");
    let txid = "SELECT txid FROM report_changes";
    let row = conn.query_one_raw(sea_orm::Statement::from_string(conn.get_database_backend(), txid)).await;
    let written: i64 = row.expect("query").and_then(|r| r.try_get("", "txid").ok()).expect("a txid");
    assert_eq!(written > 0, db.is_postgres(), "the writer's transaction on PostgreSQL, 0 on SQLite");

    let steps = Migrator::migrations().len()
        - Migrator::migrations().iter().position(|m| m.name() == "m20261129_000008_feed_xid").expect("it");
    Migrator::down(&conn, Some(u32::try_from(steps).expect("a few"))).await.expect("down");
    assert!(conn.execute_unprepared(txid).await.is_err(), "column dropped");
    Migrator::up(&conn, None).await.expect("up again");
    let row = conn.query_one_raw(sea_orm::Statement::from_string(conn.get_database_backend(), txid)).await;
    let kept: i64 = row.expect("query").and_then(|r| r.try_get("", "txid").ok()).expect("a txid");
    assert_eq!(kept, 0, "rows from before the migration sit at position 0");
    conn.close().await.expect("close");
}
