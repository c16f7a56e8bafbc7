//! The demo data generator: deterministic, seeded sample progress reports for demos and
//! benchmarks, and the demo reporting calendar. Everything it makes is flagged `is_demo` and its
//! summaries say `[DEMO]`, so demo data is never mistaken for real reports.
//!
//! The reports tell the stories real reports do, so a newcomer sees every obligation state in
//! the reporting matrix: [`slots`] chooses which keys get a report (most obligations of the
//! scheduled quarters, some never reported, CONSOLIDATED reports from the leads of DIVIDED tasks,
//! and years, halves and months for history); [`story`] draws how each came to stand where it
//! does — accepted, waiting for review, returned and maybe resubmitted, reopened for
//! correction, or a draft — with first submissions before and after the due date, and plays it
//! through the rules the API applies.
//!
//! The stories happen before the demo's own "now" ([`demo_now`]), six days before the last
//! quarter (2020-Q4) is due, so judged at that instant its unreported obligations are NOT_DUE.
//! The server judges by the real clock, though, by which every demo quarter is long past due:
//! there they are OVERDUE.

use chrono::{DateTime, Duration, Utc};

use crate::ids::{AgencyId, ProvinceId, TaskId};
use crate::report::{
    Health, NewReport, Period, ProgressReport, ReportKind, ReportState, ReportStatus, ValidReportFields,
};
use crate::supervision::PeriodSchedule;

mod rng;
pub mod slots;
pub mod story;

pub use rng::Rng;
use slots::Slot;
use story::Script;

/// The years demo reports fall in.
pub const DEMO_YEARS: std::ops::RangeInclusive<i32> = 2016..=2020;

/// How long after a quarter ends its reports are due in the demo calendar.
pub const DEMO_GRACE_DAYS: i64 = 15;

/// The demo reporting calendar: every quarter of [`DEMO_YEARS`], its reports due
/// [`DEMO_GRACE_DAYS`] days after the quarter ends (midnight CST, so 2016-Q4 is due at
/// 2017-01-16T00:00:00+08:00).
pub fn calendar() -> Vec<PeriodSchedule> {
    DEMO_YEARS
        .flat_map(|year| (1..=4).map(move |q| Period::Quarter(year, q)))
        .map(|period| PeriodSchedule {
            period,
            due_at: period.ends_at() + Duration::days(DEMO_GRACE_DAYS),
            reason: Some("demo calendar (seed --demo)".into()),
        })
        .collect()
}

/// The demo's own "now": every demo report was written before it. Nine days after the last
/// demo quarter ends and six before it is due (2021-01-10T00:00+08:00), so that quarter is still
/// open: few of its reports are in and none was reopened.
pub fn demo_now() -> DateTime<Utc> {
    Period::Quarter(*DEMO_YEARS.end(), 4).ends_at() + Duration::days(9)
}

/// What the generator draws from: each task with the agencies responsible for it.
#[derive(Debug, Clone)]
pub struct DemoTask {
    /// The task.
    pub id: TaskId,
    /// The agencies responsible for it.
    pub agencies: Vec<AgencyId>,
    /// On a DIVIDED task, the lead agency that files its CONSOLIDATED reports (the first lead
    /// listed); `None` on a JOINT task.
    pub divided_lead: Option<AgencyId>,
}

/// A demo report as its story left it, ready to be inserted as is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoReport {
    /// The report: state, version, submission times, review comment and accepted version as
    /// the API's rules left them. Its `id` is a placeholder (0): the store assigns one.
    pub report: ProgressReport,
    /// Whether a supervisor ever returned it (also when it was reopened for correction).
    pub ever_returned: bool,
}

/// What phrases a demo summary is made of.
const PHRASES: [&str; 6] = [
    "Drafted implementing measures",
    "Held a coordination meeting with participating departments",
    "Issued guidance to local offices",
    "Completed a pilot in selected regions",
    "Published an interim evaluation",
    "Revised the relevant regulations",
];

/// What a report says, drawn before its summary is numbered.
#[derive(Debug, Clone, Copy)]
struct Content {
    status: ReportStatus,
    percent_complete: Option<i32>,
    phrase: &'static str,
}

impl Content {
    fn draw(rng: &mut Rng) -> Self {
        let status = ReportStatus::ALL[rng.index(ReportStatus::ALL.len())];
        let percent_complete = match status {
            ReportStatus::NotStarted => Some(0),
            ReportStatus::Completed => Some(100),
            _ => i32::try_from(rng.below(100)).ok(),
        };
        Self { status, percent_complete, phrase: PHRASES[rng.index(PHRASES.len())] }
    }

    /// The new report on `slot` saying this, the `number`th demo report.
    fn report(self, slot: Slot, number: usize) -> NewReport {
        let whole = if slot.kind == ReportKind::Consolidated { "Across all parts: " } else { "" };
        NewReport {
            task_id: slot.task,
            reporter: slot.reporter,
            fields: ValidReportFields {
                period: slot.period,
                status: self.status,
                percent_complete: self.percent_complete,
                summary: format!("[DEMO] {whole}{} (sample report {number}).", self.phrase),
                evidence_urls: Vec::new(),
                health: demo_health(self.status, self.percent_complete),
                obstacles: demo_health(self.status, self.percent_complete)
                    .filter(|h| *h != Health::OnTrack)
                    .map(|_| "[DEMO] Waiting on implementing rules from a participating department.".to_owned()),
            },
            // The script decides the state and the times.
            state: ReportState::Draft,
            kind: slot.kind,
            client_report_id: None,
            created_at: DateTime::<Utc>::MIN_UTC,
            submitted_at: None,
            first_submitted_at: None,
            is_demo: true,
        }
    }
}

/// Generates `count` demo reports from `seed` (fewer only when the inputs hold fewer keys), each
/// on its own reporter, task, period and kind; agencies report only on their own tasks, and only
/// a DIVIDED task's lead files CONSOLIDATED reports. [`slots`] says which keys get a report and
/// [`story`] how each came to stand where it does. The reports come in the order they were
/// created (so the ids the store gives follow time), numbered in their summaries.
///
/// # Errors
/// Only if a story breaks a rule of the API, which is a bug in the generator.
pub fn generate(
    tasks: &[DemoTask],
    provinces: &[ProvinceId],
    count: usize,
    seed: u64,
) -> crate::Result<Vec<DemoReport>> {
    let mut rng = Rng::new(seed);
    let mut drawn: Vec<(Slot, Content, Script)> = slots::choose(tasks, provinces, count, &mut rng)
        .into_iter()
        .map(|slot| (slot, Content::draw(&mut rng), Script::draw(&mut rng, slot.period)))
        .collect();
    drawn.sort_by_key(|(_, _, script)| script.created_at);
    drawn.into_iter().enumerate().map(|(i, (slot, content, script))| script.play(content.report(slot, i + 1))).collect()
}

#[cfg(test)]
mod tests;

/// How a demo report judges its own health: none before work starts; off track when barely
/// started, at risk when behind, on track otherwise — so every value appears.
fn demo_health(status: ReportStatus, percent: Option<i32>) -> Option<Health> {
    match (status, percent) {
        (ReportStatus::NotStarted, _) => None,
        (ReportStatus::InProgress, Some(p)) if p < 10 => Some(Health::OffTrack),
        (ReportStatus::InProgress, Some(p)) if p < 35 => Some(Health::AtRisk),
        _ => Some(Health::OnTrack),
    }
}
