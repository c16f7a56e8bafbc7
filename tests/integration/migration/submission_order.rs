//! The submission-order migration: a task's reports newest-submitted first (a task's
//! `latestReport`) read one index range instead of sorting every report of the task; down()
//! brings the former index back, and up() again replaces it.

use sea_orm::{ConnectionTrait, Database, DatabaseConnection, TransactionTrait};
use workplan_migration::{Migrator as Upgrade, MigratorTrait};
use workplan_tests::TestDb;

use super::{rows, steps_from};

/// The newest two reports of task 1 by submission time, as `reports.rs` orders them.
const LATEST: &str = r#"SELECT "progress_reports"."id" FROM "progress_reports" WHERE "progress_reports"."task_id" = 1
  ORDER BY COALESCE("progress_reports"."submitted_at", "progress_reports"."created_at") DESC,
  "progress_reports"."id" DESC LIMIT 2"#;

/// The names of the indexes on the reports whose name starts with `ix_reports_task_`.
async fn task_indexes(db: &DatabaseConnection, postgres: bool) -> Vec<String> {
    let sql = if postgres {
        "SELECT indexname AS name FROM pg_indexes WHERE tablename = 'progress_reports' AND indexname LIKE 'ix_reports_task_%' ORDER BY 1"
    } else {
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'progress_reports' AND name LIKE 'ix_reports_task_%' ORDER BY 1"
    };
    rows(db, sql).await.iter().map(|r| r.try_get::<String>("", "name").expect("name")).collect()
}

/// The plan of [`LATEST`], as text. PostgreSQL is told to avoid sorts and sequential scans
/// where it can (the test table is tiny): it still sorts unless an index gives the order.
async fn plan_of_latest(db: &DatabaseConnection, postgres: bool) -> String {
    let txn = db.begin().await.expect("begin");
    let (sql, column) = if postgres {
        txn.execute_unprepared("SET LOCAL enable_sort = off").await.expect("set");
        txn.execute_unprepared("SET LOCAL enable_seqscan = off").await.expect("set");
        (format!("EXPLAIN {LATEST}"), "QUERY PLAN")
    } else {
        (format!("EXPLAIN QUERY PLAN {LATEST}"), "detail")
    };
    let plan = txn
        .query_all_raw(sea_orm::Statement::from_string(txn.get_database_backend(), sql))
        .await
        .expect("explain")
        .iter()
        .map(|r| r.try_get::<String>("", column).expect("plan line"))
        .collect::<Vec<_>>()
        .join("\n");
    txn.rollback().await.expect("rollback");
    plan
}

#[tokio::test]
async fn a_tasks_latest_reports_read_one_index_range() {
    let test_db = TestDb::create().await.expect("db");
    let postgres = test_db.is_postgres();
    let db = Database::connect(test_db.url()).await.expect("connect");
    Upgrade::up(&db, None).await.expect("every migration");
    let every = ["ix_reports_task_id", "ix_reports_task_official", "ix_reports_task_submission"];
    assert_eq!(task_indexes(&db, postgres).await, every);
    let plan = plan_of_latest(&db, postgres).await;
    assert!(plan.contains("ix_reports_task_submission"), "{plan}");
    assert!(!plan.contains("Sort") && !plan.contains("TEMP B-TREE"), "no sort: {plan}");

    Upgrade::down(&db, Some(steps_from("m20261128_000007_report_submission_order"))).await.expect("down");
    assert_eq!(task_indexes(&db, postgres).await, ["ix_reports_task_id", "ix_reports_task_submitted"]);
    let plan = plan_of_latest(&db, postgres).await;
    assert!(plan.contains("Sort") || plan.contains("TEMP B-TREE"), "sorted without the index: {plan}");
    Upgrade::up(&db, None).await.expect("up again");
    assert_eq!(task_indexes(&db, postgres).await, every);
    // The index of officially accepted reports (m20261201_000012) comes and goes on its own.
    Upgrade::down(&db, Some(steps_from("m20261201_000012_official_reports_index"))).await.expect("down one");
    assert_eq!(task_indexes(&db, postgres).await, ["ix_reports_task_id", "ix_reports_task_submission"]);
    Upgrade::up(&db, None).await.expect("up again");
    assert_eq!(task_indexes(&db, postgres).await, every);
    db.close().await.expect("close");
}
