use std::pin::pin;
use std::task::{Context, Poll, Waker};

use super::*;
use crate::import::seed::provinces_from_json;
use crate::plan::ResponsibilityMode;

const PLAN: &str = include_str!("../../../../../seeds/plan-2016-66.json");
const PROVINCES: &str = include_str!("../../../../../seeds/provinces.json");

/// Runs a future that never waits (the snapshot answers at once).
fn now<T>(future: impl Future<Output = T>) -> T {
    let mut future = pin!(future);
    match future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("the snapshot never waits"),
    }
}

fn snapshot() -> PlanSnapshot {
    let plan = PlanSeed::from_json(PLAN).expect("plan seed");
    let provinces = provinces_from_json(PROVINCES).expect("province seed");
    PlanSnapshot::from_seeds(&plan, &provinces).expect("snapshot")
}

fn numbers(page: &Page<Task>) -> Vec<i32> {
    page.items.iter().map(|t| t.number).collect()
}

#[test]
fn the_seeded_plan_in_numbers() {
    let s = snapshot();
    assert_eq!(now(s.count_tasks(&TaskFilter::default())).expect("count"), 106);
    assert_eq!(now(s.count_agencies(&AgencyFilter::default())).expect("count"), 42);
    assert_eq!(now(s.provinces()).expect("provinces").len(), 31);
    let sections = now(s.sections()).expect("sections");
    let numerals: Vec<&str> = sections.iter().map(|s| s.numeral.as_str()).collect();
    assert_eq!(numerals, ["I", "II", "III", "IV", "V", "VI"]);
    let ids: Vec<i64> = sections.iter().map(|s| s.id.0).collect();
    let per_section = now(s.count_tasks_grouped(TaskParent::Section, &ids, &TaskFilter::default())).expect("n");
    let counts: Vec<i64> = ids.iter().map(|id| per_section[id]).collect();
    assert_eq!(counts, [13, 25, 32, 16, 11, 9]);
    let subsections = now(s.subsections_by_sections(&[SectionId(1)])).expect("subsections");
    assert_eq!(subsections.iter().map(|s| s.position).collect::<Vec<_>>(), [1, 2, 3, 4]);
}

#[test]
fn agencies_by_any_name_case_insensitive() {
    let s = snapshot();
    let sipo = now(s.agency_by_name("  sipo ")).expect("lookup").expect("by abbreviation");
    assert_eq!(sipo.name, "State Intellectual Property Office");
    assert_eq!((sipo.task_count, sipo.lead_task_count), (93, 51));
    let by_name = now(s.agency_by_name("STATE INTELLECTUAL PROPERTY OFFICE")).expect("lookup");
    assert_eq!(by_name.map(|a| a.id), Some(sipo.id));
    let alias = "central committee office for the comprehensive management of public security";
    let aliased = now(s.agency_by_name(alias)).expect("lookup").expect("by alias");
    assert!(aliased.name.starts_with("Office of the Central Committee"));
    assert_eq!(now(s.agency_by_name("Ministry of Magic")).expect("lookup"), None);
    let search = AgencyFilter { search: Some("comprehensive management".into()), role: None };
    assert_eq!(now(s.count_agencies(&search)).expect("count"), 1);
}

#[test]
fn task_filters() {
    let s = snapshot();
    let sipo = now(s.agency_by_name("SIPO")).expect("lookup").expect("sipo").id;
    let any = TaskFilter { agency: Some(sipo), ..TaskFilter::default() };
    let leads = TaskFilter { role: Some(Role::Lead), ..any.clone() };
    assert_eq!(now(s.count_tasks(&any)).expect("count"), 93);
    assert_eq!(now(s.count_tasks(&leads)).expect("count"), 51);
    let divided = TaskFilter { mode: Some(ResponsibilityMode::Divided), ..TaskFilter::default() };
    assert_eq!(now(s.count_tasks(&divided)).expect("count"), 20);
    let search = TaskFilter { search: Some("PATENT".into()), ..TaskFilter::default() };
    assert_eq!(now(s.count_tasks(&search)).expect("count"), 20);
    let t33 = now(s.tasks_by_numbers(&[33])).expect("task");
    let rows = now(s.responsibilities_by_tasks(&[t33[0].id])).expect("rows");
    assert_eq!(rows.iter().map(|r| (r.position, r.role)).collect::<Vec<_>>(), [(1, Role::Lead), (2, Role::Lead)]);
}

#[test]
fn keyset_pages_like_the_sql() {
    let s = snapshot();
    let query = |page: PageRequest<i32>, order: SortOrder| TaskQuery { filter: TaskFilter::default(), order, page };
    let first = now(s.list_tasks(&query(PageRequest::first(5), SortOrder::Ascending))).expect("page");
    assert_eq!(numbers(&first), [1, 2, 3, 4, 5]);
    assert!(first.has_next_page && !first.has_previous_page);
    let next = PageRequest::new(Some(5), Some(5), None, None).expect("page");
    let next = now(s.list_tasks(&query(next, SortOrder::Ascending))).expect("page");
    assert_eq!(numbers(&next), [6, 7, 8, 9, 10]);
    assert!(next.has_previous_page);
    let last = PageRequest::new(None, None, Some(3), None).expect("page");
    let last = now(s.list_tasks(&query(last, SortOrder::Ascending))).expect("page");
    assert_eq!(numbers(&last), [104, 105, 106]);
    assert!(!last.has_next_page && last.has_previous_page);
    let before = PageRequest::new(None, None, Some(2), Some(3)).expect("page");
    assert_eq!(numbers(&now(s.list_tasks(&query(before, SortOrder::Ascending))).expect("page")), [1, 2]);
    let desc = now(s.list_tasks(&query(PageRequest::first(2), SortOrder::Descending))).expect("page");
    assert_eq!(numbers(&desc), [106, 105]);
    let desc_after = PageRequest::new(Some(2), Some(105), None, None).expect("page");
    assert_eq!(numbers(&now(s.list_tasks(&query(desc_after, SortOrder::Descending))).expect("p")), [104, 103]);
}

#[test]
fn grouped_pages_and_agency_pages() {
    let s = snapshot();
    let query = TaskQuery { filter: TaskFilter::default(), order: SortOrder::Ascending, page: PageRequest::first(2) };
    let pages = now(s.list_tasks_grouped(TaskParent::Section, &[1, 2, 99], &query)).expect("pages");
    assert_eq!(pages.len(), 2, "an unknown parent has no page");
    assert_eq!(numbers(&pages[&2]), [14, 15]);
    let agencies = AgencyQuery { filter: AgencyFilter::default(), page: PageRequest::first(2) };
    let page = now(s.list_agencies(&agencies)).expect("page");
    let names: Vec<&str> = page.items.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(
        names,
        ["Central Military Commission's Equipment Development Department", "China Banking Regulatory Commission"]
    );
    let after = PageRequest::new(Some(1), Some(page.items[1].name.clone()), None, None).expect("page");
    let next = now(s.list_agencies(&AgencyQuery { filter: AgencyFilter::default(), page: after })).expect("page");
    assert_eq!(next.items[0].name, "China Council for the Promotion of International Trade");
    let codes = now(s.provinces_by_codes(&["110000".into(), "999999".into()])).expect("provinces");
    assert_eq!(codes.len(), 1);
}
