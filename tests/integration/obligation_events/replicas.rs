//! Two servers on one database: each due-date event recorded and sent once, one timer leading,
//! another taking over when its connection drops.

use std::time::Duration;

use serde_json::json;
use workplan_domain::token::AccessRole;

use super::*;

/// A second server on `app`'s database, on the same clock.
async fn replica(app: &TestApp, clock: Arc<ManualClock>) -> (String, tokio::sync::oneshot::Sender<()>) {
    let listen = "127.0.0.1:0".parse().expect("addr");
    let other =
        Application::build_with_clock(app.db.url(), listen, &workplan_server::store_options(3), config(), clock)
            .await
            .expect("a second replica");
    let addr = other.local_addr().expect("addr").to_string();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(other.run_until(async move {
        let _ = stopped.await;
    }));
    (addr, stop)
}

#[tokio::test]
async fn two_servers_on_one_database_record_and_send_each_due_date_event_once() {
    let (app, clock) = spawn().await;
    let owed = schedule_small_period(&app).await;
    let (other, _stop) = replica(&app, clock.clone()).await;
    let supervisor = app.token("sup", AccessRole::Supervisor, None, None).await;
    let mut here = open(&app.addr.to_string(), Some(&supervisor)).await;
    let mut there = open(&other, Some(&supervisor)).await;
    for ws in [&mut here, &mut there] {
        subscribe(ws, "soon", DUE_SOON, json!({})).await;
        subscribe(ws, "all", CHANGED, json!({ "p": "2016-Q4" })).await;
    }
    settle().await;

    clock.set(cst(2017, 1, 14, 0));
    await_recorded(&app.db, "DUE_SOON", i64::try_from(owed).expect("n")).await;
    for ws in [&mut here, &mut there] {
        let got = collect(ws, "soon", "obligationDueSoon", owed, Duration::from_secs(15)).await;
        let mut by_cell: HashMap<String, usize> = HashMap::new();
        for r in &got {
            *by_cell.entry(format!("{}", r["obligation"]["party"])).or_default() += 1;
        }
        assert_eq!(got.len(), owed, "each reminder once on each replica");
        assert!(by_cell.values().all(|n| *n == 1), "{by_cell:?}");
    }
    clock.set(due());
    await_recorded(&app.db, "OVERDUE", i64::try_from(owed).expect("n")).await;
    for ws in [&mut here, &mut there] {
        let got = collect(ws, "all", "obligationChanged", owed, Duration::from_secs(15)).await;
        assert_eq!(got.len(), owed, "each cell moved once on each replica");
    }
    // Both timers had every chance to record again.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(recorded(&app.db, "DUE_SOON").await, i64::try_from(owed).expect("n"), "recorded once per cluster");
    assert_eq!(recorded(&app.db, "OVERDUE").await, i64::try_from(owed).expect("n"), "recorded once per cluster");
}

/// The PostgreSQL backends of this test's database holding the due-date timer's lock.
async fn lock_holders(db: &TestDb) -> Vec<i32> {
    let conn = Database::connect(db.url()).await.expect("connect");
    let sql = format!(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = 0 AND objid = {} \
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        workplan_persistence::TIMER_LOCK
    );
    let rows = conn.query_all_raw(Statement::from_string(conn.get_database_backend(), sql)).await.expect("locks");
    let pids = rows.iter().map(|r| r.try_get::<i32>("", "pid").expect("pid")).collect();
    conn.close().await.expect("close");
    pids
}

/// Waits until exactly one backend holds the lock, other than `not` (at most 15 s).
async fn await_leader(db: &TestDb, not: Option<i32>) -> i32 {
    let start = Instant::now();
    loop {
        let holders = lock_holders(db).await;
        assert!(holders.len() <= 1, "one leader at most: {holders:?}");
        if let [pid] = holders[..]
            && Some(pid) != not
        {
            return pid;
        }
        assert!(start.elapsed() < Duration::from_secs(15), "no new leader: {holders:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn on_postgresql_one_replica_leads_and_another_takes_over_when_its_connection_drops() {
    let (app, clock) = spawn().await;
    if !app.db.is_postgres() {
        return;
    }
    let owed = schedule_small_period(&app).await;
    let (_other, _stop) = replica(&app, clock.clone()).await;
    let leader = await_leader(&app.db, None).await;
    // Both replicas have been trying for a while: still one leader.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(lock_holders(&app.db).await, [leader]);

    // The leader's session ends: the lock goes with it, and a replica takes over.
    let conn = Database::connect(app.db.url()).await.expect("connect");
    let kill = format!("SELECT pg_terminate_backend({leader})");
    conn.execute_raw(Statement::from_string(conn.get_database_backend(), kill)).await.expect("terminate");
    conn.close().await.expect("close");
    await_leader(&app.db, Some(leader)).await;

    // The new leader records what the clock brings, once.
    clock.set(cst(2017, 1, 14, 0));
    await_recorded(&app.db, "DUE_SOON", i64::try_from(owed).expect("n")).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(recorded(&app.db, "DUE_SOON").await, i64::try_from(owed).expect("n"));
}
