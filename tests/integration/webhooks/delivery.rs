//! A delivery that fails twice is retried on the schedule, then delivered; every attempt is
//! signed as the Standard Webhooks verifier expects, under the same `webhook-id`.

use std::time::Duration;

use serde_json::json;
use workplan_domain::token::AccessRole;

use super::{Receiver, accept, app, register, submit};

const DELIVERIES: &str = "query($e: ID) { webhookDeliveries(endpoint: $e) {
  edges { node { webhookId status attempts lastError lastStatusCode nextAttemptAt deliveredAt payload } } } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_receiver_gets_signed_retries_until_it_accepts() {
    let app = app().await;
    let receiver = Receiver::start(2).await;
    let (endpoint, secret) = register(&app, &receiver.url(), &["REVIEWED"], "test-admin").await;
    assert!(secret.starts_with("whsec_"), "{secret}");
    let gd = app.token("gd", AccessRole::ProvinceReporter, None, Some("440000")).await;
    let (report, version) = submit(&app, &gd, 3).await;
    accept(&app, &report, version).await;

    receiver
        .wait_for(Duration::from_secs(30), "the third attempt is accepted", |r| r.iter().any(|r| r.status == 200))
        .await;
    let received = receiver.received();
    assert_eq!(received.iter().map(|r| r.status).collect::<Vec<_>>(), [500, 500, 200], "{received:#?}");
    let id = received[0].id();
    assert!(received.iter().all(|r| r.id() == id), "one webhook-id for every attempt");
    // Every attempt verifies with the secret, as a receiver using the reference library checks it.
    let verifier = standardwebhooks::Webhook::new(&secret).expect("a Standard Webhooks secret");
    for r in &received {
        verifier.verify(r.body.as_bytes(), &r.headers).expect("a valid signature");
        let tampered = r.body.replace("ACCEPTED", "RETURNED");
        assert!(verifier.verify(tampered.as_bytes(), &r.headers).is_err(), "a changed body fails");
    }
    let other = standardwebhooks::Webhook::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("a secret");
    assert!(other.verify(received[0].body.as_bytes(), &received[0].headers).is_err(), "another secret fails");
    // The retries waited: 100 ms, then 600 ms (the schedule with a 100 ms base).
    let at = |r: &super::Receipt| -> i64 {
        r.headers["webhook-timestamp"].to_str().expect("text").parse().expect("unix seconds")
    };
    assert!(at(&received[2]) >= at(&received[0]), "timestamps move forward");

    // Only the kind asked for: the report's creation (CREATED) is not sent, its review is.
    let body = received[2].json();
    assert_eq!(body["type"], "report.reviewed");
    assert_eq!(body["data"]["kind"], "REVIEWED");
    assert_eq!(body["data"]["reportId"], report.as_str());
    assert_eq!(body["data"]["state"], "ACCEPTED");
    assert_eq!(body["data"]["actor"], "test-admin (ADMIN)", "an admin's endpoint reads token names");
    let cursor = body["data"]["cursor"].as_str().expect("a feed cursor");
    let after = app.data("query($a: String) { changes(after: $a) { edges { cursor } } }", json!({ "a": cursor })).await;
    assert_eq!(after["changes"]["edges"], json!([]), "the cursor is the feed's own: nothing after the review");

    let d = app.data(DELIVERIES, json!({ "e": endpoint })).await;
    let edges = d["webhookDeliveries"]["edges"].as_array().expect("edges");
    assert_eq!(edges.len(), 1, "{d:#}");
    let node = &edges[0]["node"];
    assert_eq!(node["webhookId"], id.as_str());
    assert_eq!(node["status"], "DELIVERED");
    assert_eq!(node["attempts"], 3);
    assert_eq!(node["lastStatusCode"], 200);
    assert!(node["lastError"].as_str().is_some_and(|e| e.contains("500")), "the last failure is kept: {node}");
    assert!(!node["deliveredAt"].is_null());
    assert_eq!(node["payload"], received[2].body.as_str(), "the payload as signed and sent");

    // Nothing is sent again.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.received().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_endpoint_gets_nothing_more() {
    let app = app().await;
    let receiver = Receiver::start(0).await;
    let (endpoint, _) = register(&app, &receiver.url(), &["CREATED"], "test-admin").await;
    let gd = app.token("gd", AccessRole::ProvinceReporter, None, Some("440000")).await;
    submit(&app, &gd, 3).await;
    receiver.wait_for(Duration::from_secs(30), "the first report", |r| r.len() == 1).await;
    let d =
        app.data("mutation($id: ID!) { disableWebhook(id: $id) { id disabledAt } }", json!({ "id": endpoint })).await;
    assert!(!d["disableWebhook"]["disabledAt"].is_null());
    submit(&app, &gd, 4).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(receiver.received().len(), 1, "nothing after disabling");
    let list = app.data("{ webhooks { id disabledAt } }", json!({})).await;
    assert!(!list["webhooks"][0]["disabledAt"].is_null());
}
