//! Rollups and scorecards of the scenario, computed by hand.

use serde_json::{Value, json};

use super::World;

const ROLLUP: &str = "query($p: String!, $by: RollupDimension!) { rollup(period: $p, by: $by) {
  group { __typename ... on Section { numeral } ... on Agency { abbreviation } ... on Province { code } }
  role tasksByStatus { status count } obligationsByState { state count }
  meanPercentComplete onTimeRate pendingReview } }";

fn pairs(list: &Value, key: &str) -> Vec<(String, i64)> {
    list.as_array()
        .expect("list")
        .iter()
        .map(|c| (c[key].as_str().expect("name").to_owned(), c["count"].as_i64().expect("count")))
        .filter(|(_, n)| *n > 0)
        .collect()
}

fn owned(pairs: &[(&str, i64)]) -> Vec<(String, i64)> {
    pairs.iter().map(|(s, n)| ((*s).to_owned(), *n)).collect()
}

fn close(v: &Value, expected: f64) -> bool {
    v.as_f64().is_some_and(|x| (x - expected).abs() < 1e-9)
}

async fn rollup(w: &World, by: &str) -> Vec<Value> {
    let d = w.app.data_as(None, ROLLUP, json!({ "p": "2016-Q3", "by": by })).await;
    d["rollup"].as_array().expect("rows").clone()
}

#[tokio::test]
async fn rollups_by_section_agency_and_province() {
    let w = World::build().await;
    let sections = rollup(&w, "SECTION").await;
    let numerals: Vec<&str> = sections.iter().filter_map(|r| r["group"]["numeral"].as_str()).collect();
    assert_eq!(numerals, ["I", "II", "III", "IV", "V", "VI"]);
    // Section I: 13 tasks, 44 responsibilities + 13 × 31 province obligations; task 1's provinces exempt.
    let one = &sections[0];
    assert_eq!(pairs(&one["tasksByStatus"], "status"), owned(&[("NOT_REPORTED", 13)]));
    assert_eq!(pairs(&one["obligationsByState"], "state"), owned(&[("OVERDUE", 416), ("EXEMPT", 31)]));
    assert!(close(&one["meanPercentComplete"], 0.0) && close(&one["onTimeRate"], 0.0), "{one}");
    assert_eq!((one["role"].clone(), one["pendingReview"].as_i64()), (Value::Null, Some(0)));
    // Section II: tasks 33 (70 %) and 37 (16.7 %) in progress among 25; 155 + 25 × 31 obligations.
    let two = &sections[1];
    assert_eq!(pairs(&two["tasksByStatus"], "status"), owned(&[("NOT_REPORTED", 23), ("IN_PROGRESS", 2)]));
    assert_eq!(
        pairs(&two["obligationsByState"], "state"),
        owned(&[("OVERDUE", 924), ("SUBMITTED", 1), ("ACCEPTED", 5)])
    );
    assert!(close(&two["meanPercentComplete"], (70.0 + 50.0 / 3.0) / 25.0), "{two}");
    assert!(close(&two["onTimeRate"], 5.0 / 930.0), "{two}");
    assert_eq!(two["pendingReview"], 1);

    // By agency: two rows each, LEAD then PARTICIPANT; the court leads 14, 18 and 33.
    let agencies = rollup(&w, "AGENCY").await;
    assert_eq!(agencies.len(), 2 * 42);
    let court: Vec<&Value> = agencies.iter().filter(|r| r["group"]["abbreviation"] == "SPC").collect();
    assert_eq!(court.iter().map(|r| r["role"].as_str().unwrap_or("")).collect::<Vec<_>>(), ["LEAD", "PARTICIPANT"]);
    assert_eq!(pairs(&court[0]["tasksByStatus"], "status"), owned(&[("NOT_REPORTED", 2), ("COMPLETED", 1)]));
    assert_eq!(pairs(&court[0]["obligationsByState"], "state"), owned(&[("OVERDUE", 2), ("ACCEPTED", 1)]));
    assert!(close(&court[0]["meanPercentComplete"], 100.0 / 3.0) && close(&court[0]["onTimeRate"], 1.0 / 3.0));
    assert_eq!(pairs(&court[1]["tasksByStatus"], "status"), owned(&[("NOT_REPORTED", 5)]));
    assert!(close(&court[1]["onTimeRate"], 0.0));

    // By province: Guangdong's own parts.
    let provinces = rollup(&w, "PROVINCE").await;
    assert_eq!(provinces.len(), 31);
    let gd = provinces.iter().find(|r| r["group"]["code"] == "440000").expect("Guangdong");
    assert_eq!(pairs(&gd["tasksByStatus"], "status"), owned(&[("NOT_REPORTED", 105), ("ONGOING", 1)]));
    assert_eq!(
        pairs(&gd["obligationsByState"], "state"),
        owned(&[("OVERDUE", 103), ("SUBMITTED", 1), ("ACCEPTED", 1), ("EXEMPT", 1)])
    );
    assert!(close(&gd["meanPercentComplete"], 0.0) && close(&gd["onTimeRate"], 1.0 / 105.0), "{gd}");
    assert_eq!(gd["pendingReview"], 1);
}

const CARDS: &str = "query($from: String, $to: String) {
  court: agency(name: \"SPC\") { scorecard(from: $from, to: $to) { ...card } }
  ndrc: agency(name: \"NDRC\") { scorecard(from: $from, to: $to) { ...card } }
  guangdong: province(code: \"440000\") { scorecard(from: $from, to: $to) { ...card } } }
  fragment card on Scorecard { due onTime late missing returned exempt meanDaysLate onTimeRate }";

#[tokio::test]
async fn scorecards() {
    let w = World::build().await;
    let d = w.app.data_as(None, CARDS, json!({})).await;
    // The court: 8 tasks due in 2016-Q3 (Q4 is not due): one on time, seven never submitted, 66
    // days late each.
    let court = &d["court"]["scorecard"];
    assert_eq!(
        [&court["due"], &court["onTime"], &court["late"], &court["missing"], &court["returned"], &court["exempt"]],
        [&json!(8), &json!(1), &json!(0), &json!(7), &json!(0), &json!(0)]
    );
    assert!(close(&court["meanDaysLate"], 66.0) && close(&court["onTimeRate"], 0.125), "{court}");
    // Guangdong: 106 tasks in Q3, task 1 exempt (in Q3 and Q4); task 33 on time, task 37 two days
    // late, 103 missing.
    let gd = &d["guangdong"]["scorecard"];
    assert_eq!(
        [&gd["due"], &gd["onTime"], &gd["late"], &gd["missing"], &gd["returned"], &gd["exempt"]],
        [&json!(105), &json!(1), &json!(1), &json!(103), &json!(0), &json!(2)]
    );
    assert!(close(&gd["meanDaysLate"], (2.0 + 103.0 * 66.0) / 104.0) && close(&gd["onTimeRate"], 1.0 / 105.0), "{gd}");
    // NDRC's report was returned once (and still counts as on time).
    assert_eq!(d["ndrc"]["scorecard"]["returned"], 1);
    assert!(d["ndrc"]["scorecard"]["onTime"].as_i64().is_some_and(|n| n >= 1));

    // Only 2016-Q4: nothing is due yet.
    let q4 = w.app.data_as(None, CARDS, json!({ "from": "2016-Q4", "to": "2016-Q4" })).await;
    let court = &q4["court"]["scorecard"];
    assert_eq!(
        (court["due"].as_i64(), &court["onTimeRate"], &court["meanDaysLate"]),
        (Some(0), &Value::Null, &Value::Null)
    );
    assert_eq!(q4["guangdong"]["scorecard"]["exempt"], 1);
}
