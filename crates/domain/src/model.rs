//! The plan and its progress, as the rest of the system sees them.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub struct $name(pub i64);
    )*};
}

id_type!(
    /// Identifies a plan.
    PlanId,
    /// Identifies a section of a plan.
    SectionId,
    /// Identifies a subsection of a section.
    SubsectionId,
    /// Identifies a task (not its number: numbers are per plan).
    TaskId,
    /// Identifies an agency.
    AgencyId,
    /// Identifies a province-level division.
    ProvinceId,
    /// Identifies a progress report.
    ReportId,
);

/// The document a plan comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub id: PlanId,
    pub document: DocumentInfo,
}

/// Metadata of the source document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentInfo {
    /// The title of the notice that distributes the plan.
    pub title: String,
    /// The title of the plan itself.
    pub plan_title: String,
    /// Who issued it.
    pub issuing_office: String,
    /// e.g. "Letter No. 66 [2016]".
    pub document_number: String,
    /// The date the document was issued.
    pub issue_date: NaiveDate,
    /// The title of the opinions the plan implements.
    pub implements_title: String,
    /// The reference of those opinions, e.g. "Guo Fa [2015] No. 71".
    pub implements_reference: String,
    /// The notice's text to its addressees.
    pub notice: String,
}

/// A top-level section (I–VI).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub id: SectionId,
    pub plan_id: PlanId,
    /// 1-based position in the plan.
    pub position: i32,
    /// As printed: "I", "II", ...
    pub numeral: String,
    pub title: String,
}

/// A subsection within a section ((i), (ii), ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subsection {
    pub id: SubsectionId,
    pub section_id: SectionId,
    /// 1-based position in its section.
    pub position: i32,
    /// As printed, without parentheses: "i", "ii", ...
    pub numeral: String,
    pub title: String,
}

/// How the responsible agencies share a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ResponsibilityMode {
    /// The agencies answer for the task together, the leads coordinating.
    Joint,
    /// "Responsible for the various tasks based on the division of responsibilities": each
    /// agency answers for its own part; the first listed still leads.
    Divided,
}

impl ResponsibilityMode {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Joint => "JOINT",
            Self::Divided => "DIVIDED",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "JOINT" => Some(Self::Joint),
            "DIVIDED" => Some(Self::Divided),
            _ => None,
        }
    }
}

/// An agency's role on a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Role {
    /// Leads (coordinates) the task.
    Lead,
    /// Takes part under the leads.
    Participant,
}

impl Role {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Lead => "LEAD",
            Self::Participant => "PARTICIPANT",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "LEAD" => Some(Self::Lead),
            "PARTICIPANT" => Some(Self::Participant),
            _ => None,
        }
    }
}

/// A numbered key task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    pub id: TaskId,
    pub plan_id: PlanId,
    pub section_id: SectionId,
    pub subsection_id: SubsectionId,
    pub number: i32,
    pub text: String,
    pub mode: ResponsibilityMode,
}

/// A central agency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agency {
    pub id: AgencyId,
    /// Canonical English name.
    pub name: String,
    /// Official Chinese name.
    pub name_zh: String,
    /// Common English abbreviation, where one is in use.
    pub abbreviation: Option<String>,
    /// Other spellings seen in the source.
    pub aliases: Vec<String>,
    /// How many tasks the agency is responsible for, in any role.
    pub task_count: i64,
    /// How many tasks it leads.
    pub lead_task_count: i64,
}

/// One agency's place on one task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Responsibility {
    pub task_id: TaskId,
    pub agency_id: AgencyId,
    pub role: Role,
    /// 1-based position in the task's list, as printed.
    pub position: i32,
}

/// The kind of a provincial-level division.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProvinceKind {
    Province,
    AutonomousRegion,
    Municipality,
}

impl ProvinceKind {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Province => "PROVINCE",
            Self::AutonomousRegion => "AUTONOMOUS_REGION",
            Self::Municipality => "MUNICIPALITY",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "PROVINCE" => Some(Self::Province),
            "AUTONOMOUS_REGION" => Some(Self::AutonomousRegion),
            "MUNICIPALITY" => Some(Self::Municipality),
            _ => None,
        }
    }
}

/// A provincial-level division of mainland China.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Province {
    pub id: ProvinceId,
    /// GB/T 2260 code, e.g. "110000".
    pub code: String,
    pub name: String,
    pub name_zh: String,
    pub kind: ProvinceKind,
}

/// Who filed a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reporter {
    Agency(AgencyId),
    Province(ProvinceId),
}

/// Where a task stands, as reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReportStatus {
    NotStarted,
    InProgress,
    Completed,
    /// Continuous work with no end state.
    Ongoing,
}

impl ReportStatus {
    /// All statuses, in display order.
    pub const ALL: [Self; 4] = [Self::NotStarted, Self::InProgress, Self::Completed, Self::Ongoing];

    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotStarted => "NOT_STARTED",
            Self::InProgress => "IN_PROGRESS",
            Self::Completed => "COMPLETED",
            Self::Ongoing => "ONGOING",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// Where a report is in its lifecycle: DRAFT → SUBMITTED → ACCEPTED or RETURNED (→ edited and
/// resubmitted); a reporter may WITHDRAW a report that was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReportState {
    Draft,
    Submitted,
    Accepted,
    Returned,
    Withdrawn,
}

impl ReportState {
    /// All states.
    pub const ALL: [Self; 5] = [Self::Draft, Self::Submitted, Self::Accepted, Self::Returned, Self::Withdrawn];

    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "DRAFT",
            Self::Submitted => "SUBMITTED",
            Self::Accepted => "ACCEPTED",
            Self::Returned => "RETURNED",
            Self::Withdrawn => "WITHDRAWN",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// A progress report as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgressReport {
    pub id: ReportId,
    /// Lifecycle state; only ACCEPTED reports are official.
    pub state: ReportState,
    /// The reporter's own stable id for the report (batch sync), if any.
    pub client_report_id: Option<String>,
    /// The supervisor's comment (the reason, when returned).
    pub review_comment: Option<String>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    pub task_id: TaskId,
    pub reporter: Reporter,
    /// Normalised period, e.g. "2016-Q3".
    pub period: String,
    pub status: ReportStatus,
    pub percent_complete: Option<i32>,
    pub summary: String,
    pub evidence_urls: Vec<String>,
    pub submitted_at: DateTime<Utc>,
    pub version: i32,
    /// Generated by the demo data generator, not reported by anyone.
    pub is_demo: bool,
}

id_type!(
    /// Identifies an API token.
    TokenId,
    /// Identifies an entry of the change feed.
    ChangeId,
);

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AccessRole {
    /// Everything, including token management.
    Admin,
    /// Reviews reports; reads everything.
    Supervisor,
    /// Reports for one agency, on the tasks it is responsible for.
    AgencyReporter,
    /// Reports for one province, on any task.
    ProvinceReporter,
    /// Reads.
    Reader,
}

impl AccessRole {
    /// All roles.
    pub const ALL: [Self; 5] =
        [Self::Admin, Self::Supervisor, Self::AgencyReporter, Self::ProvinceReporter, Self::Reader];

    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "ADMIN",
            Self::Supervisor => "SUPERVISOR",
            Self::AgencyReporter => "AGENCY_REPORTER",
            Self::ProvinceReporter => "PROVINCE_REPORTER",
            Self::Reader => "READER",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// An API token as stored (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: TokenId,
    pub name: String,
    pub role: AccessRole,
    /// For AGENCY_REPORTER.
    pub agency: Option<AgencyId>,
    /// For PROVINCE_REPORTER.
    pub province: Option<ProvinceId>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// What kind of change an entry of the change feed records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ChangeKind {
    /// A report was created.
    Created,
    /// A report's content changed.
    Updated,
    /// A report moved between lifecycle states by its reporter (submitted, resubmitted).
    StatusChanged,
    /// A supervisor accepted or returned a report.
    Reviewed,
    /// The reporter withdrew the report (a tombstone).
    Withdrawn,
}

impl ChangeKind {
    /// All kinds.
    pub const ALL: [Self; 5] = [Self::Created, Self::Updated, Self::StatusChanged, Self::Reviewed, Self::Withdrawn];

    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "CREATED",
            Self::Updated => "UPDATED",
            Self::StatusChanged => "STATUS_CHANGED",
            Self::Reviewed => "REVIEWED",
            Self::Withdrawn => "WITHDRAWN",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// One entry of the change feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub id: ChangeId,
    pub report_id: ReportId,
    pub kind: ChangeKind,
    /// The report's version after the change.
    pub version: i32,
    /// The report's state after the change.
    pub state: ReportState,
    pub reporter: Reporter,
    /// Who made the change (token name).
    pub actor: String,
    pub at: DateTime<Utc>,
}

/// One field's value before and after a write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// One entry of a report's audit history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    pub report_id: ReportId,
    /// The version the write produced.
    pub version: i32,
    /// CREATE, UPDATE, SUBMIT, WITHDRAW, ACCEPT, RETURN.
    pub action: String,
    pub actor: String,
    pub at: DateTime<Utc>,
    pub changes: Vec<FieldChange>,
}
