//! Every list is a Relay connection with both `edges` and `nodes`.

use serde_json::json;
use workplan_domain::token::AccessRole;
use workplan_tests::TestApp;

#[tokio::test]
async fn every_connection_has_nodes_and_edges() {
    let app = TestApp::spawn().await;
    let d = app.data("{ __schema { types { name fields { name } } } }", json!({})).await;
    let types = d["__schema"]["types"].as_array().expect("types");
    let connections: Vec<_> =
        types.iter().filter(|t| t["name"].as_str().is_some_and(|n| n.ends_with("Connection"))).collect();
    assert!(connections.len() >= 4, "{connections:?}");
    for t in connections {
        let fields: Vec<&str> =
            t["fields"].as_array().expect("fields").iter().filter_map(|f| f["name"].as_str()).collect();
        for wanted in ["edges", "nodes", "pageInfo"] {
            assert!(fields.contains(&wanted), "{} lacks {wanted}", t["name"]);
        }
    }
}

#[tokio::test]
async fn the_change_feed_lists_nodes_like_its_edges() {
    let app = TestApp::spawn().await;
    let gd = app.token("gd", AccessRole::ProvinceReporter, None, Some("440000")).await;
    let submit = "mutation($i: SubmitProgressReportInput!) { submitProgressReport(input: $i) { report { id } } }";
    let mut ids = Vec::new();
    for task in [3, 4] {
        let i = json!({ "taskNumber": task, "period": "2016", "status": "ONGOING", "summary": "x" });
        let d = app.data_as(Some(&gd), submit, json!({ "i": i })).await;
        ids.push(d["submitProgressReport"]["report"]["id"].clone());
    }
    app.settle_feed().await;
    let feed = app
        .data_as(Some(&gd), "{ changes { nodes { kind reportId } edges { node { kind reportId } } } }", json!({}))
        .await;
    let nodes = feed["changes"]["nodes"].as_array().expect("nodes").clone();
    assert_eq!(
        json!(nodes),
        json!([{ "kind": "CREATED", "reportId": ids[0] }, { "kind": "CREATED", "reportId": ids[1] }])
    );
    let from_edges: Vec<_> =
        feed["changes"]["edges"].as_array().expect("edges").iter().map(|e| e["node"].clone()).collect();
    assert_eq!(nodes, from_edges);
}
