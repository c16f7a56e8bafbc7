use serde_json::json;
use workplan_tests::TestApp;

#[tokio::test]
async fn plan_metadata_and_structure() {
    let app = TestApp::spawn().await;
    let data = app
        .data(
            "{ plan { title planTitle documentNumber issuingOffice issueDate implements implementsReference taskCount agencyCount }
               sections { numeral position title subsections { numeral position title section { numeral } } tasks(first: 100) { totalCount } } }",
            json!({}),
        )
        .await;
    let plan = &data["plan"];
    assert_eq!(plan["documentNumber"], "Letter No. 66 [2016]");
    assert_eq!(plan["issuingOffice"], "General Office of the State Council");
    assert_eq!(plan["issueDate"], "2016-07-08");
    assert_eq!(plan["implementsReference"], "Guo Fa [2015] No. 71");
    assert_eq!(plan["taskCount"], 106);
    assert_eq!(plan["agencyCount"], 42);
    let sections = data["sections"].as_array().expect("sections");
    let numerals: Vec<_> = sections.iter().map(|s| s["numeral"].as_str().unwrap_or_default()).collect();
    assert_eq!(numerals, ["I", "II", "III", "IV", "V", "VI"]);
    let subsections: Vec<usize> = sections.iter().map(|s| s["subsections"].as_array().map_or(0, Vec::len)).collect();
    assert_eq!(subsections, [4, 5, 7, 5, 4, 3]);
    let tasks: Vec<i64> = sections.iter().map(|s| s["tasks"]["totalCount"].as_i64().unwrap_or(-1)).collect();
    assert_eq!(tasks, [13, 25, 32, 16, 11, 9]);
    assert_eq!(sections[2]["subsections"][0]["title"], "Perfect the IP examination and registration system");
    assert_eq!(sections[2]["subsections"][0]["section"]["numeral"], "III");
}

#[tokio::test]
async fn task_with_explicit_leads() {
    let app = TestApp::spawn().await;
    let data = app
        .data(
            "query($n: Int!) { task(number: $n) { number text responsibilityMode section { numeral } subsection { numeral }
                 leadAgencies { name } responsibilities { position role agency { name } } } }",
            json!({ "n": 20 }),
        )
        .await;
    let task = &data["task"];
    assert_eq!(task["number"], 20);
    assert_eq!(task["responsibilityMode"], "JOINT");
    assert_eq!(task["section"]["numeral"], "II");
    assert_eq!(task["subsection"]["numeral"], "ii");
    let leads: Vec<_> = task["leadAgencies"].as_array().expect("leads").iter().map(|a| a["name"].clone()).collect();
    assert_eq!(
        leads,
        [
            json!("National Leading Group Office of the Campaign against IPR Infringement and Counterfeits"),
            json!("Supreme People's Procuratorate")
        ]
    );
    let resp = task["responsibilities"].as_array().expect("responsibilities");
    assert_eq!(resp.len(), 12);
    for (i, r) in resp.iter().enumerate() {
        assert_eq!(r["position"], i + 1);
        assert_eq!(r["role"], if i < 2 { "LEAD" } else { "PARTICIPANT" });
    }
    assert_eq!(resp[2]["agency"]["name"], "Supreme People's Court");
}

#[tokio::test]
async fn divided_task_and_missing_task() {
    let app = TestApp::spawn().await;
    let data = app
        .data("{ t14: task(number: 14) { responsibilityMode leadAgencies { name } } none: task(number: 107) { number } zero: task(number: 0) { number } }", json!({}))
        .await;
    assert_eq!(data["t14"]["responsibilityMode"], "DIVIDED");
    assert_eq!(data["t14"]["leadAgencies"][0]["name"], "Supreme People's Court");
    assert!(data["none"].is_null());
    assert!(data["zero"].is_null());
}

#[tokio::test]
async fn task_filters() {
    let app = TestApp::spawn().await;
    let ids = app
        .data(
            r#"{ sections { id subsections { id } } sipo: agency(name: "SIPO") { id } mof: agency(name: "Ministry of Finance") { id } }"#,
            json!({}),
        )
        .await;
    let section_ii = ids["sections"][1]["id"].clone();
    let subsection_iii_i = ids["sections"][2]["subsections"][0]["id"].clone();
    let sipo = ids["sipo"]["id"].clone();
    let mof = ids["mof"]["id"].clone();
    let q = "query($f: TaskFilter) { tasks(filter: $f, first: 100) { totalCount nodes { number } } }";
    let numbers = |d: &serde_json::Value| -> Vec<i64> {
        d["tasks"]["nodes"].as_array().expect("nodes").iter().filter_map(|n| n["number"].as_i64()).collect()
    };

    let d = app.data(q, json!({ "f": { "section": section_ii } })).await;
    assert_eq!(d["tasks"]["totalCount"], 25);
    assert_eq!(numbers(&d), (14..=38).collect::<Vec<_>>());

    let d = app.data(q, json!({ "f": { "subsection": subsection_iii_i } })).await;
    assert_eq!(numbers(&d), (39..=44).collect::<Vec<_>>());

    let d = app.data(q, json!({ "f": { "mode": "DIVIDED" } })).await;
    assert_eq!(numbers(&d), [14, 17, 18, 26, 29, 30, 31, 32, 36, 37, 40, 41, 51, 59, 63, 78, 85, 86, 87, 90]);

    let d = app.data(q, json!({ "f": { "agency": mof, "role": "LEAD" } })).await;
    assert_eq!(numbers(&d), [52, 99, 100, 102]);
    let d = app.data(q, json!({ "f": { "agency": sipo } })).await;
    assert_eq!(d["tasks"]["totalCount"], 93);
    let d = app.data(q, json!({ "f": { "agency": sipo, "role": "LEAD", "section": section_ii } })).await;
    assert_eq!(numbers(&d), [16, 28, 33, 35]);

    let d = app.data(q, json!({ "f": { "search": "BIG DATA" } })).await;
    assert_eq!(numbers(&d), [28, 34, 70]);
    let d = app.data(q, json!({ "f": { "search": "100%" } })).await;
    assert_eq!(d["tasks"]["totalCount"], 0, "wildcards in the search are literal");
    let d = app.data(q, json!({ "f": { "search": "patent", "mode": "DIVIDED" } })).await;
    assert_eq!(numbers(&d), [40, 87]);

    assert_eq!(
        app.error(q, json!({ "f": { "role": "LEAD" } })).await,
        ("BAD_USER_INPUT".into(), Some("filter.role".into()))
    );
    assert_eq!(
        app.error(q, json!({ "f": { "agency": "nonsense" } })).await,
        ("BAD_USER_INPUT".into(), Some("filter.agency".into()))
    );
    assert_eq!(
        app.error(q, json!({ "f": { "section": sipo } })).await,
        ("BAD_USER_INPUT".into(), Some("filter.section".into()))
    );
    assert_eq!(
        app.error(q, json!({ "f": { "search": "x".repeat(201) } })).await,
        ("BAD_USER_INPUT".into(), Some("filter.search".into()))
    );
}

#[tokio::test]
async fn nested_task_lists_take_filters() {
    let app = TestApp::spawn().await;
    let d = app
        .data(
            r"{ sections { numeral tasks(filter: { mode: DIVIDED }, first: 2) { totalCount nodes { number } pageInfo { hasNextPage } } } }",
            json!({}),
        )
        .await;
    let s = &d["sections"];
    assert_eq!(s[0]["tasks"]["totalCount"], 0);
    assert_eq!(s[1]["tasks"]["totalCount"], 10);
    assert_eq!(s[1]["tasks"]["nodes"], json!([{ "number": 14 }, { "number": 17 }]));
    assert_eq!(s[1]["tasks"]["pageInfo"]["hasNextPage"], true);
    assert_eq!(s[4]["tasks"]["nodes"], json!([{ "number": 87 }, { "number": 90 }]));
    assert_eq!(s[4]["tasks"]["pageInfo"]["hasNextPage"], false);
}

#[tokio::test]
async fn provinces() {
    let app = TestApp::spawn().await;
    let d = app
        .data(r#"{ provinces { code name nameZh kind } gd: province(code: "440000") { name nameZh kind } none: province(code: "999999") { name } }"#, json!({}))
        .await;
    let provinces = d["provinces"].as_array().expect("provinces");
    assert_eq!(provinces.len(), 31);
    assert_eq!(
        provinces[0],
        json!({ "code": "110000", "name": "Beijing", "nameZh": "北京市", "kind": "MUNICIPALITY" })
    );
    let count = |kind: &str| provinces.iter().filter(|p| p["kind"] == kind).count();
    assert_eq!((count("PROVINCE"), count("AUTONOMOUS_REGION"), count("MUNICIPALITY")), (22, 5, 4));
    assert_eq!(d["gd"], json!({ "name": "Guangdong", "nameZh": "广东省", "kind": "PROVINCE" }));
    assert!(d["none"].is_null());
    assert_eq!(
        app.error(r#"{ province(code: "44") { name } }"#, json!({})).await,
        ("BAD_USER_INPUT".into(), Some("code".into()))
    );
}
