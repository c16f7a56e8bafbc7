//! Which keys (reporter, task, period, kind) get a demo report. Two pools, each shuffled:
//!
//! - the **scheduled quarters**: every obligation of every quarter of the demo calendar (each
//!   responsible agency and each province on each task, PART) and the lead's CONSOLIDATED report
//!   on each DIVIDED task. They take [`QUARTER_SHARE_PERCENT`] of the reports, but never more
//!   than [`REPORTED_PERCENT`] of the pool, so some obligations always stay unreported. Of the
//!   last quarter (still open at the demo's "now") most parties have not reported yet: their
//!   keys come last.
//! - the **history**: PART reports for years, halves and months, each kind drawn equally often
//!   while it has keys left.
//!
//! Every key appears once in one pool, so the reports hold distinct keys and `count` reports are
//! made exactly, up to the number of keys there are.

use chrono::Duration;

use super::{DEMO_GRACE_DAYS, DEMO_YEARS, DemoTask, Rng, calendar, demo_now};
use crate::ids::{AgencyId, ProvinceId, TaskId};
use crate::report::{Period, ReportKind, Reporter};

/// The share of the reports that go to the scheduled quarters, in percent.
pub const QUARTER_SHARE_PERCENT: usize = 60;

/// The most of the scheduled quarters' keys that get a report, in percent: the rest stay
/// unreported (OVERDUE, or NOT_DUE at the demo's "now").
pub const REPORTED_PERCENT: usize = 85;

/// Of the parties owing a report for a period still open at the demo's "now", how many in a
/// hundred have not reported yet (their keys come last).
const NOT_YET_PERCENT: u64 = 60;

/// One key that gets a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Slot {
    /// The task.
    pub task: TaskId,
    /// Who reports.
    pub reporter: Reporter,
    /// The period.
    pub period: Period,
    /// PART or CONSOLIDATED.
    pub kind: ReportKind,
}

/// Whether `period`'s reports (due [`DEMO_GRACE_DAYS`] after it ends) are still open at the
/// demo's "now".
pub(super) fn is_open(period: Period) -> bool {
    period.ends_at() + Duration::days(DEMO_GRACE_DAYS) > demo_now()
}

/// Who owes a PART report on `task`: its agencies, then every province (each once).
fn parties(task: &DemoTask, provinces: &[ProvinceId]) -> Vec<Reporter> {
    let mut agencies: Vec<AgencyId> = task.agencies.clone();
    agencies.sort_unstable();
    agencies.dedup();
    agencies.into_iter().map(Reporter::Agency).chain(provinces.iter().copied().map(Reporter::Province)).collect()
}

/// Every PART key of `periods`, and the CONSOLIDATED ones when `consolidated`.
fn keys(tasks: &[DemoTask], provinces: &[ProvinceId], periods: &[Period], consolidated: bool) -> Vec<Slot> {
    let mut out = Vec::new();
    for &period in periods {
        for task in tasks {
            for reporter in parties(task, provinces) {
                out.push(Slot { task: task.id, reporter, period, kind: ReportKind::Part });
            }
            if let (true, Some(lead)) = (consolidated, task.divided_lead) {
                out.push(Slot {
                    task: task.id,
                    reporter: Reporter::Agency(lead),
                    period,
                    kind: ReportKind::Consolidated,
                });
            }
        }
    }
    out
}

/// Chooses `count` keys (fewer only when there are fewer), as the module says.
pub(super) fn choose(tasks: &[DemoTask], provinces: &[ProvinceId], count: usize, rng: &mut Rng) -> Vec<Slot> {
    let mut tasks = tasks.to_vec();
    tasks.sort_by_key(|t| t.id);
    tasks.dedup_by_key(|t| t.id);
    let mut provinces = provinces.to_vec();
    provinces.sort_unstable();
    provinces.dedup();

    let quarters: Vec<Period> = calendar().into_iter().map(|s| s.period).collect();
    let mut scheduled = keys(&tasks, &provinces, &quarters, true);
    rng.shuffle(&mut scheduled);
    let mut ranked: Vec<(bool, Slot)> =
        scheduled.into_iter().map(|s| (is_open(s.period) && rng.chance(NOT_YET_PERCENT), s)).collect();
    ranked.sort_by_key(|(not_yet, _)| *not_yet);

    let years: Vec<Period> = DEMO_YEARS.map(Period::Year).collect();
    let halves: Vec<Period> = DEMO_YEARS.flat_map(|y| [Period::Half(y, 1), Period::Half(y, 2)]).collect();
    let months: Vec<Period> = DEMO_YEARS.flat_map(|y| (1..=12).map(move |m| Period::Month(y, m))).collect();
    let mut history: Vec<Vec<Slot>> =
        [years, halves, months].iter().map(|periods| keys(&tasks, &provinces, periods, false)).collect();
    for pool in &mut history {
        rng.shuffle(pool);
    }
    let history_keys: usize = history.iter().map(Vec::len).sum();

    let total = count.min(ranked.len() + history_keys);
    let quarter_target = (total * QUARTER_SHARE_PERCENT).div_ceil(100).min(ranked.len() * REPORTED_PERCENT / 100);
    let from_history = (total - quarter_target).min(history_keys);
    let mut out: Vec<Slot> = ranked.into_iter().take(total - from_history).map(|(_, s)| s).collect();
    for _ in 0..from_history {
        let open: Vec<usize> = (0..history.len()).filter(|&k| !history[k].is_empty()).collect();
        let Some(&kind) = open.get(rng.index(open.len())) else { break };
        out.extend(history[kind].pop());
    }
    out
}
