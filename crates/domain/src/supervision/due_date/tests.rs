use super::*;
use crate::ids::{AgencyId, ProvinceId, ReportId, SectionId, SubsectionId, TokenId};
use crate::report::ReportState;
use crate::supervision::adjustment::AdjustmentId;
use crate::supervision::fixtures::{at, due, period};
use crate::supervision::obligation::{ReportFacts, judge};

fn window() -> Duration {
    due_soon_window(3)
}

fn facts(state: ReportState, first: Option<DateTime<Utc>>) -> ReportFacts {
    ReportFacts {
        id: ReportId(1),
        task_id: TaskId(1),
        reporter: Reporter::Province(ProvinceId(7)),
        period: Period::Quarter(2016, 4),
        state,
        first_submitted_at: first,
        has_accepted: state == ReportState::Accepted,
        ever_returned: false,
    }
}

/// Task 1's obligation of province 7, due `due_at`, judged at `now`.
fn cell(due_at: DateTime<Utc>, report: Option<ReportFacts>, exempt: bool, now: DateTime<Utc>) -> Obligation {
    cell_of(TaskId(1), Reporter::Province(ProvinceId(7)), due_at, report, exempt, now)
}

fn cell_of(
    task_id: TaskId,
    party: Reporter,
    due_at: DateTime<Utc>,
    report: Option<ReportFacts>,
    exempt: bool,
    now: DateTime<Utc>,
) -> Obligation {
    Obligation {
        task_id,
        task_number: i32::try_from(task_id.0).unwrap_or(0),
        section_id: SectionId(1),
        subsection_id: SubsectionId(1),
        party,
        role: None,
        period: Period::Quarter(2016, 4),
        due_at,
        extended: false,
        standing: judge(due_at, report.as_ref(), exempt, now),
        report,
    }
}

fn kinds(events: &[DueDateEvent]) -> Vec<DueDateEventKind> {
    events.iter().map(|e| e.kind).collect()
}

#[test]
fn an_unreported_obligation_is_due_soon_once_its_window_opens_and_overdue_once_its_due_date_passes() {
    let opens = due() - window();
    // Before the window: nothing.
    let t0 = opens - Duration::hours(2);
    let t1 = opens - Duration::hours(1);
    assert!(due_date_events([&cell(due(), None, false, t1)], t0, t1, window()).is_empty());
    // The window opens within (t0, t1]: due soon, about this due date.
    let t1 = opens + Duration::hours(1);
    let events = due_date_events([&cell(due(), None, false, t1)], t0, t1, window());
    assert_eq!(kinds(&events), [DueDateEventKind::DueSoon]);
    assert_eq!(events[0].due_at, due());
    assert_eq!((events[0].task_id, events[0].party), (TaskId(1), Reporter::Province(ProvinceId(7))));
    // The window opening exactly at t1 counts; exactly at t0 it does not (it was counted then).
    assert_eq!(
        kinds(&due_date_events([&cell(due(), None, false, opens)], t0, opens, window())),
        [DueDateEventKind::DueSoon]
    );
    assert!(due_date_events([&cell(due(), None, false, t1)], opens, t1, window()).is_empty());
    // Still within the window later: no second event.
    let later = due() - Duration::hours(1);
    assert!(due_date_events([&cell(due(), None, false, later)], t1, later, window()).is_empty());
    // The due date passes (the instant itself counts as passed): overdue, once.
    let events = due_date_events([&cell(due(), None, false, due())], later, due(), window());
    assert_eq!(kinds(&events), [DueDateEventKind::Overdue]);
    let after = due() + Duration::days(2);
    assert!(due_date_events([&cell(due(), None, false, after)], due(), after, window()).is_empty());
}

#[test]
fn a_clock_that_jumps_past_window_and_due_date_in_one_step_makes_only_overdue() {
    let t0 = due() - Duration::days(10);
    let t1 = due() + Duration::days(1);
    assert_eq!(kinds(&due_date_events([&cell(due(), None, false, t1)], t0, t1, window())), [DueDateEventKind::Overdue]);
}

#[test]
fn submitted_accepted_and_exempt_obligations_make_no_due_date_events() {
    let t0 = due() - Duration::days(10);
    let soon = due() - Duration::days(1);
    let late = due() + Duration::days(1);
    let submitted = Some(facts(ReportState::Submitted, Some(at(2, 0))));
    let accepted = Some(facts(ReportState::Accepted, Some(at(2, 0))));
    for (report, exempt) in [(submitted, false), (accepted, false), (None, true)] {
        for t1 in [soon, late] {
            let o = cell(due(), report.clone(), exempt, t1);
            assert!(due_date_events([&o], t0, t1, window()).is_empty(), "{:?} at {t1}", o.state());
        }
    }
    // A draft or a returned report counts as nothing submitted.
    let draft = Some(facts(ReportState::Draft, None));
    assert_eq!(
        kinds(&due_date_events([&cell(due(), draft, false, late)], t0, late, window())),
        [DueDateEventKind::Overdue]
    );
}

#[test]
fn the_window_follows_the_configured_days_and_an_extension_makes_new_events() {
    let t0 = due() - Duration::days(10);
    let t1 = due() - Duration::days(5);
    assert!(due_date_events([&cell(due(), None, false, t1)], t0, t1, due_soon_window(3)).is_empty());
    assert_eq!(
        kinds(&due_date_events([&cell(due(), None, false, t1)], t0, t1, due_soon_window(7))),
        [DueDateEventKind::DueSoon]
    );
    // With no window, nothing is ever due soon.
    assert!(due_date_events([&cell(due(), None, false, t1)], t0, t1, due_soon_window(0)).is_empty());
    // Extended by a week after it was overdue: due soon again, about the new due date.
    let extended = due() + Duration::days(7);
    let t2 = extended - Duration::days(1);
    let events = due_date_events([&cell(extended, None, false, t2)], due(), t2, window());
    assert_eq!(kinds(&events), [DueDateEventKind::DueSoon]);
    assert_eq!(events[0].due_at, extended);
}

#[test]
fn only_periods_with_a_due_date_or_window_opening_between_the_instants_are_judged() {
    let period = period();
    let w = window();
    assert!(period_may_have_events(&period, &[], due() - Duration::hours(1), due(), w));
    assert!(period_may_have_events(&period, &[], due() - w - Duration::hours(1), due() - w, w));
    assert!(!period_may_have_events(&period, &[], due(), due() + Duration::days(1), w));
    assert!(!period_may_have_events(&period, &[], at(1, 0), at(2, 0), w));
    let extension = ObligationAdjustment {
        id: AdjustmentId(1),
        kind: AdjustmentKind::Extend,
        period: Some(period.period),
        task_id: TaskId(1),
        party: Reporter::Agency(AgencyId(1)),
        due_at: Some(due() + Duration::days(20)),
        reason: "r".into(),
        actor: "sup (SUPERVISOR)".into(),
        at: at(1, 0),
        revoked: None,
    };
    let t0 = due() + Duration::days(19);
    assert!(period_may_have_events(&period, std::slice::from_ref(&extension), t0, t0 + Duration::days(1), w));
    assert!(!period_may_have_events(&period, &[], t0, t0 + Duration::days(1), w));
}

#[test]
fn changed_cells_are_those_whose_state_moved() {
    let before_due = due() - Duration::days(1);
    let a = Reporter::Province(ProvinceId(7));
    let b = Reporter::Agency(AgencyId(3));
    let before = vec![
        cell_of(TaskId(1), a, due(), None, false, before_due),
        cell_of(TaskId(1), b, due(), None, false, before_due),
        cell_of(TaskId(2), a, due(), None, false, before_due),
    ];
    // Nothing moved.
    let same = before.clone();
    assert!(changed_cells(&before, &same).is_empty());
    // One submitted, one exempted, one unchanged; and a new cell (the plan grew).
    let after = vec![
        cell_of(TaskId(1), a, due(), Some(facts(ReportState::Submitted, Some(before_due))), false, before_due),
        cell_of(TaskId(1), b, due(), None, false, before_due),
        cell_of(TaskId(2), a, due(), None, true, before_due),
        cell_of(TaskId(3), a, due(), None, false, before_due),
    ];
    let moved: Vec<_> =
        changed_cells(&before, &after).iter().map(|c| (c.obligation.task_id, c.before, c.obligation.state())).collect();
    assert_eq!(
        moved,
        [
            (TaskId(1), Some(ObligationState::NotDue), ObligationState::Submitted),
            (TaskId(2), Some(ObligationState::NotDue), ObligationState::Exempt),
            (TaskId(3), None, ObligationState::NotDue),
        ]
    );
    // The clock alone: unreported cells become OVERDUE, the exempt one stays.
    let later: Vec<_> = after
        .iter()
        .map(|o| cell_of(o.task_id, o.party, o.due_at, o.report.clone(), o.state() == ObligationState::Exempt, due()))
        .collect();
    let moved: Vec<_> =
        changed_cells(&after, &later).iter().map(|c| (c.obligation.task_id, c.obligation.party)).collect();
    assert_eq!(moved, [(TaskId(1), b), (TaskId(3), a)]);
}

fn principal(role: AccessRole, agency: Option<AgencyId>, province: Option<ProvinceId>) -> Principal {
    Principal { token: TokenId(1), name: "t".into(), role, agency, province }
}

#[test]
fn reporters_hear_their_own_reminders_supervisors_all_and_readers_none() {
    let own = Reporter::Province(ProvinceId(7));
    let other = Reporter::Agency(AgencyId(1));
    for role in [AccessRole::Admin, AccessRole::Supervisor] {
        let audience = ReminderAudience::of(&principal(role, None, None)).expect("allowed");
        assert!(audience.hears(own) && audience.hears(other));
    }
    let audience =
        ReminderAudience::of(&principal(AccessRole::ProvinceReporter, None, Some(ProvinceId(7)))).expect("allowed");
    assert!(audience.hears(own) && !audience.hears(other));
    let audience =
        ReminderAudience::of(&principal(AccessRole::AgencyReporter, Some(AgencyId(1)), None)).expect("allowed");
    assert!(audience.hears(other) && !audience.hears(own));
    for p in [principal(AccessRole::Reader, None, None), principal(AccessRole::AgencyReporter, None, None)] {
        assert!(matches!(ReminderAudience::of(&p), Err(Error::Forbidden(_))));
    }
}
