//! The connection's token: a bad one at `connection_init` closes with 4403 and a coded reason,
//! a database failure there with 4500 saying nothing of the database; a token revoked or expired
//! while its socket is open refuses the next operation (an `error` message, UNAUTHENTICATED),
//! closes the socket with 4403 and runs nothing more — and the periodic re-check closes an open
//! socket without waiting for an operation.

use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use workplan_domain::ports::TokenStore as _;
use workplan_domain::token::AccessRole;
use workplan_domain::usecases::{self, TokenRequest};
use workplan_tests::TestApp;

use super::{SUBMIT, Ws, closed, config, init, message, open, report, report_count, run, spawn, subscribe};

/// `connection_init` with `payload` is refused: the close code, and the GraphQL error the
/// reason holds.
async fn refused(app: &TestApp, payload: Value) -> (u16, Value) {
    let mut ws = init(app, payload).await;
    let (code, reason) = closed(&mut ws).await;
    assert!(reason.len() <= 123, "{reason}");
    (code, serde_json::from_str(&reason).expect("the close reason is a GraphQL error"))
}

#[tokio::test]
async fn a_bad_token_at_connection_init_closes_with_4403_and_a_code() {
    let app = TestApp::spawn().await;
    let (code, error) = refused(&app, json!({ "Authorization": "Bearer wpt_nope" })).await;
    assert_eq!(code, 4403);
    assert_eq!(error["extensions"]["code"], "UNAUTHENTICATED", "{error}");
    assert_eq!(error["message"], "the API token is unknown, revoked or expired", "{error}");
    let (code, error) = refused(&app, json!({ "Authorization": "Basic abc" })).await;
    assert_eq!((code, error["extensions"]["code"].as_str()), (4403, Some("UNAUTHENTICATED")), "{error}");
}

#[tokio::test]
async fn without_public_reading_an_anonymous_connection_is_closed_with_4403() {
    let app = spawn(workplan_api::config::ApiConfig { public_read: false, ..config() }).await;
    let (code, error) = refused(&app, json!({})).await;
    assert_eq!((code, error["extensions"]["code"].as_str()), (4403, Some("UNAUTHENTICATED")), "{error}");
    // A token still opens it.
    let mut ws = open(&app, Some(&app.admin)).await;
    assert_eq!(run(&mut ws, "1", "{ viewer { role } }", json!({})).await["data"]["viewer"]["role"], "ADMIN");
}

#[tokio::test]
async fn a_database_failure_at_connection_init_is_internal_and_says_nothing_of_the_database() {
    let app = TestApp::spawn().await;
    let _open = open(&app, Some(&app.admin)).await;

    // Looking a token up now fails in the database.
    let db = Database::connect(app.db.url()).await.expect("connect");
    db.execute_unprepared("ALTER TABLE api_tokens RENAME TO api_tokens_gone").await.expect("rename");
    db.close().await.expect("close");
    // Tokens are looked up in memory; the table is read again once it is a second old.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;

    let (code, error) = refused(&app, json!({ "Authorization": format!("Bearer {}", app.admin) })).await;
    assert_eq!(code, 4500);
    assert_eq!(error["extensions"]["code"], "INTERNAL", "{error}");
    assert_eq!(error["message"], "internal error; it has been logged", "{error}");
    let text = error.to_string().to_lowercase();
    for leak in ["api_tokens", "table", "relation", "sql", "database"] {
        assert!(!text.contains(leak), "leaks {leak}: {error}");
    }
}

/// The operation is refused with an `error` message for its id carrying UNAUTHENTICATED, then
/// the connection is closed with 4403.
async fn assert_refused_and_closed(ws: &mut Ws, id: &str, query: &str, variables: Value) {
    subscribe(ws, id, query, variables).await;
    let error = message(ws).await;
    assert_eq!(error["type"], "error", "{error}");
    assert_eq!(error["id"], id, "{error}");
    assert_eq!(error["payload"][0]["extensions"]["code"], "UNAUTHENTICATED", "{error}");
    let (code, reason) = closed(ws).await;
    assert_eq!(code, 4403, "{reason}");
    let reason: Value = serde_json::from_str(&reason).expect("the reason is a GraphQL error");
    assert_eq!(reason["extensions"]["code"], "UNAUTHENTICATED", "{reason}");
}

#[tokio::test]
async fn a_token_revoked_while_its_socket_is_open_stops_working_there() {
    let app = TestApp::spawn().await;
    let secret = app.token("gd", AccessRole::ProvinceReporter, None, Some("440000")).await;
    let mut ws = open(&app, Some(&secret)).await;
    let next = run(&mut ws, "1", SUBMIT, report("2016-09")).await;
    assert!(next["data"]["submitProgressReport"]["report"]["id"].is_string(), "{next}");
    assert_eq!(report_count(&app).await, 1);

    let tokens = app.data("{ apiTokens { id name } }", json!({})).await;
    let id =
        tokens["apiTokens"].as_array().expect("tokens").iter().find(|t| t["name"] == "gd").expect("gd")["id"].clone();
    app.data("mutation($id: ID!) { revokeApiToken(id: $id) { revokedAt } }", json!({ "id": id })).await;
    assert_refused_and_closed(&mut ws, "2", SUBMIT, report("2016-10")).await;
    assert_eq!(report_count(&app).await, 1, "nothing was written");
}

#[tokio::test]
async fn an_admin_token_revoked_in_the_store_creates_no_token_on_its_open_socket() {
    let app = TestApp::spawn().await;
    let secret = app.token("root", AccessRole::Admin, None, None).await;
    let mut ws = open(&app, Some(&secret)).await;
    let next = run(&mut ws, "1", "{ viewer { role } }", json!({})).await;
    assert_eq!(next["data"]["viewer"]["role"], "ADMIN", "{next}");

    let token = app.store.token_by_name("root").await.expect("lookup").expect("exists");
    app.store.revoke_token(token.id).await.expect("revoke");
    let create = r#"mutation { createApiToken(input: { name: "late", role: ADMIN }) { secret } }"#;
    assert_refused_and_closed(&mut ws, "2", create, json!({})).await;
    assert!(app.store.token_by_name("late").await.expect("lookup").is_none(), "no token was created");
}

#[tokio::test]
async fn an_expired_token_stops_working_on_its_open_socket() {
    let app = TestApp::spawn().await;
    let secret = workplan_api::auth::new_secret().expect("secret");
    let expires_at = Some(chrono::Utc::now() + chrono::Duration::milliseconds(1500));
    let request =
        TokenRequest { name: "brief", role: AccessRole::Admin, agency: None, province_code: None, expires_at };
    let secret = usecases::create_token(&app.store, &app.store, request, secret).await.expect("create").secret;
    let mut ws = open(&app, Some(&secret)).await;
    let next = run(&mut ws, "1", "{ viewer { role } }", json!({})).await;
    assert_eq!(next["data"]["viewer"]["role"], "ADMIN", "{next}");

    // Waits for the expiry (not for speed: the token must be past its time).
    tokio::time::sleep(std::time::Duration::from_millis(1600)).await;
    let create = r#"mutation { createApiToken(input: { name: "late", role: ADMIN }) { secret } }"#;
    assert_refused_and_closed(&mut ws, "2", create, json!({})).await;
    assert!(app.store.token_by_name("late").await.expect("lookup").is_none(), "no token was created");
}

#[tokio::test]
async fn the_periodic_recheck_closes_a_socket_whose_token_was_revoked_without_waiting_for_an_operation() {
    let socket = workplan_api::socket_limits::SocketLimits {
        token_recheck: std::time::Duration::from_millis(200),
        ..Default::default()
    };
    let app = spawn(workplan_api::config::ApiConfig { socket, ..config() }).await;
    let secret = app.token("watcher", AccessRole::Admin, None, None).await;
    let mut ws = open(&app, Some(&secret)).await;
    // Several re-checks pass while the token is good: the socket stays open and works.
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    assert_eq!(run(&mut ws, "1", "{ viewer { role } }", json!({})).await["data"]["viewer"]["role"], "ADMIN");

    let token = app.store.token_by_name("watcher").await.expect("lookup").expect("exists");
    app.store.revoke_token(token.id).await.expect("revoke");
    let started = std::time::Instant::now();
    let (code, reason) = closed(&mut ws).await;
    assert_eq!(code, 4403, "{reason}");
    assert!(reason.contains("UNAUTHENTICATED"), "{reason}");
    assert!(started.elapsed() < std::time::Duration::from_secs(3), "closed by the re-check, {:?}", started.elapsed());
}
