use serde_json::json;
use workplan_domain::ports::{NewToken, TokenStore};
use workplan_domain::token::AccessRole;
use workplan_tests::TestApp;

const VIEWER: &str = "{ viewer { authenticated name role agency { abbreviation } province { code } } }";

#[tokio::test]
async fn admins_create_list_and_revoke_tokens() {
    let app = TestApp::spawn().await;
    let created = app
        .data(
            r#"mutation { createApiToken(input: { name: "guangdong-sync", role: PROVINCE_REPORTER, provinceCode: "440000" }) {
                 secret token { id name role province { code } revokedAt } } }"#,
            json!({}),
        )
        .await;
    let secret = created["createApiToken"]["secret"].as_str().expect("secret").to_owned();
    assert!(secret.starts_with("wpt_") && secret.len() == 68, "{secret}");
    assert_eq!(created["createApiToken"]["token"]["province"]["code"], "440000");
    let id = created["createApiToken"]["token"]["id"].clone();

    let me = app.data_as(Some(&secret), VIEWER, json!({})).await;
    assert_eq!(
        me["viewer"],
        json!({ "authenticated": true, "name": "guangdong-sync", "role": "PROVINCE_REPORTER", "agency": null, "province": { "code": "440000" } })
    );
    let anon = app.data_as(None, VIEWER, json!({})).await;
    assert_eq!(anon["viewer"]["authenticated"], false);

    let list = app.data("{ apiTokens { name role lastUsedAt } }", json!({})).await;
    let names: Vec<_> = list["apiTokens"].as_array().expect("tokens").iter().map(|t| t["name"].clone()).collect();
    assert_eq!(names, [json!("test-admin"), json!("guangdong-sync")]);
    assert!(!list["apiTokens"][1]["lastUsedAt"].is_null(), "use is recorded");
    // The secret is stored only as a hash.
    let stored = app.store.token_by_name("guangdong-sync").await.expect("lookup").expect("exists");
    assert_eq!(stored.role, AccessRole::ProvinceReporter);

    app.data("mutation($id: ID!) { revokeApiToken(id: $id) { revokedAt } }", json!({ "id": id })).await;
    let r = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&secret)
        .json(&json!({ "query": VIEWER }))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["www-authenticate"], "Bearer");
    let body: serde_json::Value = r.json().await.expect("json");
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
}

#[tokio::test]
async fn token_rules() {
    let app = TestApp::spawn().await;
    let reader = app.token("reader", AccessRole::Reader, None, None).await;
    let q = r"mutation($i: CreateApiTokenInput!) { createApiToken(input: $i) { secret } }";
    let ok = json!({ "i": { "name": "x", "role": "READER" } });
    assert_eq!(app.error_as(Some(&reader), q, ok.clone()).await.0, "FORBIDDEN");
    assert_eq!(app.error_as(None, q, ok.clone()).await.0, "UNAUTHENTICATED");
    for (input, code, field) in [
        (json!({ "name": "a", "role": "AGENCY_REPORTER" }), "BAD_USER_INPUT", Some("agency")),
        (json!({ "name": "a", "role": "PROVINCE_REPORTER", "provinceCode": "999999" }), "NOT_FOUND", Some("province")),
        (json!({ "name": "a", "role": "READER", "provinceCode": "440000" }), "BAD_USER_INPUT", Some("role")),
        (json!({ "name": " ", "role": "READER" }), "BAD_USER_INPUT", Some("name")),
        (json!({ "name": "test-admin", "role": "READER" }), "CONFLICT", None),
        (
            json!({ "name": "a", "role": "READER", "expiresAt": "2001-01-01T00:00:00Z" }),
            "BAD_USER_INPUT",
            Some("expiresAt"),
        ),
    ] {
        let (c, f) = app.error(q, json!({ "i": input.clone() })).await;
        assert_eq!(c, code, "{input}");
        if field.is_some() {
            assert_eq!(f.as_deref(), field, "{input}");
        }
    }
    assert_eq!(app.data("{ apiTokens { name } }", json!({})).await["apiTokens"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn bad_expired_and_malformed_tokens_are_401() {
    let app = TestApp::spawn().await;
    let expired_secret = workplan_api::auth::new_secret().expect("secret");
    app.store
        .create_token(NewToken {
            name: "old".into(),
            role: AccessRole::Reader,
            agency: None,
            province: None,
            secret_hash: workplan_domain::token::hash_secret(&expired_secret),
            expires_at: Some(chrono::Utc::now() - chrono::Duration::days(1)),
        })
        .await
        .expect("store");
    for header in [
        format!("Bearer {expired_secret}"),
        "Bearer wpt_0000".to_owned(),
        "Bearer nonsense".to_owned(),
        "Basic dXNlcjpwYXNz".to_owned(),
        "Bearer".to_owned(),
    ] {
        let r = app
            .client
            .post(app.url("/graphql"))
            .header("authorization", &header)
            .json(&json!({ "query": VIEWER }))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 401, "{header}");
    }
}

#[tokio::test]
async fn public_read_can_be_turned_off() {
    let db = workplan_tests::TestDb::create().await.expect("db");
    let config = workplan_api::config::ApiConfig { public_read: false, ..Default::default() };
    let app = TestApp::spawn_with(db, workplan_server::store_options(3), config).await;
    let r =
        app.client.post(app.url("/graphql")).json(&json!({ "query": "{ plan { id } }" })).send().await.expect("send");
    assert_eq!(r.status(), 401);
    let reader = app.token("reader", AccessRole::Reader, None, None).await;
    let d = app.data_as(Some(&reader), "{ plan { taskCount } }", json!({})).await;
    assert_eq!(d["plan"]["taskCount"], 106);
}
