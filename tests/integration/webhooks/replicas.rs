//! Two servers on one PostgreSQL database deliver each event exactly once between them: both
//! enqueue (the endpoint's cursor moves by compare-and-set), both claim (`FOR UPDATE SKIP
//! LOCKED`), and the receiver counts what it got by `webhook-id`.

use std::collections::HashMap;
use std::time::Duration;

use sea_orm::{ConnectionTrait as _, Database, DatabaseBackend, Statement, TransactionTrait as _};
use workplan_api::webhook::WebhookSettings;
use workplan_domain::ports::WebhookStore as _;
use workplan_domain::token::AccessRole;
use workplan_domain::webhook::{DeliveryFilter, DeliveryStatus, RetrySchedule};
use workplan_server::Application;
use workplan_tests::{TestApp, TestDb};

use super::{Receiver, app, config, register, settings, submit};

/// Reports written, one delivery each.
const REPORTS: usize = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_deliver_each_event_once_between_them() {
    let app = app().await;
    if !app.db.is_postgres() {
        return; // One process on SQLite: its claims take turns under the writer lock.
    }
    let listen = "127.0.0.1:0".parse().expect("addr");
    let other = Application::build(app.db.url(), listen, &workplan_server::store_options(5), config(settings()))
        .await
        .expect("a second replica");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(other.run_until(async move {
        let _ = stopped.await;
    }));

    let receiver = Receiver::start(0).await;
    register(&app, &receiver.url(), &["CREATED"], "test-admin").await;
    let gd = app.token("gd", AccessRole::ProvinceReporter, None, Some("440000")).await;
    for task in 1..=REPORTS {
        submit(&app, &gd, i32::try_from(task).expect("small")).await;
    }
    receiver.wait_for(Duration::from_secs(60), "every report delivered", |r| r.len() >= REPORTS).await;
    // Both replicas keep polling: anything sent twice would arrive now.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut by_id: HashMap<String, usize> = HashMap::new();
    for r in receiver.received() {
        *by_id.entry(r.id()).or_default() += 1;
    }
    assert_eq!(by_id.len(), REPORTS, "one webhook-id per report");
    assert!(by_id.values().all(|n| *n == 1), "each delivered exactly once: {by_id:?}");
    let _ = stop.send(());
}

/// On PostgreSQL a claim passes over deliveries another replica holds locked instead of
/// waiting for them (`FOR UPDATE SKIP LOCKED`): with one due delivery locked in an open
/// transaction, a claim returns the other at once; once the lock is gone, the locked one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_passes_over_deliveries_another_replica_holds_instead_of_waiting() {
    let db = TestDb::create().await.expect("a test database");
    if !db.is_postgres() {
        return; // SQLite has no row locks: claims take turns under the writer lock.
    }
    // The server's own worker tries each delivery once, fails, and leaves it for an hour: the
    // claims below look two hours ahead, where the worker does not.
    let slow = WebhookSettings { retry: RetrySchedule { base: Duration::from_secs(3600) }, ..settings() };
    let app = TestApp::spawn_with(db, workplan_server::store_options(5), config(slow)).await;
    let receiver = Receiver::start(usize::MAX).await;
    register(&app, &receiver.url(), &["CREATED"], "test-admin").await;
    let gd = app.token("gd", AccessRole::ProvinceReporter, None, Some("440000")).await;
    submit(&app, &gd, 3).await;
    submit(&app, &gd, 4).await;
    receiver.wait_for(Duration::from_secs(30), "one failed attempt each", |r| r.len() == 2).await;
    let pending = || async {
        let filter = DeliveryFilter { endpoint: None, status: Some(DeliveryStatus::Pending) };
        app.store.deliveries(filter, None, 10).await.expect("deliveries").0
    };
    let start = std::time::Instant::now();
    while pending().await.iter().filter(|d| d.attempts == 1).count() < 2 {
        assert!(start.elapsed() < Duration::from_secs(30), "both attempts recorded");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let other = Database::connect(app.db.url()).await.expect("connect");
    let held = other.begin().await.expect("begin");
    let lock = "SELECT id FROM webhook_deliveries ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE";
    let row = held.query_one_raw(Statement::from_string(DatabaseBackend::Postgres, lock)).await.expect("lock");
    let locked: i64 = row.expect("a row").try_get("", "id").expect("id");

    let later = chrono::Utc::now() + chrono::Duration::hours(2);
    let lease = Duration::from_secs(60);
    let claim = app.store.claim_due(later, 10, lease);
    let claimed = tokio::time::timeout(Duration::from_secs(10), claim)
        .await
        .expect("the claim did not wait for the locked row")
        .expect("a claim");
    assert_eq!(claimed.len(), 1, "{claimed:?}");
    assert_ne!(claimed[0].id.0, locked, "not the locked one");

    held.rollback().await.expect("rollback");
    let rest = app.store.claim_due(later, 10, lease).await.expect("a claim");
    assert_eq!(rest.iter().map(|d| d.id.0).collect::<Vec<_>>(), [locked], "the one that was locked, and only it");
}
