//! The reporting matrix as a table: one row per obligation of a scheduled period, in the
//! domain's order (by task number; within a task its agencies in listed order, then the
//! provinces by code), computed with a constant number of port calls.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use workplan_domain::access::ReportScope;
use workplan_domain::agency::Agency;
use workplan_domain::plan::Role;
use workplan_domain::ports::Ports;
use workplan_domain::report::{Period, Reporter};
use workplan_domain::supervision::{Obligation, PartyKind};
use workplan_domain::usecases::supervise::{PlanFrame, obligations_of, scheduled};
use workplan_domain::{Error, Result};

use super::table::{Cell, Column, Table};
use crate::ids::{Kind, encode};

/// The columns, in order.
pub(crate) const COLUMNS: [Column; 12] = [
    Column { title: "Task", width: 6.0 },
    Column { title: "Task text", width: 60.0 },
    Column { title: "Party kind", width: 10.0 },
    Column { title: "Party code", width: 11.0 },
    Column { title: "Party", width: 40.0 },
    Column { title: "Party (Chinese)", width: 24.0 },
    Column { title: "Role", width: 12.0 },
    Column { title: "State", width: 11.0 },
    Column { title: "Due at (UTC+08:00)", width: 20.0 },
    Column { title: "On time", width: 8.0 },
    Column { title: "Days late", width: 9.0 },
    Column { title: "Report ID", width: 30.0 },
];

/// The reporting matrix of the scheduled `period` at `now`, showing the report of an
/// obligation only when `scope` may read it. Nine port calls, whatever the size of the plan:
/// the period, the plan's frame (five), the report facts and adjustments (two), the agencies.
pub(crate) async fn table(
    ports: &Ports,
    period: &str,
    scope: &ReportScope,
    now: DateTime<Utc>,
) -> Result<(Period, Table)> {
    let period = scheduled(ports.periods.as_ref(), period, "period").await?;
    let frame = PlanFrame::load(ports.plan.as_ref()).await?;
    let owed = obligations_of(ports.supervision.as_ref(), &frame, std::slice::from_ref(&period), None, now).await?;
    let agencies: HashMap<_, Agency> =
        ports.plan.agencies_by_ids(&frame.agencies).await?.into_iter().map(|a| (a.id, a)).collect();
    let tasks: HashMap<_, _> = frame.tasks.iter().map(|t| (t.id, t)).collect();
    let provinces: HashMap<_, _> = frame.provinces.iter().map(|p| (p.id, p)).collect();
    let party = |party: Reporter| -> Result<[String; 3]> {
        match party {
            Reporter::Agency(id) => agencies
                .get(&id)
                .map(|a| [a.abbreviation.clone().unwrap_or_else(|| a.name.clone()), a.name.clone(), a.name_zh.clone()]),
            Reporter::Province(id) => provinces.get(&id).map(|p| [p.code.clone(), p.name.clone(), p.name_zh.clone()]),
        }
        .ok_or_else(|| dangling(&format!("{party:?}")))
    };
    let mut rows = Vec::with_capacity(owed.len());
    for o in &owed {
        let task = tasks.get(&o.task_id).ok_or_else(|| dangling(&format!("{:?}", o.task_id)))?;
        let [code, name, name_zh] = party(o.party)?;
        rows.push(vec![
            Cell::Integer(i64::from(o.task_number)),
            Cell::Text(task.text.clone()),
            Cell::Text(PartyKind::of(o.party).as_str().to_owned()),
            Cell::Text(code),
            Cell::Text(name),
            Cell::Text(name_zh),
            Cell::text(o.role.map(Role::as_str)),
            Cell::Text(o.state().as_str().to_owned()),
            Cell::Time(o.due_at),
            o.standing.on_time.map_or(Cell::Empty, Cell::Bool),
            Cell::integer(o.standing.days_late),
            Cell::text(report_id(o, scope)),
        ]);
    }
    let sheet = format!("Reporting matrix {}", period.period);
    Ok((period.period, Table { sheet, columns: COLUMNS.to_vec(), rows }))
}

/// The global ID of the obligation's report, when there is one and `scope` may read it.
fn report_id(o: &Obligation, scope: &ReportScope) -> Option<String> {
    o.report.as_ref().filter(|r| r.readable_within(scope)).map(|r| encode(Kind::ProgressReport, r.id.0).to_string())
}

/// An obligation names a task or party the plan does not hold: our fault, never the caller's.
fn dangling(what: &str) -> Error {
    Error::internal(std::io::Error::other(format!("the reporting matrix names {what}, which the plan lacks")))
}
