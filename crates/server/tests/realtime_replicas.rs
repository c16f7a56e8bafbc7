//! Real-time delivery across replicas, with the real binary: two `workplan serve` processes on
//! one fresh PostgreSQL database. A `graphql-transport-ws` subscriber to `changes` on replica B
//! hears a report submitted through replica A within a second (`LISTEN`/`NOTIFY`); and when B's
//! `LISTEN` connection is killed in the middle of a stream of writes through A, the subscriber
//! still receives exactly the feed the `changes` query pages over HTTP: nothing lost, nothing
//! repeated, in the same order.
//!
//! PostgreSQL only: skipped (with a note) unless `WORKPLAN_TEST_POSTGRES_URL` is set. The
//! database is created and dropped with `psql`.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Reports written through A while B's listener is killed.
const WRITES: usize = 40;

/// How long the subscriber waits for the feed to catch up after the writes.
const CATCH_UP: Duration = Duration::from_secs(30);

const SUBMIT: &str =
    "mutation($input: SubmitProgressReportInput!) { submitProgressReport(input: $input) { report { id version } } }";

const FEED: &str = "query($after: String) { changes(first: 7, after: $after) {
  edges { cursor } pageInfo { hasNextPage endCursor } } }";

const SUBSCRIBE: &str = "subscription { changes { cursor change { kind reportId version } } }";

/// Replica B's name to PostgreSQL (`application_name`), which tells its connections from A's.
const B: &str = "workplan-replica-b";

/// Replica B's backends listening for notifications.
const LISTENERS: &str = "SELECT pid FROM pg_stat_activity WHERE datname = current_database() \
     AND query ILIKE 'LISTEN%' AND application_name = 'workplan-replica-b'";

/// Ends replica B's listening backends: `pid|t` for each (the call stays in the select list, so
/// that it runs on the filtered rows only).
const KILL_LISTENERS: &str = "SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity \
     WHERE datname = current_database() AND query ILIKE 'LISTEN%' AND application_name = 'workplan-replica-b'";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("port")
}

/// A fresh PostgreSQL database, dropped on drop.
struct Db {
    server: String,
    name: String,
}

impl Db {
    fn create(server: &str) -> Self {
        let server = server.trim_end_matches('/').to_owned();
        let name = format!("wp_realtime_{}_{}", std::process::id(), free_port());
        psql(&format!("{server}/postgres"), &format!("CREATE DATABASE \"{name}\""));
        Self { server, name }
    }

    fn url(&self) -> String {
        format!("{}/{}", self.server, self.name)
    }

    /// Runs `sql` in this database; the rows, one a line, unaligned.
    fn query(&self, sql: &str) -> Vec<String> {
        psql(&self.url(), sql).lines().map(str::to_owned).filter(|l| !l.is_empty()).collect()
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        psql(&format!("{}/postgres", self.server), &format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name));
    }
}

fn psql(url: &str, sql: &str) -> String {
    let out = Command::new("psql").args([url, "-qtAc", sql]).output().expect("psql");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs the `workplan` command line on `db`; its stdout.
fn workplan(db: &Db, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_workplan"))
        .args(args)
        .env("DATABASE_URL", db.url())
        .env("RUST_LOG", "warn")
        .output()
        .expect("run workplan");
    assert!(out.status.success(), "workplan {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A new token's secret (the last line of `token create`).
fn token(db: &Db, args: &[&str]) -> String {
    let out = workplan(db, &[&["token", "create"], args].concat());
    out.lines().last().expect("the secret").trim().to_owned()
}

/// A `workplan serve` process, killed on drop.
struct Replica {
    child: Child,
    addr: String,
}

impl Replica {
    /// Starts a replica on `db`, known to PostgreSQL as `name`.
    async fn start(db: &Db, name: &str, client: &reqwest::Client) -> Self {
        let addr = format!("127.0.0.1:{}", free_port());
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_workplan"));
        cmd.args(["serve", "--listen", &addr])
            .env("DATABASE_URL", format!("{}?application_name={name}", db.url()))
            .env("RUST_LOG", "warn")
            .env("WORKPLAN_RATE_LIMIT_CAPACITY", "0")
            .env("WORKPLAN_RATE_LIMIT_REQUESTS", "0")
            .stdout(Stdio::null());
        for var in ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_TRACES_EXPORTER"] {
            cmd.env_remove(var);
        }
        let child = cmd.spawn().expect("spawn");
        let replica = Self { child, addr };
        let deadline = Instant::now() + Duration::from_secs(60);
        while client.get(format!("http://{}/healthz", replica.addr)).send().await.is_err() {
            assert!(Instant::now() < deadline, "the server did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        replica
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A GraphQL request over HTTP as `token`; its data (no errors allowed).
async fn graphql(client: &reqwest::Client, addr: &str, token: &str, query: &str, variables: Value) -> Value {
    let response = client
        .post(format!("http://{addr}/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .expect("graphql");
    let body: Value = response.json().await.expect("JSON");
    assert!(body["errors"].is_null(), "{body}");
    body["data"].clone()
}

/// Submits Guangdong's report on task 16 for the `n`th month from January 2016; its id and
/// version.
async fn submit(client: &reqwest::Client, addr: &str, token: &str, n: usize) -> (String, i64) {
    let period = format!("{}-{:02}", 2016 + n / 12, n % 12 + 1);
    let input = json!({ "taskNumber": 16, "period": period, "status": "IN_PROGRESS", "percentComplete": 10,
                        "summary": "Across replicas." });
    let d = graphql(client, addr, token, SUBMIT, json!({ "input": input })).await;
    let r = &d["submitProgressReport"]["report"];
    (r["id"].as_str().expect("id").to_owned(), r["version"].as_i64().expect("version"))
}

/// The whole feed over HTTP, paged to the end: every change's cursor, in order.
async fn feed(client: &reqwest::Client, addr: &str, token: &str) -> Vec<String> {
    let (mut cursors, mut after) = (Vec::new(), Value::Null);
    loop {
        let d = graphql(client, addr, token, FEED, json!({ "after": after })).await;
        let page = &d["changes"];
        for edge in page["edges"].as_array().expect("edges") {
            cursors.push(edge["cursor"].as_str().expect("cursor").to_owned());
        }
        if page["pageInfo"]["hasNextPage"] != true {
            return cursors;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
}

async fn send(ws: &mut Ws, message: Value) {
    ws.send(Message::Text(message.to_string().into())).await.expect("send");
}

/// Opens a `graphql-transport-ws` connection to `addr` as `token` and subscribes to the feed.
async fn subscribe(addr: &str, token: &str) -> Ws {
    let mut request = format!("ws://{addr}/graphql/ws").into_client_request().expect("request");
    request.headers_mut().insert("sec-websocket-protocol", "graphql-transport-ws".parse().expect("header"));
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.expect("connect");
    send(&mut ws, json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } }))
        .await;
    let ack = next_message(&mut ws, Duration::from_secs(20)).await.expect("an acknowledgement in time");
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    send(&mut ws, json!({ "type": "subscribe", "id": "feed", "payload": { "query": SUBSCRIBE } })).await;
    ws
}

/// The server's next text message within `wait` (its pings answered, pongs skipped).
async fn next_message(ws: &mut Ws, wait: Duration) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let next = tokio::time::timeout_at(deadline, ws.next()).await.ok()?;
        match next.expect("the connection is open").expect("a message") {
            Message::Text(t) => {
                let value: Value = serde_json::from_str(t.as_str()).expect("JSON");
                match value["type"].as_str() {
                    Some("ping") => send(ws, json!({ "type": "pong" })).await,
                    Some("pong") => {}
                    _ => return Some(value),
                }
            }
            Message::Close(frame) => panic!("closed: {frame:?}"),
            _ => {}
        }
    }
}

/// The next event of the feed subscription within `wait`: `{ cursor change { … } }`.
async fn next_event(ws: &mut Ws, wait: Duration) -> Option<Value> {
    let m = next_message(ws, wait).await?;
    assert_eq!((m["type"].as_str(), m["id"].as_str()), (Some("next"), Some("feed")), "{m}");
    assert!(m["payload"]["errors"].is_null(), "{m}");
    Some(m["payload"]["data"]["changes"].clone())
}

/// Waits until replica B listens for notifications on a backend other than `gone`.
async fn until_listening(db: &Db, gone: &[String]) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while db.query(LISTENERS).iter().all(|pid| gone.contains(pid)) {
        assert!(
            Instant::now() < deadline,
            "replica B does not listen for notifications: {:?}",
            db.query("SELECT application_name, state, query FROM pg_stat_activity WHERE datname = current_database()")
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_on_one_replica_hears_writes_on_another_in_time_and_misses_nothing_when_its_listener_dies() {
    let Some(server) = std::env::var("WORKPLAN_TEST_POSTGRES_URL").ok().filter(|s| !s.is_empty()) else {
        eprintln!("skipped: realtime_replicas needs PostgreSQL (set WORKPLAN_TEST_POSTGRES_URL)");
        return;
    };
    let db = Db::create(&server);
    workplan(&db, &["migrate"]);
    let admin = token(&db, &["--name", "watcher", "--role", "admin"]);
    let reporter = token(&db, &["--name", "guangdong", "--role", "province-reporter", "--province", "440000"]);
    workplan_api::webhook::client::install_crypto_provider();
    let client = reqwest::Client::new();
    let a = Replica::start(&db, "workplan-replica-a", &client).await;
    let b = Replica::start(&db, B, &client).await;

    // 1. A report submitted through A reaches B's subscriber within a second.
    let mut ws = subscribe(&b.addr, &admin).await;
    until_listening(&db, &[]).await;
    let started = Instant::now();
    let (id, version) = submit(&client, &a.addr, &reporter, 0).await;
    let first = next_event(&mut ws, Duration::from_secs(5)).await.expect("the first change");
    let elapsed = started.elapsed();
    assert_eq!(
        (first["change"]["reportId"].as_str(), first["change"]["version"].as_i64()),
        (Some(&*id), Some(version))
    );
    assert!(elapsed < Duration::from_secs(1), "the change reached the other replica's subscriber after {elapsed:?}");
    let mut received = vec![first["cursor"].as_str().expect("cursor").to_owned()];

    // 2. Writes continue through A while B's listener is killed.
    let written = Arc::new(AtomicUsize::new(0));
    let writer = tokio::spawn({
        let (client, addr, reporter, written) = (client.clone(), a.addr.clone(), reporter.clone(), written.clone());
        async move {
            for n in 1..=WRITES {
                submit(&client, &addr, &reporter, n).await;
                written.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    });
    let killer = tokio::spawn({
        let written = written.clone();
        let url = db.url();
        async move {
            while written.load(Ordering::SeqCst) < WRITES / 4 {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            let at = written.load(Ordering::SeqCst);
            let killed = tokio::task::spawn_blocking(move || psql(&url, KILL_LISTENERS)).await.expect("psql");
            let killed: Vec<String> = killed.lines().filter_map(|l| l.strip_suffix("|t")).map(str::to_owned).collect();
            (at, killed)
        }
    });
    // The subscriber reads on while that happens.
    let deadline = Instant::now() + CATCH_UP;
    while received.len() < WRITES + 1 {
        let left = deadline.saturating_duration_since(Instant::now());
        let Some(event) = next_event(&mut ws, left).await else {
            panic!("the subscriber caught up with only {} of {} changes", received.len(), WRITES + 1);
        };
        received.push(event["cursor"].as_str().expect("cursor").to_owned());
    }
    writer.await.expect("the writer");
    let (at, killed) = killer.await.expect("the killer");
    assert!(!killed.is_empty(), "replica B's LISTEN connection was not terminated");
    assert!(at < WRITES, "the listener was killed after the writes ({at} of {WRITES})");
    // B listens again, on a new connection.
    until_listening(&db, &killed).await;

    let expected = feed(&client, &a.addr, &admin).await;
    assert_eq!(expected.len(), WRITES + 1, "one change per report");
    if let Some(extra) = next_event(&mut ws, Duration::from_secs(3)).await {
        panic!("a change beyond the feed: {extra}");
    }
    assert_eq!(received, expected, "the subscriber's changes are the feed: nothing lost, repeated or reordered");
    // B's feed over HTTP is the same.
    assert_eq!(feed(&client, &b.addr, &admin).await, expected);
    drop((a, b));
}
