//! The demo data generator: deterministic, seeded sample progress reports for demos and
//! benchmarks. Everything it makes is flagged `is_demo` and its summaries say `[DEMO]`, so demo
//! data is never mistaken for real reports.

use chrono::{DateTime, Duration, TimeZone, Utc};

use crate::ids::{AgencyId, ProvinceId, TaskId};
use crate::report::{NewReport, Period, ReportKind, ReportState, ReportStatus, Reporter, ValidReportFields};
use crate::supervision::PeriodSchedule;

/// SplitMix64: small, fast and the same on every platform, so a seed always yields the same data.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// The years demo reports fall in.
pub const DEMO_YEARS: std::ops::RangeInclusive<i32> = 2016..=2020;

/// How long after a quarter ends its reports are due in the demo calendar.
pub const DEMO_GRACE_DAYS: i64 = 15;

/// The demo reporting calendar: every quarter of [`DEMO_YEARS`], its reports due
/// [`DEMO_GRACE_DAYS`] days after the quarter ends (midnight CST, so 2016-Q4 is due at
/// 2017-01-16T00:00:00+08:00).
pub fn calendar() -> Vec<PeriodSchedule> {
    DEMO_YEARS
        .flat_map(|year| (1..=4).map(move |q| Period::Quarter(year, q)))
        .map(|period| PeriodSchedule {
            period,
            due_at: period.ends_at() + Duration::days(DEMO_GRACE_DAYS),
            reason: Some("demo calendar (seed --demo)".into()),
        })
        .collect()
}

/// What the generator draws from: each task with the agencies responsible for it.
#[derive(Debug, Clone)]
pub struct DemoTask {
    /// The task.
    pub id: TaskId,
    /// The agencies responsible for it.
    pub agencies: Vec<AgencyId>,
}

/// The first instant after `period` (UTC): when its reports fall due.
fn period_end(period: Period) -> DateTime<Utc> {
    let (year, month) = match period {
        Period::Year(y) => (y + 1, 1),
        Period::Half(y, h) => (y, 1 + 6 * u32::from(h)),
        Period::Quarter(y, q) => (y, 1 + 3 * u32::from(q)),
        Period::Month(y, m) => (y, 1 + u32::from(m)),
    };
    let (year, month) = if month > 12 { (year + 1, month - 12) } else { (year, month) };
    Utc.with_ymd_and_hms(year, month, 1, 0, 0, 0).single().unwrap_or_default()
}

/// Generates up to `count` demo reports from `seed`, at most one per reporter, task, period
/// and kind (fewer only when the inputs hold fewer keys). Agencies report only on their own
/// tasks. Each is submitted around its period's end: up to 20 days before, or up to 40 after.
pub fn generate(tasks: &[DemoTask], provinces: &[ProvinceId], count: usize, seed: u64) -> Vec<NewReport> {
    let mut rng = Rng::new(seed);
    let phrases = [
        "Drafted implementing measures",
        "Held a coordination meeting with participating departments",
        "Issued guidance to local offices",
        "Completed a pilot in selected regions",
        "Published an interim evaluation",
        "Revised the relevant regulations",
    ];
    let mut out = Vec::with_capacity(count);
    if tasks.is_empty() {
        return out;
    }
    let mut keys = std::collections::HashSet::new();
    for _ in 0..count.saturating_mul(20) {
        if out.len() == count {
            break;
        }
        let task = &tasks[rng.below(tasks.len() as u64) as usize];
        let reporter = if provinces.is_empty() || (!task.agencies.is_empty() && rng.below(2) == 0) {
            match task.agencies.get(rng.below(task.agencies.len() as u64) as usize) {
                Some(a) => Reporter::Agency(*a),
                None => continue,
            }
        } else {
            Reporter::Province(provinces[rng.below(provinces.len() as u64) as usize])
        };
        let years = (DEMO_YEARS.end() - DEMO_YEARS.start() + 1) as u64;
        let year = DEMO_YEARS.start() + rng.below(years) as i32;
        let period = match rng.below(4) {
            0 => Period::Year(year),
            1 => Period::Half(year, 1 + rng.below(2) as u8),
            2 => Period::Quarter(year, 1 + rng.below(4) as u8),
            _ => Period::Month(year, 1 + rng.below(12) as u8),
        };
        if !keys.insert((reporter, task.id, period)) {
            continue;
        }
        let i = out.len();
        let submitted = period_end(period) + Duration::hours(rng.below(60 * 24) as i64 - 20 * 24);
        let status = ReportStatus::ALL[rng.below(4) as usize];
        let percent_complete = match status {
            ReportStatus::NotStarted => Some(0),
            ReportStatus::Completed => Some(100),
            _ => Some(rng.below(100) as i32),
        };
        let phrase = phrases[rng.below(phrases.len() as u64) as usize];
        out.push(NewReport {
            task_id: task.id,
            reporter,
            fields: ValidReportFields {
                period,
                status,
                percent_complete,
                summary: format!("[DEMO] {phrase} (sample report {}).", i + 1),
                evidence_urls: Vec::new(),
                health: None,
                obstacles: None,
            },
            state: ReportState::Accepted,
            kind: ReportKind::Part,
            client_report_id: None,
            created_at: submitted - Duration::hours(rng.below(72) as i64),
            submitted_at: Some(submitted),
            first_submitted_at: Some(submitted),
            is_demo: true,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_calendar_has_every_quarter_due_15_days_after_it_ends() {
        let calendar = calendar();
        assert_eq!(calendar.len(), 20);
        assert_eq!(calendar[0].period, Period::Quarter(2016, 1));
        assert_eq!(calendar[19].period, Period::Quarter(2020, 4));
        let q4 = calendar.iter().find(|s| s.period == Period::Quarter(2016, 4)).expect("2016-Q4");
        assert_eq!(q4.due_at.to_rfc3339(), "2017-01-15T16:00:00+00:00");
        for s in &calendar {
            assert_eq!(s.due_at - s.period.ends_at(), Duration::days(15), "{}", s.period);
        }
    }

    #[test]
    fn deterministic_and_flagged() {
        let tasks = vec![
            DemoTask { id: TaskId(1), agencies: vec![AgencyId(1), AgencyId(2)] },
            DemoTask { id: TaskId(2), agencies: vec![AgencyId(3)] },
        ];
        let provinces = [ProvinceId(1), ProvinceId(2)];
        let a = generate(&tasks, &provinces, 200, 7);
        let b = generate(&tasks, &provinces, 200, 7);
        let c = generate(&tasks, &provinces, 200, 8);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.len(), 200);
        let keys: std::collections::HashSet<_> = a.iter().map(NewReport::key).collect();
        assert_eq!(keys.len(), 200, "one report per key");
        let due = |r: &NewReport| period_end(r.fields.period);
        assert!(a.iter().any(|r| r.submitted_at.is_some_and(|at| at < due(r))), "some on time");
        assert!(a.iter().any(|r| r.submitted_at.is_some_and(|at| at > due(r))), "some late");
        for r in &a {
            assert!(r.is_demo && r.fields.summary.starts_with("[DEMO]"));
            let due = period_end(r.fields.period);
            let at = r.submitted_at.expect("submitted");
            assert!(at > due - Duration::days(21) && at < due + Duration::days(41), "{at} vs {due}");
            assert!(r.created_at <= at);
            if let Reporter::Agency(id) = r.reporter {
                let task = tasks.iter().find(|t| t.id == r.task_id).expect("task");
                assert!(task.agencies.contains(&id), "agency reports only on its own task");
            }
        }
    }
}
