//! The supervision store answers like a straightforward computation from the full reports:
//! after reports are written in every state and kind, for agencies and provinces, in periods of
//! every length — through create, edit (submit, accept, return, reopen, withdraw, a period
//! moved), sync and the demo loader — `report_facts` and `accepted_parts` equal what the full
//! reports (`list_reports` with `ReportScope::All`) and their history say, read through the
//! domain's own [`AcceptedParts`]. Exemptions and extensions are stored, skipped and revoked as
//! the ports say, with a constant number of statements.

use std::collections::HashSet;

use chrono::{DateTime, Duration, TimeZone, Utc};
use workplan_domain::access::{Principal, ReportScope};
use workplan_domain::demo;
use workplan_domain::ids::{ReportId, TaskId};
use workplan_domain::listing::{PageRequest, ReportFilter, ReportOrder, ReportQuery};
use workplan_domain::plan::{ResponsibilityMode, Role};
use workplan_domain::ports::{PlanReader, ReportReader, ReportWriter, SupervisionReader, TokenStore};
use workplan_domain::report::sync::ValidSyncItem;
use workplan_domain::report::{
    Edit, NewReport, Period, ProgressReport, ReportContent, ReportKind, ReportPatch, ReportState, ReportStatus,
    Reporter,
};
use workplan_domain::supervision::{AcceptedPart, AcceptedParts, ReportFacts};
use workplan_tests::TestApp;

mod adjustments;

const PERIODS: [&str; 8] = ["2016-Q3", "2016-Q4", "2016", "2016-H2", "2016-10", "2017-Q1", "2017-H1", "2017"];

/// How a report's life goes after it is created.
#[derive(Debug, Clone, Copy)]
enum Life {
    Draft,
    Submitted,
    Accepted,
    Returned,
    Resubmitted,
    Reopened,
    ReopenedResubmitted,
    Reaccepted,
    Withdrawn,
    ReturnedWithdrawn,
    /// Drafted for another period, moved to its own, submitted and accepted.
    Moved,
}

const LIVES: [Life; 11] = [
    Life::Draft,
    Life::Submitted,
    Life::Accepted,
    Life::Returned,
    Life::Resubmitted,
    Life::Reopened,
    Life::ReopenedResubmitted,
    Life::Reaccepted,
    Life::Withdrawn,
    Life::ReturnedWithdrawn,
    Life::Moved,
];

/// The ADMIN the test app made, as a principal.
pub(crate) async fn admin(app: &TestApp) -> Principal {
    let token = app.store.token_by_name("test-admin").await.expect("lookup").expect("the admin token");
    Principal::from(&token)
}

/// Writes reports as the admin, each write an hour after the last.
struct Writer<'a> {
    app: &'a TestApp,
    admin: Principal,
    at: DateTime<Utc>,
    count: usize,
}

/// Some content, different for each `n`, valid for its status.
fn content(period: &str, n: usize) -> ReportContent {
    let (status, percent) = match n % 6 {
        0 => (ReportStatus::NotStarted, Some(0)),
        1 => (ReportStatus::InProgress, Some(i32::try_from(n % 97).expect("small"))),
        2 => (ReportStatus::Ongoing, None),
        3 => (ReportStatus::Completed, Some(100)),
        4 => (ReportStatus::InProgress, None),
        _ => (ReportStatus::Completed, None),
    };
    ReportContent {
        period: period.into(),
        status,
        percent_complete: percent,
        summary: format!("r{n}"),
        evidence_urls: vec![],
        health: None,
        obstacles: None,
    }
}

impl Writer<'_> {
    fn tick(&mut self) -> DateTime<Utc> {
        self.at += Duration::hours(1);
        self.at
    }

    async fn create(
        &mut self,
        task: TaskId,
        reporter: Reporter,
        kind: ReportKind,
        period: &str,
        draft: bool,
    ) -> ProgressReport {
        self.count += 1;
        let at = self.tick();
        let state = if draft { ReportState::Draft } else { ReportState::Submitted };
        let (submitted_at, first_submitted_at) = NewReport::times(state, at);
        let fields = content(period, self.count).validate().expect("valid content");
        let new = NewReport {
            task_id: task,
            reporter,
            fields,
            state,
            kind,
            client_report_id: None,
            created_at: at,
            submitted_at,
            first_submitted_at,
            is_demo: false,
        };
        self.app.store.create_report(&self.admin, new, None).await.expect("create")
    }

    async fn edit(&mut self, report: ProgressReport, edit: Edit) -> ProgressReport {
        let at = self.tick();
        self.app.store.edit_report(&self.admin, report.id, report.version, edit, at, None).await.expect("edit")
    }

    async fn review(&mut self, report: ProgressReport, accept: bool) -> ProgressReport {
        self.edit(report, Edit::Review { accept, comment: Some("checked".into()) }).await
    }

    async fn resubmit(&mut self, report: ProgressReport, period: Option<&str>) -> ProgressReport {
        self.count += 1;
        let c = content(period.unwrap_or(&report.period), self.count);
        let patch = ReportPatch {
            period: period.map(str::to_owned),
            status: Some(c.status),
            percent_complete: Some(c.percent_complete),
            submit: true,
            ..ReportPatch::default()
        };
        self.edit(report, Edit::Patch(patch)).await
    }

    /// Files one report on `period` and takes it through `life`.
    async fn file(&mut self, task: TaskId, reporter: Reporter, kind: ReportKind, period: &str, life: Life) {
        use Life as L;
        if let L::Moved = life {
            let draft = self.create(task, reporter, kind, "2019-05", true).await;
            let moved = self.resubmit(draft, Some(period)).await;
            self.review(moved, true).await;
            return;
        }
        let report = self.create(task, reporter, kind, period, matches!(life, L::Draft)).await;
        let reopen = Edit::Reopen { reason: "correct it".into() };
        match life {
            L::Draft | L::Submitted | L::Moved => {}
            L::Accepted => drop(self.review(report, true).await),
            L::Returned => drop(self.review(report, false).await),
            L::Resubmitted => {
                let r = self.review(report, false).await;
                self.resubmit(r, None).await;
            }
            L::Reopened => {
                let r = self.review(report, true).await;
                self.edit(r, reopen).await;
            }
            L::ReopenedResubmitted | L::Reaccepted => {
                let r = self.review(report, true).await;
                let r = self.edit(r, reopen).await;
                let r = self.resubmit(r, None).await;
                if let L::Reaccepted = life {
                    self.review(r, true).await;
                }
            }
            L::Withdrawn => drop(self.edit(report, Edit::Withdraw).await),
            L::ReturnedWithdrawn => {
                let r = self.review(report, false).await;
                self.edit(r, Edit::Withdraw).await;
            }
        }
    }
}

/// Reports in every state, kind and period length, for agencies and provinces: on a DIVIDED
/// task (with its lead's CONSOLIDATED reports), a JOINT task and one more; a province's reports
/// through sync (one returned, then resubmitted by sync); and demo reports.
async fn write_reports(app: &TestApp) {
    let tasks = app.store.tasks().await.expect("tasks");
    let responsibilities = app.store.responsibilities().await.expect("responsibilities");
    let provinces = app.store.provinces().await.expect("provinces");
    let agencies_of = |t: TaskId| -> Vec<_> { responsibilities.iter().filter(|r| r.task_id == t).collect() };
    let divided = tasks
        .iter()
        .find(|t| t.mode == ResponsibilityMode::Divided && agencies_of(t.id).len() >= 3)
        .expect("a DIVIDED task with three agencies");
    let joint = tasks
        .iter()
        .find(|t| {
            t.mode == ResponsibilityMode::Joint
                && agencies_of(t.id).iter().filter(|r| r.role == Role::Lead).count() >= 2
        })
        .expect("a JOINT task with two leads");
    let other = tasks.iter().find(|t| t.id != divided.id && t.id != joint.id).expect("a third task");
    let mut w =
        Writer { app, admin: admin(app).await, at: Utc.with_ymd_and_hms(2017, 1, 2, 0, 0, 0).unwrap(), count: 0 };
    let mut n = 0;
    for task in [divided, joint, other] {
        let agencies = agencies_of(task.id).into_iter().take(3).map(|r| Reporter::Agency(r.agency_id));
        let reporters: Vec<Reporter> =
            agencies.chain(provinces.iter().take(2).map(|p| Reporter::Province(p.id))).collect();
        for reporter in reporters {
            for period in PERIODS {
                n += 1;
                w.file(task.id, reporter, ReportKind::Part, period, LIVES[n % LIVES.len()]).await;
            }
        }
    }
    let lead = agencies_of(divided.id).into_iter().find(|r| r.role == Role::Lead).expect("a lead");
    for (i, period) in PERIODS.iter().enumerate() {
        w.file(
            divided.id,
            Reporter::Agency(lead.agency_id),
            ReportKind::Consolidated,
            period,
            LIVES[i * 3 % LIVES.len()],
        )
        .await;
    }
    sync_reports(&mut w, other.id, Reporter::Province(provinces[5].id)).await;
    let (demo_tasks, demo_provinces) = app.store.demo_inputs().await.expect("demo inputs");
    let inserted = app
        .store
        .insert_demo_reports(demo::generate(&demo_tasks, &demo_provinces, 300, 11).expect("generate"))
        .await
        .expect("demo");
    assert!(inserted > 250, "{inserted}");
}

/// Three reports through sync; one is returned and resubmitted by a second sync.
async fn sync_reports(w: &mut Writer<'_>, task: TaskId, reporter: Reporter) {
    let item = |i: usize, period: &str, n: usize| ValidSyncItem {
        index: i,
        client_report_id: format!("sync-{period}"),
        task_id: task,
        kind: ReportKind::Part,
        fields: content(period, n).validate().expect("valid"),
        backfilled_at: None,
    };
    let first: Vec<_> = ["2016-Q4", "2017", "2016-H2"].iter().enumerate().map(|(i, p)| item(i, p, i + 1)).collect();
    let at = w.tick();
    let results = w.app.store.sync_reports(&w.admin, reporter, first, false, at).await.expect("sync");
    let returned = results[0].report.clone().expect("a report");
    w.review(returned, false).await;
    let at = w.tick();
    let again =
        w.app.store.sync_reports(&w.admin, reporter, vec![item(0, "2016-Q4", 9)], false, at).await.expect("sync");
    assert_eq!(again[0].report.as_ref().map(|r| r.state), Some(ReportState::Submitted));
}

/// Every report, and the ids of those the history shows returned or reopened.
async fn everything(app: &TestApp) -> (Vec<ProgressReport>, HashSet<ReportId>) {
    let query = ReportQuery {
        filter: ReportFilter::new(ReportScope::All),
        page: PageRequest::first(100_000),
        oldest_first: true,
        order: ReportOrder::Recorded,
    };
    let reports = app.store.list_reports(&query).await.expect("reports").items;
    let ids: Vec<ReportId> = reports.iter().map(|r| r.id).collect();
    let history = app.store.history(&ids).await.expect("history");
    let returned = history.iter().filter(|h| h.action == "RETURN" || h.action == "REOPEN").map(|h| h.report_id);
    (reports, returned.collect())
}

fn period(r: &ProgressReport) -> Period {
    Period::parse(&r.period).expect("a stored period")
}

fn expected_facts(
    reports: &[ProgressReport],
    returned: &HashSet<ReportId>,
    periods: &[Period],
    parties: Option<&[Reporter]>,
) -> Vec<ReportFacts> {
    reports
        .iter()
        .filter(|r| r.kind == ReportKind::Part && r.is_live() && periods.contains(&period(r)))
        .filter(|r| parties.is_none_or(|p| p.contains(&r.reporter)))
        .map(|r| ReportFacts {
            id: r.id,
            task_id: r.task_id,
            reporter: r.reporter,
            period: period(r),
            state: r.state,
            first_submitted_at: r.first_submitted_at,
            has_accepted: r.accepted.is_some(),
            ever_returned: returned.contains(&r.id),
        })
        .collect()
}

/// The latest accepted version per task, party and kind, as the domain picks it from every
/// report with one.
fn expected_parts(reports: &[ProgressReport], up_to: Option<Period>, agencies_only: bool) -> Vec<AcceptedPart> {
    let candidates: Vec<AcceptedPart> = reports
        .iter()
        .filter(|r| r.is_live() && (!agencies_only || matches!(r.reporter, Reporter::Agency(_))))
        .filter_map(|r| {
            let a = r.accepted.as_ref()?;
            Some(AcceptedPart {
                report_id: r.id,
                task_id: r.task_id,
                reporter: r.reporter,
                kind: r.kind,
                period: period(r),
                status: a.status,
                percent_complete: a.percent_complete,
                health: a.health,
            })
        })
        .collect();
    let latest = AcceptedParts::new(candidates.clone(), up_to);
    let keys: HashSet<_> = candidates.iter().map(|p| (p.task_id, p.reporter, p.kind)).collect();
    let mut out: Vec<AcceptedPart> = keys.into_iter().filter_map(|(t, r, k)| latest.get(t, r, k).cloned()).collect();
    out.sort_by_key(|p| p.report_id);
    out
}

/// The scenario holds what the comparison needs to mean something.
fn assert_covers_every_case(reports: &[ProgressReport], returned: &HashSet<ReportId>) {
    let has = |f: &dyn Fn(&ProgressReport) -> bool| reports.iter().any(f);
    for state in ReportState::ALL {
        assert!(has(&|r| r.state == state && !r.is_demo), "a {state:?} report");
    }
    assert!(has(&|r| r.is_reopened()), "a report reopened for correction");
    assert!(has(&|r| r.state == ReportState::Submitted && r.accepted.is_some()), "a correction resubmitted");
    assert!(has(&|r| r.state == ReportState::Withdrawn && returned.contains(&r.id)), "returned, then withdrawn");
    assert!(has(&|r| r.state == ReportState::Submitted && returned.contains(&r.id)), "returned, then resubmitted");
    assert!(has(&|r| r.kind == ReportKind::Consolidated && r.accepted.is_some()), "an accepted CONSOLIDATED report");
    assert!(
        has(&|r| matches!(r.reporter, Reporter::Province(_)) && r.accepted.is_some()),
        "an accepted province report"
    );
    assert!(has(&|r| r.client_report_id.is_some() && returned.contains(&r.id)), "synced after a return");
    assert!(has(&|r| r.is_demo), "demo reports");
}

#[tokio::test]
async fn report_facts_and_accepted_parts_equal_what_the_full_reports_say() {
    let app = TestApp::spawn().await;
    write_reports(&app).await;
    let (reports, returned) = everything(&app).await;
    assert_covers_every_case(&reports, &returned);
    let store = &app.store;

    let key = |s: &str| Period::parse(s).expect("period");
    let mut period_sets: Vec<Vec<Period>> = PERIODS.iter().map(|p| vec![key(p)]).collect();
    period_sets.push(PERIODS.iter().map(|p| key(p)).collect());
    period_sets.push(vec![key("2016-Q4"), key("2017"), key("2019-05")]);
    period_sets.push(vec![key("2099-Q1")]);
    period_sets.push(Vec::new());
    let agency = reports.iter().find(|r| matches!(r.reporter, Reporter::Agency(_)) && !r.is_demo).expect("agency");
    let province =
        reports.iter().find(|r| matches!(r.reporter, Reporter::Province(_)) && !r.is_demo).expect("province");
    let demo: HashSet<ReportId> = reports.iter().filter(|r| r.is_demo).map(|r| r.id).collect();
    let one = [agency.reporter];
    let two = [agency.reporter, province.reporter];
    let mut compared = 0;
    for periods in &period_sets {
        for parties in [None, Some(&one[..]), Some(&two[..]), Some(&[][..])] {
            let chunks = store.report_facts(periods, parties).await.expect("facts");
            let mut actual: Vec<_> = chunks.iter().flat_map(|c| c.iter().cloned()).collect();
            actual.sort_by_key(|f| f.id);
            let mut expected = expected_facts(&reports, &returned, periods, parties);
            // Demo reports carry no history, so whether one was ever returned is known only from
            // its story (the generator's); here only "a RETURNED report was returned" is checked.
            for (e, a) in expected.iter_mut().zip(&actual) {
                if demo.contains(&e.id) && e.id == a.id {
                    assert!(a.ever_returned || e.state != ReportState::Returned, "{a:?}");
                    e.ever_returned = a.ever_returned;
                }
            }
            assert_eq!(actual, expected, "{periods:?} {parties:?}");
            compared += actual.len();
        }
    }
    assert!(compared > 200, "{compared}");

    let mut up_tos: Vec<Option<Period>> = vec![None, Some(key("2016-01")), Some(key("2099"))];
    up_tos.extend(PERIODS.iter().map(|p| Some(key(p))));
    for up_to in up_tos {
        for agencies_only in [false, true] {
            let mut actual = store.accepted_parts(up_to, agencies_only).await.expect("parts");
            actual.sort_by_key(|p| p.report_id);
            assert_eq!(actual, expected_parts(&reports, up_to, agencies_only), "{up_to:?} {agencies_only}");
        }
    }
    let all = store.accepted_parts(None, false).await.expect("parts");
    assert!(all.len() > 100 && all.iter().any(|p| p.kind == ReportKind::Consolidated), "{}", all.len());
}
