//! Tasks by the keys people use: section and subsection numerals in any written form, agency
//! names in any language, and sorted by section or lead agency with compound cursors. Expected
//! answers are read off the seed file itself.

use serde_json::{Value, json};
use workplan_tests::TestApp;

const PLAN: &str = include_str!("../../seeds/plan-2016-66.json");

/// One task of the seed: (section position, section numeral, subsection numeral, number,
/// first lead's name, every (agency, role)).
struct SeedTask {
    section: usize,
    section_numeral: String,
    subsection_numeral: String,
    number: i64,
    lead: String,
    agencies: Vec<(String, String)>,
}

fn seed_tasks() -> Vec<SeedTask> {
    let plan: Value = serde_json::from_str(PLAN).expect("seed");
    let mut out = Vec::new();
    let list = |v: &Value| v.as_array().cloned().unwrap_or_default();
    for (i, s) in list(&plan["sections"]).iter().enumerate() {
        for ss in list(&s["subsections"]) {
            for t in list(&ss["tasks"]) {
                let agencies: Vec<(String, String)> = list(&t["responsibilities"])
                    .iter()
                    .map(|r| {
                        (r["agency"].as_str().unwrap_or("").to_owned(), r["role"].as_str().unwrap_or("").to_owned())
                    })
                    .collect();
                let lead = agencies.iter().find(|(_, role)| role == "LEAD").map(|(a, _)| a.clone()).unwrap_or_default();
                out.push(SeedTask {
                    section: i + 1,
                    section_numeral: s["numeral"].as_str().unwrap_or("").to_owned(),
                    subsection_numeral: ss["numeral"].as_str().unwrap_or("").to_owned(),
                    number: t["number"].as_i64().unwrap_or(-1),
                    lead,
                    agencies,
                });
            }
        }
    }
    assert_eq!(out.len(), 106);
    out
}

const TASKS: &str = "query($f: TaskFilter, $o: TaskOrder, $first: Int, $after: String, $last: Int, $before: String) {
    tasks(filter: $f, orderBy: $o, first: $first, after: $after, last: $last, before: $before) {
        totalCount nodes { number } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }";

fn numbers(d: &Value) -> Vec<i64> {
    d["tasks"]["nodes"].as_array().expect("nodes").iter().filter_map(|n| n["number"].as_i64()).collect()
}

async fn all_numbers(app: &TestApp, filter: Value) -> Vec<i64> {
    let d = app.data(TASKS, json!({ "f": filter, "first": 200 })).await;
    assert_eq!(d["tasks"]["totalCount"].as_i64(), Some(numbers(&d).len() as i64), "totalCount agrees");
    numbers(&d)
}

#[tokio::test]
async fn tasks_by_section_and_subsection_numerals_in_every_written_form() {
    let app = TestApp::spawn().await;
    let seed = seed_tasks();
    let in_section = |n: &str| seed.iter().filter(|t| t.section_numeral == n).map(|t| t.number).collect::<Vec<_>>();
    for (typed, numeral) in
        [("III", "III"), ("iii", "III"), ("3", "III"), ("三", "III"), ("（三）", "III"), ("六", "VI")]
    {
        assert_eq!(all_numbers(&app, json!({ "sectionNumeral": typed })).await, in_section(numeral), "{typed}");
    }
    let want: Vec<i64> =
        seed.iter().filter(|t| t.section_numeral == "II" && t.subsection_numeral == "iii").map(|t| t.number).collect();
    assert_eq!(want.len(), 8);
    assert_eq!(all_numbers(&app, json!({ "sectionNumeral": "二", "subsectionNumeral": "(三)" })).await, want);
    let every_ii: Vec<i64> = seed.iter().filter(|t| t.subsection_numeral == "ii").map(|t| t.number).collect();
    assert_eq!(all_numbers(&app, json!({ "subsectionNumeral": "2" })).await, every_ii);
    assert!(all_numbers(&app, json!({ "sectionNumeral": "VII" })).await.is_empty(), "the plan has six sections");
    for (field, value) in [("sectionNumeral", "IIII"), ("subsectionNumeral", "two"), ("sectionNumeral", "0")] {
        assert_eq!(
            app.error(TASKS, json!({ "f": { field: value } })).await,
            ("BAD_USER_INPUT".into(), Some(format!("filter.{field}")))
        );
    }
}

#[tokio::test]
async fn tasks_by_agency_name_in_any_language_and_role() {
    let app = TestApp::spawn().await;
    let seed = seed_tasks();
    let of = |agency: &str, role: Option<&str>| -> Vec<i64> {
        let on = |(a, r): &(String, String)| a == agency && role.is_none_or(|role| r == role);
        seed.iter().filter(|t| t.agencies.iter().any(on)).map(|t| t.number).collect()
    };
    let commerce = "Ministry of Commerce";
    for name in ["MOFCOM", "mofcom", "ministry of commerce", "商务部", " 商务部 "] {
        assert_eq!(all_numbers(&app, json!({ "agencyName": name })).await, of(commerce, None), "{name}");
        let leads = all_numbers(&app, json!({ "agencyName": name, "role": "LEAD" })).await;
        assert_eq!(leads, of(commerce, Some("LEAD")), "{name}");
        let parts = all_numbers(&app, json!({ "agencyName": name, "role": "PARTICIPANT" })).await;
        assert_eq!(parts, of(commerce, Some("PARTICIPANT")), "{name}");
    }
    let alias = "Central Committee Office for the Comprehensive Management of Public Security";
    let official = "Office of the Central Committee for the Comprehensive Management of Public Security";
    assert_eq!(all_numbers(&app, json!({ "agencyName": alias })).await, of(official, None));
    assert_eq!(
        all_numbers(&app, json!({ "agencyName": "国家知识产权局", "sectionNumeral": "I", "role": "LEAD" })).await,
        seed.iter()
            .filter(|t| t.section == 1
                && t.agencies.iter().any(|(a, r)| a == "State Intellectual Property Office" && r == "LEAD"))
            .map(|t| t.number)
            .collect::<Vec<_>>()
    );
    assert!(all_numbers(&app, json!({ "agencyName": "Ministry of Magic" })).await.is_empty());
    assert_eq!(
        app.error(TASKS, json!({ "f": { "role": "LEAD" } })).await,
        ("BAD_USER_INPUT".into(), Some("filter.role".into()))
    );
}

/// Reads a whole sorted list `size` at a time, forwards then backwards, checking both agree.
async fn walk(app: &TestApp, order: Value, size: i64) -> Vec<i64> {
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let d = app.data(TASKS, json!({ "o": order, "first": size, "after": after })).await;
        seen.extend(numbers(&d));
        let info = &d["tasks"]["pageInfo"];
        if info["hasNextPage"] != true {
            break;
        }
        after = info["endCursor"].clone();
    }
    let mut back: Vec<i64> = Vec::new();
    let mut before = Value::Null;
    loop {
        let d = app.data(TASKS, json!({ "o": order, "last": size, "before": before })).await;
        back.splice(0..0, numbers(&d));
        let info = &d["tasks"]["pageInfo"];
        if info["hasPreviousPage"] != true {
            break;
        }
        before = info["startCursor"].clone();
    }
    assert_eq!(back, seen, "{order} backwards");
    seen
}

#[tokio::test]
async fn tasks_sorted_by_section_and_lead_agency_page_correctly_both_ways() {
    let app = TestApp::spawn().await;
    let seed = seed_tasks();
    let mut by_lead: Vec<&SeedTask> = seed.iter().collect();
    by_lead.sort_by(|a, b| (a.lead.as_str(), a.number).cmp(&(b.lead.as_str(), b.number)));
    let by_lead: Vec<i64> = by_lead.iter().map(|t| t.number).collect();
    assert_eq!(walk(&app, json!({ "field": "LEAD_AGENCY" }), 7).await, by_lead);
    let desc: Vec<i64> = by_lead.iter().rev().copied().collect();
    assert_eq!(walk(&app, json!({ "field": "LEAD_AGENCY", "direction": "DESC" }), 9).await, desc);
    let mut by_section: Vec<&SeedTask> = seed.iter().collect();
    by_section.sort_by_key(|t| (std::cmp::Reverse(t.section), std::cmp::Reverse(t.number)));
    let by_section: Vec<i64> = by_section.iter().map(|t| t.number).collect();
    assert_eq!(walk(&app, json!({ "field": "SECTION", "direction": "DESC" }), 10).await, by_section);
    let by_number: Vec<i64> = (1..=106).collect();
    assert_eq!(walk(&app, json!({ "field": "NUMBER" }), 20).await, by_number);

    // Nested lists sort the same way, per section.
    let d = app
        .data(
            "{ sections { numeral tasks(first: 200, orderBy: { field: LEAD_AGENCY }) { nodes { number } } } }",
            json!({}),
        )
        .await;
    for s in d["sections"].as_array().expect("sections") {
        let numeral = s["numeral"].as_str().unwrap_or("");
        let want: Vec<i64> = by_lead
            .iter()
            .copied()
            .filter(|n| seed.iter().any(|t| t.number == *n && t.section_numeral == numeral))
            .collect();
        let got: Vec<i64> =
            s["tasks"]["nodes"].as_array().expect("nodes").iter().filter_map(|n| n["number"].as_i64()).collect();
        assert_eq!(got, want, "section {numeral}");
    }
}

#[tokio::test]
async fn old_number_cursors_still_work_and_cursors_do_not_cross_orders() {
    let app = TestApp::spawn().await;
    // base64("task|17"): a cursor as every earlier version made it.
    let d = app.data(TASKS, json!({ "first": 2, "after": "dGFza3wxNw==" })).await;
    assert_eq!(numbers(&d), [18, 19]);
    let d = app.data(TASKS, json!({ "o": { "field": "LEAD_AGENCY" }, "first": 2 })).await;
    let cursor = d["tasks"]["pageInfo"]["endCursor"].clone();
    assert_eq!(
        app.error(TASKS, json!({ "first": 2, "after": cursor })).await,
        ("BAD_USER_INPUT".into(), Some("after".into()))
    );
    assert_eq!(
        app.error(TASKS, json!({ "o": { "field": "SECTION" }, "last": 2, "before": "dGFza3wxNw==" })).await,
        ("BAD_USER_INPUT".into(), Some("before".into()))
    );
}
