//! One demo report's story: how it came to stand where it does — submitted and accepted,
//! waiting for review, returned (and maybe resubmitted, and maybe then accepted), reopened for
//! correction, or left a draft. A story is drawn first (with the times of its steps) and played
//! later through the same rules the API applies ([`apply_edit`]), so the report's state,
//! version, submission times, review comment and accepted version are what real use would have
//! left behind.

use chrono::{DateTime, Duration, Utc};

use super::{DEMO_GRACE_DAYS, DemoReport, Rng, demo_now};
use crate::access::Principal;
use crate::ids::{ReportId, TokenId};
use crate::report::{
    Applied, Edit, NewReport, Period, ProgressReport, ReportPatch, ReportState, ValidReportFields, apply_edit,
};
use crate::token::AccessRole;

/// How a demo report came to stand where it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Story {
    /// Saved as a draft, never submitted.
    Draft,
    /// Submitted, waiting for review.
    Waiting,
    /// Submitted and accepted.
    Accepted,
    /// Submitted and returned with a reason; not resubmitted yet.
    Returned,
    /// Submitted, returned, then resubmitted: waiting for review again.
    Resubmitted,
    /// Submitted, returned, resubmitted and accepted.
    AcceptedAfterReturn,
    /// Submitted, accepted, then reopened for correction (its accepted version still counts).
    Reopened,
}

/// What happens to a report after it is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Its reporter submits it (a draft) or resubmits it (a returned report).
    Submit,
    /// A supervisor accepts it.
    Accept,
    /// A supervisor returns it with a reason.
    Return,
    /// A supervisor reopens it for correction.
    Reopen,
}

impl Story {
    const ALL: [Self; 7] = [
        Self::Draft,
        Self::Waiting,
        Self::Accepted,
        Self::Returned,
        Self::Resubmitted,
        Self::AcceptedAfterReturn,
        Self::Reopened,
    ];

    /// How often each story is told, per thousand reports, in [`Self::ALL`] order: for a
    /// period long due most reports were reviewed; for one still open at the demo's "now"
    /// most wait for review and none was accepted long enough ago to be reopened.
    fn weights(open: bool) -> [u64; 7] {
        if open { [140, 500, 250, 80, 30, 0, 0] } else { [50, 90, 700, 50, 40, 50, 20] }
    }

    /// A story, drawn by its weight; `open` when the period's due date is after the demo's
    /// "now".
    pub(super) fn draw(rng: &mut Rng, open: bool) -> Self {
        let weights = Self::weights(open);
        let mut pick = rng.below(weights.iter().sum());
        for (story, weight) in Self::ALL.into_iter().zip(weights) {
            if pick < weight {
                return story;
            }
            pick -= weight;
        }
        Self::Accepted
    }

    /// What happens after the first submission.
    fn steps(self) -> &'static [Step] {
        match self {
            Self::Draft | Self::Waiting => &[],
            Self::Accepted => &[Step::Accept],
            Self::Returned => &[Step::Return],
            Self::Resubmitted => &[Step::Return, Step::Submit],
            Self::AcceptedAfterReturn => &[Step::Return, Step::Submit, Step::Accept],
            Self::Reopened => &[Step::Accept, Step::Reopen],
        }
    }
}

/// Most days a step takes after the one before it.
fn days_to(step: Step) -> i64 {
    match step {
        Step::Accept | Step::Return => 15,
        Step::Submit => 20,
        Step::Reopen => 60,
    }
}

/// Why a supervisor returned a report.
const RETURN_REASONS: [&str; 4] = [
    "Please attach evidence for the figures reported.",
    "The percentage does not match the summary.",
    "Say which regions the pilot covered.",
    "Report on this period only, not the year to date.",
];

/// Why a supervisor reopened an accepted report.
const REOPEN_REASONS: [&str; 2] =
    ["The audit found the completion reported too high; please correct it.", "The figures need restating."];

/// A story with the times it happens at: drawn when the report's key is chosen, played once the
/// reports are put in the order they were created.
#[derive(Debug, Clone)]
pub(super) struct Script {
    /// The story.
    pub story: Story,
    /// When the report was created (saved as a draft, or submitted at once).
    pub created_at: DateTime<Utc>,
    /// When it was first submitted; `None` for a draft.
    first_submitted_at: Option<DateTime<Utc>>,
    /// The times of the story's steps after the first submission.
    step_times: Vec<DateTime<Utc>>,
    /// The reason a supervisor gives when returning or reopening it.
    reason: usize,
}

impl Script {
    /// Draws a story for a report on `period`, and its times: the first submission falls
    /// before or after the period's due date (its end plus [`DEMO_GRACE_DAYS`]) — about seven
    /// in ten on time — and every time is before the demo's "now".
    pub(super) fn draw(rng: &mut Rng, period: Period) -> Self {
        let now = demo_now();
        let due = period.ends_at() + Duration::days(DEMO_GRACE_DAYS);
        let open = due > now;
        let story = Story::draw(rng, open);
        // Leave a day after the first submission for what follows it.
        let latest = now - Duration::days(1);
        let on_time = open || rng.chance(70);
        let (from, to) = if on_time {
            (period.ends_at() - Duration::days(3), due)
        } else {
            (due + Duration::hours(1), due + Duration::days(40))
        };
        let first = rng.instant(from, to.min(latest));
        let mut at = first;
        let step_times = story
            .steps()
            .iter()
            .map(|step| {
                let until = (at + Duration::days(days_to(*step))).min(now);
                at = rng.instant(at + Duration::minutes(1), until);
                at
            })
            .collect();
        let drafted_first = story == Story::Draft || rng.chance(30);
        let created_at = if drafted_first { rng.instant(first - Duration::hours(72), first) } else { first };
        let reason = rng.index(RETURN_REASONS.len() * REOPEN_REASONS.len());
        Self { story, created_at, first_submitted_at: (story != Story::Draft).then_some(first), step_times, reason }
    }

    /// Plays the story on the report `new` describes (its state and times are the script's):
    /// creates it, then applies each step as the API would.
    pub(super) fn play(&self, mut new: NewReport) -> crate::Result<DemoReport> {
        let starts_submitted = self.first_submitted_at == Some(self.created_at);
        new.state = if starts_submitted { ReportState::Submitted } else { ReportState::Draft };
        new.created_at = self.created_at;
        (new.submitted_at, new.first_submitted_at) = NewReport::times(new.state, self.created_at);
        let mut report = stored(new);
        let mut ever_returned = false;
        let submission = match (starts_submitted, self.first_submitted_at) {
            (false, Some(at)) => Some((Step::Submit, at)),
            _ => None,
        };
        let steps = self.story.steps().iter().copied().zip(self.step_times.iter().copied());
        for (step, at) in submission.into_iter().chain(steps) {
            let applied = apply_edit(&seeder(), &report, report.version, &self.edit(step), at)?;
            ever_returned |= applied.state == ReportState::Returned;
            report = after(report, applied);
        }
        Ok(DemoReport { report, ever_returned })
    }

    /// The edit a step makes.
    fn edit(&self, step: Step) -> Edit {
        match step {
            Step::Submit => Edit::Patch(ReportPatch { submit: true, ..ReportPatch::default() }),
            Step::Accept => Edit::Review { accept: true, comment: None },
            Step::Return => Edit::Review {
                accept: false,
                comment: Some(RETURN_REASONS[self.reason % RETURN_REASONS.len()].to_owned()),
            },
            Step::Reopen => Edit::Reopen { reason: REOPEN_REASONS[self.reason % REOPEN_REASONS.len()].to_owned() },
        }
    }
}

/// Who plays the stories: an admin, who may both edit and review any report.
fn seeder() -> Principal {
    Principal {
        token: TokenId(0),
        name: "system (seed --demo)".into(),
        role: AccessRole::Admin,
        agency: None,
        province: None,
    }
}

/// The report `new` describes, as stored at version 1 (its id is a placeholder: the store
/// assigns one).
fn stored(new: NewReport) -> ProgressReport {
    let ValidReportFields { period, status, percent_complete, summary, evidence_urls, health, obstacles } = new.fields;
    ProgressReport {
        id: ReportId(0),
        state: new.state,
        client_report_id: new.client_report_id,
        review_comment: None,
        updated_at: new.created_at,
        task_id: new.task_id,
        reporter: new.reporter,
        period: period.to_string(),
        status,
        percent_complete,
        summary,
        evidence_urls,
        health,
        obstacles,
        kind: new.kind,
        created_at: new.created_at,
        submitted_at: new.submitted_at,
        first_submitted_at: new.first_submitted_at,
        accepted: None,
        version: 1,
        is_demo: new.is_demo,
    }
}

/// `report` after the write `applied` describes: what the store makes of it, at the next version.
fn after(report: ProgressReport, applied: Applied) -> ProgressReport {
    let ValidReportFields { period, status, percent_complete, summary, evidence_urls, health, obstacles } =
        applied.fields;
    ProgressReport {
        state: applied.state,
        review_comment: applied.review_comment,
        updated_at: applied.at,
        period: period.to_string(),
        status,
        percent_complete,
        summary,
        evidence_urls,
        health,
        obstacles,
        submitted_at: applied.submitted_at,
        first_submitted_at: applied.first_submitted_at,
        accepted: applied.accepted,
        version: report.version + 1,
        ..report
    }
}
