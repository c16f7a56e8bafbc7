//! The plan as the source document sets it out: sections, subsections, numbered tasks and
//! which agencies answer for each.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::ids::{AgencyId, PlanId, SectionId, SubsectionId, TaskId, string_enum};

pub mod numeral;
pub mod snapshot;

/// The document a plan comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Its key.
    pub id: PlanId,
    /// What the source document says about itself.
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
    /// e.g. `Letter No. 66 [2016]`.
    pub document_number: String,
    /// The date the document was issued.
    pub issue_date: NaiveDate,
    /// The title of the opinions the plan implements.
    pub implements_title: String,
    /// The reference of those opinions, e.g. `Guo Fa [2015] No. 71`.
    pub implements_reference: String,
    /// The notice's text to its addressees.
    pub notice: String,
}

/// A top-level section (I–VI).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// Its key.
    pub id: SectionId,
    /// The plan it belongs to.
    pub plan_id: PlanId,
    /// 1-based position in the plan.
    pub position: i32,
    /// As printed: "I", "II", ...
    pub numeral: String,
    /// The heading's text.
    pub title: String,
}

/// A subsection within a section ((i), (ii), ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subsection {
    /// Its key.
    pub id: SubsectionId,
    /// The section it belongs to.
    pub section_id: SectionId,
    /// 1-based position in its section.
    pub position: i32,
    /// As printed, without parentheses: "i", "ii", ...
    pub numeral: String,
    /// The heading's text.
    pub title: String,
}

string_enum!(
    /// How the responsible agencies share a task.
    pub enum ResponsibilityMode {
        /// The agencies answer for the task together, the leads coordinating.
        Joint = "JOINT",
        /// "Responsible for the various tasks based on the division of responsibilities": each
        /// agency answers for its own part; the first listed still leads.
        Divided = "DIVIDED",
    }
);

string_enum!(
    /// An agency's role on a task.
    pub enum Role {
        /// Leads (coordinates) the task.
        Lead = "LEAD",
        /// Takes part under the leads.
        Participant = "PARTICIPANT",
    }
);

/// A numbered key task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// Its key.
    pub id: TaskId,
    /// The plan it belongs to.
    pub plan_id: PlanId,
    /// The section it is listed under.
    pub section_id: SectionId,
    /// The subsection it is listed under.
    pub subsection_id: SubsectionId,
    /// Its number in the plan, as printed (1-based, unique per plan).
    pub number: i32,
    /// What is to be done.
    pub text: String,
    /// How its agencies share it.
    pub mode: ResponsibilityMode,
}

/// One agency's place on one task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Responsibility {
    /// The task.
    pub task_id: TaskId,
    /// The agency.
    pub agency_id: AgencyId,
    /// Lead or participant.
    pub role: Role,
    /// 1-based position in the task's list, as printed.
    pub position: i32,
}
