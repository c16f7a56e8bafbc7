//! The report-integrity migration on a database that already holds duplicates: submission times
//! from the history, accepted content, duplicates withdrawn with history and feed rows, one live
//! report per key enforced afterwards, and down() then up() again. The reporting-periods
//! migration after it: its unique period key, and down() then up() again. The report-health
//! migration: existing reports say no health, and down() then up() again. The supervision
//! migration's backfill is in `migration/supervision.rs`, the submission-order index in
//! `migration/submission_order.rs`.

use chrono::{DateTime, TimeZone, Utc};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbErr, QueryResult, SqlErr, Statement};
use serde_json::{Value, json};
// Report integrity is the third migration: after the first two, `up(Some(1))` and
// `down(Some(1))` step over it alone.
use workplan_migration::{Migrator as Upgrade, MigratorTrait};
use workplan_tests::TestDb;

mod submission_order;
mod supervision;

/// 2016-12-20 at `hour`:`minute` UTC.
fn t(hour: u32, minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2016, 12, 20, hour, minute, 0).single().expect("valid time")
}

const ACTOR: &str = "system (migration)";

/// How many registered migrations run from `name` to the last, both included: `down` by this
/// many undoes `name` and every later one.
fn steps_from(name: &str) -> u32 {
    let all = Upgrade::migrations();
    let at = all.iter().position(|m| m.name() == name).expect("a registered migration");
    u32::try_from(all.len() - at).expect("a few migrations")
}

const PLAN: &str = "
INSERT INTO plans (id, document_number, title, plan_title, issuing_office, issue_date, implements_title,
  implements_reference, notice) VALUES (1, 'D1', 'T', 'PT', 'O', '2016-01-01', 'IT', 'IR', 'N');
INSERT INTO sections (id, plan_id, position, numeral, title) VALUES (1, 1, 1, 'I', 'S');
INSERT INTO subsections (id, section_id, position, numeral, title) VALUES (1, 1, 1, '(1)', 'SS');
INSERT INTO tasks (id, plan_id, section_id, subsection_id, number, text, responsibility_mode) VALUES
  (1, 1, 1, 1, 1, 'task one', 'JOINT'), (2, 1, 1, 1, 2, 'task two', 'JOINT');
INSERT INTO agencies (id, name, name_zh, abbreviation) VALUES (1, 'Agency A', 'A', 'AA'), (2, 'Agency B', 'B', 'BB');
INSERT INTO provinces (id, code, name, name_zh, kind) VALUES (1, '440000', 'Guangdong', 'G', 'PROVINCE');
";

/// A report row: (id, task, agency, province, period, state, version, created_at, updated_at).
type Row = (i64, i64, Option<i64>, Option<i64>, &'static str, &'static str, i32, DateTime<Utc>, Option<DateTime<Utc>>);

/// The reports before the migration, and what the history says about them.
fn reports() -> Vec<Row> {
    vec![
        // Three SUBMITTED for agency A, task 1, 2016-Q4: 3 (older than the history) is kept.
        (1, 1, Some(1), None, "2016-Q4", "SUBMITTED", 1, t(8, 0), None),
        (2, 1, Some(1), None, "2016-Q4", "SUBMITTED", 2, t(8, 10), Some(t(8, 20))),
        (3, 1, Some(1), None, "2016-Q4", "SUBMITTED", 1, t(8, 30), None),
        // ACCEPTED (after a return and a resubmission) beats a newer DRAFT.
        (4, 1, Some(2), None, "2016-Q4", "ACCEPTED", 5, t(9, 0), Some(t(9, 40))),
        (5, 1, Some(2), None, "2016-Q4", "DRAFT", 1, t(9, 50), None),
        // A withdrawn report and a live one for the same key: no duplicate.
        (6, 1, None, Some(1), "2016-Q4", "WITHDRAWN", 2, t(10, 0), Some(t(10, 5))),
        (7, 1, None, Some(1), "2016-Q4", "SUBMITTED", 2, t(10, 10), Some(t(10, 15))),
        // A draft never submitted; an ACCEPTED report older than the history.
        (8, 2, Some(1), None, "2016-Q4", "DRAFT", 1, t(11, 0), None),
        (9, 1, Some(1), None, "2017-Q1", "ACCEPTED", 1, t(11, 10), None),
        // Two ACCEPTED: the higher id is kept.
        (10, 2, Some(2), None, "2016-Q4", "ACCEPTED", 3, t(12, 0), Some(t(12, 5))),
        (11, 2, Some(2), None, "2016-Q4", "ACCEPTED", 2, t(12, 10), Some(t(12, 20))),
    ]
}

/// A history row: (report, version, action, at, state before, state after); an empty state
/// after means an entry that changes no state.
type Entry = (i64, i32, &'static str, DateTime<Utc>, Option<&'static str>, &'static str);

fn history() -> Vec<Entry> {
    vec![
        (1, 1, "CREATE", t(8, 0), None, "SUBMITTED"),
        (2, 1, "CREATE", t(8, 10), None, "DRAFT"),
        (2, 2, "SUBMIT", t(8, 20), Some("DRAFT"), "SUBMITTED"),
        (4, 1, "CREATE", t(9, 0), None, "DRAFT"),
        (4, 2, "SUBMIT", t(9, 10), Some("DRAFT"), "SUBMITTED"),
        (4, 3, "RETURN", t(9, 20), Some("SUBMITTED"), "RETURNED"),
        (4, 4, "SUBMIT", t(9, 30), Some("RETURNED"), "SUBMITTED"),
        (4, 5, "ACCEPT", t(9, 40), Some("SUBMITTED"), "ACCEPTED"),
        (5, 1, "CREATE", t(9, 50), None, "DRAFT"),
        (6, 1, "CREATE", t(10, 0), None, "SUBMITTED"),
        (6, 2, "WITHDRAW", t(10, 5), Some("SUBMITTED"), "WITHDRAWN"),
        (7, 1, "CREATE", t(10, 10), None, "SUBMITTED"),
        (7, 2, "SYNC", t(10, 15), None, ""),
        (8, 1, "CREATE", t(11, 0), None, "DRAFT"),
        (11, 1, "CREATE", t(12, 10), None, "SUBMITTED"),
        (11, 2, "ACCEPT", t(12, 20), Some("SUBMITTED"), "ACCEPTED"),
    ]
}

fn lit(at: Option<DateTime<Utc>>) -> String {
    at.map_or_else(|| "NULL".to_owned(), |at| format!("'{}'", at.to_rfc3339()))
}

async fn seed(db: &DatabaseConnection) {
    for statement in PLAN.split(';').filter(|s| !s.trim().is_empty()) {
        db.execute_unprepared(statement).await.expect("plan fixture");
    }
    for (id, task, agency, province, period, state, version, created, updated) in reports() {
        let reporter = |r: Option<i64>| r.map_or_else(|| "NULL".to_owned(), |r| r.to_string());
        db.execute_unprepared(&format!(
            "INSERT INTO progress_reports (id, task_id, agency_id, province_id, period, status, percent_complete,
               summary, evidence_urls, submitted_at, version, is_demo, state, updated_at)
             VALUES ({id}, {task}, {}, {}, '{period}', 'IN_PROGRESS', {id}, 'summary {id}',
               '[\"https://example.org/{id}\"]', {}, {version}, FALSE, '{state}', {})",
            reporter(agency),
            reporter(province),
            lit(Some(created)),
            lit(updated),
        ))
        .await
        .expect("report fixture");
    }
    for (report, version, action, at, before, after) in history() {
        let changes = if after.is_empty() {
            json!([{ "field": "summary", "before": "summary", "after": "synced" }])
        } else {
            json!([{ "field": "state", "before": before, "after": after }])
        };
        db.execute_unprepared(&format!(
            "INSERT INTO report_history (report_id, version, action, actor, at, changes)
             VALUES ({report}, {version}, '{action}', 'fixture', {}, '{changes}')",
            lit(Some(at)),
        ))
        .await
        .expect("history fixture");
    }
}

async fn rows(db: &DatabaseConnection, sql: &str) -> Vec<QueryResult> {
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql)).await.expect(sql)
}

/// (id, state, version, created_at, first_submitted_at, submitted_at) of every report.
type After = (i64, String, i32, DateTime<Utc>, Option<DateTime<Utc>>, Option<DateTime<Utc>>);

async fn reports_after(db: &DatabaseConnection) -> Vec<After> {
    let sql =
        "SELECT id, state, version, created_at, first_submitted_at, submitted_at FROM progress_reports ORDER BY id";
    rows(db, sql)
        .await
        .iter()
        .map(|r| {
            let get = |c: &str| r.try_get::<Option<DateTime<Utc>>>("", c).expect(c);
            (
                r.try_get("", "id").expect("id"),
                r.try_get("", "state").expect("state"),
                r.try_get("", "version").expect("version"),
                r.try_get("", "created_at").expect("created_at"),
                get("first_submitted_at"),
                get("submitted_at"),
            )
        })
        .collect()
}

fn expected_reports() -> Vec<After> {
    let (s, w) = ("SUBMITTED", "WITHDRAWN");
    let row = |id, state: &str, version, created, first, last| (id, state.to_owned(), version, created, first, last);
    vec![
        row(1, w, 2, t(8, 0), Some(t(8, 0)), Some(t(8, 0))),
        row(2, w, 3, t(8, 10), Some(t(8, 20)), Some(t(8, 20))),
        row(3, s, 1, t(8, 30), Some(t(8, 30)), Some(t(8, 30))),
        row(4, "ACCEPTED", 5, t(9, 0), Some(t(9, 10)), Some(t(9, 30))),
        row(5, w, 2, t(9, 50), None, None),
        row(6, w, 2, t(10, 0), Some(t(10, 0)), Some(t(10, 0))),
        row(7, s, 2, t(10, 10), Some(t(10, 10)), Some(t(10, 10))),
        row(8, "DRAFT", 1, t(11, 0), None, None),
        row(9, "ACCEPTED", 1, t(11, 10), Some(t(11, 10)), Some(t(11, 10))),
        row(10, w, 4, t(12, 0), Some(t(12, 0)), Some(t(12, 0))),
        row(11, "ACCEPTED", 2, t(12, 10), Some(t(12, 10)), Some(t(12, 10))),
    ]
}

async fn accepted_content(db: &DatabaseConnection) -> Vec<(i64, Value)> {
    let sql = "SELECT id, accepted_content FROM progress_reports WHERE accepted_content IS NOT NULL ORDER BY id";
    rows(db, sql)
        .await
        .iter()
        .map(|r| {
            let text: String = r.try_get("", "accepted_content").expect("accepted_content");
            (r.try_get("", "id").expect("id"), serde_json::from_str(&text).expect("accepted_content is JSON"))
        })
        .collect()
}

fn expected_accepted() -> Vec<(i64, Value)> {
    let content = |id: i64, version: i32, accepted_at: &str| {
        let url = format!("https://example.org/{id}");
        (
            id,
            json!({ "version": version, "status": "IN_PROGRESS", "percentComplete": id, "summary": format!("summary {id}"),
                    "evidenceUrls": [url], "period": if id == 9 { "2017-Q1" } else { "2016-Q4" },
                    "acceptedAt": accepted_at }),
        )
    };
    // 4 and 11 from their ACCEPT entries; 9 has no history and no updated_at: its creation.
    vec![
        content(4, 5, "2016-12-20T09:40:00Z"),
        content(9, 1, "2016-12-20T11:10:00Z"),
        content(11, 2, "2016-12-20T12:20:00Z"),
    ]
}

/// A change-feed row: (report, kind, version, state, agency, province).
type FeedRow = (i64, String, i32, String, Option<i64>, Option<i64>);

/// The migration's withdrawals: (report, version, changes) in history, (report, kind, version,
/// state, agency, province) in the change feed.
async fn migration_writes(db: &DatabaseConnection) -> (Vec<(i64, i32, Value)>, Vec<FeedRow>) {
    let history = rows(
        db,
        &format!(
            "SELECT report_id, version, action, changes FROM report_history WHERE actor = '{ACTOR}' ORDER BY report_id"
        ),
    )
    .await
    .iter()
    .map(|r| {
        assert_eq!(r.try_get::<String>("", "action").expect("action"), "WITHDRAW");
        let changes: String = r.try_get("", "changes").expect("changes");
        (
            r.try_get("", "report_id").expect("report_id"),
            r.try_get("", "version").expect("version"),
            serde_json::from_str(&changes).expect("changes are JSON"),
        )
    })
    .collect();
    let sql = format!(
        "SELECT report_id, kind, version, state, agency_id, province_id FROM report_changes WHERE actor = '{ACTOR}' ORDER BY report_id"
    );
    let feed = rows(db, &sql)
        .await
        .iter()
        .map(|r| {
            (
                r.try_get("", "report_id").expect("report_id"),
                r.try_get("", "kind").expect("kind"),
                r.try_get("", "version").expect("version"),
                r.try_get("", "state").expect("state"),
                r.try_get("", "agency_id").expect("agency_id"),
                r.try_get("", "province_id").expect("province_id"),
            )
        })
        .collect();
    (history, feed)
}

fn reason(before: &str, kept: i64) -> Value {
    json!([
        { "field": "state", "before": before, "after": "WITHDRAWN" },
        { "field": "reason", "before": null,
          "after": format!("duplicate of report {kept} for the same reporter, task, period and kind") },
    ])
}

async fn assert_migrated(db: &DatabaseConnection) {
    assert_eq!(reports_after(db).await, expected_reports());
    assert_eq!(accepted_content(db).await, expected_accepted());
    let (history, feed) = migration_writes(db).await;
    assert_eq!(
        history,
        [
            (1, 2, reason("SUBMITTED", 3)),
            (2, 3, reason("SUBMITTED", 3)),
            (5, 2, reason("DRAFT", 4)),
            (10, 4, reason("ACCEPTED", 11)),
        ]
    );
    let w = || "WITHDRAWN".to_owned();
    assert_eq!(
        feed,
        [
            (1, w(), 2, w(), Some(1), None),
            (2, w(), 3, w(), Some(1), None),
            (5, w(), 2, w(), Some(2), None),
            (10, w(), 4, w(), Some(2), None),
        ]
    );
    let kinds = rows(db, "SELECT DISTINCT kind FROM progress_reports").await;
    assert_eq!(kinds.len(), 1);
    assert_eq!(kinds[0].try_get::<String>("", "kind").expect("kind"), "PART");
}

/// Inserts a live report for (task, agency, province, period, kind).
async fn insert_live(
    db: &DatabaseConnection,
    id: i64,
    task: i64,
    reporter: &str,
    period: &str,
    kind: &str,
) -> Result<(), DbErr> {
    db.execute_unprepared(&format!(
        "INSERT INTO progress_reports (id, task_id, {reporter}, period, status, summary, evidence_urls, created_at,
           version, is_demo, state, kind)
         VALUES ({id}, {task}, 1, '{period}', 'IN_PROGRESS', 's', '[]', '2016-12-21T00:00:00+00:00', 1, FALSE, 'DRAFT', '{kind}')"
    ))
    .await
    .map(drop)
}

fn assert_unique_violation(result: Result<(), DbErr>, what: &str) {
    let err = result.expect_err(what);
    assert!(matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))), "{what}: {err}");
}

async fn assert_one_live_report_per_key(db: &DatabaseConnection) {
    // Agency A already has 3 live on task 1 in 2016-Q4, 8 (a draft) on task 2; province 1 has 7.
    assert_unique_violation(insert_live(db, 100, 1, "agency_id", "2016-Q4", "PART").await, "second live agency report");
    assert_unique_violation(insert_live(db, 100, 2, "agency_id", "2016-Q4", "PART").await, "beside a draft");
    assert_unique_violation(
        insert_live(db, 100, 1, "province_id", "2016-Q4", "PART").await,
        "second live province report",
    );
    // Another kind, period or reporter is another key.
    insert_live(db, 100, 1, "agency_id", "2016-Q4", "CONSOLIDATED").await.expect("another kind");
    insert_live(db, 101, 1, "agency_id", "2017-Q2", "PART").await.expect("another period");
    // Once the live report is withdrawn, a new one may be filed.
    db.execute_unprepared("UPDATE progress_reports SET state = 'WITHDRAWN' WHERE id = 3").await.expect("withdraw");
    insert_live(db, 102, 1, "agency_id", "2016-Q4", "PART").await.expect("after withdrawal");
}

#[tokio::test]
async fn migration_cleans_duplicates_and_backfills_from_history() {
    let test_db = TestDb::create().await.expect("db");
    let db = Database::connect(test_db.url()).await.expect("connect");
    Upgrade::up(&db, Some(2)).await.expect("the first two migrations");
    seed(&db).await;

    Upgrade::up(&db, Some(1)).await.expect("report integrity up");
    assert_migrated(&db).await;

    Upgrade::down(&db, Some(1)).await.expect("report integrity down");
    // `submitted_at` holds the creation time again; withdrawn duplicates stay withdrawn.
    let back = rows(&db, "SELECT id, state, submitted_at FROM progress_reports ORDER BY id").await;
    let back: Vec<(i64, String, DateTime<Utc>)> = back
        .iter()
        .map(|r| {
            (
                r.try_get("", "id").expect("id"),
                r.try_get("", "state").expect("state"),
                r.try_get("", "submitted_at").expect("at"),
            )
        })
        .collect();
    let before: Vec<_> =
        expected_reports().into_iter().map(|(id, state, _, created, _, _)| (id, state, created)).collect();
    assert_eq!(back, before);

    // Up again: the same values, and nothing more to withdraw.
    Upgrade::up(&db, Some(1)).await.expect("report integrity up again");
    assert_migrated(&db).await;

    assert_one_live_report_per_key(&db).await;
    db.close().await.expect("close");
}

#[tokio::test]
async fn migration_withdraws_many_duplicates_in_batches() {
    let test_db = TestDb::create().await.expect("db");
    let db = Database::connect(test_db.url()).await.expect("connect");
    Upgrade::up(&db, Some(2)).await.expect("the first two migrations");
    for statement in PLAN.split(';').filter(|s| !s.trim().is_empty()) {
        db.execute_unprepared(statement).await.expect("plan fixture");
    }
    // More reports than one statement writes: 250 for one key, older than the history.
    let values: Vec<String> = (1..=250)
        .map(|id| {
            format!("({id}, 1, 1, '2016-Q4', 'ONGOING', 's', '[]', '{}', 1, FALSE, 'SUBMITTED')", t(8, 0).to_rfc3339())
        })
        .collect();
    db.execute_unprepared(&format!(
        "INSERT INTO progress_reports (id, task_id, agency_id, period, status, summary, evidence_urls, submitted_at,
           version, is_demo, state) VALUES {}",
        values.join(", ")
    ))
    .await
    .expect("reports");

    Upgrade::up(&db, Some(1)).await.expect("report integrity up");
    let after = reports_after(&db).await;
    assert_eq!(after.len(), 250);
    for (id, state, version, created, first, last) in after {
        let (expected_state, expected_version) = if id == 250 { ("SUBMITTED", 1) } else { ("WITHDRAWN", 2) };
        assert_eq!((state.as_str(), version), (expected_state, expected_version), "report {id}");
        assert_eq!((first, last), (Some(created), Some(created)), "report {id}");
    }
    let (history, feed) = migration_writes(&db).await;
    assert_eq!(history.len(), 249);
    assert_eq!(feed.len(), 249);
    assert!(
        history.iter().all(|(id, version, changes)| *version == 2 && *changes == reason("SUBMITTED", 250) && *id < 250)
    );
    db.close().await.expect("close");
}

#[tokio::test]
async fn the_reporting_periods_migration_goes_down_and_up_again() {
    let test_db = TestDb::create().await.expect("db");
    let db = Database::connect(test_db.url()).await.expect("connect");
    Upgrade::up(&db, None).await.expect("every migration");
    let insert = "INSERT INTO reporting_periods (period, starts_at, ends_at, due_at, created_at, updated_at, version)
      VALUES ('2016-Q4', '2016-09-30T16:00:00+00:00', '2016-12-31T16:00:00+00:00', '2017-01-15T16:00:00+00:00',
              '2016-12-01T00:00:00+00:00', '2016-12-01T00:00:00+00:00', 1)";
    db.execute_unprepared(insert).await.expect("a period");
    let again = db.execute_unprepared(insert).await.expect_err("one row per period key");
    assert!(matches!(again.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))), "{again}");
    let orphan = "INSERT INTO reporting_period_history (period_id, version, action, actor, at, changes)
      VALUES (999, 1, 'SCHEDULE', 'x', '2016-12-01T00:00:00+00:00', '[]')";
    if test_db.is_postgres() {
        assert!(db.execute_unprepared(orphan).await.is_err(), "history belongs to a period");
    }

    // Reporting periods come before later migrations: step back over them all.
    Upgrade::down(&db, Some(steps_from("m20261126_000004_reporting_periods"))).await.expect("reporting periods down");
    assert!(db.execute_unprepared("SELECT 1 FROM reporting_periods").await.is_err(), "table dropped");
    assert!(db.execute_unprepared("SELECT 1 FROM reporting_period_history").await.is_err(), "table dropped");
    Upgrade::up(&db, None).await.expect("reporting periods up again");
    assert!(rows(&db, "SELECT id FROM reporting_periods").await.is_empty());
    db.close().await.expect("close");
}

#[tokio::test]
async fn the_report_health_migration_goes_down_and_up_again() {
    let test_db = TestDb::create().await.expect("db");
    let db = Database::connect(test_db.url()).await.expect("connect");
    Upgrade::up(&db, Some(2)).await.expect("the first two migrations");
    seed(&db).await;
    Upgrade::up(&db, None).await.expect("every migration");
    let said = "SELECT id FROM progress_reports WHERE health IS NOT NULL OR obstacles IS NOT NULL";
    assert!(rows(&db, said).await.is_empty(), "existing reports say neither");
    db.execute_unprepared("UPDATE progress_reports SET health = 'AT_RISK', obstacles = 'Late.' WHERE id = 1")
        .await
        .expect("the new columns");
    assert_eq!(rows(&db, said).await.len(), 1);

    Upgrade::down(&db, Some(steps_from("m20261127_000006_report_health"))).await.expect("report health down");
    assert!(db.execute_unprepared(said).await.is_err(), "columns dropped");
    assert_eq!(rows(&db, "SELECT id FROM progress_reports").await.len(), reports().len(), "the reports stay");
    Upgrade::up(&db, None).await.expect("report health up again");
    assert!(rows(&db, said).await.is_empty());
    db.close().await.expect("close");
}
