//! The reporting matrix of the scenario: every obligation's state, due date, timeliness and
//! report, the counts, filters, visibility, the overdue list and a reporter's to-do list.

use serde_json::{Value, json};

use super::{World, cst};

const MATRIX: &str = "query($p: String!, $f: ObligationFilterInput, $first: Int, $after: String) {
  reportingMatrix(period: $p, filter: $f, first: $first, after: $after) {
    totalCount countsByState { state count } pageInfo { hasNextPage endCursor }
    edges { cursor node { period role dueAt extended state onTime daysLate report { id state }
      task { number } party { __typename ... on Agency { abbreviation name } ... on Province { code } } } } } }";

/// The party's short name: an agency's abbreviation (or name), a province's code.
fn party(node: &Value) -> String {
    let p = &node["party"];
    p["abbreviation"].as_str().or_else(|| p["name"].as_str()).or_else(|| p["code"].as_str()).unwrap_or("?").to_owned()
}

async fn matrix(w: &World, token: Option<&str>, period: &str, filter: Value) -> Value {
    let vars = json!({ "p": period, "f": filter, "first": 500 });
    w.app.data_as(token, MATRIX, vars).await["reportingMatrix"].clone()
}

fn nodes(m: &Value) -> Vec<Value> {
    m["edges"].as_array().expect("edges").iter().map(|e| e["node"].clone()).collect()
}

fn find<'a>(nodes: &'a [Value], who: &str) -> &'a Value {
    nodes.iter().find(|n| party(n) == who).unwrap_or_else(|| panic!("no obligation of {who}"))
}

fn counts(m: &Value) -> Vec<(String, i64)> {
    m["countsByState"]
        .as_array()
        .expect("counts")
        .iter()
        .map(|c| (c["state"].as_str().expect("state").to_owned(), c["count"].as_i64().expect("count")))
        .collect()
}

fn states(pairs: &[(&str, i64)]) -> Vec<(String, i64)> {
    pairs.iter().map(|(s, n)| ((*s).to_owned(), *n)).collect()
}

fn time(v: &Value) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(v.as_str().expect("a time")).expect("RFC 3339").with_timezone(&chrono::Utc)
}

fn judged(n: &Value) -> (&str, Value, Value) {
    (n["state"].as_str().expect("state"), n["onTime"].clone(), n["daysLate"].clone())
}

#[tokio::test]
async fn every_obligation_of_the_scenario_stands_as_computed_by_hand() {
    let w = World::build().await;
    let sup = Some(w.sup.as_str());

    // Task 33 for 2016-Q3: both leads and Guangdong accepted, every other province overdue.
    let m = matrix(&w, sup, "2016-Q3", json!({ "taskNumber": 33 })).await;
    let t33 = nodes(&m);
    assert_eq!(m["totalCount"], 2 + 31);
    let order: Vec<String> = t33.iter().take(3).map(party).collect();
    assert_eq!(order, ["SIPO", "SPC", "110000"], "agencies in listed order, then provinces by code");
    assert_eq!(judged(find(&t33, "SIPO")), ("ACCEPTED", json!(true), json!(0)));
    let spc = find(&t33, "SPC");
    assert_eq!(judged(spc), ("ACCEPTED", json!(true), json!(0)), "submitted 10-20, within its extension to 10-25");
    assert_eq!((time(&spc["dueAt"]), &spc["extended"]), (cst(2016, 10, 25, 0), &json!(true)));
    assert_eq!(spc["role"], "LEAD");
    let gd = find(&t33, "440000");
    assert_eq!(judged(gd), ("ACCEPTED", json!(true), json!(0)), "backfilled as submitted on 10-01");
    assert_eq!((gd["role"].clone(), gd["report"]["id"].clone()), (Value::Null, w.gd_33.id.clone()));
    // Never submitted: 2016-10-16 00:00 to 2016-12-20 10:00 is 65 days and 10 hours: 66 days.
    assert_eq!(judged(find(&t33, "110000")), ("OVERDUE", json!(false), json!(66)));
    assert_eq!(find(&t33, "110000")["report"], Value::Null);
    assert_eq!(
        counts(&m),
        states(&[("NOT_DUE", 0), ("OVERDUE", 30), ("SUBMITTED", 0), ("ACCEPTED", 3), ("EXEMPT", 0)])
    );

    // Task 37 for 2016-Q3.
    let t37 = nodes(&matrix(&w, sup, "2016-Q3", json!({ "taskNumber": 37 })).await);
    let ndrc = find(&t37, "NDRC");
    assert_eq!(judged(ndrc), ("ACCEPTED", json!(true), json!(0)), "first submitted in time, resubmitted late");
    assert_eq!(ndrc["report"]["id"], w.ndrc_q3.id, "the PART report counts, not the CONSOLIDATED one");
    let mofcom = find(&t37, "MOFCOM");
    assert_eq!(judged(mofcom), ("ACCEPTED", json!(true), json!(0)), "reopened: its accepted version counts");
    assert_eq!(mofcom["report"]["state"], "RETURNED", "a supervisor sees the report as it is");
    assert_eq!(judged(find(&t37, "SAIC")), ("OVERDUE", json!(false), json!(66)));
    assert_eq!(
        judged(find(&t37, "440000")),
        ("SUBMITTED", json!(false), json!(2)),
        "submitted 10-18 00:00: 2 days late"
    );
    assert_eq!(judged(find(&t37, "110000")), ("OVERDUE", json!(false), json!(66)), "its report was withdrawn");

    // Task 1: provinces exempt for every period; its one agency overdue.
    let t1 = matrix(&w, sup, "2016-Q3", json!({ "taskNumber": 1 })).await;
    assert_eq!(
        counts(&t1),
        states(&[("NOT_DUE", 0), ("OVERDUE", 1), ("SUBMITTED", 0), ("ACCEPTED", 0), ("EXEMPT", 31)])
    );
    assert_eq!(judged(find(&nodes(&t1), "440000")), ("EXEMPT", Value::Null, Value::Null));

    // The whole of 2016-Q3: 459 + 106 × 31 obligations.
    let all = matrix(&w, sup, "2016-Q3", json!(null)).await;
    assert_eq!(all["totalCount"], 3745);
    assert_eq!(
        counts(&all),
        states(&[("NOT_DUE", 0), ("OVERDUE", 3708), ("SUBMITTED", 1), ("ACCEPTED", 5), ("EXEMPT", 31)])
    );

    // 2016-Q4 is not due yet: a draft is NOT_DUE, a submitted report SUBMITTED, SAIC's due date
    // is its first extension (the second was undone), and task 1 stays exempt.
    let q4 = matrix(&w, sup, "2016-Q4", json!(null)).await;
    assert_eq!(
        counts(&q4),
        states(&[("NOT_DUE", 3713), ("OVERDUE", 0), ("SUBMITTED", 1), ("ACCEPTED", 0), ("EXEMPT", 31)])
    );
    let t37 = nodes(&matrix(&w, sup, "2016-Q4", json!({ "taskNumber": 37 })).await);
    let saic = find(&t37, "SAIC");
    assert_eq!((time(&saic["dueAt"]), &saic["extended"]), (cst(2017, 2, 1, 0), &json!(true)));
    assert_eq!(judged(saic), ("NOT_DUE", Value::Null, Value::Null));
    assert_eq!(judged(find(&t37, "MOFCOM")), ("SUBMITTED", json!(true), json!(0)));
    let t33 = nodes(&matrix(&w, sup, "2016-Q4", json!({ "taskNumber": 33 })).await);
    let draft = find(&t33, "SIPO");
    assert_eq!(
        (judged(draft), draft["report"]["id"].clone()),
        (("NOT_DUE", Value::Null, Value::Null), w.sipo_q4_draft.id.clone())
    );

    // When the clock passes the Q4 due date, the draft's obligation becomes OVERDUE.
    w.clock.set(cst(2017, 1, 16, 1));
    let later = nodes(&matrix(&w, sup, "2016-Q4", json!({ "taskNumber": 33 })).await);
    assert_eq!(judged(find(&later, "SIPO")), ("OVERDUE", json!(false), json!(1)));
}

#[tokio::test]
async fn filters_pages_and_counts_agree() {
    let w = World::build().await;
    let sup = Some(w.sup.as_str());
    // By state, party kind, agency (by any name), province, section and subsection numerals.
    let accepted = matrix(&w, sup, "2016-Q3", json!({ "states": ["ACCEPTED", "SUBMITTED"] })).await;
    assert_eq!(accepted["totalCount"], 6);
    assert_eq!(
        counts(&accepted),
        states(&[("NOT_DUE", 0), ("OVERDUE", 3708), ("SUBMITTED", 1), ("ACCEPTED", 5), ("EXEMPT", 31)]),
        "countsByState ignores `states` so the other states still show"
    );
    let agencies = matrix(&w, sup, "2016-Q3", json!({ "partyKind": "AGENCY" })).await;
    assert_eq!(agencies["totalCount"], 459);
    let court = matrix(&w, sup, "2016-Q3", json!({ "agency": "最高人民法院" })).await;
    assert_eq!(court["totalCount"], 8, "the Supreme People's Court answers for 8 tasks");
    let gd = matrix(&w, sup, "2016-Q3", json!({ "provinceCode": "440000", "states": ["OVERDUE"] })).await;
    assert_eq!(gd["totalCount"], 106 - 3, "106 tasks less one exempt, one accepted, one submitted");
    let section = matrix(&w, sup, "2016-Q3", json!({ "sectionNumeral": "二", "partyKind": "PROVINCE" })).await;
    assert_eq!(section["totalCount"], 25 * 31);
    let unknown = matrix(&w, sup, "2016-Q3", json!({ "agency": "no such agency" })).await;
    assert_eq!(unknown["totalCount"], 0, "an unknown name matches nothing");

    // Pages of the whole matrix join up into the list, in order, each obligation once.
    let mut after: Option<String> = None;
    let mut seen = Vec::new();
    loop {
        let vars = json!({ "p": "2016-Q3", "first": 500, "after": after });
        let page = w.app.data_as(sup, MATRIX, vars).await["reportingMatrix"].clone();
        for node in nodes(&page) {
            seen.push((node["task"]["number"].as_i64().expect("n"), party(&node)));
        }
        if page["pageInfo"]["hasNextPage"] != json!(true) {
            break;
        }
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(seen.len(), 3745);
    let distinct: std::collections::HashSet<_> = seen.iter().collect();
    assert_eq!(distinct.len(), 3745);
    assert!(seen.windows(2).all(|p| p[0].0 <= p[1].0), "by task number");
}

#[tokio::test]
async fn anonymous_callers_see_every_state_but_only_accepted_reports() {
    let w = World::build().await;
    let t37 = nodes(&matrix(&w, None, "2016-Q3", json!({ "taskNumber": 37 })).await);
    let gd = find(&t37, "440000");
    assert_eq!((gd["state"].as_str(), &gd["report"]), (Some("SUBMITTED"), &Value::Null));
    let mofcom = find(&t37, "MOFCOM");
    assert_eq!(mofcom["report"]["state"], "ACCEPTED", "a reopened report is seen as its accepted version");
    let t33 = nodes(&matrix(&w, None, "2016-Q4", json!({ "taskNumber": 33 })).await);
    assert_eq!(find(&t33, "SIPO")["report"], Value::Null, "drafts are not public");
    // Guangdong's own token sees its own submitted report; another reporter does not.
    let own = nodes(&matrix(&w, Some(&w.gd), "2016-Q3", json!({ "taskNumber": 37 })).await);
    assert_eq!(find(&own, "440000")["report"]["id"], w.gd_37.id);
    let other = nodes(&matrix(&w, Some(&w.mofcom), "2016-Q3", json!({ "taskNumber": 37 })).await);
    assert_eq!(find(&other, "440000")["report"], Value::Null);
}

#[tokio::test]
async fn the_overdue_list_and_a_reporters_to_do_list() {
    let w = World::build().await;
    let q = "query($first: Int) { overdue(first: $first) { totalCount countsByState { state count }
      nodes { period daysLate state task { number } } } }";
    let d = w.app.data_as(None, q, json!({ "first": 3 })).await;
    assert_eq!(d["overdue"]["totalCount"], 3708, "only 2016-Q3 is due");
    for n in d["overdue"]["nodes"].as_array().expect("nodes") {
        assert_eq!(
            (n["state"].as_str(), n["daysLate"].as_i64(), n["period"].as_str()),
            (Some("OVERDUE"), Some(66), Some("2016-Q3"))
        );
    }
    // A month after the Q4 due date, Q4's overdue come after Q3's (fewer days late).
    w.clock.set(cst(2017, 2, 16, 10));
    let d = w.app.data_as(None, "{ overdue(first: 500) { totalCount nodes { period daysLate } } }", json!({})).await;
    let periods: Vec<&str> =
        d["overdue"]["nodes"].as_array().expect("nodes").iter().filter_map(|n| n["period"].as_str()).collect();
    assert!(periods.iter().all(|p| *p == "2016-Q3"), "the first page is the most overdue");

    let todo = "query($p: String, $s: [ObligationState!]) { viewer { obligations(period: $p, states: $s) {
      period state task { number } } } }";
    let mine = w.app.data_as(Some(&w.mofcom), todo, json!({ "p": "2016-Q4", "s": ["SUBMITTED"] })).await;
    let list = mine["viewer"]["obligations"].as_array().expect("list").clone();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["task"]["number"], 37);
    let every = w.app.data_as(Some(&w.gd), todo, json!({})).await;
    assert_eq!(every["viewer"]["obligations"].as_array().map(Vec::len), Some(2 * 106), "Q3 and Q4");
    let anonymous = w.app.data_as(None, todo, json!({})).await;
    assert_eq!(anonymous["viewer"]["obligations"], json!([]));
}
