//! An endpoint's life after registration: its secret rotated with an overlap (deliveries carry
//! both signatures until it ends), disabled and enabled again (from now on, or with what it
//! missed), and a delivery given up sent again.

use std::time::Duration;

use serde_json::{Value, json};
use standardwebhooks::Webhook;
use workplan_api::webhook::WebhookSettings;
use workplan_domain::token::AccessRole;
use workplan_domain::webhook::RetrySchedule;
use workplan_tests::{TestApp, TestDb};

use super::{Receipt, Receiver, app, config, register, settings, submit};

const ROTATE: &str = "mutation($id: ID!, $h: Int) { rotateWebhookSecret(id: $id, keepPreviousHours: $h) {
  secret webhook { id previousSecretUntil } } }";
const DISABLE: &str = "mutation($id: ID!) { disableWebhook(id: $id) { disabledAt } }";
const ENABLE: &str = "mutation($id: ID!, $missed: Boolean) { enableWebhook(id: $id, deliverMissed: $missed) {
  disabledAt } }";
const DELIVERIES: &str = "query($e: ID) { webhookDeliveries(endpoint: $e) {
  nodes { id webhookId status attempts lastError payload } } }";
const RETRY: &str = "mutation($id: ID!) { retryWebhookDelivery(id: $id) { id status attempts lastError } }";

fn verifies(secret: &str, receipt: &Receipt) -> bool {
    Webhook::new(secret).expect("a secret").verify(receipt.body.as_bytes(), &receipt.headers).is_ok()
}

/// The report ids the receiver accepted, in the order it got them.
fn reports(receiver: &Receiver) -> Vec<String> {
    receiver.accepted().iter().map(|r| r.json()["data"]["reportId"].as_str().expect("reportId").to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_secret_signs_beside_the_old_one_until_the_overlap_ends() {
    let app = app().await;
    let receiver = Receiver::start(0).await;
    let (endpoint, first) = register(&app, &receiver.url(), &["CREATED"], "test-admin").await;
    let gd = app.token("gd", AccessRole::ProvinceReporter, None, Some("440000")).await;

    let d = app.data(ROTATE, json!({ "id": endpoint, "h": null })).await;
    let second = d["rotateWebhookSecret"]["secret"].as_str().expect("a new secret").to_owned();
    assert_ne!(second, first);
    let until = d["rotateWebhookSecret"]["webhook"]["previousSecretUntil"].as_str().expect("an overlap").to_owned();
    let minutes =
        (chrono::DateTime::parse_from_rfc3339(&until).expect("a time").to_utc() - chrono::Utc::now()).num_minutes();
    assert!((23 * 60..=24 * 60).contains(&minutes), "a day by default: {until}");
    submit(&app, &gd, 3).await;
    receiver.wait_for(Duration::from_secs(30), "the first delivery", |r| r.len() == 1).await;
    let during = &receiver.received()[0];
    assert_eq!(during.headers["webhook-signature"].to_str().expect("text").split(' ').count(), 2, "two signatures");
    assert!(verifies(&second, during), "a receiver on the new secret accepts it");
    assert!(verifies(&first, during), "a receiver still on the old secret accepts it");

    // Rotated again with no overlap: only the newest secret signs.
    let d = app.data(ROTATE, json!({ "id": endpoint, "h": 0 })).await;
    let third = d["rotateWebhookSecret"]["secret"].as_str().expect("a new secret").to_owned();
    assert!(d["rotateWebhookSecret"]["webhook"]["previousSecretUntil"].is_null(), "{d}");
    submit(&app, &gd, 4).await;
    receiver.wait_for(Duration::from_secs(30), "the second delivery", |r| r.len() == 2).await;
    let after = &receiver.received()[1];
    assert!(verifies(&third, after));
    assert!(!verifies(&second, after) && !verifies(&first, after), "the old secrets no longer sign");

    for bad in [-1, 169] {
        let (code, field) = app.error(ROTATE, json!({ "id": endpoint, "h": bad })).await;
        assert_eq!((code.as_str(), field.as_deref()), ("BAD_USER_INPUT", Some("keepPreviousHours")), "{bad}");
    }
    let (code, _) = app.error_as(Some(&gd), ROTATE, json!({ "id": endpoint })).await;
    assert_eq!(code, "FORBIDDEN");
    // The refusals rotated nothing: the next delivery is signed with the third secret alone.
    submit(&app, &gd, 5).await;
    receiver.wait_for(Duration::from_secs(30), "the third delivery", |r| r.len() == 3).await;
    let last = &receiver.received()[2];
    assert!(verifies(&third, last), "still the third secret");
    assert_eq!(last.headers["webhook-signature"].to_str().expect("text").split(' ').count(), 1, "one signature");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_enabled_again_resumes_from_now_or_with_what_it_missed() {
    let app = app().await;
    let receiver = Receiver::start(0).await;
    let (endpoint, _) = register(&app, &receiver.url(), &["CREATED"], "test-admin").await;
    let gd = app.token("gd", AccessRole::ProvinceReporter, None, Some("440000")).await;

    app.data(DISABLE, json!({ "id": endpoint })).await;
    let (skipped, _) = submit(&app, &gd, 3).await;
    app.settle_feed().await;
    let d = app.data(ENABLE, json!({ "id": endpoint, "missed": null })).await;
    assert!(d["enableWebhook"]["disabledAt"].is_null(), "{d}");
    let (after, _) = submit(&app, &gd, 4).await;
    receiver.wait_for(Duration::from_secs(30), "the report after enabling", |r| !r.is_empty()).await;

    app.data(DISABLE, json!({ "id": endpoint })).await;
    let (missed, _) = submit(&app, &gd, 5).await;
    app.settle_feed().await;
    app.data(ENABLE, json!({ "id": endpoint, "missed": true })).await;
    // Enabling an enabled endpoint changes nothing (its cursor stays).
    app.data(ENABLE, json!({ "id": endpoint, "missed": false })).await;
    receiver.wait_for(Duration::from_secs(30), "the missed report", |r| r.len() >= 2).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(reports(&receiver), [after.clone(), missed.clone()], "never {skipped}");

    // An endpoint whose token was revoked stays disabled.
    let bounded = Receiver::start(0).await;
    let (other, _) = register(&app, &bounded.url(), &["CREATED"], "gd").await;
    app.data(DISABLE, json!({ "id": other })).await;
    let token = super::token_id(&app, "gd").await;
    app.data("mutation($id: ID!) { revokeApiToken(id: $id) { revokedAt } }", json!({ "id": token })).await;
    let (code, field) = app.error(ENABLE, json!({ "id": other })).await;
    assert_eq!((code.as_str(), field.as_deref()), ("BAD_USER_INPUT", Some("id")));
    let list = app.data("{ webhooks { id disabledAt } }", json!({})).await;
    let still = list["webhooks"].as_array().expect("list").iter().find(|w| w["id"] == other.as_str()).cloned();
    assert!(still.is_some_and(|w| !w["disabledAt"].is_null()), "{list}");
}

/// The deliveries of `endpoint`, newest first.
async fn deliveries(app: &TestApp, endpoint: &str) -> Vec<Value> {
    let d = app.data(DELIVERIES, json!({ "e": endpoint })).await;
    d["webhookDeliveries"]["nodes"].as_array().expect("nodes").clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_given_up_is_sent_again_on_request_under_the_same_id() {
    // Slow retries: after its first failure the delivery waits (10 s) until the endpoint is
    // disabled, which gives it up.
    let slow = WebhookSettings { retry: RetrySchedule { base: Duration::from_secs(10) }, ..settings() };
    let db = TestDb::create().await.expect("a test database");
    let app = TestApp::spawn_with(db, workplan_server::store_options(5), config(slow)).await;
    let receiver = Receiver::start(1).await;
    let (endpoint, secret) = register(&app, &receiver.url(), &["CREATED"], "test-admin").await;
    let gd = app.token("gd", AccessRole::ProvinceReporter, None, Some("440000")).await;
    let (report, _) = submit(&app, &gd, 3).await;
    receiver.wait_for(Duration::from_secs(30), "the first, failed attempt", |r| r.len() == 1).await;

    app.data(DISABLE, json!({ "id": endpoint })).await;
    let given_up = deliveries(&app, &endpoint).await;
    assert_eq!(given_up.len(), 1, "{given_up:?}");
    let delivery = &given_up[0];
    assert_eq!((&delivery["status"], &delivery["attempts"]), (&json!("FAILED"), &json!(1)), "{delivery}");
    assert_eq!(delivery["lastError"], "the endpoint was disabled");
    let id = delivery["id"].as_str().expect("an id").to_owned();

    // While the endpoint is disabled a retry is given up again at once, saying why.
    let d = app.data(RETRY, json!({ "id": id })).await;
    assert_eq!(d["retryWebhookDelivery"]["status"], "PENDING", "{d}");
    let start = std::time::Instant::now();
    while deliveries(&app, &endpoint).await[0]["status"] != "FAILED" {
        assert!(start.elapsed() < Duration::from_secs(30), "given up again");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(receiver.received().len(), 1, "nothing was sent");

    app.data(ENABLE, json!({ "id": endpoint })).await;
    let d = app.data(RETRY, json!({ "id": id })).await;
    assert_eq!(
        (&d["retryWebhookDelivery"]["status"], &d["retryWebhookDelivery"]["attempts"]),
        (&json!("PENDING"), &json!(0))
    );
    receiver.wait_for(Duration::from_secs(30), "the retried delivery", |r| r.iter().any(|r| r.status == 200)).await;
    let received = receiver.received();
    assert_eq!(received.iter().map(Receipt::id).collect::<std::collections::HashSet<_>>().len(), 1, "one webhook-id");
    assert!(verifies(&secret, &received[1]));
    assert_eq!(received[1].json()["data"]["reportId"], report.as_str());
    let start = std::time::Instant::now();
    while deliveries(&app, &endpoint).await[0]["status"] != "DELIVERED" {
        assert!(start.elapsed() < Duration::from_secs(30), "recorded as delivered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let (code, _) = app.error(RETRY, json!({ "id": id })).await;
    assert_eq!(code, "CONFLICT", "a delivered one is not sent again");
    let (code, field) = app.error(RETRY, json!({ "id": endpoint })).await;
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("BAD_USER_INPUT", Some("id")),
        "an endpoint's ID is not a delivery's"
    );
    let (code, _) = app.error_as(Some(&gd), RETRY, json!({ "id": id })).await;
    assert_eq!(code, "FORBIDDEN");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.received().len(), 2, "nothing more was sent");
}
