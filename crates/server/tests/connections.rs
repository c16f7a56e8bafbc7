//! Connection and load limits, against the real `workplan` process: idle sockets beyond the
//! open-file limit, a half-sent request, a slow body, an idle kept-alive connection, and a
//! burst far above the database pool.
//!
//! The burst runs on SQLite, and on PostgreSQL too when `WORKPLAN_TEST_POSTGRES_URL` names a
//! server (as the integration suite does); it prints its figures (memory, answers) to stderr.

use std::io::Write as _;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// The header-read timeout the servers here are started with.
const HEADER_TIMEOUT: Duration = Duration::from_secs(2);

struct Server {
    child: Child,
    port: u16,
    log: std::path::PathBuf,
    _dir: tempfile::TempDir,
    _db: Db,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// A line of /proc/PID/status in KiB, e.g. `VmRSS`.
    fn status_kib(&self, key: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).expect("/proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("a figure")
    }

    fn open_files(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid())).map_or(0, Iterator::count)
    }
}

/// The database a server runs on: a SQLite file, or a PostgreSQL database of its own.
enum Db {
    Sqlite(String),
    Postgres { server: String, name: String },
}

impl Db {
    fn url(&self) -> String {
        match self {
            Self::Sqlite(url) => url.clone(),
            Self::Postgres { server, name } => format!("{server}/{name}"),
        }
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Self::Postgres { server, name } = self {
            psql(server, &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
        }
    }
}

fn psql(server: &str, sql: &str) {
    let out = Command::new("psql")
        .args([&format!("{server}/postgres"), "-qc", sql])
        .output()
        .expect("psql (the PostgreSQL client) runs");
    assert!(out.status.success(), "{sql}: {}", String::from_utf8_lossy(&out.stderr));
}

/// The PostgreSQL server the tests may use, if one is named.
fn postgres_server() -> Option<String> {
    std::env::var("WORKPLAN_TEST_POSTGRES_URL").ok().filter(|s| !s.is_empty()).map(|s| s.trim_end_matches('/').into())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// Prepares `db` (migrations, the plan and, if asked, demo reports), then starts
/// `workplan serve` on it with `args`, under an open-file limit of `open_files` if given, and
/// waits until it answers.
async fn start(db: Db, demo_reports: usize, open_files: Option<u32>, args: &[&str]) -> Server {
    // The test's own reqwest clients need the TLS provider reqwest is built without.
    workplan_api::webhook::client::install_crypto_provider();
    // This process holds thousands of sockets too.
    workplan_server::listener::raise_open_file_limit();
    let dir = tempfile::tempdir().expect("tempdir");
    let bin = env!("CARGO_BIN_EXE_workplan");
    if demo_reports > 0 {
        let out = Command::new(bin)
            .args(["seed", "--demo", "--reports", &demo_reports.to_string()])
            .env("DATABASE_URL", db.url())
            .env("RUST_LOG", "warn")
            .output()
            .expect("seed");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let port = free_port();
    let log = dir.path().join("server.log");
    let mut command = match open_files {
        Some(n) => {
            let mut c = Command::new("prlimit");
            c.arg(format!("--nofile={n}:{n}")).arg("--").arg(bin);
            c
        }
        None => Command::new(bin),
    };
    let child = command
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        // Neither rate limit (by cost, by request count): one address sends everything here,
        // and these tests are about connections and the bound on operations.
        .args(["--rate-limit-capacity", "0", "--rate-limit-requests", "0"])
        .args(args)
        .env("DATABASE_URL", db.url())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log file"))
        .spawn()
        .expect("start workplan");
    let server = Server { child, port, log, _dir: dir, _db: db };
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while client.get(server.url("/healthz")).send().await.is_err() {
        assert!(Instant::now() < deadline, "the server did not come up: {}", server.log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server
}

fn sqlite(dir: &tempfile::TempDir) -> Db {
    Db::Sqlite(format!("sqlite://{}?mode=rwc", dir.path().join("connections.db").display()))
}

fn postgres(server: &str) -> Db {
    let name = format!("wp_connections_{}_{}", std::process::id(), free_port());
    psql(server, &format!("CREATE DATABASE \"{name}\""));
    Db::Postgres { server: server.to_owned(), name }
}

/// Reads from `stream` until the server closes it (end of stream or a reset); how long that
/// took, or `None` if it stayed open until `deadline`.
async fn closed_by_server(stream: &mut TcpStream, deadline: Instant) -> Option<Instant> {
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at(deadline.into(), stream.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0) | Err(_)) => return Some(Instant::now()),
            Ok(Ok(_)) => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_sockets_beyond_the_file_limit_leave_healthz_answering_and_are_closed() {
    let files = tempfile::tempdir().expect("tempdir");
    let secs = HEADER_TIMEOUT.as_secs().to_string();
    // The keep-alive timeout is long here, so the header-read timeout is what closes them.
    let server =
        start(sqlite(&files), 0, Some(1024), &["--header-read-timeout-secs", &secs, "--keep-alive-timeout-secs", "60"])
            .await;
    let started = Instant::now();
    let mut idle = Vec::with_capacity(1100);
    for _ in 0..1100 {
        idle.push(TcpStream::connect(("127.0.0.1", server.port)).await.expect("the backlog takes the connection"));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let open_files = server.open_files();
    assert!(open_files < 1024, "the server keeps below its open-file limit: {open_files}");

    let asked = Instant::now();
    let health = reqwest::Client::new()
        .get(server.url("/healthz"))
        .timeout(HEADER_TIMEOUT * 3)
        .send()
        .await
        .expect("/healthz answers while 1,100 idle sockets are open");
    let waited = asked.elapsed();
    assert_eq!(health.status(), 200);
    assert!(waited <= HEADER_TIMEOUT + Duration::from_secs(2), "/healthz waited {waited:?}");

    // Every idle socket is closed by the server: those it accepted after the header-read
    // timeout, those that waited in the backlog a timeout after they were accepted.
    let deadline = started + HEADER_TIMEOUT * 4 + Duration::from_secs(5);
    let mut closes = tokio::task::JoinSet::new();
    for mut stream in idle {
        closes.spawn(async move { closed_by_server(&mut stream, deadline).await });
    }
    let mut closed = 0;
    let mut first_close = None::<Instant>;
    while let Some(result) = closes.join_next().await {
        if let Some(at) = result.expect("join") {
            closed += 1;
            first_close = Some(first_close.map_or(at, |f| f.min(at)));
        }
    }
    assert_eq!(closed, 1100, "idle sockets closed by the server");
    let first = first_close.expect("a close").duration_since(started);
    assert!(first >= HEADER_TIMEOUT - Duration::from_millis(200), "closed for the timeout, not before: {first:?}");
    let log = server.log();
    assert!(!log.contains("Too many open files") && !log.contains("cannot accept"), "{log}");
    assert!(!log.contains("panicked"), "{log}");
    let _ = writeln!(
        std::io::stderr(),
        "idle sockets: 1100 held at an open-file limit of 1024; server had {open_files} files open; /healthz answered in {waited:?}; first idle socket closed after {first:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_sent_request_a_slow_body_and_an_idle_connection_are_closed() {
    let files = tempfile::tempdir().expect("tempdir");
    let secs = HEADER_TIMEOUT.as_secs().to_string();
    let server = start(
        sqlite(&files),
        0,
        None,
        &["--header-read-timeout-secs", &secs, "--keep-alive-timeout-secs", "60", "--body-timeout-secs", &secs],
    )
    .await;
    let patience = HEADER_TIMEOUT + Duration::from_secs(5);

    // Headers cut off before the blank line that would end them.
    let mut half = TcpStream::connect(("127.0.0.1", server.port)).await.expect("connect");
    half.write_all(b"POST /graphql HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n").await.expect("write");
    let sent = Instant::now();
    let closed = closed_by_server(&mut half, sent + patience).await.expect("a half-sent request is closed");
    let after = closed.duration_since(sent);
    assert!(after >= HEADER_TIMEOUT - Duration::from_millis(200), "closed for the header timeout: {after:?}");

    // Complete headers, a body that stops after 10 of its 100 bytes.
    let mut slow = TcpStream::connect(("127.0.0.1", server.port)).await.expect("connect");
    slow.write_all(
        b"POST /graphql HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"query\":",
    )
    .await
    .expect("write");
    let sent = Instant::now();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(patience, slow.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "a slow body is answered and closed");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(sent.elapsed() >= HEADER_TIMEOUT - Duration::from_millis(200));

    // The rest of the server is unaffected.
    let health = reqwest::get(server.url("/healthz")).await.expect("healthz");
    assert_eq!(health.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_alive_connection_is_closed_when_idle() {
    let files = tempfile::tempdir().expect("tempdir");
    let server =
        start(sqlite(&files), 0, None, &["--header-read-timeout-secs", "30", "--keep-alive-timeout-secs", "1"]).await;
    let mut conn = TcpStream::connect(("127.0.0.1", server.port)).await.expect("connect");
    for _ in 0..2 {
        conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n").await.expect("write");
        let mut buf = [0u8; 1024];
        let n = conn.read(&mut buf).await.expect("read");
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"), "kept alive between requests");
    }
    let answered = Instant::now();
    let closed = closed_by_server(&mut conn, answered + Duration::from_secs(10)).await.expect("closed when idle");
    let after = closed.duration_since(answered);
    assert!(after >= Duration::from_millis(800), "idle for the keep-alive timeout first: {after:?}");
}

/// A burst of 2,000 concurrent requests that each need the database, against a pool of 10:
/// answers or quick 503 RATE_LIMITED, never INTERNAL; memory returns near its idle size.
async fn burst(db: Db, what: &str) {
    let server = start(db, 2_000, None, &["--db-max-connections", "10"]).await;
    let query = json!({ "query": "{ progressReports(first: 1) { totalCount } }" });
    // Idle means after ordinary traffic: rounds of as many requests at once as may execute at
    // once (twice the pool), so every pooled connection is open and has its caches.
    let client = reqwest::Client::builder().pool_max_idle_per_host(0).build().expect("client");
    for _ in 0..5 {
        let mut round = tokio::task::JoinSet::new();
        for _ in 0..20 {
            let (client, url, query) = (client.clone(), server.url("/graphql"), query.clone());
            round.spawn(async move { client.post(url).json(&query).send().await?.json::<Value>().await });
        }
        while let Some(body) = round.join_next().await {
            let body = body.expect("join").expect("warm up");
            assert!(body["data"]["progressReports"]["totalCount"].as_i64().is_some(), "{body}");
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle = server.status_kib("VmRSS");

    // Like any well-behaved client, this one lets idle connections go before the server's
    // keep-alive timeout (5 s): one sent on just as the server closes it would fail (a race
    // of every HTTP/1.1 keep-alive, not a refusal), and the burst lasts some seconds.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .pool_idle_timeout(Duration::from_secs(1))
        .build()
        .expect("client");
    let mut requests = tokio::task::JoinSet::new();
    let started = Instant::now();
    for _ in 0..2_000 {
        let (client, url, query) = (client.clone(), server.url("/graphql"), query.clone());
        requests.spawn(async move {
            let response = client.post(url).json(&query).send().await.map_err(|e| format!("{e:?}"))?;
            let status = response.status().as_u16();
            let retry_after = response.headers().get("retry-after").is_some();
            let body: Value = response.json().await.map_err(|e| e.to_string())?;
            Ok::<_, String>((status, retry_after, body))
        });
    }
    let (mut answered, mut limited, mut failures) = (0, 0, Vec::new());
    while let Some(result) = requests.join_next().await {
        match result.expect("join") {
            Ok((200, _, body)) if body["data"]["progressReports"]["totalCount"].as_i64().is_some() => answered += 1,
            Ok((503, true, body)) if body["errors"][0]["extensions"]["code"] == "RATE_LIMITED" => limited += 1,
            other => failures.push(format!("{other:?}")),
        }
    }
    let took = started.elapsed();
    let peak = server.status_kib("VmHWM");
    let mut after = server.status_kib("VmRSS");
    let settle = Instant::now();
    while after > idle * 2 && settle.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(500)).await;
        after = server.status_kib("VmRSS");
    }
    let _ = writeln!(
        std::io::stderr(),
        "burst on {what}: 2000 requests in {took:?}: {answered} answered, {limited} RATE_LIMITED (503), {} other; RSS idle {idle} KiB, peak {peak} KiB, after {after} KiB",
        failures.len()
    );
    failures.truncate(5);
    assert!(failures.is_empty(), "only answers and 503 RATE_LIMITED: {failures:?}");
    assert!(answered >= 20, "the pool's worth is answered: {answered}");
    assert!(after <= idle * 2, "memory after the burst within twice idle: idle {idle} KiB, after {after} KiB");
    let log = server.log();
    assert!(!log.contains("pool timed out") && !log.contains("panicked"), "{log}");
    let again: Value =
        client.post(server.url("/graphql")).json(&query).send().await.expect("after").json().await.expect("json");
    assert!(again["data"]["progressReports"]["totalCount"].as_i64().is_some(), "{again}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_far_above_the_pool_gets_answers_or_rate_limited_on_sqlite() {
    let files = tempfile::tempdir().expect("tempdir");
    burst(sqlite(&files), "SQLite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_far_above_the_pool_gets_answers_or_rate_limited_on_postgres() {
    let Some(server) = postgres_server() else {
        let _ = writeln!(std::io::stderr(), "WORKPLAN_TEST_POSTGRES_URL is not set: the PostgreSQL burst is SKIPPED");
        return;
    };
    burst(postgres(&server), "PostgreSQL").await;
}
