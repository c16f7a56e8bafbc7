use serde_json::json;
use workplan_domain::ports::PlanReader;
use workplan_tests::TestApp;

const AGENCY: &str = "query($id: ID, $name: String) { agency(id: $id, name: $name) { id name nameZh abbreviation aliases taskCount leadTaskCount } }";

#[tokio::test]
async fn agency_by_name_alias_abbreviation_and_id() {
    let app = TestApp::spawn().await;
    let by_name = app.data(AGENCY, json!({ "name": "State Intellectual Property Office" })).await;
    let sipo = &by_name["agency"];
    assert_eq!(sipo["nameZh"], "国家知识产权局");
    assert_eq!(sipo["abbreviation"], "SIPO");
    assert_eq!(sipo["taskCount"], 93);
    assert_eq!(sipo["leadTaskCount"], 51);
    let by_abbr = app.data(AGENCY, json!({ "name": "sipo" })).await;
    assert_eq!(by_abbr["agency"]["id"], sipo["id"]);
    let by_id = app.data(AGENCY, json!({ "id": sipo["id"] })).await;
    assert_eq!(by_id["agency"]["name"], sipo["name"]);

    let alias = app
        .data(AGENCY, json!({ "name": "Central Committee Office for the Comprehensive Management of Public Security" }))
        .await;
    assert_eq!(
        alias["agency"]["name"],
        "Office of the Central Committee for the Comprehensive Management of Public Security"
    );
    assert_eq!(
        alias["agency"]["aliases"],
        json!(["Central Committee Office for the Comprehensive Management of Public Security"])
    );
    assert_eq!(alias["agency"]["taskCount"], 2);

    let none = app.data(AGENCY, json!({ "name": "Ministry of Magic" })).await;
    assert!(none["agency"].is_null());
    assert_eq!(app.error(AGENCY, json!({})).await.0, "BAD_USER_INPUT");
    assert_eq!(app.error(AGENCY, json!({ "id": sipo["id"], "name": "SIPO" })).await.0, "BAD_USER_INPUT");
    assert_eq!(app.error(AGENCY, json!({ "id": "garbage" })).await, ("BAD_USER_INPUT".into(), Some("id".into())));
}

#[tokio::test]
async fn agency_responsibilities_by_role() {
    let app = TestApp::spawn().await;
    let d = app
        .data(
            r#"{ agency(name: "MOFCOM") { leads: responsibilities(role: LEAD) { role position task { number } }
                 all: responsibilities { task { number } } } }"#,
            json!({}),
        )
        .await;
    let leads: Vec<i64> =
        d["agency"]["leads"].as_array().expect("leads").iter().filter_map(|r| r["task"]["number"].as_i64()).collect();
    assert_eq!(leads, [63, 79, 80, 83, 84, 86, 88, 91, 92]);
    assert!(d["agency"]["leads"].as_array().expect("leads").iter().all(|r| r["role"] == "LEAD"));
    let nested =
        app.data(r#"{ agency(name: "MOFCOM") { responsibilities(role: LEAD) { task { number } } } }"#, json!({})).await;
    assert_eq!(nested["agency"]["responsibilities"].as_array().map(Vec::len), Some(9));
    let all = d["agency"]["all"].as_array().expect("all");
    assert_eq!(all.len(), 27);
    let counts = app.data(r#"{ agency(name: "MOFCOM") { taskCount leadTaskCount } }"#, json!({})).await;
    assert_eq!(counts["agency"]["taskCount"], all.len());
}

#[tokio::test]
async fn agency_list_paging_search_and_role() {
    let app = TestApp::spawn().await;
    let q =
        "query($f: AgencyFilter, $first: Int, $after: String) { agencies(filter: $f, first: $first, after: $after) {
        totalCount nodes { name } pageInfo { hasNextPage endCursor } } }";
    let page1 = app.data(q, json!({ "first": 30 })).await;
    assert_eq!(page1["agencies"]["totalCount"], 42);
    let after = page1["agencies"]["pageInfo"]["endCursor"].clone();
    let page2 = app.data(q, json!({ "first": 30, "after": after })).await;
    let mut names: Vec<String> = page1["agencies"]["nodes"]
        .as_array()
        .into_iter()
        .chain(page2["agencies"]["nodes"].as_array())
        .flatten()
        .filter_map(|n| n["name"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(names.len(), 42);
    let sorted = {
        let mut s = names.clone();
        s.sort();
        s
    };
    assert_eq!(names, sorted, "agencies come sorted by name");
    names.dedup();
    assert_eq!(names.len(), 42);
    assert_eq!(page2["agencies"]["pageInfo"]["hasNextPage"], false);

    let d = app.data(q, json!({ "f": { "search": "ministry of" } })).await;
    assert_eq!(d["agencies"]["totalCount"], 12);
    let d = app.data(q, json!({ "f": { "search": "海关" } })).await;
    assert_eq!(d["agencies"]["nodes"], json!([{ "name": "General Administration of Customs" }]));
    let d = app.data(q, json!({ "f": { "search": "central committee office" } })).await;
    assert_eq!(d["agencies"]["totalCount"], 1, "matches through an alias");
    let d = app.data(q, json!({ "f": { "role": "LEAD" } })).await;
    assert_eq!(d["agencies"]["totalCount"], 28, "28 agencies lead at least one task");
}

#[tokio::test]
async fn agency_by_chinese_name_and_every_official_name_in_the_registry() {
    let app = TestApp::spawn().await;
    let registry: serde_json::Value =
        serde_json::from_str(include_str!("../../seeds/agencies.json")).expect("registry");
    let entries = registry["agencies"].as_array().expect("agencies");
    for entry in entries {
        let name = entry["name"].clone();
        let spellings = entry["knownSpellings"].as_array().cloned().unwrap_or_default();
        for typed in std::iter::once(entry["nameZh"].clone()).chain(spellings) {
            let d = app.data(AGENCY, json!({ "name": typed })).await;
            assert_eq!(d["agency"]["name"], name, "{typed}");
        }
    }
    let aqsiq = "General Administration of Quality Supervision, Inspection and Quarantine";
    let d = app.data(AGENCY, json!({ "name": aqsiq.to_uppercase() })).await;
    assert_eq!(d["agency"]["abbreviation"], "AQSIQ");
    assert!(d["agency"]["aliases"].as_array().expect("aliases").contains(&json!(aqsiq)));
    let lao = app.data(AGENCY, json!({ "name": "Legislative Affairs Office of the State Council" })).await;
    assert_eq!(lao["agency"]["name"], "Legislative Affairs Office");
}

#[tokio::test]
async fn a_database_loaded_before_the_official_names_gets_them_at_the_next_start() {
    use sea_orm::ConnectionTrait;
    let app = TestApp::spawn().await;
    let db = sea_orm::Database::connect(app.db.url()).await.expect("connect");
    db.execute_unprepared("DELETE FROM agency_aliases").await.expect("forget every alias");
    let sql = app.store.sql_plan();
    let official = "Legislative Affairs Office of the State Council";
    assert!(sql.agency_by_name(official).await.expect("read").is_none(), "as an older database answers");

    // The next start adds the missing aliases; the running server hears of it and reloads its
    // plan snapshot (on PostgreSQL by notification, on SQLite at its next fingerprint check).
    let options = workplan_server::store_options(2);
    workplan_server::prepare_database(app.db.url(), &options).await.expect("the next start");
    assert_eq!(sql.agency_by_name(official).await.expect("read").expect("found").name, "Legislative Affairs Office");
    let official = json!({ "name": official });
    let deadline = std::time::Instant::now() + workplan_server::PLAN_CHECK_EVERY * 2;
    while app.data(AGENCY, official.clone()).await["agency"].is_null() {
        assert!(std::time::Instant::now() < deadline, "the server never reloaded its plan");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(app.data(AGENCY, official.clone()).await["agency"]["name"], "Legislative Affairs Office");
    let alias = json!({ "name": "Central Committee Office for the Comprehensive Management of Public Security" });
    assert!(!app.data(AGENCY, alias).await["agency"].is_null());
    let count = "SELECT COUNT(*) AS n FROM agency_aliases";
    let n = |row: Option<sea_orm::QueryResult>| row.and_then(|r| r.try_get_by_index::<i64>(0).ok());
    let before =
        n(db.query_one_raw(sea_orm::Statement::from_string(db.get_database_backend(), count)).await.expect("n"));
    workplan_server::prepare_database(app.db.url(), &options).await.expect("yet another start");
    let after =
        n(db.query_one_raw(sea_orm::Statement::from_string(db.get_database_backend(), count)).await.expect("n"));
    assert_eq!(before, after, "starting again adds nothing");
    assert_eq!(before, Some(3));
}
