//! Test support: a real workplan server on an ephemeral port against a fresh database.
//!
//! The database is SQLite (a file in a temporary directory) unless `WORKPLAN_TEST_POSTGRES_URL`
//! points at a PostgreSQL server (e.g. `postgres://postgres@127.0.0.1:5432`); then each test
//! gets a database of its own, dropped when the test ends.

use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Once};

use sea_orm::{ConnectionTrait, Database, DatabaseBackend, Statement};
use serde_json::{Value, json};
use workplan_api::config::ApiConfig;
use workplan_domain::ports::{Clock, ManualClock, PlanReader, SystemClock};
use workplan_domain::token::AccessRole;
use workplan_domain::usecases::{self, TokenRequest};
use workplan_persistence::SeaStore;
use workplan_server::Application;

/// The environment variable that selects PostgreSQL.
pub const POSTGRES_ENV: &str = "WORKPLAN_TEST_POSTGRES_URL";

pub mod subscriber;

static ANNOUNCE: Once = Once::new();
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A fresh database for one test.
pub enum TestDb {
    Sqlite { _dir: tempfile::TempDir, url: String },
    Postgres { admin_url: String, name: String, url: String },
}

impl TestDb {
    /// Creates an empty database of the selected kind.
    pub async fn create() -> anyhow::Result<Self> {
        if let Some(server) = std::env::var(POSTGRES_ENV).ok().filter(|s| !s.is_empty()) {
            ANNOUNCE.call_once(|| {
                let _ = writeln!(std::io::stderr(), "workplan tests: running against PostgreSQL at {server}");
            });
            let server = server.trim_end_matches('/').to_owned();
            let name = format!(
                "wp_test_{}_{}_{}",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::Relaxed),
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.subsec_nanos()
            );
            let admin_url = format!("{server}/postgres");
            let admin = Database::connect(&admin_url).await?;
            admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await?;
            admin.close().await?;
            Ok(Self::Postgres { url: format!("{server}/{name}"), admin_url, name })
        } else {
            ANNOUNCE.call_once(|| {
                // Written past the test harness's capture on purpose: skipping must be seen.
                let _ = writeln!(
                    std::io::stderr(),
                    "workplan tests: {POSTGRES_ENV} is not set, so the PostgreSQL suite is SKIPPED; running on SQLite"
                );
            });
            let dir = tempfile::tempdir()?;
            let url = format!("sqlite://{}?mode=rwc", dir.path().join("workplan.db").display());
            Ok(Self::Sqlite { _dir: dir, url })
        }
    }

    /// The connection URL.
    pub fn url(&self) -> &str {
        match self {
            Self::Sqlite { url, .. } | Self::Postgres { url, .. } => url,
        }
    }

    /// Whether this is PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        matches!(self, Self::Postgres { .. })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Self::Postgres { admin_url, name, .. } = self {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            // Drop runs outside async; use a runtime of its own on a helper thread.
            let _ = std::thread::spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                    return;
                };
                rt.block_on(async move {
                    if let Ok(admin) = Database::connect(&admin_url).await {
                        let _ =
                            admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await;
                        let _ = admin.close().await;
                    }
                });
            })
            .join();
        }
    }
}

/// A running server.
pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub store: SeaStore,
    pub db: TestDb,
    /// An ADMIN token's secret; [`TestApp::graphql`] sends it.
    pub admin: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl TestApp {
    /// Starts the real server (migrations, plan loading, router) on 127.0.0.1:0.
    pub async fn spawn() -> Self {
        let db = TestDb::create().await.expect("create a test database");
        let options = workplan_server::store_options(5);
        // Rate limiting has tests of its own; here it would only make tests depend on timing.
        Self::spawn_with(db, options, ApiConfig { rate_limit: None, request_limit: None, ..ApiConfig::default() }).await
    }

    /// Like [`Self::spawn`], with a pool of `max_connections` (writers racing each other need
    /// a connection each).
    pub async fn spawn_pooled(max_connections: u32) -> Self {
        let db = TestDb::create().await.expect("create a test database");
        let options = workplan_server::store_options(max_connections);
        Self::spawn_with(db, options, ApiConfig { rate_limit: None, request_limit: None, ..ApiConfig::default() }).await
    }

    /// Starts the server on a [`ManualClock`] showing `at`, which the test moves.
    pub async fn spawn_at(at: chrono::DateTime<chrono::Utc>) -> (Self, Arc<ManualClock>) {
        let db = TestDb::create().await.expect("create a test database");
        let clock = Arc::new(ManualClock::new(at));
        let config = ApiConfig { rate_limit: None, request_limit: None, ..ApiConfig::default() };
        let app = Self::spawn_with_clock(db, workplan_server::store_options(5), config, clock.clone()).await;
        (app, clock)
    }

    /// Starts the server with `config`.
    pub async fn spawn_with(db: TestDb, options: workplan_persistence::StoreOptions, config: ApiConfig) -> Self {
        Self::spawn_with_clock(db, options, config, Arc::new(SystemClock)).await
    }

    /// Starts the server with `config`, telling the time of writes by `clock`.
    pub async fn spawn_with_clock(
        db: TestDb,
        options: workplan_persistence::StoreOptions,
        config: ApiConfig,
        clock: Arc<dyn Clock>,
    ) -> Self {
        subscriber::install();
        let listen = "127.0.0.1:0".parse().expect("addr");
        let app = Application::build_with_clock(db.url(), listen, &options, config, clock)
            .await
            .expect("build the application");
        let addr = app.local_addr().expect("bound address");
        let store = app.store().clone();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(app.run_until(async move {
            let _ = rx.await;
        }));
        let mut app =
            Self { addr, client: reqwest::Client::new(), store, db, admin: String::new(), shutdown: Some(tx) };
        app.admin = app.token("test-admin", AccessRole::Admin, None, None).await;
        app
    }

    /// Creates a token and returns its secret. `agency` is a name or abbreviation.
    pub async fn token(&self, name: &str, role: AccessRole, agency: Option<&str>, province: Option<&str>) -> String {
        let agency = match agency {
            Some(a) => Some(self.store.agency_by_name(a).await.expect("lookup").expect("agency exists").id),
            None => None,
        };
        let secret = workplan_api::auth::new_secret().expect("secret");
        let request = TokenRequest { name, role, agency, province_code: province, expires_at: None };
        usecases::create_token(&self.store, &self.store, request, secret).await.expect("create token").secret
    }

    /// POSTs a GraphQL request with `token` (or none) and returns the JSON body (status 200).
    pub async fn graphql_as(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let mut request =
            self.client.post(self.url("/graphql")).json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request");
        assert_eq!(response.status(), 200, "status");
        response.json().await.expect("json body")
    }

    /// Like [`Self::data`], as `token`.
    pub async fn data_as(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let body = self.graphql_as(token, query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body:#}");
        body["data"].clone()
    }

    /// Like [`Self::error`], as `token`.
    pub async fn error_as(&self, token: Option<&str>, query: &str, variables: Value) -> (String, Option<String>) {
        let body = self.graphql_as(token, query, variables).await;
        first_error(&body)
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// POSTs a GraphQL request as the admin and returns the JSON body (status must be 200).
    pub async fn graphql(&self, query: &str, variables: Value) -> Value {
        self.graphql_as(Some(&self.admin), query, variables).await
    }

    /// Like [`Self::graphql`], but asserts there are no errors and returns `data`.
    pub async fn data(&self, query: &str, variables: Value) -> Value {
        let body = self.graphql(query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body:#}");
        body["data"].clone()
    }

    /// Runs a query and returns the first error's `extensions.code` and `extensions.field`.
    pub async fn error(&self, query: &str, variables: Value) -> (String, Option<String>) {
        let body = self.graphql(query, variables).await;
        first_error(&body)
    }
}

/// The first error's `extensions.code` and `extensions.field`; checks it leaks no SQL.
pub fn first_error(body: &Value) -> (String, Option<String>) {
    let error = &body["errors"][0];
    assert!(!error.is_null(), "expected an error: {body:#}");
    let message = error["message"].as_str().unwrap_or_default();
    assert!(!message.contains("SELECT") && !message.contains("INSERT"), "leaks SQL: {message}");
    (
        error["extensions"]["code"].as_str().unwrap_or_default().to_owned(),
        error["extensions"]["field"].as_str().map(str::to_owned),
    )
}

impl TestApp {
    /// Waits until every change committed so far can be read from the change feed. On
    /// PostgreSQL a change shows once no transaction that began writing before it is still
    /// running — in any database of the cluster, and other tests run theirs there at the same
    /// time; on SQLite at once.
    pub async fn settle_feed(&self) {
        if !self.db.is_postgres() {
            return;
        }
        let db = Database::connect(self.db.url()).await.expect("connect");
        let settled = "SELECT coalesce(max(txid), 0) < pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS settled
            FROM report_changes";
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let row =
                db.query_one_raw(Statement::from_string(DatabaseBackend::Postgres, settled)).await.expect("query");
            if row.and_then(|r| r.try_get::<bool>("", "settled").ok()) == Some(true) {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "the change feed did not catch up within a minute");
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let _ = db.close().await;
    }

    /// How many SQL statements the server has run so far.
    pub fn statements(&self) -> u64 {
        self.store.statement_count()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
