//! The central agencies that answer for the plan's tasks.

use crate::ids::AgencyId;

/// A central agency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agency {
    /// Its key.
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
