//! GraphQL over WebSocket: a refused `connection_init` carries an error code and never the
//! domain's or the database's text, in both protocols.

use futures::{SinkExt as _, StreamExt as _};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
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
