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

/// A page request by task numbers, as cursors of a list sorted by number carry them.
fn keyed(page: PageRequest<i32>) -> PageRequest<TaskKey> {
    PageRequest {
        size: page.size,
        direction: page.direction,
        after: page.after.map(TaskKey::number),
        before: page.before.map(TaskKey::number),
    }
}

fn numbers(page: &TaskPage) -> Vec<i32> {
    page.items.iter().map(|(_, t)| t.number).collect()
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
    let query = |page: PageRequest<i32>, order: SortOrder| TaskQuery {
        filter: TaskFilter::default(),
        sort: TaskSort::Number,
        order,
        page: keyed(page),
    };
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
    let query = TaskQuery {
        filter: TaskFilter::default(),
        sort: TaskSort::Number,
        order: SortOrder::Ascending,
        page: PageRequest::first(2),
    };
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

fn filtered(f: TaskFilter) -> TaskFilter {
    f.validated("filter").expect("valid filter")
}

#[test]
fn human_keys_filter_tasks() {
    let s = snapshot();
    let all = |f: TaskFilter| {
        let q = TaskQuery {
            filter: filtered(f),
            sort: TaskSort::Number,
            order: SortOrder::Ascending,
            page: PageRequest::first(200),
        };
        numbers(&now(s.list_tasks(&q)).expect("page"))
    };
    for typed in ["III", "iii", "3", "三", "（三）"] {
        let f = TaskFilter { section_numeral: Some(typed.into()), ..TaskFilter::default() };
        assert_eq!(all(f.clone()).len(), 32, "{typed}");
        assert_eq!(now(s.count_tasks(&filtered(f))).expect("count"), 32);
    }
    let f =
        TaskFilter {
            section_numeral: Some("三".into()), subsection_numeral: Some("(2)".into()), ..Default::default()
        };
    assert_eq!(all(f), [45, 46]);
    let vii = TaskFilter { subsection_numeral: Some("七".into()), ..TaskFilter::default() };
    assert_eq!(all(vii), [64, 65, 66, 67, 68, 69, 70]);
    let ii = TaskFilter { subsection_numeral: Some("ii".into()), ..TaskFilter::default() };
    assert_eq!(now(s.count_tasks(&filtered(ii))).expect("count"), 21);
    assert!(TaskFilter { section_numeral: Some("IIII".into()), ..Default::default() }.validated("f").is_err());

    let mofcom_leads = [63, 79, 80, 83, 84, 86, 88, 91, 92];
    for name in ["MOFCOM", "mofcom", "Ministry of Commerce", "商务部"] {
        let f = TaskFilter { agency_name: Some(name.into()), role: Some(Role::Lead), ..TaskFilter::default() };
        assert_eq!(all(f), mofcom_leads, "{name}");
    }
    let part =
        TaskFilter { agency_name: Some("商务部".into()), role: Some(Role::Participant), ..Default::default() };
    assert_eq!(all(part), [18, 21, 29, 34, 36, 37, 62, 71, 74, 76, 78, 85, 87, 90, 93, 94, 95, 96]);
    let any = TaskFilter { agency_name: Some("MOFCOM".into()), ..TaskFilter::default() };
    assert_eq!(all(any).len(), 27);
    let alias = "central committee office for the comprehensive management of public security";
    assert_eq!(all(TaskFilter { agency_name: Some(alias.into()), ..TaskFilter::default() }).len(), 2);
    assert!(all(TaskFilter { agency_name: Some("Ministry of Magic".into()), ..Default::default() }).is_empty());
    let sipo = now(s.agency_by_name("SIPO")).expect("lookup").expect("sipo").id;
    let both = TaskFilter { agency: Some(sipo), agency_name: Some("MOFCOM".into()), ..TaskFilter::default() };
    assert!(all(both).is_empty(), "one responsibility must match the id and the name");
}

#[test]
fn tasks_sorted_by_section_and_lead_agency_page_by_compound_keys() {
    let s = snapshot();
    let lead_order = [101, 65, 25, 38, 61, 62, 71, 17, 32, 90, 63, 79, 80, 84, 86, 91, 59, 49, 103, 52];
    let read = |sort, order, page| {
        let q = TaskQuery { filter: TaskFilter::default(), sort, order, page };
        now(s.list_tasks(&q)).expect("page")
    };
    for (sort, order, want) in [
        (TaskSort::LeadAgency, SortOrder::Ascending, &lead_order[..]),
        (TaskSort::LeadAgency, SortOrder::Descending, &[18, 14, 11, 105][..]),
        (TaskSort::Section, SortOrder::Descending, &[106, 105, 104][..]),
        (TaskSort::Section, SortOrder::Ascending, &[1, 2, 3][..]),
    ] {
        // Walk the whole list three at a time, forwards, then backwards from the end.
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = read(sort, order, PageRequest { size: 3, direction: Direction::Forward, after, before: None });
            seen.extend(numbers(&page));
            let (key, last) = page.items.last().expect("a page");
            assert_eq!(*key, s.task_key(sort, last));
            after = Some(key.clone());
            if !page.has_next_page {
                break;
            }
        }
        assert_eq!(seen.len(), 106);
        assert_eq!(&seen[..want.len()], want, "{sort:?} {order:?}");
        let mut back = Vec::new();
        let mut before = None;
        loop {
            let page = read(sort, order, PageRequest { size: 4, direction: Direction::Backward, after: None, before });
            back.splice(0..0, numbers(&page));
            before = page.items.first().map(|(k, _)| k.clone());
            if !page.has_previous_page {
                break;
            }
        }
        assert_eq!(back, seen, "{sort:?} {order:?} backwards");
    }
}

#[test]
fn task_keys_round_trip_as_text_and_old_number_cursors_still_parse() {
    let keys = [
        TaskKey::number(17),
        TaskKey { value: TaskSortValue::Position(3), number: 45 },
        TaskKey { value: TaskSortValue::Name("Ministry: of Commerce".into()), number: 63 },
    ];
    for key in keys {
        assert_eq!(key.to_string().parse::<TaskKey>().expect("parses"), key);
    }
    assert_eq!("17".parse::<TaskKey>().expect("old cursor"), TaskKey::number(17));
    assert!("s:x:1".parse::<TaskKey>().is_err());
    let wrong = TaskQuery {
        filter: TaskFilter::default(),
        sort: TaskSort::Section,
        order: SortOrder::Ascending,
        page: PageRequest { after: Some(TaskKey::number(3)), ..PageRequest::first(3) },
    };
    assert!(wrong.validated().is_err());
}
