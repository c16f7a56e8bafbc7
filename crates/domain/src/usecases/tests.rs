//! The use cases without a database: the plan from the seeds in a [`PlanSnapshot`], and a
//! report writer that records what it is asked to write.

use std::pin::pin;
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};

use super::submit_report;
use crate::access::{Principal, Viewer};
use crate::ids::{AgencyId, ReportId, TokenId};
use crate::import::seed::{PlanSeed, provinces_from_json};
use crate::plan::snapshot::PlanSnapshot;
use crate::ports::{Clock, Idempotency, ManualClock, PlanReader, ReportWriter, SyncItemResult};
use crate::report::sync::ValidSyncItem;
use crate::report::{
    Edit, NewReport, ProgressReport, ReportContent, ReportKind, ReportState, ReportStatus, Reporter, ReporterRef,
    SubmitReport,
};
use crate::token::AccessRole;
use crate::{Error, Result};

const PLAN: &str = include_str!("../../../../seeds/plan-2016-66.json");
const PROVINCES: &str = include_str!("../../../../seeds/provinces.json");

/// Runs a future that never waits (the snapshot and the fake answer at once).
fn now<T>(future: impl Future<Output = T>) -> T {
    let mut future = pin!(future);
    match future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("nothing here waits"),
    }
}

/// 2017-01-10 09:00 UTC, ten days after 2016-Q4 ended.
fn clock() -> ManualClock {
    ManualClock::new(Utc.with_ymd_and_hms(2017, 1, 10, 9, 0, 0).single().expect("a valid time"))
}

fn plan() -> PlanSnapshot {
    let seed = PlanSeed::from_json(PLAN).expect("plan seed");
    let provinces = provinces_from_json(PROVINCES).expect("province seed");
    PlanSnapshot::from_seeds(&seed, &provinces).expect("snapshot")
}

/// Records every new report; edits and syncs are not used here.
#[derive(Default)]
struct RecordingWriter {
    created: Mutex<Vec<NewReport>>,
}

impl RecordingWriter {
    fn created(&self) -> Vec<NewReport> {
        self.created.lock().expect("not poisoned").clone()
    }
}

#[async_trait]
impl ReportWriter for RecordingWriter {
    async fn create_report(
        &self,
        _actor: &Principal,
        report: NewReport,
        _idempotency: Option<Idempotency>,
    ) -> Result<ProgressReport> {
        let stored = ProgressReport {
            id: ReportId(1),
            task_id: report.task_id,
            reporter: report.reporter,
            period: report.fields.period.to_string(),
            status: report.fields.status,
            percent_complete: report.fields.percent_complete,
            summary: report.fields.summary.clone(),
            evidence_urls: report.fields.evidence_urls.clone(),
            health: report.fields.health,
            obstacles: report.fields.obstacles.clone(),
            state: report.state,
            kind: report.kind,
            client_report_id: report.client_report_id.clone(),
            review_comment: None,
            created_at: report.created_at,
            submitted_at: report.submitted_at,
            first_submitted_at: report.first_submitted_at,
            accepted: None,
            updated_at: report.created_at,
            version: 1,
            is_demo: report.is_demo,
        };
        self.created.lock().expect("not poisoned").push(report);
        Ok(stored)
    }

    async fn edit_report(
        &self,
        _: &Principal,
        _: ReportId,
        _: i32,
        _: Edit,
        _: DateTime<Utc>,
        _: Option<Idempotency>,
    ) -> Result<ProgressReport> {
        Err(Error::Conflict("not used by these tests".into()))
    }

    async fn sync_reports(
        &self,
        _: &Principal,
        _: Reporter,
        _: Vec<ValidSyncItem>,
        _: bool,
        _: DateTime<Utc>,
    ) -> Result<Vec<SyncItemResult>> {
        Err(Error::Conflict("not used by these tests".into()))
    }
}

fn agency_id(plan: &PlanSnapshot, name: &str) -> AgencyId {
    now(plan.agency_by_name(name)).expect("lookup").expect("agency in the seed").id
}

fn reporter_for(agency: AgencyId) -> Viewer {
    Viewer::Token(Principal {
        token: TokenId(1),
        name: "ndrc-sync".into(),
        role: AccessRole::AgencyReporter,
        agency: Some(agency),
        province: None,
    })
}

fn input(task_number: i32, period: &str) -> SubmitReport {
    SubmitReport {
        task_number,
        kind: ReportKind::Part,
        content: ReportContent {
            period: period.into(),
            status: ReportStatus::InProgress,
            percent_complete: Some(40),
            summary: "Drafted the rules.".into(),
            evidence_urls: vec![],
            health: None,
            obstacles: None,
        },
    }
}

fn submit(
    plan: &PlanSnapshot,
    writer: &RecordingWriter,
    viewer: &Viewer,
    input: SubmitReport,
) -> Result<ProgressReport> {
    now(submit_report(plan, writer, &clock(), viewer, input, None, false, None))
}

/// The first task whose responsibilities include `agency`, and the first that does not.
fn tasks_with_and_without(plan: &PlanSnapshot, agency: AgencyId) -> (i32, i32) {
    let tasks = now(plan.tasks_by_numbers(&(1..=106).collect::<Vec<_>>())).expect("tasks");
    let ids: Vec<_> = tasks.iter().map(|t| t.id).collect();
    let rows = now(plan.responsibilities_by_tasks(&ids)).expect("responsibilities");
    let responsible = |t: &crate::plan::Task| rows.iter().any(|r| r.task_id == t.id && r.agency_id == agency);
    let with = tasks.iter().find(|t| responsible(t)).expect("a task of the agency").number;
    let without = tasks.iter().find(|t| !responsible(t)).expect("a task of others").number;
    (with, without)
}

#[test]
fn an_agency_reports_on_its_own_task() {
    let plan = plan();
    let writer = RecordingWriter::default();
    let ndrc = agency_id(&plan, "NDRC");
    let (own, _) = tasks_with_and_without(&plan, ndrc);

    let report = submit(&plan, &writer, &reporter_for(ndrc), input(own, "2016-Q4")).expect("accepted");

    assert_eq!(report.reporter, Reporter::Agency(ndrc));
    assert_eq!(report.state, ReportState::Submitted);
    assert_eq!(report.submitted_at, Some(clock().now()), "submitted now, by the clock");
    let created = writer.created();
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].fields.period.to_string(), "2016-Q4");
}

#[test]
fn an_agency_cannot_report_on_a_task_it_does_not_share() {
    let plan = plan();
    let writer = RecordingWriter::default();
    let ndrc = agency_id(&plan, "NDRC");
    let (_, other) = tasks_with_and_without(&plan, ndrc);

    let err = submit(&plan, &writer, &reporter_for(ndrc), input(other, "2016-Q4")).expect_err("refused");

    assert!(matches!(err, Error::Forbidden(_)), "{err:?}");
    assert!(writer.created().is_empty(), "nothing is written");
}

#[test]
fn bad_input_names_its_field_and_writes_nothing() {
    let plan = plan();
    let writer = RecordingWriter::default();
    let ndrc = agency_id(&plan, "NDRC");
    let (own, _) = tasks_with_and_without(&plan, ndrc);
    let viewer = reporter_for(ndrc);

    let err = submit(&plan, &writer, &viewer, input(own, "2016-Q5")).expect_err("bad period");
    assert!(matches!(&err, Error::Validation { field, .. } if field == "period"), "{err:?}");

    let err = submit(&plan, &writer, &viewer, input(107, "2016-Q4")).expect_err("no task 107");
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");

    assert!(writer.created().is_empty(), "nothing is written");
}

#[test]
fn anonymous_callers_and_other_reporters_are_refused() {
    let plan = plan();
    let writer = RecordingWriter::default();
    let ndrc = agency_id(&plan, "NDRC");
    let (own, _) = tasks_with_and_without(&plan, ndrc);

    let err = submit(&plan, &writer, &Viewer::Anonymous, input(own, "2016-Q4")).expect_err("anonymous");
    assert!(matches!(err, Error::Unauthenticated(_)), "{err:?}");

    // An agency reporter cannot file for a province.
    let requested = Some(ReporterRef::Province("440000".into()));
    let err = now(submit_report(
        &plan,
        &writer,
        &clock(),
        &reporter_for(ndrc),
        input(own, "2016-Q4"),
        requested,
        false,
        None,
    ))
    .expect_err("another reporter");
    assert!(matches!(err, Error::Forbidden(_) | Error::Validation { .. }), "{err:?}");

    assert!(writer.created().is_empty(), "nothing is written");
}
