//! GraphQL over WebSocket: a refused `connection_init` carries an error code and never the
//! domain's or the database's text, in both protocols; a token revoked or expired while its
//! socket is open is refused at the next operation, which closes the socket with 4401.

use futures::{SinkExt as _, StreamExt as _};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use workplan_domain::ports::TokenStore as _;
use workplan_domain::token::AccessRole;
use workplan_domain::usecases::{self, TokenRequest};
use workplan_tests::TestApp;

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens a connection in `protocol` and sends `connection_init` with `payload`.
async fn init(app: &TestApp, protocol: &str, payload: Value) -> Ws {
    let mut request = format!("ws://{}/graphql/ws", app.addr).into_client_request().expect("request");
    request.headers_mut().insert("sec-websocket-protocol", protocol.parse().expect("header"));
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.expect("connect");
    let message = json!({ "type": "connection_init", "payload": payload });
    ws.send(Message::Text(message.to_string().into())).await.expect("init");
    ws
}

/// The server's answer to `connection_init`: a message, or the close frame's code and reason.
enum Answer {
    Text(Value),
    Closed(u16, String),
}

async fn answer(ws: &mut Ws) -> Answer {
    loop {
        let next = tokio::time::timeout(std::time::Duration::from_secs(5), ws.next()).await.expect("an answer in time");
        match next.expect("the connection is open").expect("a message") {
            Message::Text(t) => return Answer::Text(serde_json::from_str(t.as_str()).expect("JSON")),
            Message::Close(frame) => {
                let frame = frame.expect("a close frame with a reason");
                return Answer::Closed(frame.code.into(), frame.reason.to_string());
            }
            _ => {}
        }
    }
}

/// Refuses on both protocols and returns the GraphQL error each sent, after checking its shape.
async fn refusals(app: &TestApp, payload: Value, close_code: u16) -> Vec<Value> {
    let mut ws = init(app, "graphql-transport-ws", payload.clone()).await;
    let Answer::Closed(code, reason) = answer(&mut ws).await else { panic!("graphql-transport-ws: not closed") };
    assert_eq!(code, close_code, "{reason}");
    let transport_ws: Value = serde_json::from_str(&reason).expect("the close reason is a GraphQL error");

    let mut ws = init(app, "graphql-ws", payload).await;
    let Answer::Text(message) = answer(&mut ws).await else { panic!("graphql-ws: no connection_error") };
    assert_eq!(message["type"], "connection_error", "{message}");
    vec![transport_ws, message["payload"].clone()]
}

#[tokio::test]
async fn a_bad_token_at_connection_init_is_unauthenticated_with_a_code() {
    let app = TestApp::spawn().await;
    for error in refusals(&app, json!({ "Authorization": "Bearer wpt_nope" }), 4403).await {
        assert_eq!(error["extensions"]["code"], "UNAUTHENTICATED", "{error}");
        assert_eq!(error["message"], "the API token is unknown, revoked or expired", "{error}");
    }
    for error in refusals(&app, json!({ "Authorization": "Basic abc" }), 4403).await {
        assert_eq!(error["extensions"]["code"], "UNAUTHENTICATED", "{error}");
    }
}

#[tokio::test]
async fn a_database_failure_at_connection_init_is_internal_and_says_nothing_of_the_database() {
    let app = TestApp::spawn().await;
    let mut ws = init(&app, "graphql-transport-ws", json!({ "Authorization": format!("Bearer {}", app.admin) })).await;
    let Answer::Text(ack) = answer(&mut ws).await else { panic!("closed") };
    assert_eq!(ack["type"], "connection_ack");

    // Looking a token up now fails in the database.
    let db = Database::connect(app.db.url()).await.expect("connect");
    db.execute_unprepared("ALTER TABLE api_tokens RENAME TO api_tokens_gone").await.expect("rename");
    db.close().await.expect("close");
    // Tokens are looked up in memory; the table is read again once it is a second old.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;

    for error in refusals(&app, json!({ "Authorization": format!("Bearer {}", app.admin) }), 4500).await {
        assert_eq!(error["extensions"]["code"], "INTERNAL", "{error}");
        assert_eq!(error["message"], "internal error; it has been logged", "{error}");
        let text = error.to_string().to_lowercase();
        for leak in ["api_tokens", "table", "relation", "sql", "database"] {
            assert!(!text.contains(leak), "leaks {leak}: {error}");
        }
    }
}

/// Opens a graphql-transport-ws connection with `secret` and waits for the acknowledgement.
async fn open(app: &TestApp, secret: &str) -> Ws {
    let mut ws = init(app, "graphql-transport-ws", json!({ "Authorization": format!("Bearer {secret}") })).await;
    let Answer::Text(ack) = answer(&mut ws).await else { panic!("closed at connection_init") };
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    ws
}

/// Sends a `subscribe` with `id` and returns the server's first answer to it.
async fn operation(ws: &mut Ws, id: &str, query: &str, variables: Value) -> Answer {
    let message = json!({ "type": "subscribe", "id": id, "payload": { "query": query, "variables": variables } });
    ws.send(Message::Text(message.to_string().into())).await.expect("subscribe");
    answer(ws).await
}

/// The operation `id` ran to its end.
async fn assert_complete(ws: &mut Ws, id: &str) {
    let Answer::Text(complete) = answer(ws).await else { panic!("closed before complete") };
    assert_eq!((complete["type"].as_str(), complete["id"].as_str()), (Some("complete"), Some(id)), "{complete}");
}

/// The operation is refused with an `error` message for its id carrying UNAUTHENTICATED, then
/// the connection is closed with 4401.
async fn assert_refused_and_closed(ws: &mut Ws, id: &str, query: &str, variables: Value) {
    let Answer::Text(error) = operation(ws, id, query, variables).await else { panic!("closed without an error") };
    assert_eq!(error["type"], "error", "{error}");
    assert_eq!(error["id"], id, "{error}");
    assert_eq!(error["payload"][0]["extensions"]["code"], "UNAUTHENTICATED", "{error}");
    let Answer::Closed(code, reason) = answer(ws).await else { panic!("not closed") };
    assert_eq!((code, reason.as_str()), (4401, "Unauthorized"));
}

const SUBMIT: &str =
    "mutation($input: SubmitProgressReportInput!) { submitProgressReport(input: $input) { report { id } } }";

fn report(period: &str) -> Value {
    json!({ "input": { "taskNumber": 16, "reporter": { "provinceCode": "440000" }, "period": period,
                       "status": "IN_PROGRESS", "percentComplete": 10, "summary": "Over the socket." } })
}

async fn report_count(app: &TestApp) -> i64 {
    let d = app.data("{ progressReports { totalCount } }", json!({})).await;
    d["progressReports"]["totalCount"].as_i64().expect("count")
}

#[tokio::test]
async fn a_token_revoked_while_its_socket_is_open_stops_working_there() {
    let app = TestApp::spawn().await;
    let secret = app.token("gd", AccessRole::ProvinceReporter, None, Some("440000")).await;
    let mut ws = open(&app, &secret).await;
    let Answer::Text(next) = operation(&mut ws, "1", SUBMIT, report("2016-09")).await else { panic!("closed") };
    assert_eq!(next["type"], "next", "{next}");
    assert!(next["payload"]["data"]["submitProgressReport"]["report"]["id"].is_string(), "{next}");
    assert_complete(&mut ws, "1").await;
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
    let mut ws = open(&app, &secret).await;
    let create = r#"mutation { createApiToken(input: { name: "late", role: ADMIN }) { secret } }"#;
    let viewer = "{ viewer { role } }";
    let Answer::Text(next) = operation(&mut ws, "1", viewer, json!({})).await else { panic!("closed") };
    assert_eq!(next["payload"]["data"]["viewer"]["role"], "ADMIN", "{next}");
    assert_complete(&mut ws, "1").await;

    let token = app.store.token_by_name("root").await.expect("lookup").expect("exists");
    app.store.revoke_token(token.id).await.expect("revoke");
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
    let mut ws = open(&app, &secret).await;
    let Answer::Text(next) = operation(&mut ws, "1", "{ viewer { role } }", json!({})).await else { panic!("closed") };
    assert_eq!(next["payload"]["data"]["viewer"]["role"], "ADMIN", "{next}");
    assert_complete(&mut ws, "1").await;

    // Waits for the expiry (not for speed: the token must be past its time).
    tokio::time::sleep(std::time::Duration::from_millis(1600)).await;
    let create = r#"mutation { createApiToken(input: { name: "late", role: ADMIN }) { secret } }"#;
    assert_refused_and_closed(&mut ws, "2", create, json!({})).await;
    assert!(app.store.token_by_name("late").await.expect("lookup").is_none(), "no token was created");
}

#[tokio::test]
async fn operations_over_a_socket_take_turns_with_the_rest_and_are_turned_away_quickly_when_none_is_free() {
    let db = workplan_tests::TestDb::create().await.expect("db");
    let config = workplan_api::config::ApiConfig {
        admission: Some(workplan_api::admission::AdmissionLimit {
            max_operations: 1,
            queue_wait: std::time::Duration::ZERO,
        }),
        ..workplan_api::config::ApiConfig::default()
    };
    let app = TestApp::spawn_with(db, workplan_server::store_options(3), config).await;
    let mut ws = open(&app, &app.admin).await;
    // Forty operations at once, each reading the database, against one turn and no queue.
    let query = "{ progressReports(first: 1) { totalCount } }";
    for id in 0..40 {
        let message = json!({ "type": "subscribe", "id": id.to_string(), "payload": { "query": query } });
        ws.send(Message::Text(message.to_string().into())).await.expect("subscribe");
    }
    let (mut answered, mut turned_away, mut completed) = (0, 0, 0);
    while completed < 40 {
        let Answer::Text(message) = answer(&mut ws).await else { panic!("closed") };
        match message["type"].as_str() {
            Some("next") if message["payload"]["data"]["progressReports"]["totalCount"].is_i64() => answered += 1,
            Some("next") => {
                let error = &message["payload"]["errors"][0];
                assert_eq!(error["extensions"]["code"], "RATE_LIMITED", "{message}");
                assert_eq!(error["extensions"]["retryAfter"], 1, "{message}");
                turned_away += 1;
            }
            Some("complete") => completed += 1,
            _ => panic!("unexpected: {message}"),
        }
    }
    assert_eq!(answered + turned_away, 40);
    assert!(answered >= 1 && turned_away >= 1, "answered {answered}, turned away {turned_away}");
    // The turns were all given back.
    let Answer::Text(next) = operation(&mut ws, "after", query, json!({})).await else { panic!("closed") };
    assert!(next["payload"]["data"]["progressReports"]["totalCount"].is_i64(), "{next}");
}
