//! How long each list field of the schema can be: the table the cost walk prices lists by,
//! with the plan's real maxima.

/// How many items a list field returns at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    /// A list of known greatest length.
    Fixed(u64),
    /// A connection: `first` or `last` (else `default`), at most `max` (the list's real length
    /// or its largest page). It sizes the connection's `nodes` and `edges`.
    Page { default: u64, max: u64 },
    /// As many items as the argument `ids` has, at most `max`.
    Ids { max: u64 },
    /// A connection's `nodes` or `edges`: the page of the field that returned the connection.
    PageItems,
}

use Size::{Fixed, Ids, Page, PageItems};

/// The plan's real maxima.
const SECTIONS: u64 = 6;
const SUBSECTIONS_PER_SECTION: u64 = 7;
const TASKS_PER_SUBSECTION: u64 = 8;
const TASKS_PER_SECTION: u64 = 32;
const TASKS: u64 = 106;
const RESPONSIBILITIES_PER_TASK: u64 = 17;
const AGENCIES: u64 = 42;
const PROVINCES: u64 = 31;
/// Obligations of one period: 459 responsibilities and 106 tasks × 31 provinces.
const OBLIGATIONS_PER_PERIOD: u64 = 459 + TASKS * PROVINCES;
/// A page of obligations (the matrix, the overdue list).
const OBLIGATION_PAGE: Size = Page { default: 100, max: 500 };
/// The obligation states and the progress statuses.
const OBLIGATION_STATES: u64 = 5;
const PROGRESS_STATUSES: u64 = 5;
/// A page of reports: reports have no real maximum, so their largest page bounds them.
const REPORT_PAGE: Size = Page { default: 20, max: 100 };

/// How each list field is sized, by (parent type, field). A list missing here counts as one
/// item; the `every_list_is_sized` test makes sure none is missing.
pub const SIZES: &[(&str, &str, Size)] = &[
    ("Query", "sections", Fixed(SECTIONS)),
    ("Plan", "sections", Fixed(SECTIONS)),
    ("Section", "subsections", Fixed(SUBSECTIONS_PER_SECTION)),
    ("Query", "tasks", Page { default: 20, max: TASKS }),
    ("Section", "tasks", Page { default: 20, max: TASKS_PER_SECTION }),
    ("Subsection", "tasks", Page { default: 20, max: TASKS_PER_SUBSECTION }),
    ("TaskConnection", "nodes", PageItems),
    ("TaskConnection", "edges", PageItems),
    ("Task", "responsibilities", Fixed(RESPONSIBILITIES_PER_TASK)),
    ("Task", "leadAgencies", Fixed(RESPONSIBILITIES_PER_TASK)),
    ("Agency", "responsibilities", Fixed(TASKS)),
    ("Query", "agencies", Page { default: 20, max: AGENCIES }),
    ("AgencyConnection", "nodes", PageItems),
    ("AgencyConnection", "edges", PageItems),
    ("Query", "provinces", Fixed(PROVINCES)),
    ("Query", "progressReports", REPORT_PAGE),
    ("Query", "reviewQueue", REPORT_PAGE),
    ("Task", "reports", REPORT_PAGE),
    ("Agency", "reports", REPORT_PAGE),
    ("Province", "reports", REPORT_PAGE),
    ("ProgressReportConnection", "nodes", PageItems),
    ("ProgressReportConnection", "edges", PageItems),
    // Writes to one report: unbounded in principle, few in practice (an estimate).
    ("ProgressReport", "history", Fixed(20)),
    // The fields a write records (seven today).
    ("HistoryEntry", "changes", Fixed(10)),
    ("Query", "changes", Page { default: 100, max: 500 }),
    ("ChangeConnection", "nodes", PageItems),
    ("ChangeConnection", "edges", PageItems),
    // The reporting calendar: a few periods a year (an estimate; 4 quarters × 10 years).
    ("Query", "reportingPeriods", Fixed(50)),
    // Reschedulings of one period: few (an estimate).
    ("ReportingPeriod", "history", Fixed(20)),
    // The due date and a reason.
    ("ReportingPeriodChange", "changes", Fixed(2)),
    ("Query", "apiTokens", Fixed(100)),
    // Webhook endpoints: a few per integrating system (an estimate).
    ("Query", "webhooks", Fixed(100)),
    ("Query", "webhookDeliveries", Page { default: 20, max: 100 }),
    ("WebhookDeliveryConnection", "nodes", PageItems),
    ("WebhookDeliveryConnection", "edges", PageItems),
    ("Query", "nodes", Ids { max: 100 }),
    // One result per item of a batch (at most 500).
    ("SyncProgressReportsPayload", "results", Fixed(500)),
    // Supervision: the matrix and the overdue list page up to 500 obligations.
    ("Query", "reportingMatrix", OBLIGATION_PAGE),
    ("Query", "overdue", OBLIGATION_PAGE),
    ("ObligationConnection", "nodes", PageItems),
    ("ObligationConnection", "edges", PageItems),
    ("ObligationConnection", "countsByState", Fixed(OBLIGATION_STATES)),
    // A reporter's own obligations: a province owes one per task in each period (an estimate:
    // 20 scheduled periods).
    ("Viewer", "obligations", Fixed(TASKS * 20)),
    // One adjustment per obligation a bulk request selects: at most every obligation of a period.
    ("ObligationAdjustmentsPayload", "adjustments", Fixed(OBLIGATIONS_PER_PERIOD)),
    // The record of adjustments: unbounded in principle (an estimate).
    ("Query", "obligationAdjustments", Fixed(OBLIGATIONS_PER_PERIOD)),
    // Two rows per agency by AGENCY, the largest grouping.
    ("Query", "rollup", Fixed(2 * AGENCIES)),
    ("RollupRow", "tasksByStatus", Fixed(PROGRESS_STATUSES)),
    ("RollupRow", "obligationsByState", Fixed(OBLIGATION_STATES)),
    // Each counted part and the consolidated report; the parts with none.
    ("Progress", "basis", Fixed(RESPONSIBILITIES_PER_TASK + 1)),
    ("Progress", "missing", Fixed(RESPONSIBILITIES_PER_TASK)),
];

/// How `field` of `parent` is sized, if it is a list.
pub fn size_of(parent: &str, field: &str) -> Option<Size> {
    SIZES.iter().find(|(p, f, _)| *p == parent && *f == field).map(|(_, _, size)| *size)
}
