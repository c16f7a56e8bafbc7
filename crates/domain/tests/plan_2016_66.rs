//! Pins known facts of the 2016 plan, parsed from the copy of the source in `seeds/`.

use workplan_domain::import::importer::import_plan;
use workplan_domain::import::seed::{AgencyRegistry, PlanSeed, TaskSeed};
use workplan_domain::plan::{ResponsibilityMode, Role};

const SOURCE: &str = include_str!("../../../seeds/division-of-work-2016-66.txt");
const REGISTRY: &str = include_str!("../../../seeds/agencies.json");
const PLAN: &str = include_str!("../../../seeds/plan-2016-66.json");

fn plan() -> PlanSeed {
    let registry = AgencyRegistry::from_json(REGISTRY).expect("registry parses");
    import_plan(SOURCE, "division-of-work-2016-66.txt", &registry).expect("the source imports")
}

fn task(plan: &PlanSeed, number: i32) -> &TaskSeed {
    plan.tasks().find(|t| t.number == number).expect("task exists")
}

fn names(task: &TaskSeed, role: Role) -> Vec<&str> {
    task.responsibilities.iter().filter(|r| r.role == role).map(|r| r.agency.as_str()).collect()
}

#[test]
fn the_checked_in_plan_is_what_the_importer_makes() {
    let fresh = plan().to_json().expect("serialises");
    assert!(
        fresh == PLAN,
        "seeds/plan-2016-66.json is stale: run `cargo run -- import-plan seeds/division-of-work-2016-66.txt`"
    );
    assert_eq!(PlanSeed::from_json(PLAN).expect("plan file parses"), plan());
}

#[test]
fn document_metadata() {
    let d = plan().document;
    assert_eq!(d.document_number, "Letter No. 66 [2016]");
    assert_eq!(d.issuing_office, "General Office of the State Council");
    assert_eq!(d.issue_date.to_string(), "2016-07-08");
    assert_eq!(d.implements_reference, "Guo Fa [2015] No. 71");
    assert_eq!(
        d.implements_title,
        "Several State Council Opinions on the Acceleration of Establishing China as a Strong Intellectual Property Nation in this New Terrain"
    );
    assert!(d.plan_title.starts_with("The Plan for the Division of Work for Key Tasks"));
}

#[test]
fn structure_counts() {
    let plan = plan();
    assert_eq!(plan.sections.len(), 6);
    let numerals: Vec<_> = plan.sections.iter().map(|s| s.numeral.as_str()).collect();
    assert_eq!(numerals, ["I", "II", "III", "IV", "V", "VI"]);
    let subsections: Vec<_> = plan.sections.iter().map(|s| s.subsections.len()).collect();
    assert_eq!(subsections, [4, 5, 7, 5, 4, 3]);
    assert_eq!(subsections.iter().sum::<usize>(), 28);
    let tasks: Vec<usize> = plan.sections.iter().map(|s| s.subsections.iter().map(|ss| ss.tasks.len()).sum()).collect();
    assert_eq!(tasks, [13, 25, 32, 16, 11, 9]);
    let numbers: Vec<i32> = plan.tasks().map(|t| t.number).collect();
    assert_eq!(numbers, (1..=106).collect::<Vec<_>>());
    assert_eq!(plan.agencies.len(), 42);
    assert_eq!(plan.sections[0].title, "Advance the Reform of the IP Management System and Mechanism");
    assert_eq!(plan.sections[2].subsections[0].title, "Perfect the IP examination and registration system");
}

#[test]
fn explicit_leads() {
    let plan = plan();
    let t20 = task(&plan, 20);
    assert_eq!(
        names(t20, Role::Lead),
        [
            "National Leading Group Office of the Campaign against IPR Infringement and Counterfeits",
            "Supreme People's Procuratorate"
        ]
    );
    assert_eq!(names(t20, Role::Participant).len(), 10);
    assert_eq!(
        names(task(&plan, 23), Role::Lead),
        ["National Development and Reform Commission", "People's Bank of China"]
    );
    let t33 = task(&plan, 33);
    assert_eq!(names(t33, Role::Lead), ["State Intellectual Property Office", "Supreme People's Court"]);
    assert!(names(t33, Role::Participant).is_empty());
    assert_eq!(
        names(task(&plan, 80), Role::Participant),
        ["Ministry of Finance", "State Intellectual Property Office"]
    );
    assert_eq!(
        names(task(&plan, 88), Role::Lead),
        ["State Intellectual Property Office", "Ministry of Commerce", "Ministry of Foreign Affairs"]
    );
    assert_eq!(names(task(&plan, 102), Role::Participant), ["Ministry of Industry and Information Technology"]);
    let multi_lead: Vec<i32> = plan.tasks().filter(|t| names(t, Role::Lead).len() > 1).map(|t| t.number).collect();
    assert_eq!(multi_lead, [20, 23, 33, 80, 83, 84, 88, 92, 102]);
    // Everywhere else the first listed leads alone.
    let t2 = task(&plan, 2);
    assert_eq!(names(t2, Role::Lead), ["State Commission Office for Public Sector Reform"]);
    assert_eq!(t2.responsibilities.len(), 4);
}

#[test]
fn divided_tasks() {
    let plan = plan();
    let divided: Vec<i32> = plan.tasks().filter(|t| t.mode == ResponsibilityMode::Divided).map(|t| t.number).collect();
    assert_eq!(divided, [14, 17, 18, 26, 29, 30, 31, 32, 36, 37, 40, 41, 51, 59, 63, 78, 85, 86, 87, 90]);
    assert_eq!(names(task(&plan, 14), Role::Lead), ["Supreme People's Court"]);
}

#[test]
fn messy_text() {
    let plan = plan();
    // A page break inside an agency name.
    assert_eq!(
        task(&plan, 11).responsibilities[0].agency,
        "State-Owned Assets Supervision and Administration Commission"
    );
    assert!(task(&plan, 11).text.ends_with("business performance, intellectual property, and innovation."));
    // A page break inside the task text.
    assert!(task(&plan, 71).text.contains("patent landscaping. Study and formulate guidelines"));
    // A name with a comma, split by a page break.
    let t31: Vec<_> = task(&plan, 31).responsibilities.iter().map(|r| r.agency.as_str()).collect();
    assert_eq!(t31.len(), 8);
    assert!(t31.contains(&"State Administration of Science, Technology and Industry for National Defense"));
    // A list that lacks a "the".
    let t104: Vec<_> = task(&plan, 104).responsibilities.iter().map(|r| r.agency.as_str()).collect();
    assert_eq!(t104, ["Organization Department of the Communist Party of China", "State Intellectual Property Office"]);
    // One agency spelled two ways.
    let office = plan
        .agencies
        .iter()
        .find(|a| a.name == "Office of the Central Committee for the Comprehensive Management of Public Security")
        .expect("agency");
    assert_eq!(office.aliases, ["Central Committee Office for the Comprehensive Management of Public Security"]);
    assert_eq!(task(&plan, 30).responsibilities[0].agency, office.name);
    assert_eq!(task(&plan, 34).responsibilities[1].agency, office.name);
    // No other agency has an alias: nothing else was spelled differently.
    assert_eq!(plan.agencies.iter().filter(|a| !a.aliases.is_empty()).count(), 1);
}

#[test]
fn agency_reference_data() {
    let plan = plan();
    let sipo = &plan.agencies[0];
    assert_eq!(
        (sipo.name.as_str(), sipo.name_zh.as_str(), sipo.abbreviation.as_deref()),
        ("State Intellectual Property Office", "国家知识产权局", Some("SIPO"))
    );
    for abbr in ["SAIC", "NCAC", "MOFCOM", "NDRC"] {
        assert!(plan.agencies.iter().any(|a| a.abbreviation.as_deref() == Some(abbr)), "{abbr}");
    }
    assert!(plan.agencies.iter().all(|a| !a.name_zh.is_empty()));
}

#[test]
fn an_unknown_agency_fails_loudly() {
    let registry = AgencyRegistry::from_json(REGISTRY).expect("registry");
    let broken = SOURCE.replace("the Ministry of Culture", "the Ministry of Kulture");
    let err = import_plan(&broken, "x", &registry).expect_err("must fail");
    assert!(err.to_string().contains("Ministry of Kulture"), "{err}");
}
