//! The supervision migration on a database holding reports written before it: the bounds of
//! each report's period (midnight in China Standard Time, as the domain draws them), whether it
//! was ever returned, the columns of its accepted version, the constraints of the new columns
//! and of `obligation_adjustments`, and down() then up() again.

use chrono::{DateTime, Utc};
use sea_orm::{Database, DatabaseConnection};
use workplan_domain::report::Period;
use workplan_migration::{Migrator as Upgrade, MigratorTrait};
use workplan_tests::TestDb;

use super::{PLAN, rows};

/// A report as written before the migration: (id, task, agency, province, period, kind, state,
/// accepted_content).
type Before = (i64, i64, Option<i64>, Option<i64>, &'static str, &'static str, &'static str, Option<&'static str>);

const REPORTS: &[Before] = &[
    // Returned once, resubmitted and accepted.
    (
        1,
        1,
        Some(1),
        None,
        "2016-Q4",
        "PART",
        "ACCEPTED",
        Some(
            r#"{"version":4,"status":"IN_PROGRESS","percentComplete":40,"summary":"s","evidenceUrls":[],"period":"2016-Q4","acceptedAt":"2016-12-20T09:00:00Z"}"#,
        ),
    ),
    // Accepted, then reopened for correction: RETURNED with its accepted version.
    (
        2,
        1,
        Some(2),
        None,
        "2016",
        "PART",
        "RETURNED",
        Some(
            r#"{"version":2,"status":"COMPLETED","percentComplete":null,"summary":"s","evidenceUrls":[],"period":"2016","acceptedAt":"2016-12-20T09:00:00Z"}"#,
        ),
    ),
    (3, 1, None, Some(1), "2016-H2", "PART", "SUBMITTED", None),
    // RETURNED before the history began: the state says it was returned.
    (4, 2, Some(1), None, "2016-09", "PART", "RETURNED", None),
    // The same period key as report 1.
    (5, 2, Some(1), None, "2016-Q4", "PART", "DRAFT", None),
    (
        6,
        2,
        Some(2),
        None,
        "2017-H1",
        "CONSOLIDATED",
        "ACCEPTED",
        Some(
            r#"{"version":2,"status":"COMPLETED","percentComplete":100,"summary":"s","evidenceUrls":[],"period":"2017-H1","acceptedAt":"2017-06-20T09:00:00Z","health":"AT_RISK"}"#,
        ),
    ),
    // Returned, then withdrawn: it stays "ever returned".
    (7, 2, None, Some(1), "2016-Q1", "PART", "WITHDRAWN", None),
];

/// History entries: (report, version, action).
const HISTORY: &[(i64, i32, &str)] = &[
    (1, 1, "CREATE"),
    (1, 2, "RETURN"),
    (1, 3, "SUBMIT"),
    (1, 4, "ACCEPT"),
    (2, 1, "CREATE"),
    (2, 2, "ACCEPT"),
    (2, 3, "REOPEN"),
    (3, 1, "CREATE"),
    (6, 1, "CREATE"),
    (6, 2, "ACCEPT"),
    (7, 1, "CREATE"),
    (7, 2, "RETURN"),
    (7, 3, "WITHDRAW"),
];

async fn exec(db: &DatabaseConnection, sql: &str) -> Result<(), sea_orm::DbErr> {
    use sea_orm::ConnectionTrait;
    db.execute_unprepared(sql).await.map(drop)
}

async fn seed(db: &DatabaseConnection) {
    for statement in PLAN.split(';').filter(|s| !s.trim().is_empty()) {
        exec(db, statement).await.expect("plan fixture");
    }
    let null = |v: Option<i64>| v.map_or_else(|| "NULL".to_owned(), |v| v.to_string());
    for (id, task, agency, province, period, kind, state, accepted) in REPORTS {
        let accepted = accepted.map_or_else(|| "NULL".to_owned(), |a| format!("'{a}'"));
        let sql = format!(
            "INSERT INTO progress_reports (id, task_id, agency_id, province_id, period, status, percent_complete,
               summary, evidence_urls, created_at, submitted_at, first_submitted_at, kind, accepted_content, version,
               is_demo, state, updated_at)
             VALUES ({id}, {task}, {}, {}, '{period}', 'IN_PROGRESS', 50, 'summary', '[]', '2016-12-01T00:00:00+00:00',
               NULL, NULL, '{kind}', {accepted}, 3, FALSE, '{state}', NULL)",
            null(*agency),
            null(*province),
        );
        exec(db, &sql).await.expect("report fixture");
    }
    for (report, version, action) in HISTORY {
        let sql = format!(
            "INSERT INTO report_history (report_id, version, action, actor, at, changes)
             VALUES ({report}, {version}, '{action}', 'fixture', '2016-12-01T00:00:00+00:00', '[]')"
        );
        exec(db, &sql).await.expect("history fixture");
    }
}

/// (id, period_starts_at, period_ends_at, ever_returned, accepted_status, accepted_percent,
/// accepted_health) of every report.
type After = (i64, DateTime<Utc>, DateTime<Utc>, bool, Option<String>, Option<i32>, Option<String>);

async fn reports_after(db: &DatabaseConnection) -> Vec<After> {
    let sql = "SELECT id, period_starts_at, period_ends_at, ever_returned, accepted_status, accepted_percent,
                 accepted_health FROM progress_reports ORDER BY id";
    rows(db, sql)
        .await
        .iter()
        .map(|r| {
            (
                r.try_get("", "id").expect("id"),
                r.try_get("", "period_starts_at").expect("period_starts_at"),
                r.try_get("", "period_ends_at").expect("period_ends_at"),
                r.try_get("", "ever_returned").expect("ever_returned"),
                r.try_get("", "accepted_status").expect("accepted_status"),
                r.try_get("", "accepted_percent").expect("accepted_percent"),
                r.try_get("", "accepted_health").expect("accepted_health"),
            )
        })
        .collect()
}

fn expected() -> Vec<After> {
    let returned = [1, 2, 4, 7];
    let accepted = |id| match id {
        1 => (Some("IN_PROGRESS".to_owned()), Some(40), None),
        2 => (Some("COMPLETED".to_owned()), None, None),
        6 => (Some("COMPLETED".to_owned()), Some(100), Some("AT_RISK".to_owned())),
        _ => (None, None, None),
    };
    REPORTS
        .iter()
        .map(|(id, _, _, _, period, ..)| {
            let p = Period::parse(period).expect("period");
            let (status, percent, health) = accepted(*id);
            (*id, p.starts_at(), p.ends_at(), returned.contains(id), status, percent, health)
        })
        .collect()
}

async fn assert_backfilled(db: &DatabaseConnection) {
    let after = reports_after(db).await;
    assert_eq!(after, expected());
    // 2016-Q4 starts at midnight in Beijing, which is 16:00 the day before in UTC.
    assert_eq!(after[0].1.to_rfc3339(), "2016-09-30T16:00:00+00:00");
    assert_eq!(after[0].2.to_rfc3339(), "2016-12-31T16:00:00+00:00");
}

/// Inserts an adjustment with the given column values.
async fn adjustment(db: &DatabaseConnection, kind: &str, period: &str, party: &str, due_at: &str) -> bool {
    let sql = format!(
        "INSERT INTO obligation_adjustments (kind, period, task_id, agency_id, province_id, due_at, reason, actor, at)
         VALUES ('{kind}', {period}, 1, {party}, {due_at}, 'why', 'fixture', '2016-12-01T00:00:00+00:00')"
    );
    exec(db, &sql).await.is_ok()
}

async fn assert_constraints(db: &DatabaseConnection, test_db: &TestDb) {
    // Period bounds and ever_returned always have a value.
    for column in ["period_starts_at", "period_ends_at", "ever_returned"] {
        let sql = format!("UPDATE progress_reports SET {column} = NULL WHERE id = 1");
        assert!(exec(db, &sql).await.is_err(), "{column} is NOT NULL");
    }
    let due = "'2017-01-20T00:00:00+00:00'";
    assert!(adjustment(db, "EXEMPT", "NULL", "NULL, 1", "NULL").await, "an exemption from every period");
    assert!(adjustment(db, "EXEMPT", "'2016-Q4'", "1, NULL", "NULL").await, "an exemption from one period");
    assert!(adjustment(db, "EXTEND", "'2016-Q4'", "1, NULL", due).await, "an extension");
    assert!(!adjustment(db, "EXEMPT", "NULL", "1, 1", "NULL").await, "two parties");
    assert!(!adjustment(db, "EXEMPT", "NULL", "NULL, NULL", "NULL").await, "no party");
    assert!(!adjustment(db, "EXEMPT", "'2016-Q4'", "1, NULL", due).await, "an exemption has no due date");
    assert!(!adjustment(db, "EXTEND", "'2016-Q4'", "1, NULL", "NULL").await, "an extension needs a due date");
    assert!(!adjustment(db, "EXTEND", "NULL", "1, NULL", due).await, "an extension is for one period");
    assert!(!adjustment(db, "POSTPONE", "'2016-Q4'", "1, NULL", "NULL").await, "an unknown kind");
    if test_db.is_postgres() {
        assert!(!adjustment(db, "EXEMPT", "NULL", "99, NULL", "NULL").await, "an unknown agency");
    }
}

#[tokio::test]
async fn the_supervision_migration_backfills_reports_written_before_it() {
    let test_db = TestDb::create().await.expect("db");
    let db = Database::connect(test_db.url()).await.expect("connect");
    Upgrade::up(&db, Some(4)).await.expect("the migrations before supervision");
    seed(&db).await;

    Upgrade::up(&db, Some(1)).await.expect("supervision up");
    assert_backfilled(&db).await;
    assert_constraints(&db, &test_db).await;

    Upgrade::down(&db, Some(1)).await.expect("supervision down");
    assert!(exec(&db, "SELECT ever_returned FROM progress_reports").await.is_err(), "columns dropped");
    assert!(exec(&db, "SELECT 1 FROM obligation_adjustments").await.is_err(), "table dropped");

    // Up again: the same values.
    Upgrade::up(&db, Some(1)).await.expect("supervision up again");
    assert_backfilled(&db).await;
    assert!(rows(&db, "SELECT id FROM obligation_adjustments").await.is_empty());
    db.close().await.expect("close");
}
