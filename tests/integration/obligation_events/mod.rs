//! Due-date events and matrix subscriptions over graphql-transport-ws: with the clock moved into
//! the reminder window and past the due date, `obligationDueSoon` and the OVERDUE move of
//! `obligationChanged` arrive once each; two servers on one database record each event once
//! (one timer leads); a submitted report moves its cell; and who may subscribe to what.
//!
//! `reminders.rs`: the clock moved, and a reminder stream resumed from a cursor; `matrix.rs`: a
//! report moving its cell, and who may subscribe; `replicas.rs`: two servers, one timer. The
//! helpers below are theirs.

mod matrix;
mod reminders;
mod replicas;

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
use workplan_server::Application;
use workplan_tests::{TestApp, TestDb};

pub(super) type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub(super) const SCHEDULE: &str = "mutation($i: ScheduleReportingPeriodInput!) { scheduleReportingPeriod(input: $i) {
  reportingPeriod { period } } }";
pub(super) const EXEMPT: &str =
    "mutation($i: ExemptObligationsInput!) { exemptObligations(input: $i) { adjustments { id } } }";
pub(super) const SUBMIT: &str = "mutation($i: SubmitProgressReportInput!) { submitProgressReport(input: $i) {
  report { id version } } }";
pub(super) const REVIEW: &str = "mutation($id: ID!, $v: Int!) {
  reviewProgressReport(id: $id, expectedVersion: $v, decision: ACCEPT) { report { state } } }";
pub(super) const CHANGED: &str = "subscription($p: String!, $f: ObligationFilterInput) {
  obligationChanged(period: $p, filter: $f) {
    state previousState
    obligation { period state dueAt task { number } party { __typename ... on Province { code } } report { state } }
  } }";
pub(super) const DUE_SOON: &str = "subscription { obligationDueSoon {
  dueAt recordedAt obligation { period state dueAt task { number } party { __typename ... on Province { code } } }
} }";

/// China Standard Time.
pub(super) fn cst(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    FixedOffset::east_opt(8 * 3600)
        .and_then(|z| z.with_ymd_and_hms(y, m, d, h, 0, 0).single())
        .expect("a valid time")
        .with_timezone(&Utc)
}

/// 2016-Q4 is due at 2017-01-16 00:00 CST; with a 3-day window its reminders are due from
/// 2017-01-13 00:00 CST.
pub(super) fn due() -> DateTime<Utc> {
    cst(2017, 1, 16, 0)
}

/// A server configuration whose timer and watchers look at the clock every 100 ms.
pub(super) fn config() -> ApiConfig {
    ApiConfig {
        rate_limit: None,
        request_limit: None,
        due_soon_days: 3,
        due_date_tick: Duration::from_millis(100),
        ..ApiConfig::default()
    }
}

/// A server on a manual clock showing 2017-01-01 09:00 CST.
pub(super) async fn spawn() -> (TestApp, Arc<ManualClock>) {
    let db = TestDb::create().await.expect("db");
    let clock = Arc::new(ManualClock::new(cst(2017, 1, 1, 9)));
    let app = TestApp::spawn_with_clock(db, workplan_server::store_options(5), config(), clock.clone()).await;
    (app, clock)
}

/// Schedules 2016-Q4 and exempts every obligation but task 1's, so that the period owes
/// task 1's agencies and the 31 provinces; returns how many obligations that is.
pub(super) async fn schedule_small_period(app: &TestApp) -> usize {
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
pub(super) async fn open(addr: &str, secret: Option<&str>) -> Ws {
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
pub(super) async fn subscribe(ws: &mut Ws, id: &str, query: &str, variables: Value) {
    let message = json!({ "type": "subscribe", "id": id, "payload": { "query": query, "variables": variables } });
    ws.send(Message::Text(message.to_string().into())).await.expect("subscribe");
}

/// The next text message within `within` (pings answered), or `None`.
pub(super) async fn next_message(ws: &mut Ws, within: Duration) -> Option<Value> {
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
pub(super) async fn drain(ws: &mut Ws, quiet: Duration) -> Vec<Value> {
    let mut all = Vec::new();
    while let Some(message) = next_message(ws, quiet).await {
        all.push(message);
    }
    all
}

/// The data of the `next` messages of operation `id` among `messages`, under `field`.
pub(super) fn items<'a>(messages: &'a [Value], id: &str, field: &str) -> Vec<&'a Value> {
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
pub(super) async fn collect(ws: &mut Ws, id: &str, field: &str, n: usize, within: Duration) -> Vec<Value> {
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
pub(super) async fn refusal(ws: &mut Ws, id: &str, query: &str, variables: Value) -> String {
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
pub(super) async fn recorded(db: &TestDb, kind: &str) -> i64 {
    let conn = Database::connect(db.url()).await.expect("connect");
    let backend = conn.get_database_backend();
    let sql = format!("SELECT COUNT(*) AS n FROM obligation_events WHERE kind = '{kind}'");
    let row = conn.query_one_raw(Statement::from_string(backend, sql)).await.expect("count").expect("a row");
    let n: i64 = row.try_get("", "n").expect("n");
    conn.close().await.expect("close");
    n
}

/// Waits until the database holds `n` events of `kind` (at most 10 s).
pub(super) async fn await_recorded(db: &TestDb, kind: &str, n: i64) {
    let start = Instant::now();
    while recorded(db, kind).await < n {
        assert!(start.elapsed() < Duration::from_secs(10), "{kind}: fewer than {n} recorded");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Lets the watchers of new subscriptions take their first look (a subscription follows moves
/// from when its watcher judged the period).
pub(super) async fn settle() {
    tokio::time::sleep(Duration::from_millis(500)).await;
}
