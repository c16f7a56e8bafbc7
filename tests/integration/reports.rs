use serde_json::{Value, json};
use workplan_tests::TestApp;

const SUBMIT: &str = "mutation($input: SubmitProgressReportInput!) { submitProgressReport(input: $input) {
  report { id period status percentComplete summary evidenceUrls submittedAt version isDemo
           task { number } reporter { __typename ... on Agency { name } ... on Province { code } } } } }";

async fn agency_id(app: &TestApp, name: &str) -> Value {
    app.data("query($n: String) { agency(name: $n) { id } }", json!({ "n": name })).await["agency"]["id"].clone()
}

async fn report_count(app: &TestApp) -> i64 {
    app.data("{ progressReports { totalCount } }", json!({})).await["progressReports"]["totalCount"]
        .as_i64()
        .expect("count")
}

#[tokio::test]
async fn submit_as_agency_and_as_province_then_read_back() {
    let app = TestApp::spawn().await;
    let sipo = agency_id(&app, "SIPO").await;
    let d = app
        .data(
            SUBMIT,
            json!({ "input": { "taskNumber": 16, "reporter": { "agencyId": sipo }, "period": " 2016-H2 ", "status": "IN_PROGRESS",
                   "percentComplete": 30, "summary": "  Express protection centres opened.  ", "evidenceUrls": ["https://sipo.example/a.pdf", "http://x.example:8080/b?c#d"] } }),
        )
        .await;
    let r = &d["submitProgressReport"]["report"];
    assert_eq!(r["period"], "2016-H2");
    assert_eq!(r["summary"], "Express protection centres opened.");
    assert_eq!(r["version"], 1);
    assert_eq!(r["isDemo"], false);
    assert_eq!(r["reporter"], json!({ "__typename": "Agency", "name": "State Intellectual Property Office" }));
    assert_eq!(r["task"]["number"], 16);
    assert_eq!(r["evidenceUrls"].as_array().map(Vec::len), Some(2));
    assert!(r["submittedAt"].as_str().is_some_and(|s| s.starts_with("20")));

    let d2 = app
        .data(SUBMIT, json!({ "input": { "taskNumber": 16, "reporter": { "provinceCode": "440000" }, "period": "2016-09", "status": "COMPLETED", "percentComplete": 100, "summary": "Done in Guangdong." } }))
        .await;
    let r2 = &d2["submitProgressReport"]["report"];
    assert_eq!(r2["reporter"], json!({ "__typename": "Province", "code": "440000" }));
    assert_eq!(r2["evidenceUrls"], json!([]));

    let read = app
        .data(
            r#"query($sipo: ID!) {
                task(number: 16) { latestReport { summary } reports { totalCount nodes { period } } }
                other: task(number: 17) { latestReport { summary } reports { totalCount } }
                agency(id: $sipo) { reports { totalCount nodes { period } } }
                province(code: "440000") { reports { totalCount nodes { status } } }
                byPeriod: progressReports(filter: { period: "2016-09" }) { totalCount }
                byStatus: progressReports(filter: { status: COMPLETED }) { totalCount }
                byTask: progressReports(filter: { taskNumber: 16 }) { totalCount nodes { period } }
                byAgency: progressReports(filter: { agency: $sipo }) { totalCount }
                byProvince: progressReports(filter: { provinceCode: "440000" }) { totalCount }
                none: progressReports(filter: { provinceCode: "110000" }) { totalCount nodes { id } }
                real: progressReports(filter: { demo: false }) { totalCount }
            }"#,
            json!({ "sipo": sipo }),
        )
        .await;
    assert_eq!(read["task"]["latestReport"]["summary"], "Done in Guangdong.");
    assert_eq!(read["task"]["reports"]["totalCount"], 2);
    assert_eq!(
        read["task"]["reports"]["nodes"],
        json!([{ "period": "2016-09" }, { "period": "2016-H2" }]),
        "newest first"
    );
    assert!(read["other"]["latestReport"].is_null());
    assert_eq!(read["other"]["reports"]["totalCount"], 0);
    assert_eq!(read["agency"]["reports"]["totalCount"], 1);
    assert_eq!(read["province"]["reports"]["nodes"], json!([{ "status": "COMPLETED" }]));
    assert_eq!(read["byPeriod"]["totalCount"], 1);
    assert_eq!(read["byStatus"]["totalCount"], 1);
    assert_eq!(read["byTask"]["totalCount"], 2);
    assert_eq!(read["byAgency"]["totalCount"], 1);
    assert_eq!(read["byProvince"]["totalCount"], 1);
    assert_eq!(read["none"], json!({ "totalCount": 0, "nodes": [] }));
    assert_eq!(read["real"]["totalCount"], 2);
    assert_eq!(
        app.error("{ progressReports(filter: { period: \"2016-Q5\" }) { totalCount } }", json!({})).await,
        ("BAD_USER_INPUT".into(), Some("filter.period".into()))
    );
}

#[tokio::test]
async fn every_rejection_names_its_field_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let sipo = agency_id(&app, "SIPO").await;
    let scopsr = agency_id(&app, "State Commission Office for Public Sector Reform").await;
    let task_id = app.data("{ task(number: 1) { id } }", json!({})).await["task"]["id"].clone();
    let valid = json!({ "taskNumber": 1, "reporter": { "agencyId": sipo }, "period": "2016-Q3", "status": "IN_PROGRESS",
                        "percentComplete": 50, "summary": "ok", "evidenceUrls": [] });
    let with = |patch: Value| {
        let mut input = valid.clone();
        for (k, v) in patch.as_object().expect("object") {
            input[k] = v.clone();
        }
        json!({ "input": input })
    };
    let cases: Vec<(Value, &str, Option<&str>)> = vec![
        (with(json!({ "taskNumber": 107 })), "NOT_FOUND", Some("taskNumber")),
        (with(json!({ "taskNumber": -1 })), "NOT_FOUND", Some("taskNumber")),
        (with(json!({ "reporter": {} })), "BAD_USER_INPUT", Some("reporter")),
        (
            with(json!({ "reporter": { "agencyId": sipo, "provinceCode": "440000" } })),
            "BAD_USER_INPUT",
            Some("reporter"),
        ),
        (with(json!({ "reporter": { "agencyId": "junk" } })), "BAD_USER_INPUT", Some("reporter.agencyId")),
        (with(json!({ "reporter": { "agencyId": task_id } })), "BAD_USER_INPUT", Some("reporter.agencyId")),
        (with(json!({ "reporter": { "agencyId": "QWdlbmN5Ojk5OTk=" } })), "NOT_FOUND", Some("reporter.agencyId")),
        (with(json!({ "reporter": { "agencyId": scopsr } })), "BAD_USER_INPUT", Some("reporter.agencyId")),
        (with(json!({ "reporter": { "provinceCode": "999999" } })), "NOT_FOUND", Some("reporter.provinceCode")),
        (with(json!({ "period": "2016-Q5" })), "BAD_USER_INPUT", Some("period")),
        (with(json!({ "period": "2015" })), "BAD_USER_INPUT", Some("period")),
        (with(json!({ "period": "" })), "BAD_USER_INPUT", Some("period")),
        (with(json!({ "percentComplete": 101 })), "BAD_USER_INPUT", Some("percentComplete")),
        (with(json!({ "percentComplete": -1 })), "BAD_USER_INPUT", Some("percentComplete")),
        (with(json!({ "status": "COMPLETED", "percentComplete": 90 })), "BAD_USER_INPUT", Some("percentComplete")),
        (with(json!({ "summary": "" })), "BAD_USER_INPUT", Some("summary")),
        (with(json!({ "summary": "   " })), "BAD_USER_INPUT", Some("summary")),
        (with(json!({ "summary": "x".repeat(5001) })), "BAD_USER_INPUT", Some("summary")),
        (with(json!({ "evidenceUrls": vec!["https://a.example"; 11] })), "BAD_USER_INPUT", Some("evidenceUrls")),
        (with(json!({ "evidenceUrls": ["javascript:alert(1)"] })), "BAD_USER_INPUT", Some("evidenceUrls[0]")),
        (
            with(json!({ "evidenceUrls": ["https://ok.example", "ftp://x.example"] })),
            "BAD_USER_INPUT",
            Some("evidenceUrls[1]"),
        ),
        // Type errors are caught by GraphQL validation, still with a code.
        (with(json!({ "status": "DONE" })), "BAD_USER_INPUT", None),
        (with(json!({ "percentComplete": 1e12 })), "BAD_USER_INPUT", None),
        (with(json!({ "taskNumber": "one" })), "BAD_USER_INPUT", None),
    ];
    for (vars, code, field) in cases {
        let (got_code, got_field) = app.error(SUBMIT, vars.clone()).await;
        assert_eq!(got_code, code, "{vars}");
        if field.is_some() {
            assert_eq!(got_field.as_deref(), field, "{vars}");
        }
    }
    // NUL never reaches the database: the request is refused before execution.
    let mut nul = valid.clone();
    nul["summary"] = json!("nul\u{0}here");
    let r = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&app.admin)
        .json(&json!({ "query": SUBMIT, "variables": { "input": nul } }))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(report_count(&app).await, 0, "no rejected report was written");
    // The valid input itself goes through.
    app.data(SUBMIT, json!({ "input": valid })).await;
    assert_eq!(report_count(&app).await, 1);
}

#[tokio::test]
async fn report_pagination_is_newest_first_and_stable() {
    let app = TestApp::spawn().await;
    for i in 0..7 {
        app.data(
            SUBMIT,
            json!({ "input": { "taskNumber": 5, "reporter": { "provinceCode": "310000" }, "period": format!("2017-{:02}", i + 1), "status": "IN_PROGRESS", "summary": format!("r{i}") } }),
        )
        .await;
    }
    let q = "query($after: String) { progressReports(first: 3, after: $after) { nodes { summary } pageInfo { hasNextPage endCursor } } }";
    let mut after = Value::Null;
    let mut seen = Vec::new();
    loop {
        let d = app.data(q, json!({ "after": after })).await;
        seen.extend(d["progressReports"]["nodes"].as_array().expect("nodes").iter().map(|n| n["summary"].clone()));
        if d["progressReports"]["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = d["progressReports"]["pageInfo"]["endCursor"].clone();
        // A report that arrives mid-walk does not shift the pages being read.
        if seen.len() == 3 {
            app.data(SUBMIT, json!({ "input": { "taskNumber": 5, "reporter": { "provinceCode": "310000" }, "period": "2018", "status": "ONGOING", "summary": "late" } })).await;
        }
    }
    let expected: Vec<Value> = (0..7).rev().map(|i| json!(format!("r{i}"))).collect();
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn demo_reports_are_flagged_and_kept_apart() {
    let app = TestApp::spawn().await;
    app.data(
        SUBMIT,
        json!({ "input": { "taskNumber": 9, "reporter": { "provinceCode": "320000" }, "period": "2016", "status": "ONGOING", "summary": "real" } }),
    )
    .await;
    let (tasks, provinces) = app.store.demo_inputs().await.expect("demo inputs");
    assert_eq!((tasks.len(), provinces.len()), (106, 31));
    let generated = workplan_domain::demo::generate(&tasks, &provinces, 250, 42).expect("generate");
    assert_eq!(app.store.insert_demo_reports(generated).await.expect("insert"), 250);
    assert_eq!(app.store.report_counts().await.expect("counts"), (1, 250));
    let d = app
        .data(
            "{ demo: progressReports(filter: { demo: true }, first: 100) { totalCount nodes { isDemo summary task { responsibilities { agency { id } } } reporter { __typename ... on Agency { id } } } }
               real: progressReports(filter: { demo: false }) { totalCount nodes { isDemo summary } } }",
            json!({}),
        )
        .await;
    assert_eq!(d["demo"]["totalCount"], 250);
    assert_eq!(d["real"]["totalCount"], 1);
    assert_eq!(d["real"]["nodes"][0], json!({ "isDemo": false, "summary": "real" }));
    for node in d["demo"]["nodes"].as_array().expect("nodes") {
        assert_eq!(node["isDemo"], true);
        assert!(node["summary"].as_str().is_some_and(|s| s.starts_with("[DEMO]")));
        if node["reporter"]["__typename"] == "Agency" {
            let responsible = node["task"]["responsibilities"]
                .as_array()
                .expect("r")
                .iter()
                .any(|r| r["agency"]["id"] == node["reporter"]["id"]);
            assert!(responsible, "a demo agency reports only on its own tasks");
        }
    }
    // Real reports cannot be bulk-inserted through the demo path.
    let mut real = workplan_domain::demo::generate(&tasks, &provinces, 1, 1).expect("generate");
    real[0].report.is_demo = false;
    assert!(app.store.insert_demo_reports(real).await.is_err());
}
