//! Due-date events and matrix subscriptions over graphql-transport-ws: with the clock moved into
//! the reminder window and past the due date, `obligationDueSoon` and the OVERDUE move of
//! `obligationChanged` arrive once each; two servers on one database record each event once
//! (one timer leads); a submitted report moves its cell; and who may subscribe to what.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use futures::{SinkExt as _, StreamExt as _};
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use workplan_api::config::ApiConfig;
use workplan_domain::ports::ManualClock;
use workplan_domain::token::AccessRole;
use workplan_server::Application;
use workplan_tests::{TestApp, TestDb};

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const SCHEDULE: &str = "mutation($i: ScheduleReportingPeriodInput!) { scheduleReportingPeriod(input: $i) {
  reportingPeriod { period } } }";
const EXEMPT: &str = "mutation($i: ExemptObligationsInput!) { exemptObligations(input: $i) { adjustments { id } } }";
const SUBMIT: &str = "mutation($i: SubmitProgressReportInput!) { submitProgressReport(input: $i) {
  report { id version } } }";
const REVIEW: &str = "mutation($id: ID!, $v: Int!) {
  reviewProgressReport(id: $id, expectedVersion: $v, decision: ACCEPT) { report { state } } }";
const CHANGED: &str = "subscription($p: String!, $f: ObligationFilterInput) {
  obligationChanged(period: $p, filter: $f) {
    state previousState
    obligation { period state dueAt task { number } party { __typename ... on Province { code } } report { state } }
  } }";
const DUE_SOON: &str = "subscription { obligationDueSoon {
  dueAt recordedAt obligation { period state dueAt task { number } party { __typename ... on Province { code } } }
} }";

/// China Standard Time.
fn cst(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    FixedOffset::east_opt(8 * 3600)
        .and_then(|z| z.with_ymd_and_hms(y, m, d, h, 0, 0).single())
        .expect("a valid time")
        .with_timezone(&Utc)
}

/// 2016-Q4 is due at 2017-01-16 00:00 CST; with a 3-day window its reminders are due from
/// 2017-01-13 00:00 CST.
fn due() -> DateTime<Utc> {
    cst(2017, 1, 16, 0)
}

/// A server configuration whose timer and watchers look at the clock every 100 ms.
fn config() -> ApiConfig {
    ApiConfig {
        rate_limit: None,
        request_limit: None,
        due_soon_days: 3,
        due_date_tick: Duration::from_millis(100),
        ..ApiConfig::default()
    }
}

/// A server on a manual clock showing 2017-01-01 09:00 CST.
async fn spawn() -> (TestApp, Arc<ManualClock>) {
    let db = TestDb::create().await.expect("db");
    let clock = Arc::new(ManualClock::new(cst(2017, 1, 1, 9)));
    let app = TestApp::spawn_with_clock(db, workplan_server::store_options(5), config(), clock.clone()).await;
    (app, clock)
}

/// Schedules 2016-Q4 and exempts every obligation but task 1's, so that the period owes
/// task 1's agencies and the 31 provinces; returns how many obligations that is.
async fn schedule_small_period(app: &TestApp) -> usize {
    app.data(SCHEDULE, json!({ "i": { "period": "2016-Q4", "dueAt": "2017-01-16T00:00:00+08:00" } })).await;
    let others: Vec<i32> = (2..=106).collect();
    for kind in ["AGENCY", "PROVINCE"] {
        let input = json!({ "period": "2016-Q4", "taskNumbers": others, "partyKind": kind, "reason": "test" });
        app.data(EXEMPT, json!({ "i": input })).await;
    }
    let matrix = app
        .data(
            r#"{ reportingMatrix(period: "2016-Q4", first: 1, filter: { states: [NOT_DUE] }) { totalCount } }"#,
            json!({}),
        )
        .await;
    usize::try_from(matrix["reportingMatrix"]["totalCount"].as_i64().expect("count")).expect("size")
}

/// Opens a graphql-transport-ws connection to `addr` with `secret` (anonymous without one).
async fn open(addr: &str, secret: Option<&str>) -> Ws {
    let mut request = format!("ws://{addr}/graphql/ws").into_client_request().expect("request");
    request.headers_mut().insert("sec-websocket-protocol", "graphql-transport-ws".parse().expect("header"));
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.expect("connect");
    let payload = secret.map_or(json!({}), |s| json!({ "Authorization": format!("Bearer {s}") }));
    let init = json!({ "type": "connection_init", "payload": payload });
    ws.send(Message::Text(init.to_string().into())).await.expect("init");
    let ack = next_message(&mut ws, Duration::from_secs(5)).await.expect("an answer to connection_init");
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    ws
}

/// Sends a `subscribe`.
async fn subscribe(ws: &mut Ws, id: &str, query: &str, variables: Value) {
    let message = json!({ "type": "subscribe", "id": id, "payload": { "query": query, "variables": variables } });
    ws.send(Message::Text(message.to_string().into())).await.expect("subscribe");
}

/// The next text message within `within` (pings answered), or `None`.
async fn next_message(ws: &mut Ws, within: Duration) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let message = tokio::time::timeout_at(deadline, ws.next()).await.ok()??.expect("a message");
        match message {
            Message::Text(t) => {
                let value: Value = serde_json::from_str(t.as_str()).expect("JSON");
                if value["type"] == "ping" {
                    let pong = json!({ "type": "pong" }).to_string();
                    ws.send(Message::Text(pong.into())).await.expect("pong");
                    continue;
                }
                return Some(value);
            }
            Message::Close(frame) => panic!("closed: {frame:?}"),
            _ => {}
        }
    }
}

/// Every message that arrives until none has for `quiet`.
async fn drain(ws: &mut Ws, quiet: Duration) -> Vec<Value> {
    let mut all = Vec::new();
    while let Some(message) = next_message(ws, quiet).await {
        all.push(message);
    }
    all
}

/// The data of the `next` messages of operation `id` among `messages`, under `field`.
fn items<'a>(messages: &'a [Value], id: &str, field: &str) -> Vec<&'a Value> {
    messages
        .iter()
        .filter(|m| m["type"] == "next" && m["id"] == id)
        .map(|m| {
            assert!(m["payload"]["errors"].is_null(), "{m}");
            &m["payload"]["data"][field]
        })
        .collect()
}

/// Waits until operation `id` has yielded `n` items under `field` (at most `within`), then
/// collects what else arrives in a quiet second; all of operation `id`'s items.
async fn collect(ws: &mut Ws, id: &str, field: &str, n: usize, within: Duration) -> Vec<Value> {
    let start = Instant::now();
    let mut all = Vec::new();
    while items(&all, id, field).len() < n && start.elapsed() < within {
        if let Some(message) = next_message(ws, Duration::from_millis(200)).await {
            all.push(message);
        }
    }
    all.extend(drain(ws, Duration::from_secs(1)).await);
    items(&all, id, field).into_iter().cloned().collect()
}

/// The error code an operation that cannot start answers with (an `error` message, or a
/// `next` carrying errors).
async fn refusal(ws: &mut Ws, id: &str, query: &str, variables: Value) -> String {
    subscribe(ws, id, query, variables).await;
    let answer = next_message(ws, Duration::from_secs(5)).await.expect("an answer");
    assert_eq!(answer["id"], id, "{answer}");
    let error = match answer["type"].as_str() {
        Some("error") => answer["payload"][0].clone(),
        Some("next") => {
            let complete = next_message(ws, Duration::from_secs(5)).await.expect("complete");
            assert_eq!((complete["type"].as_str(), complete["id"].as_str()), (Some("complete"), Some(id)));
            answer["payload"]["errors"][0].clone()
        }
        _ => panic!("not refused: {answer}"),
    };
    error["extensions"]["code"].as_str().expect("a code").to_owned()
}

/// How many due-date events of `kind` the database holds.
async fn recorded(db: &TestDb, kind: &str) -> i64 {
    let conn = Database::connect(db.url()).await.expect("connect");
    let backend = conn.get_database_backend();
    let sql = format!("SELECT COUNT(*) AS n FROM obligation_events WHERE kind = '{kind}'");
    let row = conn.query_one_raw(Statement::from_string(backend, sql)).await.expect("count").expect("a row");
    let n: i64 = row.try_get("", "n").expect("n");
    conn.close().await.expect("close");
    n
}

/// Waits until the database holds `n` events of `kind` (at most 10 s).
async fn await_recorded(db: &TestDb, kind: &str, n: i64) {
    let start = Instant::now();
    while recorded(db, kind).await < n {
        assert!(start.elapsed() < Duration::from_secs(10), "{kind}: fewer than {n} recorded");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Lets the watchers of new subscriptions take their first look (a subscription follows moves
/// from when its watcher judged the period).
async fn settle() {
    tokio::time::sleep(Duration::from_millis(500)).await;
}

#[tokio::test]
async fn with_the_clock_moved_due_soon_and_overdue_arrive_once_each() {
    let (app, clock) = spawn().await;
    let owed = schedule_small_period(&app).await;
    assert!(owed > 31, "task 1's agencies and every province: {owed}");
    let gd = app.token("gd", AccessRole::ProvinceReporter, None, Some("440000")).await;
    let supervisor = app.token("sup", AccessRole::Supervisor, None, None).await;
    let addr = app.addr.to_string();

    let mut reporter = open(&addr, Some(&gd)).await;
    subscribe(&mut reporter, "soon", DUE_SOON, json!({})).await;
    let own = json!({ "p": "2016-Q4", "f": { "provinceCode": "440000", "taskNumber": 1 } });
    subscribe(&mut reporter, "cell", CHANGED, own).await;
    let mut office = open(&addr, Some(&supervisor)).await;
    subscribe(&mut office, "soon", DUE_SOON, json!({})).await;
    subscribe(&mut office, "all", CHANGED, json!({ "p": "2016-Q4" })).await;
    settle().await;
    assert!(drain(&mut reporter, Duration::from_millis(300)).await.is_empty(), "nothing has happened yet");

    // Into the window: three days before the due date, nothing reported.
    clock.set(cst(2017, 1, 13, 12));
    await_recorded(&app.db, "DUE_SOON", i64::try_from(owed).expect("n")).await;
    let mine = collect(&mut reporter, "soon", "obligationDueSoon", 1, Duration::from_secs(10)).await;
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!(mine[0]["obligation"]["party"]["code"], "440000");
    assert_eq!(mine[0]["obligation"]["task"]["number"], 1);
    assert_eq!(mine[0]["obligation"]["state"], "NOT_DUE");
    assert_eq!(mine[0]["dueAt"], "2017-01-15T16:00:00+00:00");
    let everyone = collect(&mut office, "soon", "obligationDueSoon", owed, Duration::from_secs(10)).await;
    assert_eq!(everyone.len(), owed, "every unreported obligation, once");
    assert_eq!(recorded(&app.db, "DUE_SOON").await, i64::try_from(owed).expect("n"));
    assert_eq!(recorded(&app.db, "OVERDUE").await, 0);

    // Past the due date: every unreported cell becomes OVERDUE, once.
    clock.set(due() + chrono::Duration::hours(1));
    await_recorded(&app.db, "OVERDUE", i64::try_from(owed).expect("n")).await;
    let cell = collect(&mut reporter, "cell", "obligationChanged", 1, Duration::from_secs(10)).await;
    assert_eq!(cell.len(), 1, "{cell:?}");
    assert_eq!((cell[0]["state"].as_str(), cell[0]["previousState"].as_str()), (Some("OVERDUE"), Some("NOT_DUE")));
    assert_eq!(cell[0]["obligation"]["party"]["code"], "440000");
    let all = collect(&mut office, "all", "obligationChanged", owed, Duration::from_secs(10)).await;
    assert_eq!(all.len(), owed, "every unreported cell moved once");
    assert!(all.iter().all(|c| c["state"] == "OVERDUE"), "{all:?}");

    // More ticks, more time: nothing is recorded or sent twice.
    clock.set(due() + chrono::Duration::days(2));
    let later = drain(&mut reporter, Duration::from_secs(1)).await;
    assert!(later.is_empty(), "{later:?}");
    assert_eq!(recorded(&app.db, "DUE_SOON").await, i64::try_from(owed).expect("n"));
    assert_eq!(recorded(&app.db, "OVERDUE").await, i64::try_from(owed).expect("n"));
}

const DUE_SOON_AFTER: &str = "subscription($after: String) { obligationDueSoon(after: $after) {
  cursor obligation { task { number } party { __typename ... on Province { code } ... on Agency { name } } }
} }";

/// Who an `obligationDueSoon` item is about, and its cursor.
fn reminder(item: &Value) -> (String, String) {
    let party = &item["obligation"]["party"];
    let who = format!(
        "{} {}{}",
        item["obligation"]["task"]["number"],
        party["code"].as_str().unwrap_or(""),
        party["name"].as_str().unwrap_or("")
    );
    (item["cursor"].as_str().expect("a cursor").to_owned(), who)
}

#[tokio::test]
async fn a_reminder_stream_resumed_with_a_cursor_replays_exactly_the_reminders_after_it() {
    let (app, clock) = spawn().await;
    let owed = schedule_small_period(&app).await;
    let supervisor = app.token("sup", AccessRole::Supervisor, None, None).await;
    let gd = app.token("gd", AccessRole::ProvinceReporter, None, Some("440000")).await;
    let addr = app.addr.to_string();
    let mut office = open(&addr, Some(&supervisor)).await;
    subscribe(&mut office, "soon", DUE_SOON_AFTER, json!({ "after": null })).await;
    settle().await;
    clock.set(cst(2017, 1, 13, 12));
    await_recorded(&app.db, "DUE_SOON", i64::try_from(owed).expect("n")).await;
    let first: Vec<(String, String)> = collect(&mut office, "soon", "obligationDueSoon", owed, Duration::from_secs(10))
        .await
        .iter()
        .map(reminder)
        .collect();
    assert_eq!(first.len(), owed, "every reminder, once");
    drop(office);

    // Resumed after the fifth: exactly the rest, in the order they came, then nothing more.
    let (cursor, _) = first[4].clone();
    let mut office = open(&addr, Some(&supervisor)).await;
    subscribe(&mut office, "again", DUE_SOON_AFTER, json!({ "after": cursor })).await;
    let rest: Vec<(String, String)> =
        collect(&mut office, "again", "obligationDueSoon", owed - 5, Duration::from_secs(10))
            .await
            .iter()
            .map(reminder)
            .collect();
    assert_eq!(rest, first[5..].to_vec());
    // A reporter resuming from the same point hears only its own (Guangdong's, if it came
    // after the first).
    let own: Vec<String> = first[1..].iter().map(|r| r.1.clone()).filter(|w| w.ends_with("440000")).collect();
    let mut reporter = open(&addr, Some(&gd)).await;
    subscribe(&mut reporter, "mine", DUE_SOON_AFTER, json!({ "after": first[0].0 })).await;
    let mine: Vec<String> = collect(&mut reporter, "mine", "obligationDueSoon", own.len(), Duration::from_secs(10))
        .await
        .iter()
        .map(|r| reminder(r).1)
        .collect();
    assert_eq!(mine, own);
    // A cursor that is not a reminder's is refused.
    let code = refusal(&mut reporter, "bad", DUE_SOON_AFTER, json!({ "after": "not-a-cursor" })).await;
    assert_eq!(code, "BAD_USER_INPUT");
}

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

#[tokio::test]
async fn a_submitted_report_moves_its_cell_and_anonymous_subscribers_see_the_report_only_once_accepted() {
    let (app, _clock) = spawn().await;
    schedule_small_period(&app).await;
    let gd = app.token("gd", AccessRole::ProvinceReporter, None, Some("440000")).await;
    let addr = app.addr.to_string();
    let own = json!({ "p": "2016-Q4", "f": { "provinceCode": "440000" } });
    let mut reporter = open(&addr, Some(&gd)).await;
    subscribe(&mut reporter, "cell", CHANGED, own.clone()).await;
    let mut anonymous = open(&addr, None).await;
    subscribe(&mut anonymous, "cell", CHANGED, own).await;
    settle().await;

    let input = json!({ "taskNumber": 1, "reporter": { "provinceCode": "440000" }, "period": "2016-Q4",
                        "status": "IN_PROGRESS", "percentComplete": 10, "summary": "Filed." });
    let filed = app.data_as(Some(&gd), SUBMIT, json!({ "i": input })).await;
    let report = &filed["submitProgressReport"]["report"];

    let seen = collect(&mut reporter, "cell", "obligationChanged", 1, Duration::from_secs(10)).await;
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!((seen[0]["state"].as_str(), seen[0]["previousState"].as_str()), (Some("SUBMITTED"), Some("NOT_DUE")));
    assert_eq!(seen[0]["obligation"]["task"]["number"], 1);
    assert_eq!(seen[0]["obligation"]["report"]["state"], "SUBMITTED", "a reporter sees its own report");
    let public = collect(&mut anonymous, "cell", "obligationChanged", 1, Duration::from_secs(10)).await;
    assert_eq!(public.len(), 1, "{public:?}");
    assert_eq!(public[0]["state"], "SUBMITTED", "the matrix's states are public");
    assert!(public[0]["obligation"]["report"].is_null(), "a report not accepted is not shown: {public:?}");

    app.data(REVIEW, json!({ "id": report["id"], "v": report["version"] })).await;
    let public = collect(&mut anonymous, "cell", "obligationChanged", 1, Duration::from_secs(10)).await;
    assert_eq!(public.len(), 1, "{public:?}");
    assert_eq!(
        (public[0]["state"].as_str(), public[0]["previousState"].as_str()),
        (Some("ACCEPTED"), Some("SUBMITTED"))
    );
    assert_eq!(public[0]["obligation"]["report"]["state"], "ACCEPTED");
    let seen = collect(&mut reporter, "cell", "obligationChanged", 1, Duration::from_secs(10)).await;
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0]["state"], "ACCEPTED");

    // An exemption moves a cell too.
    let input = json!({ "period": "2016-Q4", "taskNumbers": [1], "provinceCodes": ["440000"], "reason": "test" });
    app.data(EXEMPT, json!({ "i": input })).await;
    let seen = collect(&mut reporter, "cell", "obligationChanged", 1, Duration::from_secs(10)).await;
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!((seen[0]["state"].as_str(), seen[0]["previousState"].as_str()), (Some("EXEMPT"), Some("ACCEPTED")));
}

#[tokio::test]
async fn who_may_subscribe_to_what() {
    let (app, _clock) = spawn().await;
    schedule_small_period(&app).await;
    let reader = app.token("reader", AccessRole::Reader, None, None).await;
    let addr = app.addr.to_string();

    let mut anonymous = open(&addr, None).await;
    assert_eq!(refusal(&mut anonymous, "1", DUE_SOON, json!({})).await, "UNAUTHENTICATED");
    let mut ws = open(&addr, Some(&reader)).await;
    assert_eq!(refusal(&mut ws, "1", DUE_SOON, json!({})).await, "FORBIDDEN");
    assert_eq!(refusal(&mut ws, "2", CHANGED, json!({ "p": "2016-Q5" })).await, "BAD_USER_INPUT");
    assert_eq!(refusal(&mut ws, "3", CHANGED, json!({ "p": "2016-Q3" })).await, "NOT_FOUND");
    let numeral = json!({ "p": "2016-Q4", "f": { "sectionNumeral": "q" } });
    assert_eq!(refusal(&mut ws, "4", CHANGED, numeral).await, "BAD_USER_INPUT");
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
