//! Derived status in the scenario: JOINT and DIVIDED tasks, a missing part, a reopened part whose
//! accepted version counts, a CONSOLIDATED report in the basis, progress carried forward, and
//! the default period.

use serde_json::{Value, json};

use super::World;

const PROGRESS: &str = "query($n: Int!, $p: String) { task(number: $n) { progress(period: $p) {
  period status percentComplete health explanation narrative
  basis { id state status percentComplete kind }
  missing { __typename ... on Agency { abbreviation } } } } }";

async fn progress(w: &World, token: Option<&str>, task: i32, period: Option<&str>) -> Value {
    w.app.data_as(token, PROGRESS, json!({ "n": task, "p": period })).await["task"]["progress"].clone()
}

fn ids(list: &Value) -> Vec<Value> {
    list.as_array().expect("list").iter().map(|r| r["id"].clone()).collect()
}

#[tokio::test]
async fn a_joint_task_is_its_least_advanced_lead() {
    let w = World::build().await;
    let p = progress(&w, None, 33, Some("2016-Q3")).await;
    assert_eq!((p["status"].as_str(), p["percentComplete"].as_f64()), (Some("IN_PROGRESS"), Some(70.0)));
    assert_eq!(ids(&p["basis"]), vec![w.sipo_q3.id.clone(), w.spc_q3.id.clone()]);
    assert_eq!(p["missing"], json!([]));
    assert_eq!(p["narrative"], Value::Null, "a JOINT task has no consolidated report");
    assert_eq!(
        p["explanation"],
        format!(
            "JOINT: 2 of 2 leads reported (reports {}, {}); mean of 40, 100 = 70 %; status from the least advanced lead",
            w.sipo_q3.number(),
            w.spc_q3.number()
        )
    );
    // Guangdong's accepted report never changes the task's progress.
    assert!(!ids(&p["basis"]).contains(&w.gd_33.id));
}

#[tokio::test]
async fn a_divided_task_counts_every_part_and_shows_its_consolidated_report() {
    let w = World::build().await;
    let p = progress(&w, Some(&w.sup), 37, Some("2016-Q3")).await;
    assert_eq!(p["status"], "IN_PROGRESS", "least advanced is SAIC's missing part, but a part has started");
    let percent = p["percentComplete"].as_f64().expect("percent");
    assert!((percent - 50.0 / 3.0).abs() < 1e-9, "{percent}");
    assert_eq!(ids(&p["basis"]), vec![w.ndrc_q3.id.clone(), w.mofcom_q3.id.clone(), w.ndrc_consolidated.id.clone()]);
    assert_eq!(p["missing"], json!([{ "__typename": "Agency", "abbreviation": "SAIC" }]));
    assert_eq!(
        p["explanation"],
        format!(
            "DIVIDED: 2 of 3 parts reported (reports {}, {}); mean of 50, 0, 0 = 16.7 %; status IN_PROGRESS: a part \
             has started; narrative and health from the lead's consolidated report {}",
            w.ndrc_q3.number(),
            w.mofcom_q3.number(),
            w.ndrc_consolidated.number()
        )
    );
    // MOFCOM's report is being corrected (IN_PROGRESS 30, not yet accepted): the basis shows the
    // accepted version, NOT_STARTED, even to a supervisor.
    let mofcom = &p["basis"][1];
    assert_eq!((mofcom["state"].as_str(), mofcom["status"].as_str()), (Some("ACCEPTED"), Some("NOT_STARTED")));
    assert_eq!(p["basis"][2]["kind"], "CONSOLIDATED");
    assert_eq!(p["narrative"], "task 37 as a whole", "the consolidated report's summary");
}

#[tokio::test]
async fn progress_carries_forward_and_defaults_to_the_last_due_period() {
    let w = World::build().await;
    let q3 = progress(&w, None, 37, Some("2016-Q3")).await;
    let q4 = progress(&w, None, 37, Some("2016-Q4")).await;
    assert_eq!(q4["period"], "2016-Q4");
    assert_eq!(
        (&q4["status"], &q4["percentComplete"], ids(&q4["basis"])),
        (&q3["status"], &q3["percentComplete"], ids(&q3["basis"]))
    );
    let default = progress(&w, None, 37, None).await;
    assert_eq!(default["period"], "2016-Q3", "the latest scheduled period whose due date has passed");
    // Before any due date has passed, the earliest scheduled period.
    w.clock.set(super::cst(2016, 9, 2, 0));
    assert_eq!(progress(&w, None, 37, None).await["period"], "2016-Q3");
    w.clock.set(super::cst(2017, 1, 17, 0));
    assert_eq!(progress(&w, None, 37, None).await["period"], "2016-Q4");
    // An earlier period than any report: nothing accepted yet.
    let q2 = progress(&w, None, 37, Some("2016-Q2")).await;
    assert_eq!((q2["status"].as_str(), q2["percentComplete"].as_f64()), (Some("NOT_REPORTED"), Some(0.0)));
}

#[tokio::test]
async fn one_part_of_a_task() {
    let w = World::build().await;
    let q = "{ task(number: 37) { responsibilities { agency { abbreviation }
      progress(period: \"2016-Q4\") { status percentComplete explanation basis { id } } } } }";
    let d = w.app.data_as(None, q, json!({})).await;
    let parts = d["task"]["responsibilities"].as_array().expect("parts").clone();
    let mofcom = parts.iter().find(|p| p["agency"]["abbreviation"] == "MOFCOM").expect("MOFCOM");
    let p = &mofcom["progress"];
    assert_eq!((p["status"].as_str(), p["percentComplete"].as_f64()), (Some("NOT_STARTED"), Some(0.0)));
    assert_eq!(
        p["explanation"],
        format!(
            "PART: latest accepted report up to 2016-Q4 is report {} for 2016-Q3: NOT_STARTED, 0 %",
            w.mofcom_q3.number()
        )
    );
    let saic = parts.iter().find(|p| p["agency"]["abbreviation"] == "SAIC").expect("SAIC");
    assert_eq!(saic["progress"]["status"], "NOT_REPORTED");
    assert_eq!(saic["progress"]["explanation"], "PART: no accepted report up to 2016-Q4");
}
