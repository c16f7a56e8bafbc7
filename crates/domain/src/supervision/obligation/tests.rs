use chrono::Duration;

use super::*;
use crate::ids::{AgencyId, PlanId, ProvinceId};
use crate::plan::ResponsibilityMode;
use crate::province::ProvinceKind;
use crate::supervision::adjustment::{AdjustmentId, AdjustmentKind, ObligationAdjustment, Revocation};
use crate::supervision::fixtures::{at, due, period};

fn facts(state: ReportState, first: Option<DateTime<Utc>>, has_accepted: bool) -> ReportFacts {
    ReportFacts {
        id: ReportId(1),
        task_id: TaskId(1),
        reporter: Reporter::Agency(AgencyId(1)),
        period: Period::Quarter(2016, 4),
        state,
        first_submitted_at: first,
        has_accepted,
        ever_returned: false,
    }
}

#[test]
fn nothing_reported_is_not_due_before_the_due_date_and_overdue_after() {
    let before = judge(due(), None, false, at(10, 0));
    assert_eq!(before, Standing { state: ObligationState::NotDue, on_time: None, days_late: None });
    let after = judge(due(), None, false, due() + Duration::hours(1));
    assert_eq!(after, Standing { state: ObligationState::Overdue, on_time: Some(false), days_late: Some(1) });
    let later = judge(due(), None, false, due() + Duration::days(3));
    assert_eq!(later.days_late, Some(3), "exactly three days is three, not four");
    assert_eq!(judge(due(), None, false, due()).state, ObligationState::Overdue, "the due instant itself has passed");
}

#[test]
fn drafts_and_returned_reports_count_as_not_reported() {
    for (state, first) in [(ReportState::Draft, None), (ReportState::Returned, Some(at(10, 0)))] {
        let r = facts(state, first, false);
        assert_eq!(judge(due(), Some(&r), false, at(11, 0)).state, ObligationState::NotDue, "{state:?}");
        assert_eq!(judge(due(), Some(&r), false, at(20, 0)).state, ObligationState::Overdue, "{state:?}");
    }
    // Returned after a first submission on time: still on time, 0 days late, though OVERDUE.
    let returned = facts(ReportState::Returned, Some(at(10, 0)), false);
    let s = judge(due(), Some(&returned), false, at(20, 0));
    assert_eq!((s.on_time, s.days_late), (Some(true), Some(0)));
    // A draft before the due date: NOT_DUE and nothing to judge.
    let draft = facts(ReportState::Draft, None, false);
    assert_eq!(judge(due(), Some(&draft), false, at(10, 0)).on_time, None);
}

#[test]
fn submitted_and_accepted_reports_are_judged_by_their_first_submission() {
    let on_time = facts(ReportState::Submitted, Some(at(15, 16)), false);
    let s = judge(due(), Some(&on_time), false, at(20, 0));
    assert_eq!(s, Standing { state: ObligationState::Submitted, on_time: Some(true), days_late: Some(0) });
    let late = facts(ReportState::Accepted, Some(due() + Duration::hours(25)), true);
    let s = judge(due(), Some(&late), false, at(30, 0));
    assert_eq!(s, Standing { state: ObligationState::Accepted, on_time: Some(false), days_late: Some(2) });
    // Reopened for correction: its accepted version still counts.
    let reopened = facts(ReportState::Returned, Some(at(1, 0)), true);
    assert_eq!(judge(due(), Some(&reopened), false, at(30, 0)).state, ObligationState::Accepted);
    // Submitted early, before the due date, is SUBMITTED (not NOT_DUE) and on time.
    let early = facts(ReportState::Submitted, Some(at(2, 0)), false);
    assert_eq!(judge(due(), Some(&early), false, at(3, 0)).state, ObligationState::Submitted);
}

#[test]
fn exemption_wins_over_everything() {
    let r = facts(ReportState::Accepted, Some(at(1, 0)), true);
    assert_eq!(
        judge(due(), Some(&r), true, at(30, 0)),
        Standing { state: ObligationState::Exempt, on_time: None, days_late: None }
    );
}

#[test]
fn days_are_rounded_up() {
    assert_eq!(days_between_rounded_up(due(), due()), 0);
    assert_eq!(days_between_rounded_up(due(), due() - Duration::days(2)), 0);
    assert_eq!(days_between_rounded_up(due(), due() + Duration::seconds(1)), 1);
    assert_eq!(days_between_rounded_up(due(), due() + Duration::hours(24)), 1);
    assert_eq!(days_between_rounded_up(due(), due() + Duration::hours(49)), 3);
}

fn task(id: i64, number: i32) -> Task {
    Task {
        id: TaskId(id),
        plan_id: PlanId(1),
        section_id: crate::ids::SectionId(1),
        subsection_id: crate::ids::SubsectionId(1),
        number,
        text: format!("task {number}"),
        mode: ResponsibilityMode::Joint,
    }
}

fn province(id: i64, code: &str) -> Province {
    Province {
        id: ProvinceId(id),
        code: code.into(),
        name: code.into(),
        name_zh: code.into(),
        kind: ProvinceKind::Province,
    }
}

fn adjustment(id: i64, kind: AdjustmentKind, period: Option<Period>, party: Reporter) -> ObligationAdjustment {
    ObligationAdjustment {
        id: AdjustmentId(id),
        kind,
        period,
        task_id: TaskId(1),
        party,
        due_at: (kind == AdjustmentKind::Extend).then(|| due() + Duration::days(id)),
        reason: "r".into(),
        actor: "sup (SUPERVISOR)".into(),
        at: at(1, 0),
        revoked: None,
    }
}

#[test]
fn every_responsibility_and_every_province_owes_one_report_per_task() {
    let tasks = [task(1, 1), task(2, 2)];
    let resp = |t: i64, a: i64, role: Role, position: i32| Responsibility {
        task_id: TaskId(t),
        agency_id: AgencyId(a),
        role,
        position,
    };
    let responsibilities = [resp(1, 10, Role::Lead, 1), resp(1, 11, Role::Participant, 2), resp(2, 11, Role::Lead, 1)];
    let provinces = [province(1, "110000"), province(2, "120000")];
    let plan = ObligationPlan { tasks: &tasks, responsibilities: &responsibilities, provinces: &provinces };
    assert_eq!(plan.size(), 3 + 2 * 2);
    let reports = [
        ReportFacts {
            task_id: TaskId(1),
            reporter: Reporter::Agency(AgencyId(11)),
            ..facts(ReportState::Submitted, Some(at(2, 0)), false)
        },
        // Another period's report does not count.
        ReportFacts { period: Period::Quarter(2016, 3), ..facts(ReportState::Accepted, Some(at(2, 0)), true) },
    ];
    let index = Adjustments::new(&[
        adjustment(1, AdjustmentKind::Exempt, None, Reporter::Province(ProvinceId(1))),
        adjustment(2, AdjustmentKind::Extend, Some(Period::Quarter(2016, 4)), Reporter::Agency(AgencyId(10))),
        adjustment(3, AdjustmentKind::Extend, Some(Period::Quarter(2016, 4)), Reporter::Agency(AgencyId(10))),
        ObligationAdjustment {
            revoked: Some(Revocation { actor: "a".into(), at: at(2, 0), reason: "undo".into() }),
            ..adjustment(4, AdjustmentKind::Extend, Some(Period::Quarter(2016, 4)), Reporter::Agency(AgencyId(10)))
        },
    ]);
    let now = due() + Duration::hours(1);
    let owed = obligations(plan, &period(), &reports, &index, now);
    let summary: Vec<(i32, Reporter, Option<Role>, ObligationState)> =
        owed.iter().map(|o| (o.task_number, o.party, o.role, o.state())).collect();
    assert_eq!(
        summary,
        vec![
            (1, Reporter::Agency(AgencyId(10)), Some(Role::Lead), ObligationState::NotDue),
            (1, Reporter::Agency(AgencyId(11)), Some(Role::Participant), ObligationState::Submitted),
            (1, Reporter::Province(ProvinceId(1)), None, ObligationState::Exempt),
            (1, Reporter::Province(ProvinceId(2)), None, ObligationState::Overdue),
            (2, Reporter::Agency(AgencyId(11)), Some(Role::Lead), ObligationState::Overdue),
            (2, Reporter::Province(ProvinceId(1)), None, ObligationState::Overdue),
            (2, Reporter::Province(ProvinceId(2)), None, ObligationState::Overdue),
        ]
    );
    // The latest extension in force wins; the revoked one (id 4) is ignored.
    assert_eq!(owed[0].due_at, due() + Duration::days(3));
    assert!(owed[0].extended && !owed[1].extended);
    let counts = counts_by_state(&owed);
    assert_eq!(
        counts,
        vec![
            (ObligationState::NotDue, 1),
            (ObligationState::Overdue, 4),
            (ObligationState::Submitted, 1),
            (ObligationState::Accepted, 0),
            (ObligationState::Exempt, 1),
        ]
    );
    let filter = ObligationFilter {
        states: vec![ObligationState::Overdue],
        party_kind: Some(PartyKind::Province),
        ..ObligationFilter::default()
    };
    assert_eq!(owed.iter().filter(|o| filter.matches(o)).count(), 3);
    let one = ObligationFilter { task_number: Some(1), agency: Some(AgencyId(11)), ..ObligationFilter::default() };
    assert_eq!(owed.iter().filter(|o| one.matches(o)).count(), 1);
    assert!(one.without_states().states.is_empty());
    assert_eq!(owed.iter().filter(|o| ObligationFilter::nothing().matches(o)).count(), 0);
    assert!(ObligationFilter::nothing().without_states().nothing, "counts fail closed too");
}

#[test]
fn a_judgement_holds_until_a_due_date_passes_or_days_late_grows() {
    let due = due();
    let overdue_for = |now| judge(due, None, false, now);
    // Before the due date: until it.
    let before = due - Duration::hours(5);
    assert_eq!(judged_until([due], before), due);
    assert_eq!(judge(due, None, false, due - Duration::seconds(1)).state, ObligationState::NotDue);
    assert_eq!(judge(due, None, false, due).state, ObligationState::Overdue);
    // After it: until daysLate grows, and not a second sooner.
    for now in [due, due + Duration::hours(3), due + Duration::days(2), due + Duration::days(2) + Duration::seconds(1)]
    {
        let until = judged_until([due], now);
        assert!(until > now, "{now} → {until}");
        assert_eq!(overdue_for(until - Duration::seconds(1)), overdue_for(now), "{now} → {until}");
        assert_ne!(overdue_for(until), overdue_for(now), "{now} → {until}");
    }
    // The earliest of several due dates.
    let later = due + Duration::days(10);
    assert_eq!(judged_until([later, due], before), due);
    assert_eq!(judged_until(std::iter::empty(), before), DateTime::<Utc>::MAX_UTC);
}
