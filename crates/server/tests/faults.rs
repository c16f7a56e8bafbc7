//! Faults with a real process: SIGTERM drains in-flight requests; a batch interrupted by
//! `kill -9` is either fully applied or not at all.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

struct Server {
    child: Child,
    url: String,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

fn database(dir: &std::path::Path) -> String {
    format!("sqlite://{}?mode=rwc", dir.join("faults.db").display())
}

fn admin_token(dir: &std::path::Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_workplan"))
        .args(["token", "create", "--role", "admin", "--name", &format!("admin-{}", free_port())])
        .env("DATABASE_URL", database(dir))
        .env("RUST_LOG", "warn")
        .output()
        .expect("token create");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().last().expect("secret").to_owned()
}

async fn start(dir: &std::path::Path) -> Server {
    // The test's own reqwest clients need the TLS provider reqwest is built without.
    workplan_api::webhook::client::install_crypto_provider();
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_workplan"))
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--rate-limit-capacity",
            "0",
            "--rate-limit-requests",
            "0",
        ])
        .env("DATABASE_URL", database(dir))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start workplan");
    let url = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while client.get(format!("{url}/healthz")).send().await.is_err() {
        assert!(Instant::now() < deadline, "the server did not come up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Server { child, url }
}

/// `n` new reports for `province`, each on a key of its own (one live report per reporter,
/// task, period and kind): task `1 + i % 106` in year `2016 + i / 106`.
fn batch(prefix: &str, province: &str, n: usize) -> Value {
    let reports: Vec<Value> = (0..n)
        .map(|i| json!({ "clientReportId": format!("{prefix}-{i}"), "taskNumber": 1 + (i % 106), "period": (2016 + i / 106).to_string(), "status": "ONGOING", "summary": format!("report {i}") }))
        .collect();
    json!({
        "query": "mutation($i: SyncProgressReportsInput!) { syncProgressReports(input: $i) { created } }",
        "variables": { "i": { "reports": reports, "reporter": { "provinceCode": province } } }
    })
}

async fn count(url: &str, token: &str) -> i64 {
    let body: Value = reqwest::Client::new()
        .post(format!("{url}/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": "{ progressReports { totalCount } }" }))
        .send()
        .await
        .expect("count")
        .json()
        .await
        .expect("json");
    body["data"]["progressReports"]["totalCount"].as_i64().expect("a count")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_killed_mid_way_is_all_or_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let token = admin_token(dir.path());
    let mut expected = 0;
    for (round, delay_ms) in [5u64, 40, 120, 400].into_iter().enumerate() {
        let mut server = start(dir.path()).await;
        let url = server.url.clone();
        let province = ["440000", "110000", "120000", "130000"][round];
        let body = batch(&format!("r{round}"), province, 500);
        let token_ = token.clone();
        let send = tokio::spawn(async move {
            reqwest::Client::new().post(format!("{url}/graphql")).bearer_auth(token_).json(&body).send().await
        });
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        server.child.kill().expect("kill -9");
        server.child.wait().expect("reaped");
        let _ = send.await;
        let server = start(dir.path()).await;
        let n = count(&server.url, &token).await;
        assert!(
            n == expected || n == expected + 500,
            "after a kill at {delay_ms} ms: {n} reports, expected {expected} or {}",
            expected + 500
        );
        expected = n;
        let mut s = server;
        s.child.kill().expect("stop");
        s.child.wait().expect("reaped");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_in_flight_requests_then_exits() {
    let dir = tempfile::tempdir().expect("tempdir");
    let token = admin_token(dir.path());
    let mut server = start(dir.path()).await;
    let url = server.url.clone();
    let body = batch("drain", "440000", 500);
    let token_ = token.clone();
    // The connection is open before the batch is sent (a first request on the same client), so
    // on a busy machine the SIGTERM cannot come before the batch's connection was accepted:
    // that would test refusing new connections, not draining.
    let client = reqwest::Client::new();
    client.get(format!("{url}/healthz")).send().await.expect("healthz");
    let send = tokio::spawn(async move {
        let r = client.post(format!("{url}/graphql")).bearer_auth(token_).json(&body).send().await?;
        r.json::<Value>().await
    });
    tokio::time::sleep(Duration::from_millis(30)).await;
    let pid = server.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().expect("kill").success());
    let response = send.await.expect("join").expect("the in-flight request was answered");
    assert_eq!(response["data"]["syncProgressReports"]["created"], 500, "{response}");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = server.child.try_wait().expect("wait") {
            assert!(status.success(), "exited cleanly: {status}");
            break;
        }
        assert!(Instant::now() < deadline, "the server did not exit after SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let after = start(dir.path()).await;
    assert_eq!(count(&after.url, &token).await, 500);
    let mut after = after;
    after.child.kill().expect("stop");
    after.child.wait().expect("reaped");
}
