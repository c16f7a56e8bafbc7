use std::collections::{HashMap, HashSet};

use chrono::TimeZone;

use super::*;
use crate::ids::ReportId;
use crate::report::{ReportKey, Reporter};
use crate::supervision::{ObligationState, ReportFacts, judge};

fn small_plan() -> (Vec<DemoTask>, Vec<ProvinceId>) {
    let tasks = vec![
        DemoTask { id: TaskId(1), agencies: vec![AgencyId(1), AgencyId(2)], divided_lead: Some(AgencyId(1)) },
        DemoTask { id: TaskId(2), agencies: vec![AgencyId(3)], divided_lead: None },
    ];
    (tasks, vec![ProvinceId(1), ProvinceId(2)])
}

/// A plan shaped like the real one, smaller: 24 tasks with one to four agencies, every fifth
/// DIVIDED, and 31 provinces.
fn plan_like() -> (Vec<DemoTask>, Vec<ProvinceId>) {
    let tasks = (1..=24)
        .map(|i: i64| {
            let agencies: Vec<AgencyId> = (0..=(i % 4)).map(|k| AgencyId(1 + (i * 7 + k * 3) % 40)).collect();
            let divided_lead = (i % 5 == 0).then(|| agencies[0]);
            DemoTask { id: TaskId(i), agencies, divided_lead }
        })
        .collect();
    (tasks, (1..=31).map(ProvinceId).collect())
}

fn reports(tasks: &[DemoTask], provinces: &[ProvinceId], count: usize, seed: u64) -> Vec<DemoReport> {
    generate(tasks, provinces, count, seed).expect("every story follows the rules")
}

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
    // The demo's "now" falls after the last quarter ends and before it is due.
    assert_eq!(demo_now().to_rfc3339(), "2021-01-09T16:00:00+00:00");
    assert!(calendar[19].period.ends_at() < demo_now() && demo_now() < calendar[19].due_at);
    assert!(calendar[18].due_at < demo_now());
}

#[test]
fn deterministic_and_flagged() {
    let (tasks, provinces) = small_plan();
    let a = reports(&tasks, &provinces, 200, 7);
    assert_eq!(a, reports(&tasks, &provinces, 200, 7));
    assert_ne!(a, reports(&tasks, &provinces, 200, 8));
    assert_eq!(a.len(), 200);
    let keys: HashSet<ReportKey> = a.iter().map(|d| d.report.key()).collect();
    assert_eq!(keys.len(), 200, "one report per key");
    for (i, d) in a.iter().enumerate() {
        let r = &d.report;
        assert!(r.is_demo && r.summary.starts_with("[DEMO]"), "{r:?}");
        assert!(r.summary.ends_with(&format!("(sample report {}).", i + 1)), "numbered in order: {}", r.summary);
        if let Reporter::Agency(id) = r.reporter {
            let task = tasks.iter().find(|t| t.id == r.task_id).expect("task");
            assert!(task.agencies.contains(&id), "agency reports only on its own task");
        }
        if r.kind == ReportKind::Consolidated {
            let task = tasks.iter().find(|t| t.id == r.task_id).expect("task");
            assert_eq!(Some(r.reporter), task.divided_lead.map(Reporter::Agency), "only a DIVIDED task's lead");
        }
    }
    assert!(a.windows(2).all(|w| w[0].report.created_at <= w[1].report.created_at), "in the order created");
}

#[test]
fn every_report_is_consistent_with_its_state() {
    let (tasks, provinces) = plan_like();
    for d in reports(&tasks, &provinces, 3000, 2016) {
        let r = &d.report;
        let period = Period::parse(&r.period).expect("period");
        assert!(r.created_at <= r.updated_at && r.updated_at <= demo_now(), "{r:?}");
        assert!(r.created_at >= period.starts_at(), "{r:?}");
        match r.state {
            ReportState::Draft => {
                assert_eq!((r.submitted_at, r.first_submitted_at, r.version), (None, None, 1), "{r:?}");
            }
            ReportState::Submitted | ReportState::Accepted | ReportState::Returned => {
                let (first, last) = (r.first_submitted_at.expect("first"), r.submitted_at.expect("last"));
                assert!(r.created_at <= first && first <= last && last <= r.updated_at, "{r:?}");
                assert_eq!(first < last, d.ever_returned && r.state != ReportState::Returned, "resubmitted: {r:?}");
            }
            ReportState::Withdrawn => panic!("no demo report is withdrawn"),
        }
        match (r.state, &r.accepted) {
            (ReportState::Accepted, Some(a)) => {
                assert_eq!(
                    (a.version, a.accepted_at, a.summary.as_str()),
                    (r.version, r.updated_at, r.summary.as_str())
                );
            }
            (ReportState::Returned, Some(a)) => {
                assert!(a.version < r.version && a.accepted_at < r.updated_at, "reopened: {r:?}");
            }
            (ReportState::Draft | ReportState::Submitted | ReportState::Returned, None) => {}
            _ => panic!("accepted version out of place: {r:?}"),
        }
        assert_eq!(r.review_comment.is_some(), r.state == ReportState::Returned, "{r:?}");
        assert_eq!(d.ever_returned, r.state == ReportState::Returned || r.first_submitted_at < r.submitted_at);
    }
}

#[test]
fn exactly_the_count_asked_up_to_the_keys_there_are() {
    let (tasks, provinces) = small_plan();
    // Per quarter: task 1's 2 agencies, 2 provinces and the lead's consolidated report; task 2's
    // agency and 2 provinces. Per year, half and month the same without consolidated reports.
    let keys = 20 * (5 + 3) + (5 + 10 + 60) * (4 + 3);
    for count in [0, 1, 37, 160, 300, keys - 1, keys] {
        assert_eq!(reports(&tasks, &provinces, count, 3).len(), count, "{count}");
    }
    let all = reports(&tasks, &provinces, keys + 1000, 3);
    assert_eq!(all.len(), keys);
    assert_eq!(all.iter().map(|d| d.report.key()).collect::<HashSet<_>>().len(), keys);
    assert!(generate(&[], &provinces, 10, 3).expect("no tasks").is_empty());
}

/// How many of each, for the counting test.
fn tally<T: std::hash::Hash + Eq>(items: impl IntoIterator<Item = T>) -> HashMap<T, usize> {
    let mut counts = HashMap::new();
    for item in items {
        *counts.entry(item).or_insert(0) += 1;
    }
    counts
}

#[test]
fn a_generated_set_shows_every_state() {
    let (tasks, provinces) = plan_like();
    let generated = reports(&tasks, &provinces, 30_000, 2016);

    // Reports: every lifecycle state a live report can be in, and every story.
    let states = tally(generated.iter().map(|d| d.report.state));
    println!("report states: {states:?}");
    for state in [ReportState::Draft, ReportState::Submitted, ReportState::Accepted, ReportState::Returned] {
        assert!(states.get(&state).copied().unwrap_or_default() > 0, "no {state:?} report");
    }
    let resubmitted = generated
        .iter()
        .filter(|d| d.report.state == ReportState::Submitted && d.report.first_submitted_at < d.report.submitted_at)
        .count();
    let accepted_after_return =
        generated.iter().filter(|d| d.report.state == ReportState::Accepted && d.ever_returned).count();
    let reopened = generated.iter().filter(|d| d.report.is_reopened()).count();
    let returned =
        generated.iter().filter(|d| d.report.state == ReportState::Returned && d.report.accepted.is_none()).count();
    println!(
        "resubmitted {resubmitted}, accepted after return {accepted_after_return}, reopened {reopened}, returned {returned}"
    );
    assert!(resubmitted > 0 && accepted_after_return > 0 && reopened > 0 && returned > 0);
    assert!(states[&ReportState::Accepted] * 2 > generated.len(), "most reports are accepted");
    let kinds = tally(generated.iter().map(|d| d.report.kind));
    assert!(kinds[&ReportKind::Consolidated] > 0 && kinds[&ReportKind::Part] > kinds[&ReportKind::Consolidated]);
    let periods = tally(generated.iter().map(|d| match Period::parse(&d.report.period).expect("period") {
        Period::Year(..) => "year",
        Period::Half(..) => "half",
        Period::Quarter(..) => "quarter",
        Period::Month(..) => "month",
    }));
    println!("periods: {periods:?}");
    assert!(["year", "half", "month"].iter().all(|k| periods[k] > 0), "history of every kind");
    assert!(["year", "half", "month"].iter().all(|k| periods["quarter"] > 2 * periods[k]), "quarters first");

    // Obligations of the scheduled quarters, judged at the demo's "now" and at the real clock.
    let part: HashMap<(TaskId, Reporter, String), &DemoReport> = generated
        .iter()
        .filter(|d| d.report.kind == ReportKind::Part)
        .map(|d| ((d.report.task_id, d.report.reporter, d.report.period.clone()), d))
        .collect();
    let real_now = Utc.with_ymd_and_hms(2026, 11, 27, 0, 0, 0).single().expect("a time");
    let mut at_demo_now: HashMap<(Period, ObligationState), usize> = HashMap::new();
    let mut at_real_now: HashMap<ObligationState, usize> = HashMap::new();
    let mut on_time = HashMap::new();
    for schedule in calendar() {
        for task in &tasks {
            let parties = task
                .agencies
                .iter()
                .map(|a| Reporter::Agency(*a))
                .chain(provinces.iter().map(|p| Reporter::Province(*p)));
            for party in parties {
                let facts = part.get(&(task.id, party, schedule.period.to_string())).map(|d| ReportFacts {
                    id: ReportId(0),
                    task_id: task.id,
                    reporter: party,
                    period: schedule.period,
                    state: d.report.state,
                    first_submitted_at: d.report.first_submitted_at,
                    has_accepted: d.report.accepted.is_some(),
                    ever_returned: d.ever_returned,
                });
                let standing = judge(schedule.due_at, facts.as_ref(), false, demo_now());
                *at_demo_now.entry((schedule.period, standing.state)).or_default() += 1;
                let real = judge(schedule.due_at, facts.as_ref(), false, real_now);
                *at_real_now.entry(real.state).or_default() += 1;
                if matches!(real.state, ObligationState::Submitted | ObligationState::Accepted) {
                    *on_time.entry(real.on_time).or_insert(0) += 1;
                }
            }
        }
    }
    let count = |period: Option<Period>, state: ObligationState| -> usize {
        at_demo_now.iter().filter(|((p, s), _)| *s == state && period.is_none_or(|q| q == *p)).map(|(_, n)| n).sum()
    };
    let last = Period::Quarter(2020, 4);
    let all = |period: Period| ObligationState::ALL.iter().map(|s| count(Some(period), *s)).sum::<usize>();
    println!("at the demo's now: {:?}", ObligationState::ALL.map(|s| (s, count(None, s), count(Some(last), s))));
    println!("at the real clock: {at_real_now:?}; on time among reported: {on_time:?}");
    for state in
        [ObligationState::NotDue, ObligationState::Overdue, ObligationState::Submitted, ObligationState::Accepted]
    {
        assert!(count(None, state) > 0, "no {state:?} obligation at the demo's now");
    }
    assert_eq!(
        count(None, ObligationState::NotDue),
        count(Some(last), ObligationState::NotDue),
        "only the last quarter is open"
    );
    assert!(count(Some(last), ObligationState::NotDue) * 2 > all(last), "most of the open quarter is not in yet");
    let q4 = Period::Quarter(2016, 4);
    let reported = count(Some(q4), ObligationState::Submitted) + count(Some(q4), ObligationState::Accepted);
    assert!(reported * 10 > all(q4) * 7, "most obligations of a past quarter are reported: {reported} of {}", all(q4));
    assert!(count(Some(q4), ObligationState::Overdue) > 0);
    // By the real clock every demo quarter is past due.
    assert_eq!(at_real_now.get(&ObligationState::NotDue), None);
    assert!(at_real_now[&ObligationState::Overdue] > 0);
    assert!(
        on_time[&Some(true)] > on_time[&Some(false)] && on_time[&Some(false)] > 0,
        "first submissions on both sides of the due date"
    );
}
