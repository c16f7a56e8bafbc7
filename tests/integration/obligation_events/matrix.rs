//! A submitted report moves its cell (anonymous subscribers see the report once accepted), and
//! who may subscribe to what.

use std::time::Duration;

use serde_json::json;
use workplan_domain::token::AccessRole;

use super::*;

#[tokio::test]
async fn a_submitted_report_moves_its_cell_and_anonymous_subscribers_see_the_report_only_once_accepted() {
    let (app, _clock) = spawn().await;
    schedule_small_period(&app).await;
    let gd = app.token("gd", AccessRole::ProvinceReporter, None, Some("440000")).await;
    let addr = app.addr.to_string();
    let own = json!({ "p": "2016-Q4", "f": { "provinceCode": "440000" } });
    let mut reporter = open(&addr, Some(&gd)).await;
    subscribe(&mut reporter, "cell", CHANGED, own.clone()).await;
    let mut anonymous = open(&addr, None).await;
    subscribe(&mut anonymous, "cell", CHANGED, own).await;
    settle().await;

    let input = json!({ "taskNumber": 1, "reporter": { "provinceCode": "440000" }, "period": "2016-Q4",
                        "status": "IN_PROGRESS", "percentComplete": 10, "summary": "Filed." });
    let filed = app.data_as(Some(&gd), SUBMIT, json!({ "i": input })).await;
    let report = &filed["submitProgressReport"]["report"];

    let seen = collect(&mut reporter, "cell", "obligationChanged", 1, Duration::from_secs(10)).await;
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!((seen[0]["state"].as_str(), seen[0]["previousState"].as_str()), (Some("SUBMITTED"), Some("NOT_DUE")));
    assert_eq!(seen[0]["obligation"]["task"]["number"], 1);
    assert_eq!(seen[0]["obligation"]["report"]["state"], "SUBMITTED", "a reporter sees its own report");
    let public = collect(&mut anonymous, "cell", "obligationChanged", 1, Duration::from_secs(10)).await;
    assert_eq!(public.len(), 1, "{public:?}");
    assert_eq!(public[0]["state"], "SUBMITTED", "the matrix's states are public");
    assert!(public[0]["obligation"]["report"].is_null(), "a report not accepted is not shown: {public:?}");

    app.data(REVIEW, json!({ "id": report["id"], "v": report["version"] })).await;
    let public = collect(&mut anonymous, "cell", "obligationChanged", 1, Duration::from_secs(10)).await;
    assert_eq!(public.len(), 1, "{public:?}");
    assert_eq!(
        (public[0]["state"].as_str(), public[0]["previousState"].as_str()),
        (Some("ACCEPTED"), Some("SUBMITTED"))
    );
    assert_eq!(public[0]["obligation"]["report"]["state"], "ACCEPTED");
    let seen = collect(&mut reporter, "cell", "obligationChanged", 1, Duration::from_secs(10)).await;
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0]["state"], "ACCEPTED");

    // An exemption moves a cell too.
    let input = json!({ "period": "2016-Q4", "taskNumbers": [1], "provinceCodes": ["440000"], "reason": "test" });
    app.data(EXEMPT, json!({ "i": input })).await;
    let seen = collect(&mut reporter, "cell", "obligationChanged", 1, Duration::from_secs(10)).await;
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!((seen[0]["state"].as_str(), seen[0]["previousState"].as_str()), (Some("EXEMPT"), Some("ACCEPTED")));
}

#[tokio::test]
async fn who_may_subscribe_to_what() {
    let (app, _clock) = spawn().await;
    schedule_small_period(&app).await;
    let reader = app.token("reader", AccessRole::Reader, None, None).await;
    let addr = app.addr.to_string();

    let mut anonymous = open(&addr, None).await;
    assert_eq!(refusal(&mut anonymous, "1", DUE_SOON, json!({})).await, "UNAUTHENTICATED");
    let mut ws = open(&addr, Some(&reader)).await;
    assert_eq!(refusal(&mut ws, "1", DUE_SOON, json!({})).await, "FORBIDDEN");
    assert_eq!(refusal(&mut ws, "2", CHANGED, json!({ "p": "2016-Q5" })).await, "BAD_USER_INPUT");
    assert_eq!(refusal(&mut ws, "3", CHANGED, json!({ "p": "2016-Q3" })).await, "NOT_FOUND");
    let numeral = json!({ "p": "2016-Q4", "f": { "sectionNumeral": "q" } });
    assert_eq!(refusal(&mut ws, "4", CHANGED, numeral).await, "BAD_USER_INPUT");
}
