use serde_json::json;
use workplan_tests::TestApp;

#[tokio::test]
async fn every_node_type_round_trips() {
    let app = TestApp::spawn().await;
    let report = app
        .data(
            r#"mutation { submitProgressReport(input: { taskNumber: 1, reporter: { provinceCode: "110000" }, period: "2016", status: ONGOING, summary: "Convened." }) { report { id } } }"#,
            json!({}),
        )
        .await;
    let d = app
        .data(
            r#"{ plan { id } sections { id subsections { id } } task(number: 1) { id } agency(name: "SIPO") { id } province(code: "110000") { id } progressReports(first: 1) { nodes { id } } }"#,
            json!({}),
        )
        .await;
    let ids = [
        ("Plan", d["plan"]["id"].clone()),
        ("Section", d["sections"][0]["id"].clone()),
        ("Subsection", d["sections"][0]["subsections"][0]["id"].clone()),
        ("Task", d["task"]["id"].clone()),
        ("Agency", d["agency"]["id"].clone()),
        ("Province", d["province"]["id"].clone()),
        ("ProgressReport", report["submitProgressReport"]["report"]["id"].clone()),
    ];
    assert_eq!(ids[6].1, d["progressReports"]["nodes"][0]["id"]);
    for (typename, id) in &ids {
        let node = app.data("query($id: ID!) { node(id: $id) { __typename id } }", json!({ "id": id })).await;
        assert_eq!(node["node"]["__typename"], *typename);
        assert_eq!(node["node"]["id"], *id);
    }
    let all: Vec<_> = ids.iter().map(|(_, id)| id.clone()).collect();
    let mut with_gaps = all.clone();
    with_gaps.insert(2, json!("bm9wZTox"));
    with_gaps.push(json!("VGFzazo5OTk5"));
    let nodes =
        app.data("query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }", json!({ "ids": with_gaps })).await;
    let got = nodes["nodes"].as_array().expect("nodes");
    assert_eq!(got.len(), 9);
    assert!(got[2].is_null(), "an ID of no known kind resolves to null");
    assert!(got[8].is_null(), "a Task ID with no task resolves to null");
    assert_eq!(got[3]["id"], all[2]);
    assert_eq!(got[0]["__typename"], "Plan");
}

#[tokio::test]
async fn node_rejects_nothing_but_resolves_garbage_to_null() {
    let app = TestApp::spawn().await;
    for garbage in ["", "%%%", "VGFzazotMQ==", "VGFzazphYmM=", &"A".repeat(5000)] {
        let d = app.data("query($id: ID!) { node(id: $id) { id } }", json!({ "id": garbage })).await;
        assert!(d["node"].is_null(), "{garbage}");
    }
    let many: Vec<String> = (0..101).map(|i| format!("id{i}")).collect();
    assert_eq!(
        app.error("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", json!({ "ids": many })).await.0,
        "BAD_USER_INPUT"
    );
}
