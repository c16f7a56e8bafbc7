use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use workplan_domain::token::AccessRole;
use workplan_tests::TestApp;

const SYNC: &str = "mutation($i: SyncProgressReportsInput!) { syncProgressReports(input: $i) {
  dryRun created updated unchanged rejected
  results { index clientReportId outcome errorCode message report { id version state clientReportId } } } }";
const FEED: &str = "query($after: String, $first: Int) { changes(after: $after, first: $first) {
  edges { cursor node { kind reportId version } } pageInfo { hasNextPage endCursor } } }";

fn item(id: &str, task: i32, summary: &str) -> Value {
    item_at(id, task, "2016-Q4", summary)
}

fn item_at(id: &str, task: i32, period: &str, summary: &str) -> Value {
    json!({ "clientReportId": id, "taskNumber": task, "period": period, "status": "IN_PROGRESS", "percentComplete": 50, "summary": summary })
}

/// The `i`-th month from January 2016: distinct periods, so that items on one task never share
/// a key (one live report per reporter, task, period and kind).
fn month(i: usize) -> String {
    format!("{}-{:02}", 2016 + i / 12, i % 12 + 1)
}

#[tokio::test]
async fn a_batch_creates_then_changes_nothing_then_updates_and_respects_locks() {
    let app = TestApp::spawn().await;
    let gd = app.token("gd", AccessRole::ProvinceReporter, None, Some("440000")).await;
    let batch = json!({ "i": { "reports": [item("a", 1, "one"), item("b", 2, "two"), item("c", 3, "three")] } });
    let first = app.data_as(Some(&gd), SYNC, batch.clone()).await["syncProgressReports"].clone();
    assert_eq!((first["created"].as_i64(), first["unchanged"].as_i64()), (Some(3), Some(0)));
    let again = app.data_as(Some(&gd), SYNC, batch.clone()).await["syncProgressReports"].clone();
    assert_eq!((again["created"].as_i64(), again["unchanged"].as_i64()), (Some(0), Some(3)));
    assert!(again["results"].as_array().expect("r").iter().all(|r| r["report"]["version"] == 1));

    let b_id = first["results"][1]["report"]["id"].clone();
    app.data(
        "mutation($id: ID!) { reviewProgressReport(id: $id, expectedVersion: 1, decision: ACCEPT) { report { id } } }",
        json!({ "id": b_id }),
    )
    .await;
    let changed = json!({ "i": { "reports": [item("a", 1, "one, revised"), item("b", 2, "two, revised"), item("c", 3, "three")] } });
    let r = app.data_as(Some(&gd), SYNC, changed).await["syncProgressReports"].clone();
    assert_eq!((r["updated"].as_i64(), r["rejected"].as_i64(), r["unchanged"].as_i64()), (Some(1), Some(1), Some(1)));
    assert_eq!(r["results"][0]["outcome"], "UPDATED");
    assert_eq!(r["results"][0]["report"]["version"], 2);
    assert_eq!(r["results"][1]["outcome"], "REJECTED");
    assert_eq!(r["results"][1]["errorCode"], "LOCKED");
    assert_eq!(r["results"][1]["report"]["version"], 2, "the accepted report is untouched (accepting made it 2)");
    let total = app.data("{ progressReports { totalCount } }", json!({})).await;
    assert_eq!(total["progressReports"]["totalCount"], 3, "no duplicates");
}

#[tokio::test]
async fn invalid_items_are_rejected_one_by_one_and_valid_ones_apply() {
    let app = TestApp::spawn().await;
    let mofcom = app.token("mofcom", AccessRole::AgencyReporter, Some("MOFCOM"), None).await;
    let mut bad_period = item("p", 79, "x");
    bad_period["period"] = json!("2016-Q9");
    let reports = json!([
        item("ok-1", 79, "fine"),
        bad_period,
        item("unknown-task", 999, "x"),
        item("not-ours", 1, "MOFCOM is not responsible for task 1"),
        item(&"x".repeat(256), 79, "x"),
        item("ok-1", 80, "duplicate id in one batch"),
        item("", 79, "x"),
        item("ok-2", 80, "also fine"),
    ]);
    let dry = app.data_as(Some(&mofcom), SYNC, json!({ "i": { "reports": reports, "dryRun": true } })).await["syncProgressReports"].clone();
    assert_eq!(dry["dryRun"], true);
    assert_eq!((dry["created"].as_i64(), dry["rejected"].as_i64()), (Some(2), Some(6)));
    assert_eq!(
        app.data("{ progressReports { totalCount } changes { edges { cursor } } }", json!({})).await,
        json!({ "progressReports": { "totalCount": 0 }, "changes": { "edges": [] } }),
        "a dry run writes nothing"
    );

    let r =
        app.data_as(Some(&mofcom), SYNC, json!({ "i": { "reports": reports } })).await["syncProgressReports"].clone();
    let outcomes: Vec<(&str, &str)> = r["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|x| (x["outcome"].as_str().unwrap_or_default(), x["errorCode"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("CREATED", ""),
            ("REJECTED", "BAD_USER_INPUT"),
            ("REJECTED", "NOT_FOUND"),
            ("REJECTED", "FORBIDDEN"),
            ("REJECTED", "BAD_USER_INPUT"),
            ("REJECTED", "BAD_USER_INPUT"),
            ("REJECTED", "BAD_USER_INPUT"),
            ("CREATED", ""),
        ]
    );
    assert!(r["results"][1]["message"].as_str().is_some_and(|m| m.starts_with("period")), "{}", r["results"][1]);
    assert!(r["results"][4]["message"].as_str().is_some_and(|m| m.starts_with("clientReportId")));
    let indexes: Vec<i64> = r["results"].as_array().expect("r").iter().filter_map(|x| x["index"].as_i64()).collect();
    assert_eq!(indexes, (0..8).collect::<Vec<_>>());
}

#[tokio::test]
async fn batch_limits_and_callers() {
    let app = TestApp::spawn().await;
    let gd = app.token("gd", AccessRole::ProvinceReporter, None, Some("440000")).await;
    let sup = app.token("sup", AccessRole::Supervisor, None, None).await;
    let big: Vec<Value> = (0..501).map(|i| item(&format!("i{i}"), 1, "x")).collect();
    assert_eq!(
        app.error_as(Some(&gd), SYNC, json!({ "i": { "reports": big } })).await,
        ("BAD_USER_INPUT".into(), Some("reports".into()))
    );
    let one = json!({ "i": { "reports": [item("a", 1, "x")] } });
    assert_eq!(app.error_as(None, SYNC, one.clone()).await.0, "UNAUTHENTICATED");
    assert_eq!(app.error_as(Some(&sup), SYNC, one.clone()).await.0, "FORBIDDEN");
    let other_province = json!({ "i": { "reports": [item("a", 1, "x")], "reporter": { "provinceCode": "110000" } } });
    assert_eq!(app.error_as(Some(&gd), SYNC, other_province).await.0, "FORBIDDEN");
    let own_province =
        json!({ "i": { "reports": [item_at("own", 1, "2016", "x")], "reporter": { "provinceCode": "440000" } } });
    assert_eq!(app.data_as(Some(&gd), SYNC, own_province).await["syncProgressReports"]["created"], 1);
    assert_eq!(app.error(SYNC, one.clone()).await, ("BAD_USER_INPUT".into(), Some("reporter".into())));
    let as_admin = json!({ "i": { "reports": [item("a", 1, "x")], "reporter": { "provinceCode": "110000" } } });
    let d = app.data(SYNC, as_admin).await;
    assert_eq!(d["syncProgressReports"]["created"], 1);
    let full: Vec<Value> = (0..500).map(|i| item_at(&format!("i{i}"), 1 + (i as i32 % 106), &month(i), "x")).collect();
    let d = app.data_as(Some(&gd), SYNC, json!({ "i": { "reports": full } })).await;
    assert_eq!(d["syncProgressReports"]["created"], 500);
}

/// A deterministic jitter: a few milliseconds that differ by client and round.
fn jitter(client: u64, round: u64) -> Duration {
    Duration::from_millis((client.wrapping_mul(7919) ^ round.wrapping_mul(104_729)) % 25)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_clients_resending_batches_never_duplicate() {
    let app = Arc::new(TestApp::spawn().await);
    let sipo_tasks: Vec<i64> = {
        let d = app.data(r#"{ agency(name: "SIPO") { responsibilities { task { number } } } }"#, json!({})).await;
        d["agency"]["responsibilities"]
            .as_array()
            .expect("r")
            .iter()
            .filter_map(|r| r["task"]["number"].as_i64())
            .collect()
    };
    let mofcom_tasks: Vec<i64> = {
        let d = app.data(r#"{ agency(name: "MOFCOM") { responsibilities { task { number } } } }"#, json!({})).await;
        d["agency"]["responsibilities"]
            .as_array()
            .expect("r")
            .iter()
            .filter_map(|r| r["task"]["number"].as_i64())
            .collect()
    };
    let reporters = [
        (
            "gd",
            app.token("gd", AccessRole::ProvinceReporter, None, Some("440000")).await,
            (1..=106).collect::<Vec<i64>>(),
        ),
        ("bj", app.token("bj", AccessRole::ProvinceReporter, None, Some("110000")).await, (1..=106).collect()),
        ("sipo", app.token("sipo", AccessRole::AgencyReporter, Some("SIPO"), None).await, sipo_tasks),
        ("mofcom", app.token("mofcom", AccessRole::AgencyReporter, Some("MOFCOM"), None).await, mofcom_tasks),
    ];
    let mut clients = tokio::task::JoinSet::new();
    for c in 0..20u64 {
        let (name, token, tasks) = reporters[(c % 4) as usize].clone();
        let batch: Vec<Value> = (0..50)
            .map(|i| {
                item_at(
                    &format!("{name}-{i}"),
                    i32::try_from(tasks[i % tasks.len()]).unwrap_or(1),
                    &month(i),
                    &format!("{name} report {i}"),
                )
            })
            .collect();
        let app = app.clone();
        clients.spawn(async move {
            let mut created = 0;
            for round in 0..3u64 {
                tokio::time::sleep(jitter(c, round)).await;
                let d = app.data_as(Some(&token), SYNC, json!({ "i": { "reports": batch } })).await;
                let s = &d["syncProgressReports"];
                assert_eq!(s["rejected"], 0, "{s}");
                assert_eq!(s["updated"], 0, "identical re-sends never update");
                created += s["created"].as_i64().unwrap_or(0);
            }
            (name, created)
        });
    }
    let mut created: HashMap<&str, i64> = HashMap::new();
    while let Some(done) = clients.join_next().await {
        let (name, n) = done.expect("client");
        *created.entry(name).or_default() += n;
    }
    assert_eq!(created.values().copied().collect::<BTreeSet<_>>(), BTreeSet::from([50]), "{created:?}");

    // Exactly the expected reports, each at version 1.
    let mut reports = Vec::new();
    let mut after = Value::Null;
    loop {
        let d = app.data("query($a: String) { progressReports(first: 100, after: $a) { nodes { clientReportId version } pageInfo { hasNextPage endCursor } } }", json!({ "a": after })).await;
        reports.extend(d["progressReports"]["nodes"].as_array().expect("n").clone());
        if d["progressReports"]["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = d["progressReports"]["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(reports.len(), 200);
    assert!(reports.iter().all(|r| r["version"] == 1));
    let ids: BTreeSet<&str> = reports.iter().filter_map(|r| r["clientReportId"].as_str()).collect();
    assert_eq!(ids.len(), 200);

    // The change feed holds each creation exactly once.
    let feed = drain(&app, None, 200).await;
    assert_eq!(feed.len(), 200);
    assert!(feed.iter().all(|(_, kind, _)| kind == "CREATED"));
    assert_eq!(feed.iter().map(|(_, _, r)| r.clone()).collect::<BTreeSet<_>>().len(), 200);
}

/// Reads the whole feed from `after`, `page` at a time, as the admin.
async fn drain(app: &TestApp, after: Option<String>, page: i64) -> Vec<(String, String, String)> {
    app.settle_feed().await;
    let mut out = Vec::new();
    let mut after = after.map_or(Value::Null, Value::from);
    loop {
        let d = app.data(FEED, json!({ "after": after, "first": page })).await;
        for e in d["changes"]["edges"].as_array().expect("edges") {
            out.push((
                e["cursor"].as_str().unwrap_or_default().to_owned(),
                e["node"]["kind"].as_str().unwrap_or_default().to_owned(),
                e["node"]["reportId"].as_str().unwrap_or_default().to_owned(),
            ));
        }
        after = d["changes"]["pageInfo"]["endCursor"].clone();
        if d["changes"]["pageInfo"]["hasNextPage"] == false {
            return out;
        }
    }
}

/// A change's place in the feed, from its cursor (base64 of "change|<txn>:<id>").
fn position(cursor: &str) -> (i64, i64) {
    use base64::Engine;
    let text = base64::engine::general_purpose::STANDARD.decode(cursor).expect("base64");
    let text = String::from_utf8(text).expect("utf-8");
    let (txn, id) = text.strip_prefix("change|").and_then(|key| key.split_once(':')).expect("change|txn:id");
    (txn.parse().expect("txn"), id.parse().expect("id"))
}

/// Writers on many connections — single writes (one change each) and batches (several changes
/// in one transaction), committing in whatever order they finish — while a poller walks the
/// feed a few changes at a time: it sees every change once, none skipped, in the order a reader
/// after them all sees too.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_poller_sees_every_change_exactly_once_while_writers_commit() {
    const SINGLE: usize = 8;
    const BATCHING: usize = 4;
    const ROUNDS: usize = 12;
    const EXPECTED: usize = SINGLE * ROUNDS * 2 + BATCHING * ROUNDS * 3;
    let app = Arc::new(TestApp::spawn_pooled(16).await);
    let codes = [
        "110000", "120000", "130000", "140000", "150000", "210000", "220000", "230000", "310000", "320000", "330000",
        "340000",
    ];
    let mut writers = tokio::task::JoinSet::new();
    for (w, code) in codes.into_iter().enumerate() {
        let token = app.token(&format!("w{w}"), AccessRole::ProvinceReporter, None, Some(code)).await;
        let app = app.clone();
        writers.spawn(async move {
            for i in 0..ROUNDS {
                tokio::time::sleep(jitter(w as u64, i as u64) / 5).await;
                if w < SINGLE {
                    let d = app
                        .data_as(Some(&token), "mutation($i: SubmitProgressReportInput!) { submitProgressReport(input: $i) { report { id } } }",
                            json!({ "i": { "taskNumber": 1 + (i as i32 % 106), "period": "2017", "status": "ONGOING", "summary": format!("w{w} {i}") } }))
                        .await;
                    let id = d["submitProgressReport"]["report"]["id"].clone();
                    app.data_as(Some(&token), "mutation($id: ID!) { updateProgressReport(id: $id, expectedVersion: 1, patch: { summary: \"edited\" }) { report { id } } }", json!({ "id": id }))
                        .await;
                } else {
                    let batch: Vec<Value> =
                        (0..3).map(|n| item_at(&format!("w{w}-{i}-{n}"), 1 + (i * 3 + n) as i32, "2018", "batch")).collect();
                    let d = app.data_as(Some(&token), SYNC, json!({ "i": { "reports": batch } })).await;
                    assert_eq!(d["syncProgressReports"]["created"], 3, "{d}");
                }
            }
        });
    }
    // Poll while they write, a few changes at a time, until every change has come (or a
    // minute has passed: then one was skipped).
    let poller = {
        let app = app.clone();
        tokio::spawn(async move {
            let mut seen: Vec<String> = Vec::new();
            let mut cursor = Value::Null;
            let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
            while seen.len() < EXPECTED && tokio::time::Instant::now() < deadline {
                let d = app.data(FEED, json!({ "after": cursor, "first": 7 })).await;
                let edges = d["changes"]["edges"].as_array().expect("edges").clone();
                seen.extend(edges.iter().filter_map(|e| e["cursor"].as_str().map(str::to_owned)));
                cursor = d["changes"]["pageInfo"]["endCursor"].clone();
                if edges.is_empty() {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
            seen
        })
    };
    while let Some(done) = writers.join_next().await {
        done.expect("writer");
    }
    let seen = poller.await.expect("poller");
    let all: Vec<String> = drain(&app, None, 500).await.into_iter().map(|(c, _, _)| c).collect();
    assert_eq!(all.len(), EXPECTED);
    assert_eq!(seen.len(), EXPECTED, "the poller saw every change, once");
    assert_eq!(seen, all, "in the order a reader after them all sees");
    let positions: Vec<(i64, i64)> = all.iter().map(|c| position(c)).collect();
    assert!(positions.windows(2).all(|p| p[0] < p[1]), "cursors only ever move forward: {positions:?}");
}
