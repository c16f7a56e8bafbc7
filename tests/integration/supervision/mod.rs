//! Supervision, scripted: one scenario — two periods, one due and one not; reports submitted
//! before and after the due date, one returned and resubmitted late, one reopened for
//! correction, a withdrawn one, a backfilled one, an exemption and an extension, a DIVIDED task
//! with a part missing and a CONSOLIDATED report, a JOINT task with two leads, provinces
//! reporting on some tasks — built by moving a manual clock, then checked against results
//! computed by hand in each test module.
//!
//! The timeline (China Standard Time):
//! - 2016-Q3 is due 2016-10-16 00:00, 2016-Q4 is due 2017-01-16 00:00; "now" is 2016-12-20 10:00.
//! - Task 33 (JOINT, leads SIPO and SPC): SIPO submits Q3 on 10-10 (IN_PROGRESS 40), accepted;
//!   SPC's Q3 is extended to 10-25 and it submits on 10-20 (COMPLETED 100), accepted; an admin
//!   backfills Guangdong's Q3 as submitted on 10-01 (ONGOING), accepted. SIPO saves a Q4 draft.
//! - Task 37 (DIVIDED: NDRC lead, MOFCOM, SAIC): NDRC submits Q3 on 10-12 (IN_PROGRESS 50), it is
//!   returned on 10-13, resubmitted on 10-25 and accepted; NDRC's CONSOLIDATED Q3 report is
//!   accepted; MOFCOM submits Q3 on 10-14 (NOT_STARTED, no percent), accepted, reopened on 11-01
//!   and edited to IN_PROGRESS 30 (not resubmitted); SAIC never reports (its Q4 is extended
//!   twice, the second undone); Guangdong submits Q3 late on 10-18 (waiting for review); Beijing
//!   submits Q3 on 10-05 and withdraws it on 10-06; MOFCOM submits Q4 on 12-01.
//! - Task 1: every province is exempted for every period.

use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use serde_json::{Value, json};
use workplan_domain::ports::ManualClock;
use workplan_domain::token::AccessRole;
use workplan_tests::TestApp;

mod matrix;
mod progress;
mod rollup;
mod rules;
mod statements;

const SCHEDULE: &str = "mutation($i: ScheduleReportingPeriodInput!) { scheduleReportingPeriod(input: $i) {
  reportingPeriod { period } } }";
const SUBMIT: &str =
    "mutation($i: SubmitProgressReportInput!) { submitProgressReport(input: $i) { report { id version } } }";
const PATCH: &str = "mutation($id: ID!, $v: Int!, $p: ProgressReportPatch!) {
  updateProgressReport(id: $id, expectedVersion: $v, patch: $p) { report { id version state } } }";
const REVIEW: &str = "mutation($id: ID!, $v: Int!, $d: ReviewDecision!, $c: String) {
  reviewProgressReport(id: $id, expectedVersion: $v, decision: $d, comment: $c) { report { id version state } } }";
const REOPEN: &str = "mutation($i: ReopenProgressReportInput!) { reopenProgressReport(input: $i) {
  report { id version state } } }";
const WITHDRAW: &str = "mutation($id: ID!, $v: Int!) { withdrawProgressReport(id: $id, expectedVersion: $v) {
  report { id version state } } }";
const SYNC: &str = "mutation($i: SyncProgressReportsInput!) { syncProgressReports(input: $i) {
  results { outcome report { id version } } } }";
pub(crate) const EXEMPT: &str = "mutation($i: ExemptObligationsInput!) { exemptObligations(input: $i) {
  adjustments { id kind period active task { number } party { __typename } } } }";
pub(crate) const EXTEND: &str = "mutation($i: ExtendObligationsInput!) { extendObligations(input: $i) {
  adjustments { id kind period dueAt active } } }";
pub(crate) const REVOKE: &str = "mutation($i: RevokeObligationAdjustmentsInput!) {
  revokeObligationAdjustments(input: $i) { adjustments { id active revokedBy revokeReason } } }";

/// China Standard Time.
pub(crate) fn cst(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    FixedOffset::east_opt(8 * 3600)
        .and_then(|z| z.with_ymd_and_hms(y, m, d, h, 0, 0).single())
        .expect("a valid time")
        .with_timezone(&Utc)
}

/// The database number inside a report's global ID.
pub(crate) fn number(id: &Value) -> i64 {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD.decode(id.as_str().expect("an ID")).expect("base64");
    let text = String::from_utf8(bytes).expect("utf-8");
    text.rsplit(':').next().and_then(|n| n.parse().ok()).expect("a number")
}

/// A report as (global ID, version).
#[derive(Debug, Clone)]
pub(crate) struct Filed {
    pub id: Value,
    pub version: i64,
}

impl Filed {
    fn from(report: &Value) -> Self {
        Self { id: report["id"].clone(), version: report["version"].as_i64().expect("version") }
    }

    pub(crate) fn number(&self) -> i64 {
        number(&self.id)
    }
}

/// The scenario, built.
pub(crate) struct World {
    pub app: TestApp,
    pub clock: std::sync::Arc<ManualClock>,
    pub sup: String,
    pub mofcom: String,
    pub gd: String,
    pub sipo_q3: Filed,
    pub spc_q3: Filed,
    pub gd_33: Filed,
    pub ndrc_q3: Filed,
    pub ndrc_consolidated: Filed,
    pub mofcom_q3: Filed,
    pub gd_37: Filed,
    pub sipo_q4_draft: Filed,
    pub saic_second_extension: Value,
}

impl World {
    async fn submit(&self, token: &str, task: i32, period: &str, status: &str, percent: Option<i32>) -> Filed {
        self.submit_as(
            token,
            json!({ "taskNumber": task, "period": period, "status": status,
            "percentComplete": percent, "summary": format!("task {task} {period}") }),
        )
        .await
    }

    async fn submit_as(&self, token: &str, input: Value) -> Filed {
        let d = self.app.data_as(Some(token), SUBMIT, json!({ "i": input })).await;
        Filed::from(&d["submitProgressReport"]["report"])
    }

    async fn review(&self, r: &Filed, decision: &str) -> Filed {
        let v = json!({ "id": r.id, "v": r.version, "d": decision, "c": "checked" });
        Filed::from(&self.app.data_as(Some(&self.sup), REVIEW, v).await["reviewProgressReport"]["report"])
    }

    async fn patch(&self, token: &str, r: &Filed, patch: Value) -> Filed {
        let v = json!({ "id": r.id, "v": r.version, "p": patch });
        Filed::from(&self.app.data_as(Some(token), PATCH, v).await["updateProgressReport"]["report"])
    }

    fn at(&self, t: DateTime<Utc>) {
        self.clock.set(t);
    }

    /// Builds the scenario on a fresh server.
    pub(crate) async fn build() -> Self {
        let (app, clock) = TestApp::spawn_at(cst(2016, 9, 1, 9)).await;
        let token = |name: &'static str, role, agency: Option<&'static str>, province: Option<&'static str>| {
            let app = &app;
            async move { app.token(name, role, agency, province).await }
        };
        let sup = token("supervisor", AccessRole::Supervisor, None, None).await;
        let sipo = token("sipo", AccessRole::AgencyReporter, Some("SIPO"), None).await;
        let spc = token("spc", AccessRole::AgencyReporter, Some("SPC"), None).await;
        let ndrc = token("ndrc", AccessRole::AgencyReporter, Some("NDRC"), None).await;
        let mofcom = token("mofcom", AccessRole::AgencyReporter, Some("MOFCOM"), None).await;
        let gd = token("guangdong", AccessRole::ProvinceReporter, None, Some("440000")).await;
        let bj = token("beijing", AccessRole::ProvinceReporter, None, Some("110000")).await;
        let blank = Filed { id: Value::Null, version: 0 };
        let mut w = Self {
            app,
            clock,
            sup,
            mofcom,
            gd,
            sipo_q3: blank.clone(),
            spc_q3: blank.clone(),
            gd_33: blank.clone(),
            ndrc_q3: blank.clone(),
            ndrc_consolidated: blank.clone(),
            mofcom_q3: blank.clone(),
            gd_37: blank.clone(),
            sipo_q4_draft: blank,
            saic_second_extension: Value::Null,
        };
        for (period, due) in [("2016-Q3", "2016-10-16T00:00:00+08:00"), ("2016-Q4", "2017-01-16T00:00:00+08:00")] {
            w.app.data_as(Some(&w.sup), SCHEDULE, json!({ "i": { "period": period, "dueAt": due } })).await;
        }
        let exempt = json!({ "i": { "taskNumbers": [1], "partyKind": "PROVINCE",
            "reason": "task 1 is the central joint-conference system" } });
        w.app.data_as(Some(&w.sup), EXEMPT, exempt).await;
        let extend = json!({ "i": { "period": "2016-Q3", "taskNumbers": [33], "agencies": ["Supreme People's Court"],
            "dueAt": "2016-10-25T00:00:00+08:00", "reason": "court recess" } });
        w.app.data_as(Some(&w.sup), EXTEND, extend).await;

        w.at(cst(2016, 10, 1, 9));
        let backfill = json!({ "i": { "reporter": { "provinceCode": "440000" }, "reports": [{
            "clientReportId": "gd-33-q3", "taskNumber": 33, "period": "2016-Q3", "status": "ONGOING",
            "summary": "Guangdong task 33", "submittedAt": cst(2016, 10, 1, 9).to_rfc3339() }] } });
        w.at(cst(2016, 10, 2, 9));
        let d = w.app.data(SYNC, backfill).await;
        let gd_33 = Filed::from(&d["syncProgressReports"]["results"][0]["report"]);
        w.gd_33 = w.review(&gd_33, "ACCEPT").await;

        w.at(cst(2016, 10, 5, 9));
        let bj_37 = w.submit(&bj, 37, "2016-Q3", "IN_PROGRESS", Some(10)).await;
        w.at(cst(2016, 10, 6, 9));
        w.app.data_as(Some(&bj), WITHDRAW, json!({ "id": bj_37.id, "v": bj_37.version })).await;

        w.at(cst(2016, 10, 10, 9));
        let sipo_q3 = w.submit(&sipo, 33, "2016-Q3", "IN_PROGRESS", Some(40)).await;
        w.at(cst(2016, 10, 11, 9));
        w.sipo_q3 = w.review(&sipo_q3, "ACCEPT").await;

        w.at(cst(2016, 10, 12, 9));
        let ndrc_q3 = w.submit(&ndrc, 37, "2016-Q3", "IN_PROGRESS", Some(50)).await;
        w.at(cst(2016, 10, 13, 9));
        let ndrc_q3 = w.review(&ndrc_q3, "RETURN").await;

        w.at(cst(2016, 10, 14, 9));
        let mofcom_q3 = w.submit(&w.mofcom.clone(), 37, "2016-Q3", "NOT_STARTED", None).await;
        w.at(cst(2016, 10, 15, 9));
        let mofcom_q3 = w.review(&mofcom_q3, "ACCEPT").await;

        w.at(cst(2016, 10, 18, 0));
        w.gd_37 = w.submit(&w.gd.clone(), 37, "2016-Q3", "IN_PROGRESS", Some(20)).await;

        w.at(cst(2016, 10, 20, 9));
        let spc_q3 = w.submit(&spc, 33, "2016-Q3", "COMPLETED", Some(100)).await;
        w.at(cst(2016, 10, 21, 9));
        w.spc_q3 = w.review(&spc_q3, "ACCEPT").await;

        w.at(cst(2016, 10, 25, 9));
        let ndrc_q3 = w.patch(&ndrc, &ndrc_q3, json!({ "submit": true })).await;
        w.at(cst(2016, 10, 26, 9));
        w.ndrc_q3 = w.review(&ndrc_q3, "ACCEPT").await;
        let consolidated = w
            .submit_as(
                &ndrc,
                json!({ "taskNumber": 37, "period": "2016-Q3", "kind": "CONSOLIDATED",
                "status": "IN_PROGRESS", "percentComplete": 60, "summary": "task 37 as a whole" }),
            )
            .await;
        w.at(cst(2016, 10, 27, 9));
        w.ndrc_consolidated = w.review(&consolidated, "ACCEPT").await;

        w.at(cst(2016, 11, 1, 9));
        let reopen =
            json!({ "i": { "id": mofcom_q3.id, "expectedVersion": mofcom_q3.version, "reason": "wrong status" } });
        let reopened =
            Filed::from(&w.app.data_as(Some(&w.sup), REOPEN, reopen).await["reopenProgressReport"]["report"]);
        w.at(cst(2016, 11, 2, 9));
        w.mofcom_q3 =
            w.patch(&w.mofcom.clone(), &reopened, json!({ "status": "IN_PROGRESS", "percentComplete": 30 })).await;

        w.at(cst(2016, 12, 1, 9));
        w.submit(&w.mofcom.clone(), 37, "2016-Q4", "COMPLETED", Some(100)).await;
        w.sipo_q4_draft = w
            .submit_as(
                &sipo,
                json!({ "taskNumber": 33, "period": "2016-Q4", "status": "IN_PROGRESS",
                "percentComplete": 70, "summary": "draft", "asDraft": true }),
            )
            .await;
        for due in ["2017-02-01T00:00:00+08:00", "2017-02-10T00:00:00+08:00"] {
            let extend = json!({ "i": { "period": "2016-Q4", "taskNumbers": [37], "agencies": ["SAIC"],
                "dueAt": due, "reason": "restructuring" } });
            let d = w.app.data_as(Some(&w.sup), EXTEND, extend).await;
            w.saic_second_extension = d["extendObligations"]["adjustments"][0]["id"].clone();
        }
        let undo = json!({ "i": { "ids": [w.saic_second_extension], "reason": "granted by mistake" } });
        w.app.data_as(Some(&w.sup), REVOKE, undo).await;

        w.at(cst(2016, 12, 20, 10));
        w
    }
}
