//! A rollup as a table: one row per group (by AGENCY, one per agency and role), with its task
//! statuses, obligation states, mean percent complete, on-time rate and pending reviews, as
//! the domain computes them ([`rollup_of`]), and each group's name.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use workplan_domain::plan::Role;
use workplan_domain::ports::Ports;
use workplan_domain::report::Period;
use workplan_domain::supervision::{ObligationState, ProgressStatus, RollupDimension, RollupGroup, RollupRow};
use workplan_domain::usecases::supervise::rollup_of;
use workplan_domain::{Error, Result};

use super::table::{Cell, Column, Table};

/// The columns, in order: the group, a count per progress status and per obligation state
/// (in the enums' order, spelled as in GraphQL), then the figures.
pub(crate) const COLUMNS: [Column; 16] = [
    Column { title: "Group kind", width: 11.0 },
    Column { title: "Group", width: 50.0 },
    Column { title: "Role", width: 12.0 },
    Column { title: "Tasks NOT_REPORTED", width: 12.0 },
    Column { title: "Tasks NOT_STARTED", width: 12.0 },
    Column { title: "Tasks IN_PROGRESS", width: 12.0 },
    Column { title: "Tasks ONGOING", width: 12.0 },
    Column { title: "Tasks COMPLETED", width: 12.0 },
    Column { title: "Obligations NOT_DUE", width: 12.0 },
    Column { title: "Obligations OVERDUE", width: 12.0 },
    Column { title: "Obligations SUBMITTED", width: 12.0 },
    Column { title: "Obligations ACCEPTED", width: 12.0 },
    Column { title: "Obligations EXEMPT", width: 12.0 },
    Column { title: "Mean percent complete", width: 12.0 },
    Column { title: "On-time rate", width: 10.0 },
    Column { title: "Pending review", width: 10.0 },
];

/// The rollup of the scheduled `period` by `by` at `now`: the domain's rollup, then the
/// names of its groups (one or two more port calls).
pub(crate) async fn table(
    ports: &Ports,
    period: &str,
    by: RollupDimension,
    now: DateTime<Utc>,
) -> Result<(Period, Table)> {
    let rows =
        rollup_of(ports.plan.as_ref(), ports.periods.as_ref(), ports.supervision.as_ref(), period, by, now).await?;
    // `rollup_of` found the period scheduled, so its key is well formed.
    let period = Period::parse(period.trim())?;
    let names = group_names(ports, by, &rows).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let name = names.get(&row.group).ok_or_else(|| dangling(row.group))?;
        out.push(cells(by, name, row));
    }
    let sheet = format!("Rollup {period} by {}", by.as_str().to_ascii_lowercase());
    Ok((period, Table { sheet, columns: COLUMNS.to_vec(), rows: out }))
}

fn cells(by: RollupDimension, name: &str, row: &RollupRow) -> Vec<Cell> {
    let mut cells =
        vec![Cell::Text(by.as_str().to_owned()), Cell::Text(name.to_owned()), Cell::text(row.role.map(Role::as_str))];
    cells.extend(
        ProgressStatus::ALL
            .iter()
            .map(|s| Cell::count(row.tasks_by_status.iter().find(|(status, _)| status == s).map_or(0, |(_, n)| *n))),
    );
    cells.extend(
        ObligationState::ALL
            .iter()
            .map(|s| Cell::count(row.obligations_by_state.iter().find(|(state, _)| state == s).map_or(0, |(_, n)| *n))),
    );
    cells.push(row.mean_percent_complete.map_or(Cell::Empty, Cell::Number));
    cells.push(row.on_time_rate.map_or(Cell::Empty, Cell::Ratio));
    cells.push(Cell::count(row.pending_review));
    cells
}

/// The name of every group of `rows`: a section as printed ("I. Advance the reform …"), a
/// subsection with its section ("I.(i) Study and perfect …"), an agency or a province by its
/// English name.
async fn group_names(ports: &Ports, by: RollupDimension, rows: &[RollupRow]) -> Result<HashMap<RollupGroup, String>> {
    let plan = ports.plan.as_ref();
    Ok(match by {
        RollupDimension::Section => plan
            .sections()
            .await?
            .into_iter()
            .map(|s| (RollupGroup::Section(s.id), format!("{}. {}", s.numeral, s.title)))
            .collect(),
        RollupDimension::Subsection => {
            let sections = plan.sections().await?;
            let ids: Vec<_> = sections.iter().map(|s| s.id).collect();
            let numerals: HashMap<_, _> = sections.iter().map(|s| (s.id, s.numeral.as_str())).collect();
            plan.subsections_by_sections(&ids)
                .await?
                .into_iter()
                .map(|s| {
                    let section = numerals.get(&s.section_id).copied().unwrap_or_default();
                    (RollupGroup::Subsection(s.id), format!("{section}.({}) {}", s.numeral, s.title))
                })
                .collect()
        }
        RollupDimension::Agency => {
            let mut ids: Vec<_> = rows
                .iter()
                .filter_map(|r| match r.group {
                    RollupGroup::Agency(id) => Some(id),
                    _ => None,
                })
                .collect();
            ids.dedup();
            plan.agencies_by_ids(&ids).await?.into_iter().map(|a| (RollupGroup::Agency(a.id), a.name)).collect()
        }
        RollupDimension::Province => {
            plan.provinces().await?.into_iter().map(|p| (RollupGroup::Province(p.id), p.name)).collect()
        }
    })
}

/// A rollup row names a group the plan does not hold: our fault, never the caller's.
fn dangling(group: RollupGroup) -> Error {
    Error::internal(std::io::Error::other(format!("the rollup names {group:?}, which the plan lacks")))
}
