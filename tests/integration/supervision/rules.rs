//! Who may adjust obligations, what bad input gets, and undoing an exemption.

use serde_json::{Value, json};
use workplan_domain::token::AccessRole;

use super::{EXEMPT, EXTEND, REVOKE, World};

const ADJUSTMENTS: &str = "query($all: Boolean) { obligationAdjustments(includeRevoked: $all) {
  id kind period active reason actor task { number } party { ... on Province { code } } } }";

async fn adjustments(w: &World, all: bool) -> Vec<Value> {
    let d = w.app.data_as(Some(&w.sup), ADJUSTMENTS, json!({ "all": all })).await;
    d["obligationAdjustments"].as_array().expect("list").clone()
}

#[tokio::test]
async fn only_supervisors_and_admins_adjust_and_bad_input_changes_nothing() {
    let w = World::build().await;
    let before = adjustments(&w, true).await;
    assert_eq!(before.len(), 31 + 1 + 2, "31 exemptions, the court's extension, SAIC's two extensions");
    assert_eq!(adjustments(&w, false).await.len(), 33, "one was undone");
    assert_eq!(before[0]["actor"], "supervisor (SUPERVISOR)");

    let exempt = |extra: Value| {
        let mut i = json!({ "period": "2016-Q3", "taskNumbers": [5], "partyKind": "PROVINCE", "reason": "flood" });
        if let (Some(i), Some(extra)) = (i.as_object_mut(), extra.as_object()) {
            for (k, v) in extra {
                i.insert(k.clone(), v.clone());
            }
        }
        json!({ "i": i })
    };
    let reader = w.app.token("reader", AccessRole::Reader, None, None).await;
    for (token, code) in
        [(Some(w.mofcom.as_str()), "FORBIDDEN"), (Some(reader.as_str()), "FORBIDDEN"), (None, "UNAUTHENTICATED")]
    {
        let (got, _) = w.app.error_as(token, EXEMPT, exempt(json!({}))).await;
        assert_eq!(got, code);
    }
    for (extra, code, field) in [
        (json!({ "period": "2016-Q5" }), "BAD_USER_INPUT", "period"),
        (json!({ "taskNumbers": [107] }), "NOT_FOUND", "taskNumbers"),
        (json!({ "taskNumbers": [] }), "BAD_USER_INPUT", "taskNumbers"),
        (json!({ "reason": "  " }), "BAD_USER_INPUT", "reason"),
        (json!({ "partyKind": null }), "BAD_USER_INPUT", "partyKind"),
        (json!({ "provinceCodes": ["440000"] }), "BAD_USER_INPUT", "partyKind"),
        (json!({ "partyKind": null, "provinceCodes": ["999999"] }), "NOT_FOUND", "provinceCodes"),
        (json!({ "partyKind": null, "agencies": ["MOFCOM"] }), "BAD_USER_INPUT", "parties"),
    ] {
        let body = w.app.graphql_as(Some(&w.sup), EXEMPT, exempt(extra.clone())).await;
        let e = &body["errors"][0];
        assert_eq!(e["extensions"]["code"], code, "{extra}: {body}");
        assert_eq!(e["extensions"]["field"], field, "{extra}: {body}");
    }
    let early = json!({ "i": { "period": "2016-Q4", "taskNumbers": [37], "agencies": ["SAIC"],
        "dueAt": "2016-09-30T00:00:00+08:00", "reason": "x" } });
    let body = w.app.graphql_as(Some(&w.sup), EXTEND, early).await;
    assert_eq!(
        (&body["errors"][0]["extensions"]["code"], &body["errors"][0]["extensions"]["field"]),
        (&json!("BAD_USER_INPUT"), &json!("dueAt"))
    );
    let unknown =
        json!({ "i": { "ids": [w.saic_second_extension, "T2JsaWdhdGlvbkFkanVzdG1lbnQ6OTk5OTk="], "reason": "x" } });
    let (code, field) = w.app.error_as(Some(&w.sup), REVOKE, unknown).await;
    assert_eq!((code.as_str(), field.as_deref()), ("NOT_FOUND", Some("ids")));
    assert_eq!(adjustments(&w, true).await, before, "nothing changed");

    // Exempting again what is already exempt stores nothing new.
    let again = json!({ "i": { "taskNumbers": [1], "provinceCodes": ["440000"], "reason": "again" } });
    let d = w.app.data_as(Some(&w.sup), EXEMPT, again).await;
    let existing = before
        .iter()
        .find(|a| a["task"]["number"] == 1 && a["party"]["code"] == "440000")
        .expect("Guangdong's exemption from task 1");
    assert_eq!(d["exemptObligations"]["adjustments"][0]["id"], existing["id"]);
    assert_eq!(adjustments(&w, true).await.len(), before.len());
}

#[tokio::test]
async fn an_exemption_is_undone() {
    let w = World::build().await;
    let matrix = "{ reportingMatrix(period: \"2016-Q3\", filter: { taskNumber: 1, provinceCode: \"440000\" }) {
      nodes { state } } }";
    assert_eq!(w.app.data(matrix, json!({})).await["reportingMatrix"]["nodes"][0]["state"], "EXEMPT");
    let gd = adjustments(&w, false).await.into_iter().find(|a| a["task"]["number"] == 1).expect("an exemption");
    let d = w
        .app
        .data_as(Some(&w.sup), REVOKE, json!({ "i": { "ids": [gd["id"]], "reason": "not exempt after all" } }))
        .await;
    let undone = &d["revokeObligationAdjustments"]["adjustments"][0];
    assert_eq!(
        (undone["active"].as_bool(), undone["revokedBy"].as_str()),
        (Some(false), Some("supervisor (SUPERVISOR)"))
    );
    let states: Vec<Value> = w
        .app
        .data(
            "{ reportingMatrix(period: \"2016-Q3\", filter: { taskNumber: 1 }) {
      countsByState { state count } } }",
            json!({}),
        )
        .await["reportingMatrix"]["countsByState"]
        .as_array()
        .expect("counts")
        .clone();
    let exempt = states.iter().find(|c| c["state"] == "EXEMPT").map(|c| c["count"].clone());
    assert_eq!(exempt, Some(json!(30)));
}

#[tokio::test]
async fn bad_queries_get_clear_errors() {
    let w = World::build().await;
    let m = "query($p: String!, $first: Int) { reportingMatrix(period: $p, first: $first) { totalCount } }";
    for (vars, code, field) in [
        (json!({ "p": "2016-Q5" }), "BAD_USER_INPUT", Some("period")),
        (json!({ "p": "x" }), "BAD_USER_INPUT", Some("period")),
        (json!({ "p": "2017-Q2" }), "NOT_FOUND", Some("period")),
        (json!({ "p": "2016-Q3", "first": 501 }), "BAD_USER_INPUT", Some("first")),
        (json!({ "p": "2016-Q3", "first": 0 }), "BAD_USER_INPUT", Some("first")),
    ] {
        let body = w.app.graphql_as(None, m, vars.clone()).await;
        let e = &body["errors"][0];
        assert_eq!(e["extensions"]["code"], code, "{vars}: {body}");
        assert_eq!(e["extensions"]["field"].as_str(), field, "{vars}: {body}");
    }
    let r = "query($p: String!) { rollup(period: $p, by: SECTION) { pendingReview } }";
    let (code, field) = w.app.error_as(None, r, json!({ "p": "2016-13" })).await;
    assert_eq!((code.as_str(), field.as_deref()), ("BAD_USER_INPUT", Some("period")));
    let body = w.app.graphql_as(None, "{ rollup(period: \"2016-Q3\", by: COUNTY) { pendingReview } }", json!({})).await;
    assert!(body["errors"][0]["message"].as_str().is_some_and(|m| m.contains("COUNTY")), "{body}");
    let s = "{ agency(name: \"SPC\") { scorecard(from: \"2016-Q4\", to: \"2016-Q1\") { due } } }";
    let (code, field) = w.app.error_as(None, s, json!({})).await;
    assert_eq!((code.as_str(), field.as_deref()), ("BAD_USER_INPUT", Some("to")));
    let p = "{ task(number: 37) { progress(period: \"2016-Q0\") { status } } }";
    let (code, _) = w.app.error_as(None, p, json!({})).await;
    assert_eq!(code, "BAD_USER_INPUT");
}
