//! Progress reports: the stored report, who files it, and its lifecycle. The rules for each way
//! a report changes live in the submodules: [`submit`] (a new report), [`edit`] (edit, withdraw,
//! review), [`sync`] (batch sync); [`evidence`] checks and normalises evidence links; [`history`]
//! records what changed.

use chrono::{DateTime, Utc};

use crate::ids::{AgencyId, ProvinceId, ReportId, TaskId, string_enum};

pub mod edit;
pub mod evidence;
pub mod history;
pub mod period;
pub mod submit;
pub mod sync;

pub use edit::{
    Applied, Edit, MAX_COMMENT_CHARS, ReportPatch, accepted_after, apply_edit, comment_after, fields_of,
    submission_times, unknown_report,
};
pub use evidence::MAX_URL_LEN;
pub use history::{Change, ChangeKind, FeedPosition, FieldChange, HistoryEntry, diff};
pub use period::{Period, YEARS};
pub use submit::{
    MAX_EVIDENCE_URLS, MAX_OBSTACLES_CHARS, MAX_SUMMARY_CHARS, NewReport, ReportContent, SubmitReport,
    ValidReportFields,
};

/// Who filed a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reporter {
    /// A central agency.
    Agency(AgencyId),
    /// A provincial-level division.
    Province(ProvinceId),
}

/// Who the caller says is reporting, before it is resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReporterRef {
    /// An agency, by id.
    Agency(AgencyId),
    /// A province, by GB/T 2260 code.
    Province(String),
}

string_enum!(
    /// Where a task stands, as reported.
    pub enum ReportStatus {
        /// Work has not begun.
        NotStarted = "NOT_STARTED",
        /// Work is under way.
        InProgress = "IN_PROGRESS",
        /// Work is done.
        Completed = "COMPLETED",
        /// Continuous work with no end state.
        Ongoing = "ONGOING",
    }
);

string_enum!(
    /// How the work is going, as its reporter judges it (optional on a report).
    pub enum Health {
        /// Going to plan.
        OnTrack = "ON_TRACK",
        /// At risk of missing its goals.
        AtRisk = "AT_RISK",
        /// Off track: will miss its goals without intervention.
        OffTrack = "OFF_TRACK",
    }
);

impl Health {
    /// How bad it is: ON_TRACK 0, AT_RISK 1, OFF_TRACK 2 (the worst wins).
    pub fn severity(self) -> u8 {
        match self {
            Self::OnTrack => 0,
            Self::AtRisk => 1,
            Self::OffTrack => 2,
        }
    }
}

string_enum!(
    /// Where a report is in its lifecycle: DRAFT → SUBMITTED → ACCEPTED or RETURNED (→ edited and
    /// resubmitted); a reporter may WITHDRAW a report that was not accepted.
    pub enum ReportState {
        /// Saved by its reporter, not yet submitted; only the reporter and supervisors see it.
        Draft = "DRAFT",
        /// Waiting for review.
        Submitted = "SUBMITTED",
        /// Accepted by a supervisor: official, and locked.
        Accepted = "ACCEPTED",
        /// Returned by a supervisor with a reason, to be edited and resubmitted.
        Returned = "RETURNED",
        /// Withdrawn by its reporter: a tombstone, locked.
        Withdrawn = "WITHDRAWN",
    }
);

string_enum!(
    /// What a report covers: its reporter's own part of the task, or (from the lead of a
    /// DIVIDED task) the task as a whole.
    pub enum ReportKind {
        /// An agency's or a province's own report (the default).
        Part = "PART",
        /// The lead agency of a DIVIDED task reporting on the whole task.
        Consolidated = "CONSOLIDATED",
    }
);

/// The content of a report as it was last accepted: what stays official (and readable by
/// everyone who could read it) while a reopened report is corrected.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AcceptedVersion {
    /// The report's version when it was accepted.
    pub version: i32,
    /// Where the task stood.
    pub status: ReportStatus,
    /// How far along, 0–100, if said.
    pub percent_complete: Option<i32>,
    /// What was done.
    pub summary: String,
    /// Links to evidence.
    pub evidence_urls: Vec<String>,
    /// The period reported on.
    pub period: String,
    /// When it was accepted.
    pub accepted_at: DateTime<Utc>,
    /// How the work was going, if said (absent from versions stored before reports had it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<Health>,
    /// What stood in the way, if said (absent from versions stored before reports had it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub obstacles: Option<String>,
}

impl AcceptedVersion {
    /// The snapshot of `fields`, accepted at `accepted_at` as the report's `version`.
    pub fn of(version: i32, fields: &ValidReportFields, accepted_at: DateTime<Utc>) -> Self {
        Self {
            version,
            status: fields.status,
            percent_complete: fields.percent_complete,
            summary: fields.summary.clone(),
            evidence_urls: fields.evidence_urls.clone(),
            period: fields.period.to_string(),
            accepted_at,
            health: fields.health,
            obstacles: fields.obstacles.clone(),
        }
    }
}

impl ReportState {
    /// Whether a report in this state is locked: ACCEPTED and WITHDRAWN reports never change.
    pub fn is_locked(self) -> bool {
        matches!(self, Self::Accepted | Self::Withdrawn)
    }
}

/// A progress report as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgressReport {
    /// Its key.
    pub id: ReportId,
    /// Lifecycle state; only ACCEPTED reports are official.
    pub state: ReportState,
    /// The reporter's own stable id for the report (batch sync), if any.
    pub client_report_id: Option<String>,
    /// The supervisor's comment (the reason, when returned).
    pub review_comment: Option<String>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// The task reported on.
    pub task_id: TaskId,
    /// Who filed it.
    pub reporter: Reporter,
    /// Normalised period, e.g. "2016-Q3".
    pub period: String,
    /// Where the task stands.
    pub status: ReportStatus,
    /// How far along, 0–100, if said.
    pub percent_complete: Option<i32>,
    /// What was done.
    pub summary: String,
    /// Links to evidence.
    pub evidence_urls: Vec<String>,
    /// How the work is going, as its reporter judges it, if said.
    pub health: Option<Health>,
    /// What stands in the way, if said.
    pub obstacles: Option<String>,
    /// PART or CONSOLIDATED.
    pub kind: ReportKind,
    /// When it was created (submitted or saved as a draft).
    pub created_at: DateTime<Utc>,
    /// When it last entered SUBMITTED; `None` for a draft never submitted.
    pub submitted_at: Option<DateTime<Utc>>,
    /// When it first entered SUBMITTED (timeliness is judged from it).
    pub first_submitted_at: Option<DateTime<Utc>>,
    /// Its content as last accepted, if it ever was (and was not withdrawn since).
    pub accepted: Option<AcceptedVersion>,
    /// Bumped by every write; edits name the version they are based on.
    pub version: i32,
    /// Generated by the demo data generator, not reported by anyone.
    pub is_demo: bool,
}

/// What at most one live (not withdrawn) report may hold: one per reporter, task, period and
/// kind. Drafts count as live.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReportKey {
    /// Who files it.
    pub reporter: Reporter,
    /// The task.
    pub task_id: TaskId,
    /// The normalised period.
    pub period: String,
    /// PART or CONSOLIDATED.
    pub kind: ReportKind,
}

impl ProgressReport {
    /// The key this report holds while it is live.
    pub fn key(&self) -> ReportKey {
        ReportKey { reporter: self.reporter, task_id: self.task_id, period: self.period.clone(), kind: self.kind }
    }

    /// Whether it was reopened for correction: RETURNED with an accepted version.
    pub fn is_reopened(&self) -> bool {
        self.state == ReportState::Returned && self.accepted.is_some()
    }

    /// Whether it holds its key: every report but a withdrawn one.
    pub fn is_live(&self) -> bool {
        self.state != ReportState::Withdrawn
    }
}

impl NewReport {
    /// The key the new report will hold.
    pub fn key(&self) -> ReportKey {
        ReportKey {
            reporter: self.reporter,
            task_id: self.task_id,
            period: self.fields.period.to_string(),
            kind: self.kind,
        }
    }
}

/// A report (`own`, or a new one when `None`) may take a key unless another live report holds
/// it (`holder`): then the write is a CONFLICT naming that report.
pub fn check_key_free(holder: Option<&ProgressReport>, own: Option<ReportId>) -> crate::Result<()> {
    match holder {
        Some(h) if h.is_live() && Some(h.id) != own => Err(crate::Error::duplicate_of(h)),
        _ => Ok(()),
    }
}

/// Whether `report`'s content or state may still change (by an edit, a withdrawal or a sync):
/// not once it is ACCEPTED or WITHDRAWN. Who may change it is [`crate::access::can_edit`].
pub fn can_change(report: &ProgressReport) -> bool {
    !report.state.is_locked()
}

/// Whether `report` is waiting for review (only SUBMITTED reports are reviewed). Who may review
/// is [`crate::access::can_review`].
pub fn awaits_review(report: &ProgressReport) -> bool {
    report.state == ReportState::Submitted
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn report(state: ReportState) -> ProgressReport {
        ProgressReport {
            id: ReportId(1),
            state,
            client_report_id: None,
            review_comment: None,
            updated_at: DateTime::<Utc>::default(),
            task_id: TaskId(1),
            reporter: Reporter::Agency(AgencyId(7)),
            period: "2016-Q3".into(),
            status: ReportStatus::InProgress,
            percent_complete: Some(40),
            summary: "Done a lot.".into(),
            evidence_urls: vec![],
            health: None,
            obstacles: None,
            kind: ReportKind::Part,
            created_at: DateTime::<Utc>::default(),
            submitted_at: None,
            first_submitted_at: None,
            accepted: None,
            version: 1,
            is_demo: false,
        }
    }

    #[test]
    fn only_unlocked_reports_change() {
        for state in ReportState::ALL {
            let expected = !matches!(state, ReportState::Accepted | ReportState::Withdrawn);
            assert_eq!(can_change(&report(state)), expected, "{state:?}");
        }
    }

    #[test]
    fn only_submitted_reports_await_review() {
        for state in ReportState::ALL {
            assert_eq!(awaits_review(&report(state)), state == ReportState::Submitted, "{state:?}");
        }
    }

    #[test]
    fn stored_spellings_round_trip() {
        for s in ReportStatus::ALL {
            assert_eq!(ReportStatus::parse(s.as_str()), Some(s));
        }
        for s in ReportState::ALL {
            assert_eq!(ReportState::parse(s.as_str()), Some(s));
        }
        assert_eq!(serde_json::to_value(ReportStatus::NotStarted).ok(), Some("NOT_STARTED".into()));
        for h in Health::ALL {
            assert_eq!(Health::parse(h.as_str()), Some(h));
        }
    }

    #[test]
    fn accepted_versions_stored_before_health_still_read() {
        let old = r#"{"version":2,"status":"COMPLETED","percentComplete":100,"summary":"s","evidenceUrls":[],
                      "period":"2016","acceptedAt":"2016-12-20T08:00:00Z"}"#;
        let read: AcceptedVersion = serde_json::from_str(old).expect("an old accepted version reads");
        assert_eq!((read.health, read.obstacles.as_deref()), (None, None));
        let written = serde_json::to_value(&read).expect("json");
        assert!(written.get("health").is_none() && written.get("obstacles").is_none(), "{written}");
        let new = AcceptedVersion { health: Some(Health::AtRisk), obstacles: Some("Funding.".into()), ..read };
        let json = serde_json::to_string(&new).expect("json");
        assert!(json.contains(r#""health":"AT_RISK""#) && json.contains(r#""obstacles":"Funding.""#), "{json}");
        assert_eq!(serde_json::from_str::<AcceptedVersion>(&json).ok(), Some(new));
    }
}
