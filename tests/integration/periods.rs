//! Reporting periods: scheduling by supervisors and admins only, bad keys and early due dates
//! refused with nothing changed, rescheduling recorded with the due date before and after, the
//! calendar in order, and the demo calendar.

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::{Value, json};
use workplan_domain::token::AccessRole;
use workplan_tests::TestApp;

const SCHEDULE: &str = "mutation($i: ScheduleReportingPeriodInput!) { scheduleReportingPeriod(input: $i) {
  reportingPeriod { period startsAt endsAt dueAt version createdAt updatedAt } } }";
const LIST: &str = "{ reportingPeriods { period startsAt endsAt dueAt version } }";
const ONE: &str = "query($p: String!) { reportingPeriod(period: $p) { period startsAt endsAt dueAt version
  history { version action actor at changes { field before after } } } }";
const ONE_PUBLIC: &str = "query($p: String!) { reportingPeriod(period: $p) { period dueAt version } }";

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).expect(s).with_timezone(&Utc)
}

fn time(v: &Value) -> DateTime<Utc> {
    at(v.as_str().unwrap_or_else(|| panic!("a time: {v}")))
}

fn input(period: &str, due: &str) -> Value {
    json!({ "i": { "period": period, "dueAt": due } })
}

/// The calendar as (period, dueAt, version).
async fn calendar(app: &TestApp) -> Vec<(String, DateTime<Utc>, i64)> {
    let d = app.data_as(None, LIST, json!({})).await;
    d["reportingPeriods"]
        .as_array()
        .expect("list")
        .iter()
        .map(|p| (p["period"].as_str().expect("key").to_owned(), time(&p["dueAt"]), p["version"].as_i64().expect("v")))
        .collect()
}

#[tokio::test]
async fn supervisors_and_admins_schedule_periods_on_calendar_boundaries_in_china_standard_time() {
    let now = Utc.with_ymd_and_hms(2016, 12, 20, 2, 0, 0).single().expect("time");
    let (app, clock) = TestApp::spawn_at(now).await;
    let sup = app.token("sup", AccessRole::Supervisor, None, None).await;

    let d = app.data_as(Some(&sup), SCHEDULE, input("2016-Q4", "2017-01-16T00:00:00+08:00")).await;
    let p = &d["scheduleReportingPeriod"]["reportingPeriod"];
    assert_eq!(p["period"], "2016-Q4");
    assert_eq!(time(&p["startsAt"]), at("2016-09-30T16:00:00Z"));
    assert_eq!(time(&p["endsAt"]), at("2017-01-01T00:00:00+08:00"));
    assert_eq!(time(&p["dueAt"]), at("2017-01-15T16:00:00Z"));
    assert_eq!((p["version"].as_i64(), time(&p["createdAt"]), time(&p["updatedAt"])), (Some(1), now, now));

    // An admin schedules too; a month, a half and a year have their own boundaries.
    clock.advance(Duration::hours(1));
    for (key, due, start, end) in [
        ("2016", "2017-01-31T00:00:00+08:00", "2016-01-01T00:00:00+08:00", "2017-01-01T00:00:00+08:00"),
        ("2016-H2", "2017-01-20T00:00:00+08:00", "2016-07-01T00:00:00+08:00", "2017-01-01T00:00:00+08:00"),
        ("2016-09", "2016-10-10T00:00:00+08:00", "2016-09-01T00:00:00+08:00", "2016-10-01T00:00:00+08:00"),
    ] {
        let d = app.data(SCHEDULE, input(key, due)).await;
        let p = &d["scheduleReportingPeriod"]["reportingPeriod"];
        assert_eq!((time(&p["startsAt"]), time(&p["endsAt"])), (at(start), at(end)), "{key}");
    }
    // A due date exactly at the start is allowed (the rule is "not before").
    app.data(SCHEDULE, input("2017-Q1", "2017-01-01T00:00:00+08:00")).await;

    // By start; a longer period before a shorter one starting with it. Anonymous callers read it.
    let keys: Vec<String> = calendar(&app).await.into_iter().map(|(k, _, _)| k).collect();
    assert_eq!(keys, ["2016", "2016-H2", "2016-09", "2016-Q4", "2017-Q1"]);

    let one = app.data_as(None, ONE_PUBLIC, json!({ "p": "2016-Q4" })).await;
    assert_eq!(one["reportingPeriod"]["period"], "2016-Q4");
    assert_eq!(time(&one["reportingPeriod"]["dueAt"]), at("2017-01-16T00:00:00+08:00"));
    let none = app.data_as(None, ONE_PUBLIC, json!({ "p": "2018-Q2" })).await;
    assert_eq!(none["reportingPeriod"], Value::Null, "not scheduled");
}

#[tokio::test]
async fn only_supervisors_and_admins_schedule_and_read_the_history() {
    let app = TestApp::spawn().await;
    let reader = app.token("reader", AccessRole::Reader, None, None).await;
    let mofcom = app.token("mofcom", AccessRole::AgencyReporter, Some("MOFCOM"), None).await;
    let gd = app.token("gd", AccessRole::ProvinceReporter, None, Some("440000")).await;
    app.data(SCHEDULE, input("2016-Q4", "2017-01-16T00:00:00+08:00")).await;
    let before = calendar(&app).await;

    let moved = input("2016-Q4", "2017-02-01T00:00:00+08:00");
    let new = input("2016-Q3", "2016-10-16T00:00:00+08:00");
    for token in [&reader, &mofcom, &gd] {
        for i in [&moved, &new] {
            assert_eq!(app.error_as(Some(token), SCHEDULE, i.clone()).await, ("FORBIDDEN".into(), None));
        }
        assert_eq!(app.error_as(Some(token), ONE, json!({ "p": "2016-Q4" })).await.0, "FORBIDDEN", "history");
    }
    for i in [&moved, &new] {
        assert_eq!(app.error_as(None, SCHEDULE, i.clone()).await, ("UNAUTHENTICATED".into(), None));
    }
    assert_eq!(app.error_as(None, ONE, json!({ "p": "2016-Q4" })).await.0, "UNAUTHENTICATED", "history");
    // Even a bad input from an unauthorised caller is refused for who it is.
    assert_eq!(app.error_as(Some(&reader), SCHEDULE, input("x", "2016-01-01T00:00:00Z")).await.0, "FORBIDDEN");
    assert_eq!(calendar(&app).await, before, "nothing changed");
    let h = app.data(ONE, json!({ "p": "2016-Q4" })).await;
    assert_eq!(h["reportingPeriod"]["history"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn bad_keys_and_due_dates_before_the_start_are_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    app.data(SCHEDULE, input("2016-Q4", "2017-01-16T00:00:00+08:00")).await;
    let before = calendar(&app).await;
    for key in ["2016-Q5", "x", "", "2015-Q4", "2016-13"] {
        let e = app.error(SCHEDULE, input(key, "2017-01-16T00:00:00+08:00")).await;
        assert_eq!(e, ("BAD_USER_INPUT".into(), Some("period".into())), "{key:?}");
        let e = app.error_as(None, ONE_PUBLIC, json!({ "p": key })).await;
        assert_eq!(e, ("BAD_USER_INPUT".into(), Some("period".into())), "query {key:?}");
    }
    // One second before midnight CST of the first day, both for a new period and a rescheduling.
    for key in ["2016-Q4", "2017-Q1"] {
        let start = if key == "2016-Q4" { "2016-10-01T00:00:00+08:00" } else { "2017-01-01T00:00:00+08:00" };
        let early = (at(start) - Duration::seconds(1)).to_rfc3339();
        let e = app.error(SCHEDULE, input(key, &early)).await;
        assert_eq!(e, ("BAD_USER_INPUT".into(), Some("dueAt".into())), "{key}");
    }
    // The boundary is midnight CST: 15:59:59 UTC the day before is still before it.
    let e = app.error(SCHEDULE, input("2016-Q4", "2016-09-30T15:59:59Z")).await;
    assert_eq!(e, ("BAD_USER_INPUT".into(), Some("dueAt".into())));
    let long = json!({ "i": { "period": "2016-Q4", "dueAt": "2017-02-01T00:00:00Z", "reason": "r".repeat(1001) } });
    assert_eq!(app.error(SCHEDULE, long).await, ("BAD_USER_INPUT".into(), Some("reason".into())));
    assert_eq!(calendar(&app).await, before, "nothing changed");
    let h = app.data(ONE, json!({ "p": "2016-Q4" })).await;
    assert_eq!(h["reportingPeriod"]["history"].as_array().map(Vec::len), Some(1), "no history either");
}

#[tokio::test]
async fn rescheduling_moves_the_due_date_and_records_it_before_and_after() {
    let first = Utc.with_ymd_and_hms(2016, 12, 1, 0, 0, 0).single().expect("time");
    let (app, clock) = TestApp::spawn_at(first).await;
    let sup = app.token("sup", AccessRole::Supervisor, None, None).await;
    app.data_as(Some(&sup), SCHEDULE, input("2016-Q4", "2017-01-16T00:00:00+08:00")).await;

    clock.advance(Duration::days(10));
    let moved =
        json!({ "i": { "period": "2016-Q4", "dueAt": "2017-02-06T00:00:00+08:00", "reason": "Spring Festival" } });
    let d = app.data(SCHEDULE, moved).await;
    let p = &d["scheduleReportingPeriod"]["reportingPeriod"];
    assert_eq!(p["version"], 2);
    assert_eq!(time(&p["dueAt"]), at("2017-02-06T00:00:00+08:00"));
    assert_eq!((time(&p["createdAt"]), time(&p["updatedAt"])), (first, first + Duration::days(10)));

    // The same due date again changes nothing.
    clock.advance(Duration::days(1));
    let d = app.data(SCHEDULE, input("2016-Q4", "2017-02-05T16:00:00Z")).await;
    assert_eq!(d["scheduleReportingPeriod"]["reportingPeriod"]["version"], 2);

    let h = app.data_as(Some(&sup), ONE, json!({ "p": "2016-Q4" })).await;
    let history = h["reportingPeriod"]["history"].as_array().expect("history").clone();
    assert_eq!(history.len(), 2, "{history:#?}");
    assert_eq!((&history[0]["action"], &history[0]["version"]), (&json!("SCHEDULE"), &json!(1)));
    assert_eq!(history[0]["actor"], "sup (SUPERVISOR)");
    assert_eq!(time(&history[0]["at"]), first);
    let due = &history[0]["changes"][0];
    assert_eq!((&due["field"], &due["before"]), (&json!("dueAt"), &Value::Null));
    assert_eq!(time(&due["after"]), at("2017-01-16T00:00:00+08:00"));

    assert_eq!((&history[1]["action"], &history[1]["version"]), (&json!("RESCHEDULE"), &json!(2)));
    assert_eq!(history[1]["actor"], "test-admin (ADMIN)");
    assert_eq!(time(&history[1]["at"]), first + Duration::days(10));
    let changes = history[1]["changes"].as_array().expect("changes");
    assert_eq!(changes[0]["field"], "dueAt");
    assert_eq!(time(&changes[0]["before"]), at("2017-01-16T00:00:00+08:00"));
    assert_eq!(time(&changes[0]["after"]), at("2017-02-06T00:00:00+08:00"));
    assert_eq!(changes[1], json!({ "field": "reason", "before": null, "after": "Spring Festival" }));
}

#[tokio::test]
async fn the_demo_calendar_has_every_quarter_due_15_days_after_it_ends() {
    let app = TestApp::spawn().await;
    // A period scheduled by hand keeps its due date.
    app.data(SCHEDULE, input("2016-Q4", "2017-01-20T00:00:00+08:00")).await;
    let calendar_ = workplan_domain::demo::calendar();
    let added = app.store.schedule_missing_periods(&calendar_, "system (seed --demo)", Utc::now()).await.expect("seed");
    assert_eq!(added, 19);
    let again =
        app.store.schedule_missing_periods(&calendar_, "system (seed --demo)", Utc::now()).await.expect("again");
    assert_eq!(again, 0, "seeding twice schedules nothing more");

    let d = app.data_as(None, "{ reportingPeriods { period endsAt dueAt version } }", json!({})).await;
    let periods = d["reportingPeriods"].as_array().expect("list");
    let keys: Vec<&str> = periods.iter().filter_map(|p| p["period"].as_str()).collect();
    let expected: Vec<String> = (2016..=2020).flat_map(|y| (1..=4).map(move |q| format!("{y}-Q{q}"))).collect();
    assert_eq!(keys, expected);
    for p in periods {
        let due = time(&p["dueAt"]);
        if p["period"] == "2016-Q4" {
            assert_eq!(due, at("2017-01-20T00:00:00+08:00"), "kept");
        } else {
            assert_eq!(due - time(&p["endsAt"]), Duration::days(15), "{p}");
        }
        assert_eq!(p["version"], 1);
    }
    let q1 = periods.iter().find(|p| p["period"] == "2017-Q1").expect("2017-Q1");
    assert_eq!(time(&q1["dueAt"]), at("2017-04-16T00:00:00+08:00"));
}
