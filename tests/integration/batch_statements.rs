//! A batch — a page of reports per parent, a count per parent, reports or their history by id —
//! is one statement whose text does not depend on how many parents or ids it holds, so that
//! PostgreSQL prepares and plans it once instead of once per batch size. And each parent's page
//! is the page a query on that parent alone returns: in every order and direction, from every
//! cursor, with the page size + 1 lookahead, within the caller's scope.

use std::collections::HashMap;

use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::json;
use workplan_domain::access::ReportScope;
use workplan_domain::ids::{AgencyId, ProvinceId, ReportId};
use workplan_domain::listing::{
    AgencyFilter, AgencyQuery, Direction, PageRequest, ReportFilter, ReportOrder, ReportParent, ReportQuery,
};
use workplan_domain::ports::{PlanReader, ReportReader};
use workplan_domain::report::{Period, ReportState, ReportStatus, Reporter};
use workplan_server::commands::seed::seed_demo;
use workplan_tests::TestApp;
use workplan_tests::subscriber::{Sql, statements_of};

/// What `f` returns, and the one statement the store ran for it.
async fn one_statement<T>(f: impl Future<Output = T>) -> (T, Sql) {
    let (out, mut ran) = statements_of(f).await;
    assert_eq!(ran.len(), 1, "one statement per batch: {ran:#?}");
    (out, ran.remove(0))
}

/// The parents of each kind in the demo data, and how a flat list narrows to one of them.
struct Parents {
    tasks: HashMap<i64, i32>,
    agencies: Vec<i64>,
    provinces: HashMap<i64, String>,
}

impl Parents {
    async fn of(app: &TestApp) -> Self {
        let tasks = app.store.tasks().await.expect("tasks").into_iter().map(|t| (t.id.0, t.number)).collect();
        let query = AgencyQuery { filter: AgencyFilter::default(), page: PageRequest::first(100) };
        let agencies = app.store.list_agencies(&query).await.expect("agencies").items.iter().map(|a| a.id.0).collect();
        let provinces = app.store.provinces().await.expect("provinces").into_iter().map(|p| (p.id.0, p.code)).collect();
        Self { tasks, agencies, provinces }
    }

    /// Every parent of `kind`, sorted.
    fn ids(&self, kind: ReportParent) -> Vec<i64> {
        let mut ids: Vec<i64> = match kind {
            ReportParent::Task => self.tasks.keys().copied().collect(),
            ReportParent::Agency => self.agencies.clone(),
            ReportParent::Province => self.provinces.keys().copied().collect(),
        };
        ids.sort_unstable();
        ids
    }

    /// `filter` narrowed to the reports of one parent, as a flat list asks for them.
    fn narrow(&self, kind: ReportParent, id: i64, filter: &ReportFilter) -> ReportFilter {
        let mut filter = filter.clone();
        match kind {
            ReportParent::Task => filter.task_number = Some(self.tasks[&id]),
            ReportParent::Agency => filter.agency = Some(AgencyId(id)),
            ReportParent::Province => filter.province_code = Some(self.provinces[&id].clone()),
        }
        filter
    }
}

/// The demo's reports (drafts, returned, reopened and accepted ones, by agencies and
/// provinces, submitted out of id order), and every report id in order.
async fn demo() -> (TestApp, Vec<i64>) {
    let app = TestApp::spawn().await;
    seed_demo(&app.store, 2500, 2016, false).await.expect("seed the demo");
    let ids = ids_of(&app, "SELECT id FROM progress_reports ORDER BY id").await;
    (app, ids)
}

/// The `id` column of `sql`'s rows, read straight from the database.
async fn ids_of(app: &TestApp, sql: &str) -> Vec<i64> {
    let db = Database::connect(app.db.url()).await.expect("connect");
    let rows = db.query_all_raw(Statement::from_string(db.get_database_backend(), sql)).await.expect("rows");
    db.close().await.expect("close");
    rows.iter().map(|r| r.try_get::<i64>("", "id").expect("id")).collect()
}

/// Page requests in both directions: from either end, after and before a cursor, and between
/// two; sizes 1 and 3 (each read with one row of lookahead).
fn pages(ids: &[i64]) -> Vec<PageRequest<i64>> {
    let (low, mid, high) = (ids[ids.len() / 4], ids[ids.len() / 2], ids[ids.len() * 3 / 4]);
    let page = |size, direction, after, before| PageRequest { size, direction, after, before };
    vec![
        page(1, Direction::Forward, None, None),
        page(3, Direction::Forward, None, None),
        page(3, Direction::Forward, Some(mid), None),
        page(3, Direction::Backward, None, None),
        page(3, Direction::Backward, None, Some(mid)),
        page(3, Direction::Forward, Some(low), Some(high)),
        page(1, Direction::Backward, Some(low), Some(high)),
    ]
}

/// Every order a report list has, each way round.
const ORDERS: [(ReportOrder, bool); 4] = [
    (ReportOrder::Recorded, false),
    (ReportOrder::Recorded, true),
    (ReportOrder::Submitted, false),
    (ReportOrder::Submitted, true),
];

/// Checks that one batch over every parent of `kind` returns, for each parent, exactly the page
/// a list of that parent's reports alone returns.
async fn check_batch(app: &TestApp, parents: &Parents, kind: ReportParent, query: &ReportQuery) {
    let ids = parents.ids(kind);
    let grouped = app.store.list_reports_grouped(kind, &ids, query).await.expect("grouped pages");
    let alone = ids.iter().map(|id| {
        let alone = ReportQuery { filter: parents.narrow(kind, *id, &query.filter), ..query.clone() };
        async move { app.store.list_reports(&alone).await.expect("one parent's page") }
    });
    for (id, expected) in ids.iter().zip(futures::future::join_all(alone).await) {
        match grouped.get(id) {
            Some(got) => {
                assert_eq!(*got, expected, "{kind:?} {id} under {query:?}");
                assert!(got.items.iter().all(|r| r.readable_within(&query.filter.scope)), "the scope applies");
            }
            // A parent without a row on its page has no page in the batch (the caller shows an
            // empty one), as before.
            None => assert_eq!(expected.items, [], "{kind:?} {id} under {query:?}"),
        }
    }
}

#[tokio::test]
async fn each_parents_page_in_a_batch_is_the_page_of_that_parent_alone() {
    let (app, report_ids) = demo().await;
    let parents = Parents::of(&app).await;
    let province = *parents.provinces.keys().min().expect("a province");
    let scopes = [
        ReportScope::All,
        ReportScope::NotDraft,
        ReportScope::Accepted,
        ReportScope::OwnOrAccepted(Reporter::Agency(AgencyId(parents.agencies[0]))),
        ReportScope::OwnOrAccepted(Reporter::Province(ProvinceId(province))),
    ];
    let q3 = Period::parse("2016-Q3").expect("a period");
    let narrower = |scope| ReportFilter {
        states: Some(vec![ReportState::Submitted, ReportState::Accepted, ReportState::Returned]),
        status: Some(ReportStatus::InProgress),
        period_from: Some(q3),
        ..ReportFilter::new(scope)
    };
    let officially_accepted = |scope| ReportFilter { state: Some(ReportState::Accepted), ..ReportFilter::new(scope) };
    for kind in [ReportParent::Task, ReportParent::Agency, ReportParent::Province] {
        // Every order, direction and cursor for everyone's reports...
        for (order, oldest_first) in ORDERS {
            for page in pages(&report_ids) {
                let query = ReportQuery { filter: ReportFilter::new(ReportScope::All), page, oldest_first, order };
                check_batch(&app, &parents, kind, &query).await;
            }
        }
        // ...and within each scope, under narrower filters, from a cursor either way: each
        // scope and filter in two of the orders, every order in turn.
        let mid = report_ids[report_ids.len() / 2];
        let after = PageRequest { after: Some(mid), ..PageRequest::first(2) };
        let before = PageRequest { before: Some(mid), direction: Direction::Backward, ..PageRequest::first(2) };
        let mut orders = ORDERS.iter().cycle();
        for scope in scopes {
            for filter in [ReportFilter::new(scope), narrower(scope), officially_accepted(scope)] {
                for page in [after.clone(), before.clone()] {
                    let &(order, oldest_first) = orders.next().expect("orders cycle");
                    let query = ReportQuery { filter: filter.clone(), page, oldest_first, order };
                    check_batch(&app, &parents, kind, &query).await;
                }
            }
        }
    }
}

#[tokio::test]
async fn a_batch_of_two_parents_sends_the_statement_a_batch_of_a_hundred_sends() {
    let (app, report_ids) = demo().await;
    let parents = Parents::of(&app).await;
    for kind in [ReportParent::Task, ReportParent::Agency, ReportParent::Province] {
        let all = parents.ids(kind);
        let (two, many) = (&all[..2], &all[..all.len().min(100)]);
        assert!(many.len() >= 31, "{kind:?}: a batch of many parents");
        for (order, oldest_first) in ORDERS {
            for page in pages(&report_ids) {
                let query = ReportQuery { filter: ReportFilter::new(ReportScope::Accepted), page, oldest_first, order };
                let (small, a) = one_statement(app.store.list_reports_grouped(kind, two, &query)).await;
                let (large, b) = one_statement(app.store.list_reports_grouped(kind, many, &query)).await;
                assert_eq!(a, b, "{kind:?} pages under {query:?}");
                let mut large = large.expect("many pages");
                large.retain(|id, _| two.contains(id));
                assert_eq!(small.expect("two pages"), large, "the same pages in either batch");
            }
        }
        let filter = ReportFilter { status: Some(ReportStatus::Completed), ..ReportFilter::new(ReportScope::NotDraft) };
        let (small, a) = one_statement(app.store.count_reports_grouped(kind, two, &filter)).await;
        let (large, b) = one_statement(app.store.count_reports_grouped(kind, many, &filter)).await;
        assert_eq!(a, b, "{kind:?} counts");
        let large = large.expect("counts");
        assert_eq!(small.expect("counts"), two.iter().filter_map(|id| Some((*id, *large.get(id)?))).collect());
        for id in many {
            let alone = app.store.count_reports(&parents.narrow(kind, *id, &filter)).await.expect("count");
            assert_eq!(large.get(id).copied().unwrap_or(0), alone, "{kind:?} {id}: the count of that parent alone");
        }
    }

    let ids: Vec<ReportId> = report_ids.iter().map(|&i| ReportId(i)).collect();
    let (two, a) = one_statement(app.store.reports_by_ids(&ids[..2])).await;
    let (hundred, b) = one_statement(app.store.reports_by_ids(&ids[..100])).await;
    assert_eq!(a, b, "reports by id");
    assert_eq!(two.expect("two").len(), 2);
    let mut found: Vec<ReportId> = hundred.expect("a hundred").iter().map(|r| r.id).collect();
    found.sort_unstable();
    assert_eq!(found, ids[..100]);

    // The demo writes no history: three reports through the API do.
    let submit = "mutation($i: SubmitProgressReportInput!) { submitProgressReport(input: $i) { report { id } } }";
    for (task, province) in [(1, "110000"), (2, "440000"), (3, "510000")] {
        let input = json!({ "taskNumber": task, "reporter": { "provinceCode": province }, "period": "2030",
            "status": "ONGOING", "summary": "s" });
        app.data(submit, json!({ "i": input })).await;
    }
    let written: Vec<ReportId> = ids_of(&app, "SELECT DISTINCT report_id AS id FROM report_history ORDER BY report_id")
        .await
        .into_iter()
        .map(ReportId)
        .collect();
    assert_eq!(written.len(), 3);
    let hundred: Vec<ReportId> = written.iter().copied().chain(ids[..97].iter().copied()).collect();
    let (two, a) = one_statement(app.store.history(&written[..2])).await;
    let (all, b) = one_statement(app.store.history(&hundred)).await;
    assert_eq!(a, b, "history by report");
    let (two, all) = (two.expect("history of two"), all.expect("history of a hundred"));
    assert_eq!(two.iter().map(|h| h.report_id).collect::<Vec<_>>(), written[..2]);
    assert_eq!(all.iter().map(|h| h.report_id).collect::<Vec<_>>(), written);
}

/// The dashboard's statement — each task's newest report as an anonymous reader sees it —
/// reads the index of officially accepted reports (`ix_reports_task_official`) however
/// PostgreSQL plans it: the states are literals in its text, so even a generic plan of the
/// prepared statement can prove the partial index's condition, and a page no longer walks past
/// the reports the reader may not see.
#[tokio::test]
async fn the_latest_reports_an_anonymous_reader_sees_are_read_from_the_index_of_accepted_reports() {
    let (app, _) = demo().await;
    if !app.db.is_postgres() {
        return; // The question is how PostgreSQL plans a prepared statement.
    }
    let tasks = Parents::of(&app).await.ids(ReportParent::Task);
    let query = ReportQuery {
        filter: ReportFilter::new(ReportScope::Accepted),
        page: PageRequest::first(1),
        oldest_first: false,
        order: ReportOrder::Submitted,
    };
    let (_, sql) = one_statement(app.store.list_reports_grouped(ReportParent::Task, &tasks, &query)).await;
    assert_eq!(sql.params, 2, "the task ids and the limit are its only parameters: {}", sql.text);

    let db = Database::connect(app.db.url()).await.expect("connect");
    let ids = format!("{{{}}}", tasks.iter().map(i64::to_string).collect::<Vec<_>>().join(","));
    let setup = [
        "SET plan_cache_mode = force_generic_plan".to_owned(),
        // The demo table is small: without this a sequential scan would do.
        "SET enable_seqscan = off".to_owned(),
        format!("PREPARE latest(bigint[], bigint) AS {}", sql.text),
    ];
    let conn = db.get_database_backend();
    let plan: String = {
        // One session: the settings and the prepared statement belong to it.
        use sea_orm::TransactionTrait as _;
        let txn = db.begin().await.expect("begin");
        for statement in &setup {
            txn.execute_unprepared(statement).await.expect("setup");
        }
        let explain = format!("EXPLAIN EXECUTE latest('{ids}', 2)");
        let rows = txn.query_all_raw(Statement::from_string(conn, explain)).await.expect("explain");
        txn.rollback().await.expect("rollback");
        rows.iter().map(|r| r.try_get::<String>("", "QUERY PLAN").expect("a plan line")).collect::<Vec<_>>().join("\n")
    };
    assert!(plan.contains("ix_reports_task_official"), "{plan}");
}
