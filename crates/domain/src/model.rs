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
    pub const ALL: [Self; 4] = [
        Self::NotStarted,
        Self::InProgress,
        Self::Completed,
        Self::Ongoing,
    ];

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

/// A progress report as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgressReport {
    pub id: ReportId,
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
