//! Webhooks: a real receiver on an ephemeral port gets signed deliveries (checked with the
//! `standardwebhooks` verifier), retried when it fails; endpoints receive only the kinds they
//! asked for and what their token may read; private addresses are refused without the flag;
//! two replicas on one PostgreSQL deliver each event once between them.

mod delivery;
mod guard;
mod lifecycle;
mod replicas;
mod scope;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};
use workplan_api::config::ApiConfig;
use workplan_api::webhook::WebhookSettings;
use workplan_domain::webhook::{AddressRule, RetrySchedule};
use workplan_tests::{TestApp, TestDb};

pub(super) const REGISTER: &str = "mutation($i: RegisterWebhookInput!) {
  registerWebhook(input: $i) { secret webhook { id url kinds tokenId } } }";
pub(super) const SUBMIT: &str =
    "mutation($i: SubmitProgressReportInput!) { submitProgressReport(input: $i) { report { id version } } }";
pub(super) const ACCEPT: &str = "mutation($id: ID!, $v: Int!) {
  reviewProgressReport(id: $id, expectedVersion: $v, decision: ACCEPT) { report { version state } } }";

/// Webhook settings for tests: private addresses and http allowed, retries in milliseconds.
pub(super) fn settings() -> WebhookSettings {
    WebhookSettings {
        addresses: AddressRule::AllowPrivate,
        retry: RetrySchedule { base: Duration::from_millis(100) },
        timeout: Duration::from_secs(5),
        poll: Duration::from_millis(50),
    }
}

/// The test configuration with `webhooks`.
pub(super) fn config(webhooks: WebhookSettings) -> ApiConfig {
    ApiConfig { rate_limit: None, request_limit: None, webhooks, ..ApiConfig::default() }
}

/// A server whose webhooks may go to the local receiver.
pub(super) async fn app() -> TestApp {
    let db = TestDb::create().await.expect("a test database");
    TestApp::spawn_with(db, workplan_server::store_options(5), config(settings())).await
}

/// One request the receiver got.
#[derive(Debug, Clone)]
pub(super) struct Receipt {
    pub headers: HeaderMap,
    pub body: String,
    /// What the receiver answered.
    pub status: u16,
}

impl Receipt {
    pub(super) fn id(&self) -> String {
        self.headers.get("webhook-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
    }

    pub(super) fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }
}

/// A webhook receiver on 127.0.0.1: it answers 500 to the first `fail_first` requests of
/// each `webhook-id`, then 200, and keeps every request.
#[derive(Clone)]
pub(super) struct Receiver {
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<Receipt>>>,
}

impl Receiver {
    pub(super) async fn start(fail_first: usize) -> Self {
        let received: Arc<Mutex<Vec<Receipt>>> = Arc::default();
        let seen: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let keep = received.clone();
        let handler = move |headers: HeaderMap, body: String| {
            let keep = keep.clone();
            let seen = seen.clone();
            async move {
                let id = headers.get("webhook-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
                let n = {
                    let mut seen = seen.lock().expect("lock");
                    let n = seen.entry(id).or_default();
                    *n += 1;
                    *n
                };
                let status = if n <= fail_first { StatusCode::INTERNAL_SERVER_ERROR } else { StatusCode::OK };
                keep.lock().expect("lock").push(Receipt { headers, body, status: status.as_u16() });
                status
            }
        };
        let router = axum::Router::new().route("/hook", axum::routing::post(handler));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the receiver");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Self { addr, received }
    }

    pub(super) fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    pub(super) fn received(&self) -> Vec<Receipt> {
        self.received.lock().expect("lock").clone()
    }

    /// The accepted (200) receipts.
    pub(super) fn accepted(&self) -> Vec<Receipt> {
        self.received().into_iter().filter(|r| r.status == 200).collect()
    }

    /// Waits until `check` holds of the receipts, at most `within`.
    pub(super) async fn wait_for(&self, within: Duration, what: &str, check: impl Fn(&[Receipt]) -> bool) {
        let start = Instant::now();
        while !check(&self.received()) {
            assert!(start.elapsed() < within, "{what}: not within {within:?}; got {:#?}", self.received());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// The ID of the token named `name`.
pub(super) async fn token_id(app: &TestApp, name: &str) -> String {
    let tokens = app.data("{ apiTokens { id name } }", json!({})).await;
    tokens["apiTokens"]
        .as_array()
        .expect("tokens")
        .iter()
        .find(|t| t["name"] == name)
        .and_then(|t| t["id"].as_str())
        .expect("the token")
        .to_owned()
}

/// Registers `url` for `kinds` bound by the token named `token`; its id and secret.
pub(super) async fn register(app: &TestApp, url: &str, kinds: &[&str], token: &str) -> (String, String) {
    let token = token_id(app, token).await;
    let d = app.data(REGISTER, json!({ "i": { "url": url, "kinds": kinds, "token": token } })).await;
    let payload = &d["registerWebhook"];
    (payload["webhook"]["id"].as_str().expect("id").to_owned(), payload["secret"].as_str().expect("secret").to_owned())
}

/// A report on `task` for 2016 as `token`; its id and version.
pub(super) async fn submit(app: &TestApp, token: &str, task: i32) -> (String, i64) {
    let input = json!({ "i": { "taskNumber": task, "period": "2016", "status": "ONGOING", "summary": "x" } });
    let d = app.data_as(Some(token), SUBMIT, input).await;
    let report = &d["submitProgressReport"]["report"];
    (report["id"].as_str().expect("id").to_owned(), report["version"].as_i64().expect("version"))
}

/// Accepts a report as the admin.
pub(super) async fn accept(app: &TestApp, id: &str, version: i64) {
    let d = app.data(ACCEPT, json!({ "id": id, "v": version })).await;
    assert_eq!(d["reviewProgressReport"]["report"]["state"], "ACCEPTED");
}
