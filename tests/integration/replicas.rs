//! Two replicas on one database: each serves the plan and the tokens from memory, and hears
//! the other's changes (PostgreSQL: LISTEN/NOTIFY; SQLite: at its next check). A dropped
//! listener connection loses nothing: the replica catches up when it reconnects.

use std::time::{Duration, Instant};

use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use workplan_api::config::ApiConfig;
use workplan_domain::ports::TokenStore;
use workplan_domain::token::AccessRole;
use workplan_server::Application;
use workplan_tests::TestApp;

const AGENCY: &str = "query($name: String!) { agency(name: $name) { name } }";
const ME: &str = "{ viewer { __typename } }";

/// A second server on `app`'s database, with its own pool, snapshot, token table and listener.
async fn replica(app: &TestApp) -> (String, tokio::sync::oneshot::Sender<()>) {
    let listen = "127.0.0.1:0".parse().expect("addr");
    let config = ApiConfig { rate_limit: None, request_limit: None, ..ApiConfig::default() };
    let other = Application::build(app.db.url(), listen, &workplan_server::store_options(3), config)
        .await
        .expect("a second replica");
    let url = format!("http://{}/graphql", other.local_addr().expect("addr"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(other.run_until(async move {
        let _ = stopped.await;
    }));
    (url, stop)
}

async fn ask(url: &str, token: Option<&str>, query: &str, variables: Value) -> (u16, Value) {
    let mut request = reqwest::Client::new().post(url).json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Waits until `check` holds, at most `within`; how long it took.
async fn within<F, Fut>(within: Duration, what: &str, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = Instant::now();
    while !check().await {
        assert!(start.elapsed() < within, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    start.elapsed()
}

/// How long a replica may take to hear of a plan change: at once by notification on
/// PostgreSQL, at its next fingerprint check on SQLite.
fn plan_delay(app: &TestApp) -> Duration {
    if app.db.is_postgres() { Duration::from_secs(1) } else { workplan_server::PLAN_CHECK_EVERY * 2 }
}

/// Another writer (a store of its own, as an importer in another process would be) gives the
/// first agency of the plan a new alias, `alias`; it returns the agency's name.
async fn add_alias_elsewhere(app: &TestApp, alias: &str) -> String {
    let (mut plan, _) = workplan_server::seed_data().expect("seed");
    plan.agencies.truncate(1);
    plan.agencies[0].aliases.push(alias.to_owned());
    let other = workplan_persistence::SeaStore::connect(app.db.url(), &workplan_server::store_options(2))
        .await
        .expect("another writer");
    assert_eq!(other.add_missing_aliases(&plan.agencies).await.expect("add"), 1);
    plan.agencies[0].name.clone()
}

/// The name of the agency that `url` finds by `alias`, if any.
async fn agency_named(url: String, alias: &str) -> Option<String> {
    ask(&url, None, AGENCY, json!({ "name": alias })).await.1["data"]["agency"]["name"].as_str().map(str::to_owned)
}

#[tokio::test]
async fn a_token_created_or_revoked_on_one_replica_works_or_stops_on_the_other_within_a_second() {
    let app = TestApp::spawn().await;
    let (b, _stop) = replica(&app).await;
    // Replica B has read its token table; now A's store creates a token.
    assert_eq!(ask(&b, Some(&app.admin), ME, json!({})).await.0, 200);
    let secret = app.token("made-on-a", AccessRole::Reader, None, None).await;
    within(Duration::from_secs(1), "B accepts the new token", || async {
        ask(&b, Some(&secret), ME, json!({})).await.0 == 200
    })
    .await;

    let token = app.store.token_by_name("made-on-a").await.expect("read").expect("token");
    app.store.revoke_token(token.id).await.expect("revoke");
    within(Duration::from_millis(1500), "B refuses the revoked token", || async {
        ask(&b, Some(&secret), ME, json!({})).await.0 == 401
    })
    .await;
    // A, whose store revoked it, refuses it at once.
    assert_eq!(ask(&app.url("/graphql"), Some(&secret), ME, json!({})).await.0, 401);
}

#[tokio::test]
async fn a_plan_change_written_elsewhere_reaches_every_replica() {
    let app = TestApp::spawn().await;
    let (b, _stop) = replica(&app).await;
    let alias = "an alias added elsewhere";
    assert_eq!(agency_named(b.clone(), alias).await, None);
    assert_eq!(agency_named(app.url("/graphql"), alias).await, None);
    let name = add_alias_elsewhere(&app, alias).await;
    let delay = plan_delay(&app);
    for url in [app.url("/graphql"), b.clone()] {
        within(delay, "a replica serves the new alias", || async {
            agency_named(url.clone(), alias).await.as_deref() == Some(name.as_str())
        })
        .await;
    }
}

#[tokio::test]
async fn a_dropped_listener_connection_loses_no_plan_change() {
    let app = TestApp::spawn().await;
    if !app.db.is_postgres() {
        return; // SQLite has no listener connection.
    }
    let (b, _stop) = replica(&app).await;
    let db = sea_orm::Database::connect(app.db.url()).await.expect("connect");
    let listeners = "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'";
    let count = |db: sea_orm::DatabaseConnection| async move {
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(db.get_database_backend(), listeners))
            .await
            .expect("count")
            .expect("row");
        row.try_get_by_index::<i64>(0).expect("n")
    };
    within(Duration::from_secs(5), "both replicas listen", || count(db.clone()).map_ge(2)).await;
    // Kill every listener, then change the plan while they reconnect.
    db.execute_unprepared(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND query LIKE 'LISTEN%'",
    )
    .await
    .expect("terminate the listeners");
    let alias = "an alias added while nobody listened";
    let name = add_alias_elsewhere(&app, alias).await;
    // Before the fingerprint check would run (every 5 s): the reconnect's catch-up found it.
    for url in [app.url("/graphql"), b.clone()] {
        within(Duration::from_secs(3), "a replica serves the new alias", || async {
            agency_named(url.clone(), alias).await.as_deref() == Some(name.as_str())
        })
        .await;
    }
    within(Duration::from_secs(5), "both replicas listen again", || count(db.clone()).map_ge(2)).await;
}

#[tokio::test]
async fn a_report_filed_on_one_replica_moves_the_others_matrix_within_a_second() {
    let app = TestApp::spawn().await;
    let (b, _stop) = replica(&app).await;
    let schedule =
        "mutation { scheduleReportingPeriod(input: { period: \"2016-Q4\", dueAt: \"2030-01-16T00:00:00Z\" }) {
      reportingPeriod { period } } }";
    app.data_as(Some(&app.admin), schedule, json!({})).await;
    let guangdong = app.token("guangdong", AccessRole::ProvinceReporter, None, Some("440000")).await;
    let cell = "{ reportingMatrix(period: \"2016-Q4\", filter: { provinceCode: \"440000\", taskNumber: 5 }) {
      nodes { state } } }";
    let state = |url: String| async move {
        ask(&url, None, cell, json!({})).await.1["data"]["reportingMatrix"]["nodes"][0]["state"]
            .as_str()
            .map(str::to_owned)
    };
    // B has read the period's facts into memory.
    assert_eq!(state(b.clone()).await.as_deref(), Some("NOT_DUE"));
    let submit = "mutation($i: SubmitProgressReportInput!) { submitProgressReport(input: $i) { report { id } } }";
    let input = json!({ "i": { "taskNumber": 5, "period": "2016-Q4", "status": "IN_PROGRESS", "summary": "on A" } });
    app.data_as(Some(&guangdong), submit, input).await;
    assert_eq!(state(app.url("/graphql")).await.as_deref(), Some("SUBMITTED"), "A, which took the write, at once");
    within(Duration::from_secs(1), "B's matrix shows the report", || async {
        state(b.clone()).await.as_deref() == Some("SUBMITTED")
    })
    .await;
}

/// `future >= n`, as a future of bool.
trait AtLeast {
    fn map_ge(self, n: i64) -> impl Future<Output = bool>;
}

impl<F: Future<Output = i64>> AtLeast for F {
    async fn map_ge(self, n: i64) -> bool {
        self.await >= n
    }
}
