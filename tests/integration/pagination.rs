use serde_json::{Value, json};
use workplan_tests::TestApp;

const Q: &str = "query($first: Int, $after: String, $last: Int, $before: String, $order: TaskOrder) {
  tasks(first: $first, after: $after, last: $last, before: $before, orderBy: $order) {
    totalCount
    edges { cursor node { number } }
    nodes { number }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  } }";

fn numbers(d: &Value) -> Vec<i64> {
    d["tasks"]["nodes"].as_array().expect("nodes").iter().filter_map(|n| n["number"].as_i64()).collect()
}

#[tokio::test]
async fn forward_walks_every_task_once() {
    let app = TestApp::spawn().await;
    let mut seen = Vec::new();
    let mut after = Value::Null;
    let mut pages = 0;
    loop {
        let d = app.data(Q, json!({ "first": 20, "after": after })).await;
        pages += 1;
        assert_eq!(d["tasks"]["totalCount"], 106);
        let info = &d["tasks"]["pageInfo"];
        assert_eq!(info["hasPreviousPage"], pages > 1);
        let edges = d["tasks"]["edges"].as_array().expect("edges");
        assert_eq!(info["startCursor"], edges[0]["cursor"]);
        assert_eq!(info["endCursor"], edges[edges.len() - 1]["cursor"]);
        seen.extend(numbers(&d));
        if info["hasNextPage"] == false {
            break;
        }
        after = info["endCursor"].clone();
        assert!(pages < 10, "runaway pagination");
    }
    assert_eq!(pages, 6);
    assert_eq!(seen, (1..=106).collect::<Vec<_>>());
}

#[tokio::test]
async fn backward_and_descending() {
    let app = TestApp::spawn().await;
    let d = app.data(Q, json!({ "last": 5 })).await;
    assert_eq!(numbers(&d), [102, 103, 104, 105, 106]);
    assert_eq!(d["tasks"]["pageInfo"]["hasPreviousPage"], true);
    assert_eq!(d["tasks"]["pageInfo"]["hasNextPage"], false);
    let before = d["tasks"]["pageInfo"]["startCursor"].clone();
    let d = app.data(Q, json!({ "last": 3, "before": before })).await;
    assert_eq!(numbers(&d), [99, 100, 101]);
    assert_eq!(d["tasks"]["pageInfo"]["hasNextPage"], true);

    let d = app.data(Q, json!({ "first": 3, "order": { "direction": "DESC" } })).await;
    assert_eq!(numbers(&d), [106, 105, 104]);
    let after = d["tasks"]["pageInfo"]["endCursor"].clone();
    let d = app.data(Q, json!({ "first": 3, "after": after, "order": { "direction": "DESC" } })).await;
    assert_eq!(numbers(&d), [103, 102, 101]);

    // A window between two cursors.
    let first = app.data(Q, json!({ "first": 10 })).await;
    let edges = first["tasks"]["edges"].as_array().expect("edges").clone();
    let d = app.data(Q, json!({ "first": 100, "after": edges[2]["cursor"], "before": edges[6]["cursor"] })).await;
    assert_eq!(numbers(&d), [4, 5, 6]);

    // The last page edge: exactly the rest.
    let d = app.data(Q, json!({ "first": 100, "after": edges[5]["cursor"] })).await;
    assert_eq!(numbers(&d).len(), 100);
    assert_eq!(d["tasks"]["pageInfo"]["hasNextPage"], false);
}

#[tokio::test]
async fn page_sizes_and_cursors_are_checked() {
    let app = TestApp::spawn().await;
    for (vars, field) in [
        (json!({ "first": 0 }), "first"),
        (json!({ "first": 201 }), "first"),
        (json!({ "first": -5 }), "first"),
        (json!({ "last": 0 }), "last"),
        (json!({ "last": 1000 }), "last"),
        (json!({ "first": 1, "last": 1 }), "last"),
        (json!({ "after": "not-a-cursor" }), "after"),
        (json!({ "before": "////" }), "before"),
    ] {
        assert_eq!(app.error(Q, vars.clone()).await, ("BAD_USER_INPUT".to_owned(), Some(field.to_owned())), "{vars}");
    }
    // A cursor from another list is refused.
    let agencies = app.data("{ agencies(first: 1) { pageInfo { endCursor } } }", json!({})).await;
    let foreign = agencies["agencies"]["pageInfo"]["endCursor"].clone();
    assert_eq!(app.error(Q, json!({ "after": foreign })).await.0, "BAD_USER_INPUT");
    // Defaults: 20.
    let d = app.data(Q, json!({})).await;
    assert_eq!(numbers(&d).len(), 20);
    let d = app.data(Q, json!({ "first": 100 })).await;
    assert_eq!(numbers(&d).len(), 100);
}
