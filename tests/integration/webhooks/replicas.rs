//! Two servers on one PostgreSQL database deliver each event exactly once between them: both
//! enqueue (the endpoint's cursor moves by compare-and-set), both claim (`FOR UPDATE SKIP
//! LOCKED`), and the receiver counts what it got by `webhook-id`.

use std::collections::HashMap;
use std::time::Duration;

use workplan_domain::token::AccessRole;
use workplan_server::Application;

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
