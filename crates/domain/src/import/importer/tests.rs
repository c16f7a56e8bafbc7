use super::*;

fn registry() -> AgencyRegistry {
    AgencyRegistry::from_json(
        r#"{"agencies": [
            {"name": "Ministry of Science and Technology", "nameZh": "科学技术部", "abbreviation": "MOST"},
            {"name": "Ministry of Finance", "nameZh": "财政部", "abbreviation": "MOF"},
            {"name": "State Administration of Science, Technology and Industry for National Defense", "nameZh": "国家国防科技工业局"},
            {"name": "Office of Things", "nameZh": "事务办", "knownSpellings": ["Things Office"]}
        ]}"#,
    )
    .expect("test registry")
}

fn doc(body: &str) -> String {
    format!(
        "Notice about a Plan\n\nLetter No. 1 [2016] from Some Office\n\nTo everyone: do it.\n\nSome Office\nJuly 8, 2016 (released)\n\nThe Plan for Things\n\nIn order to implement \"Opinions\" (Guo Fa [2015] No. 71), as follows:\n\n{body}"
    )
}

#[test]
fn parses_metadata_structure_and_roles() {
    let text = doc(
        "I. First Section\n\n(i) A sub.\n\n1. Do a. (The Ministry of Finance is responsible for this task)\n\n2. Do b. (The Ministry of Science and Technology, the State Administration of Science, Technology and Industry for National Defense, and the Ministry of Finance are responsible for the various tasks based on the division of responsibilities)\n\n(ii). Another.\n\n3. Do c (with a note). (The Ministry of Finance and the Ministry of Science and Technology take the lead, and the Things Office is responsible for this task)\n",
    );
    let plan = import_plan(&text, "test", &registry()).expect("imports");
    assert_eq!(plan.document.document_number, "Letter No. 1 [2016]");
    assert_eq!(plan.document.issuing_office, "Some Office");
    assert_eq!(plan.document.issue_date, NaiveDate::from_ymd_opt(2016, 7, 8).expect("date"));
    assert_eq!(plan.document.implements_reference, "Guo Fa [2015] No. 71");
    assert_eq!(plan.document.implements_title, "Opinions");
    assert_eq!(plan.sections.len(), 1);
    assert_eq!(plan.sections[0].subsections[1].title, "Another");
    let tasks: Vec<_> = plan.tasks().collect();
    assert_eq!(tasks.len(), 3);
    assert_eq!(tasks[1].mode, ResponsibilityMode::Divided);
    assert_eq!(tasks[1].responsibilities.len(), 3);
    assert_eq!(tasks[1].responsibilities[0].role, Role::Lead);
    assert_eq!(tasks[1].responsibilities[1].role, Role::Participant);
    assert_eq!(tasks[2].text, "Do c (with a note).");
    let roles: Vec<_> = tasks[2].responsibilities.iter().map(|r| r.role).collect();
    assert_eq!(roles, [Role::Lead, Role::Lead, Role::Participant]);
    let things = plan.agencies.iter().find(|a| a.name == "Office of Things").expect("placed");
    assert_eq!(things.aliases, ["Things Office"]);
}

#[test]
fn joins_paragraphs_split_by_page_breaks() {
    let text = doc(
        "I. S\n\n(i) Sub.\n\n1. Do a and\n\nmore. (The Ministry of Science and\n\nTechnology and Ministry of Finance are responsible for this task)\n",
    );
    let plan = import_plan(&text, "test", &registry()).expect("imports");
    let task = plan.tasks().next().expect("one task");
    assert_eq!(task.text, "Do a and more.");
    let names: Vec<_> = task.responsibilities.iter().map(|r| r.agency.as_str()).collect();
    assert_eq!(names, ["Ministry of Science and Technology", "Ministry of Finance"]);
}

#[test]
fn fails_loudly_on_an_unknown_agency() {
    let text = doc("I. S\n\n(i) Sub.\n\n1. Do. (The Ministry of Magic is responsible for this task)\n");
    let e = import_plan(&text, "test", &registry()).expect_err("unknown agency");
    assert!(e.to_string().contains("Ministry of Magic"), "{e}");
}

#[test]
fn fails_on_gaps_duplicates_and_strays() {
    let gap = doc("I. S\n\n(i) Sub.\n\n2. Do. (The Ministry of Finance is responsible for this task)\n");
    assert!(import_plan(&gap, "t", &registry()).is_err());
    let dup = doc(
        "I. S\n\n(i) Sub.\n\n1. Do. (The Ministry of Finance and the Ministry of Finance are responsible for this task)\n",
    );
    assert!(import_plan(&dup, "t", &registry()).is_err());
    let stray = doc(
        "I. S\n\n(i) Sub.\n\n1. Do. (The Ministry of Finance is responsible for this task)\n\nA stray paragraph.\n",
    );
    assert!(import_plan(&stray, "t", &registry()).is_err());
    let wording = doc("I. S\n\n(i) Sub.\n\n1. Do. (The Ministry of Finance is in charge of this task)\n");
    assert!(import_plan(&wording, "t", &registry()).is_err());
    let unfinished = doc("I. S\n\n(i) Sub.\n\n1. Do. (The Ministry of Finance is responsible");
    assert!(import_plan(&unfinished, "t", &registry()).is_err());
    let skipped_section = doc("II. S\n\n(i) Sub.\n\n1. Do. (The Ministry of Finance is responsible for this task)\n");
    assert!(import_plan(&skipped_section, "t", &registry()).is_err());
}

#[test]
fn roman_numerals() {
    assert_eq!(roman(1), "I");
    assert_eq!(roman(4), "IV");
    assert_eq!(roman(6), "VI");
    assert_eq!(roman(9), "IX");
    assert_eq!(roman(14), "XIV");
}
