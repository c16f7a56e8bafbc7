//! Who may register webhooks and to where: ADMIN only; https only, to public addresses only,
//! unless the server allows private ones (`--allow-private-webhooks`).

use serde_json::json;
use workplan_domain::token::AccessRole;
use workplan_tests::TestApp;

use super::{REGISTER, token_id};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_addresses_and_plain_http_are_refused_without_the_flag() {
    let app = TestApp::spawn().await;
    let admin = token_id(&app, "test-admin").await;
    for (url, why) in [
        ("https://127.0.0.1:9/hook", "loopback"),
        ("https://10.1.2.3/hook", "private"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("https://[::1]/hook", "loopback"),
        ("https://[fd00::1]/hook", "private"),
        ("https://100.64.0.1/hook", "CGNAT"),
        ("https://localhost:9/hook", "loopback"),
        ("http://93.184.215.14/hook", "https"),
        ("ftp://93.184.215.14/hook", "https"),
        ("https://user:pw@93.184.215.14/hook", "user name"),
        ("not a url", "URL"),
    ] {
        let body = app.graphql(REGISTER, json!({ "i": { "url": url, "kinds": ["CREATED"], "token": admin } })).await;
        let (code, field) = workplan_tests::first_error(&body);
        assert_eq!((code.as_str(), field.as_deref()), ("BAD_USER_INPUT", Some("input.url")), "{url}: {body:#}");
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains(why), "{url}: the message says why ({why}): {message}");
    }
    let list = app.data("{ webhooks { id } }", json!({})).await;
    assert_eq!(list["webhooks"], json!([]), "nothing was registered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_admins_manage_webhooks() {
    let app = TestApp::spawn().await;
    let admin = token_id(&app, "test-admin").await;
    let supervisor = app.token("sup", AccessRole::Supervisor, None, None).await;
    let input = json!({ "i": { "url": "https://93.184.215.14/hook", "kinds": ["CREATED"], "token": admin } });
    for token in [Some(supervisor.as_str()), None] {
        let (code, _) = app.error_as(token, REGISTER, input.clone()).await;
        assert!(code == "FORBIDDEN" || code == "UNAUTHENTICATED", "{code}");
        let (code, _) = app.error_as(token, "{ webhooks { id } }", json!({})).await;
        assert!(code == "FORBIDDEN" || code == "UNAUTHENTICATED", "{code}");
        let (code, _) = app.error_as(token, "{ webhookDeliveries { edges { cursor } } }", json!({})).await;
        assert!(code == "FORBIDDEN" || code == "UNAUTHENTICATED", "{code}");
    }
    let (code, _) = app.error_as(Some(&supervisor), REGISTER, input).await;
    assert_eq!(code, "FORBIDDEN");
    let (code, field) =
        app.error(REGISTER, json!({ "i": { "url": "https://93.184.215.14/hook", "kinds": [], "token": admin } })).await;
    assert_eq!((code.as_str(), field.as_deref()), ("BAD_USER_INPUT", Some("input.kinds")));
}
