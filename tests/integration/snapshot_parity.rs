//! The in-memory plan snapshot answers every task and agency query exactly as the database
//! does: same tasks, same order, same keys (cursors), same pages and counts.

use workplan_domain::ids::AgencyId;
use workplan_domain::listing::{
    Direction, PageRequest, SortOrder, TaskFilter, TaskKey, TaskParent, TaskQuery, TaskSort, TaskSortValue,
};
use workplan_domain::plan::snapshot::PlanSnapshot;
use workplan_domain::plan::{ResponsibilityMode, Role};
use workplan_domain::ports::PlanReader;
use workplan_tests::TestApp;

fn filters() -> Vec<TaskFilter> {
    let f = TaskFilter::default;
    let raw = vec![
        f(),
        TaskFilter { section_numeral: Some("三".into()), ..f() },
        TaskFilter { subsection_numeral: Some("ii".into()), ..f() },
        TaskFilter { section_numeral: Some("II".into()), subsection_numeral: Some("3".into()), ..f() },
        TaskFilter { agency_name: Some("商务部".into()), role: Some(Role::Lead), ..f() },
        TaskFilter { agency_name: Some("SIPO".into()), role: Some(Role::Participant), ..f() },
        TaskFilter { agency_name: Some("Legislative Affairs Office of the State Council".into()), ..f() },
        TaskFilter { agency: Some(AgencyId(1)), agency_name: Some("sipo".into()), ..f() },
        TaskFilter { mode: Some(ResponsibilityMode::Divided), search: Some("patent".into()), ..f() },
    ];
    raw.into_iter().map(|filter| filter.validated("filter").expect("valid")).collect()
}

fn pages() -> Vec<PageRequest<TaskKey>> {
    let page = |size, direction, after, before| PageRequest { size, direction, after, before };
    vec![
        page(200, Direction::Forward, None, None),
        page(3, Direction::Forward, None, None),
        page(4, Direction::Backward, None, None),
    ]
}

/// A key in the middle of the list, to page from.
fn middle(keys: &[TaskKey]) -> Option<TaskKey> {
    keys.get(keys.len() / 2).cloned()
}

#[tokio::test]
async fn the_snapshot_answers_task_queries_like_the_database() {
    let app = TestApp::spawn().await;
    let (plan, provinces) = workplan_server::seed_data().expect("seed");
    let snapshot = PlanSnapshot::from_seeds(&plan, &provinces).expect("snapshot");
    let db = &app.store.sql_plan();
    let mut compared = 0;
    for filter in filters() {
        assert_eq!(db.count_tasks(&filter).await.expect("db"), snapshot.count_tasks(&filter).await.expect("mem"));
        for sort in [TaskSort::Number, TaskSort::Section, TaskSort::LeadAgency] {
            for order in [SortOrder::Ascending, SortOrder::Descending] {
                let whole = TaskQuery { filter: filter.clone(), sort, order, page: PageRequest::first(200) };
                let keys: Vec<TaskKey> =
                    snapshot.list_tasks(&whole).await.expect("mem").items.into_iter().map(|(k, _)| k).collect();
                let mut requests = pages();
                if let Some(k) = middle(&keys) {
                    requests.push(PageRequest { after: Some(k.clone()), ..PageRequest::first(5) });
                    requests.push(PageRequest {
                        size: 5,
                        direction: Direction::Backward,
                        after: None,
                        before: Some(k),
                    });
                }
                for page in requests {
                    let query = TaskQuery { filter: filter.clone(), sort, order, page };
                    let (a, b) =
                        (db.list_tasks(&query).await.expect("db"), snapshot.list_tasks(&query).await.expect("mem"));
                    assert_eq!(a, b, "{query:?}");
                    let ids = [1, 2, 3, 4, 5, 6, 99];
                    let (a, b) = (
                        db.list_tasks_grouped(TaskParent::Section, &ids, &query).await.expect("db"),
                        snapshot.list_tasks_grouped(TaskParent::Section, &ids, &query).await.expect("mem"),
                    );
                    assert_eq!(a, b, "by section {query:?}");
                    compared += 1;
                }
            }
        }
        let subsections: Vec<i64> = (1..=28).collect();
        assert_eq!(
            db.count_tasks_grouped(TaskParent::Subsection, &subsections, &filter).await.expect("db"),
            snapshot.count_tasks_grouped(TaskParent::Subsection, &subsections, &filter).await.expect("mem")
        );
    }
    assert!(compared > 200, "{compared}");
    // A key names the value it sorts by.
    let lead = TaskQuery { sort: TaskSort::LeadAgency, ..TaskQuery::default() };
    let page = db.list_tasks(&lead).await.expect("db");
    assert!(matches!(&page.items[0].0.value, TaskSortValue::Name(n) if n == "China Insurance Regulatory Commission"));
}

#[tokio::test]
async fn the_snapshot_finds_agencies_by_every_name_like_the_database() {
    let app = TestApp::spawn().await;
    let (plan, provinces) = workplan_server::seed_data().expect("seed");
    let snapshot = PlanSnapshot::from_seeds(&plan, &provinces).expect("snapshot");
    for name in [
        "SIPO",
        " sipo ",
        "国家知识产权局",
        "商务部",
        "General Administration of Quality Supervision, Inspection and Quarantine",
        "legislative affairs office of the state council",
        "Central Committee Office for the Comprehensive Management of Public Security",
        "Ministry of Magic",
    ] {
        let (a, b) = (
            app.store.sql_plan().agency_by_name(name).await.expect("db"),
            snapshot.agency_by_name(name).await.expect("mem"),
        );
        assert_eq!(a, b, "{name}");
        assert_eq!(a.is_none(), name == "Ministry of Magic", "{name}");
    }
}
