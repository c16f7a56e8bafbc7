use super::*;
use crate::ids::{AgencyId, PlanId, ProvinceId, SectionId, SubsectionId};

fn task(mode: ResponsibilityMode) -> Task {
    Task {
        id: TaskId(1),
        plan_id: PlanId(1),
        section_id: SectionId(1),
        subsection_id: SubsectionId(1),
        number: 1,
        text: "t".into(),
        mode,
    }
}

fn resp(agency: i64, role: Role, position: i32) -> Responsibility {
    Responsibility { task_id: TaskId(1), agency_id: AgencyId(agency), role, position }
}

fn part(id: i64, agency: i64, period: Period, status: ReportStatus, percent: Option<i32>) -> AcceptedPart {
    AcceptedPart {
        report_id: ReportId(id),
        task_id: TaskId(1),
        reporter: Reporter::Agency(AgencyId(agency)),
        kind: ReportKind::Part,
        period,
        status,
        percent_complete: percent,
        health: None,
    }
}

const Q3: Period = Period::Quarter(2016, 3);
const Q4: Period = Period::Quarter(2016, 4);

#[test]
fn statuses_are_ordered_from_least_to_most_advanced() {
    let ranks: Vec<usize> = ProgressStatus::ALL.iter().map(|s| s.rank()).collect();
    assert_eq!(ranks, vec![0, 1, 2, 3, 4]);
    assert!(!ProgressStatus::NotStarted.is_started() && ProgressStatus::Ongoing.is_started());
}

#[test]
fn progress_carries_forward_from_the_latest_period_up_to_the_asked_one() {
    let parts = [
        part(1, 1, Q3, ReportStatus::InProgress, Some(30)),
        part(2, 1, Q4, ReportStatus::InProgress, Some(60)),
        part(3, 1, Period::Quarter(2017, 1), ReportStatus::Completed, Some(100)),
    ];
    let up_to_q4 = AcceptedParts::new(parts.clone(), Some(Q4));
    assert_eq!(
        up_to_q4.get(TaskId(1), Reporter::Agency(AgencyId(1)), ReportKind::Part).map(|p| p.report_id),
        Some(ReportId(2))
    );
    // A later asked period with no report of its own carries Q4 forward.
    let up_to_2017_q1_month = AcceptedParts::new(parts.clone(), Some(Period::Month(2017, 1)));
    assert_eq!(
        up_to_2017_q1_month.get(TaskId(1), Reporter::Agency(AgencyId(1)), ReportKind::Part).map(|p| p.report_id),
        Some(ReportId(2)),
        "the 2017-Q1 report ends after January 2017"
    );
    let all = AcceptedParts::new(parts, None);
    assert_eq!(
        all.get(TaskId(1), Reporter::Agency(AgencyId(1)), ReportKind::Part).map(|p| p.report_id),
        Some(ReportId(3))
    );
}

#[test]
fn a_divided_task_is_the_mean_of_all_its_parts_with_missing_ones_as_zero() {
    let t = task(ResponsibilityMode::Divided);
    let rs: Vec<Responsibility> = (1..=5)
        .map(|a| resp(a, if a == 1 { Role::Lead } else { Role::Participant }, i32::try_from(a).unwrap_or(0)))
        .collect();
    let parts = AcceptedParts::new(
        [part(11, 2, Q4, ReportStatus::InProgress, Some(50)), part(12, 3, Q3, ReportStatus::NotStarted, None)],
        Some(Q4),
    );
    let p = task_progress(&t, &rs, &parts);
    assert_eq!(p.status, ProgressStatus::InProgress, "a started part makes it at least IN_PROGRESS");
    assert_eq!(p.percent_complete, Some(10.0));
    assert_eq!(p.basis, vec![ReportId(11), ReportId(12)]);
    assert_eq!(
        p.missing,
        vec![Reporter::Agency(AgencyId(1)), Reporter::Agency(AgencyId(4)), Reporter::Agency(AgencyId(5))]
    );
    assert_eq!(
        p.explanation,
        "DIVIDED: 2 of 5 parts reported (reports 11, 12); mean of 0, 50, 0, 0, 0 = 10 %; status IN_PROGRESS: a part has started"
    );
}

#[test]
fn a_divided_task_is_completed_only_when_every_part_is() {
    let t = task(ResponsibilityMode::Divided);
    let rs = [resp(1, Role::Lead, 1), resp(2, Role::Participant, 2)];
    let done = AcceptedParts::new(
        [part(1, 1, Q4, ReportStatus::Completed, None), part(2, 2, Q4, ReportStatus::Completed, Some(100))],
        Some(Q4),
    );
    let p = task_progress(&t, &rs, &done);
    assert_eq!((p.status, p.percent_complete), (ProgressStatus::Completed, Some(100.0)));
    let one_not_started = AcceptedParts::new(
        [part(1, 1, Q4, ReportStatus::NotStarted, Some(0)), part(2, 2, Q4, ReportStatus::NotStarted, None)],
        Some(Q4),
    );
    assert_eq!(task_progress(&t, &rs, &one_not_started).status, ProgressStatus::NotStarted);
    // ONGOING and IN_PROGRESS with no percent are left out of the mean.
    let no_percent = AcceptedParts::new(
        [part(1, 1, Q4, ReportStatus::Ongoing, None), part(2, 2, Q4, ReportStatus::InProgress, None)],
        Some(Q4),
    );
    let p = task_progress(&t, &rs, &no_percent);
    assert_eq!((p.status, p.percent_complete), (ProgressStatus::InProgress, None));
    assert!(p.explanation.contains("no percent reported"), "{}", p.explanation);
}

#[test]
fn a_joint_task_is_its_least_advanced_lead_and_ignores_participants() {
    let t = task(ResponsibilityMode::Joint);
    let rs = [resp(1, Role::Lead, 1), resp(2, Role::Lead, 2), resp(3, Role::Participant, 3)];
    let parts = AcceptedParts::new(
        [
            part(1, 1, Q4, ReportStatus::Completed, Some(100)),
            part(2, 2, Q4, ReportStatus::InProgress, Some(40)),
            part(3, 3, Q4, ReportStatus::NotStarted, Some(0)),
        ],
        Some(Q4),
    );
    let p = task_progress(&t, &rs, &parts);
    assert_eq!((p.status, p.percent_complete), (ProgressStatus::InProgress, Some(70.0)));
    assert_eq!(p.basis, vec![ReportId(1), ReportId(2)]);
    assert_eq!(
        p.explanation,
        "JOINT: 2 of 2 leads reported (reports 1, 2); mean of 100, 40 = 70 %; status from the least advanced lead"
    );
    let one_missing = AcceptedParts::new([part(1, 1, Q4, ReportStatus::Completed, Some(100))], Some(Q4));
    let p = task_progress(&t, &rs, &one_missing);
    assert_eq!((p.status, p.percent_complete), (ProgressStatus::NotReported, Some(50.0)));
    assert_eq!(p.missing, vec![Reporter::Agency(AgencyId(2))]);
}

#[test]
fn a_consolidated_report_sets_health_but_never_status_or_percent() {
    let t = task(ResponsibilityMode::Divided);
    let rs = [resp(1, Role::Lead, 1), resp(2, Role::Participant, 2)];
    let consolidated = AcceptedPart {
        kind: ReportKind::Consolidated,
        health: Some(Health::OffTrack),
        ..part(9, 1, Q4, ReportStatus::Completed, Some(100))
    };
    let lead = AcceptedPart { health: Some(Health::AtRisk), ..part(1, 1, Q4, ReportStatus::InProgress, Some(20)) };
    let parts = AcceptedParts::new([lead, consolidated], Some(Q4));
    let p = task_progress(&t, &rs, &parts);
    assert_eq!((p.status, p.percent_complete), (ProgressStatus::InProgress, Some(10.0)));
    assert_eq!(p.basis, vec![ReportId(1), ReportId(9)]);
    assert_eq!(p.missing, vec![Reporter::Agency(AgencyId(2))], "the consolidated report hides no missing part");
    assert_eq!(p.health, Some(Health::OffTrack), "the worst of the basis");
    assert_eq!(p.narrative, Some(ReportId(9)));
    assert!(p.explanation.ends_with("narrative and health from the lead's consolidated report 9"), "{}", p.explanation);
}

#[test]
fn a_part_is_its_own_latest_accepted_report() {
    let parts = AcceptedParts::new([part(5, 1, Q3, ReportStatus::InProgress, Some(45))], Some(Q4));
    let p = part_progress(TaskId(1), Reporter::Agency(AgencyId(1)), &parts, Some(Q4));
    assert_eq!((p.status, p.percent_complete), (ProgressStatus::InProgress, Some(45.0)));
    assert_eq!(p.explanation, "PART: latest accepted report up to 2016-Q4 is report 5 for 2016-Q3: IN_PROGRESS, 45 %");
    let none = part_progress(TaskId(1), Reporter::Province(ProvinceId(3)), &parts, Some(Q4));
    assert_eq!(none.status, ProgressStatus::NotReported);
    assert_eq!(none.missing, vec![Reporter::Province(ProvinceId(3))]);
}
