use chrono::{Duration, TimeZone};

use super::*;
use crate::ids::{PlanId, SectionId, SubsectionId};
use crate::plan::{ResponsibilityMode, Role};
use crate::province::ProvinceKind;

fn task(id: i64) -> Task {
    Task {
        id: TaskId(id),
        plan_id: PlanId(1),
        section_id: SectionId(1),
        subsection_id: SubsectionId(1),
        number: i32::try_from(id).unwrap_or_default(),
        text: String::new(),
        mode: ResponsibilityMode::Joint,
    }
}

fn fixture() -> (Vec<Task>, Vec<Responsibility>, Vec<Province>) {
    let tasks = vec![task(1), task(2)];
    let resp = |t, a, role, position| Responsibility { task_id: TaskId(t), agency_id: AgencyId(a), role, position };
    let responsibilities =
        vec![resp(1, 10, Role::Lead, 1), resp(2, 11, Role::Lead, 1), resp(2, 10, Role::Participant, 2)];
    let province = |id: i64| Province {
        id: ProvinceId(id),
        code: format!("{id}0000"),
        name: String::new(),
        name_zh: String::new(),
        kind: ProvinceKind::Province,
    };
    (tasks, responsibilities, vec![province(1), province(2)])
}

fn request(kind: AdjustmentKind, parties: PartySelection) -> AdjustmentRequest {
    AdjustmentRequest {
        kind,
        period: Some(Period::Quarter(2016, 4)),
        tasks: vec![TaskId(1), TaskId(2)],
        parties,
        due_at: (kind == AdjustmentKind::Extend).then(|| Period::Quarter(2016, 4).ends_at() + Duration::days(30)),
        reason: " flood ".into(),
    }
}

fn field(e: Error) -> String {
    match e {
        Error::Validation { field, .. } => field,
        Error::NotFound { field, .. } => field.unwrap_or_default(),
        other => format!("{other:?}"),
    }
}

#[test]
fn a_bulk_request_becomes_one_adjustment_per_obligation_it_selects() {
    let (tasks, resp, provinces) = fixture();
    let all_provinces =
        expand(&request(AdjustmentKind::Exempt, PartySelection::Kind(PartyKind::Province)), &tasks, &resp, &provinces)
            .expect("valid");
    assert_eq!(all_provinces.len(), 2 * 2);
    assert!(all_provinces.iter().all(|a| a.reason == "flood" && a.due_at.is_none()));
    let agencies =
        expand(&request(AdjustmentKind::Extend, PartySelection::Kind(PartyKind::Agency)), &tasks, &resp, &provinces)
            .expect("valid");
    let pairs: Vec<(i64, Reporter)> = agencies.iter().map(|a| (a.task_id.0, a.party)).collect();
    assert_eq!(
        pairs,
        vec![
            (1, Reporter::Agency(AgencyId(10))),
            (2, Reporter::Agency(AgencyId(11))),
            (2, Reporter::Agency(AgencyId(10)))
        ]
    );
    // A named agency where it owes a report only: agency 11 has no part in task 1.
    let named = PartySelection::Parties(vec![Reporter::Agency(AgencyId(11))]);
    let one = expand(&request(AdjustmentKind::Exempt, named), &tasks, &resp, &provinces).expect("valid");
    assert_eq!(one.iter().map(|a| a.task_id).collect::<Vec<_>>(), vec![TaskId(2)]);
}

#[test]
fn bad_requests_name_the_field() {
    let (tasks, resp, provinces) = fixture();
    let kind = PartySelection::Kind(PartyKind::Province);
    let check = |r: AdjustmentRequest| expand(&r, &tasks, &resp, &provinces).map(|_| ()).map_err(field);
    let mut every_period = request(AdjustmentKind::Extend, kind.clone());
    every_period.period = None;
    assert_eq!(check(every_period), Err("period".into()), "an extension is for one period");
    let mut no_date = request(AdjustmentKind::Extend, kind.clone());
    no_date.due_at = None;
    assert_eq!(check(no_date), Err("dueAt".into()));
    let mut early = request(AdjustmentKind::Extend, kind.clone());
    early.due_at = Some(Period::Quarter(2016, 4).starts_at() - Duration::seconds(1));
    assert_eq!(check(early), Err("dueAt".into()));
    let mut dated_exemption = request(AdjustmentKind::Exempt, kind.clone());
    dated_exemption.due_at = Some(Utc.with_ymd_and_hms(2017, 1, 1, 0, 0, 0).single().expect("time"));
    assert_eq!(check(dated_exemption), Err("dueAt".into()));
    let mut no_tasks = request(AdjustmentKind::Exempt, kind.clone());
    no_tasks.tasks.clear();
    assert_eq!(check(no_tasks), Err("taskNumbers".into()));
    let mut unknown = request(AdjustmentKind::Exempt, kind.clone());
    unknown.tasks.push(TaskId(99));
    assert_eq!(check(unknown), Err("taskNumbers".into()));
    let mut blank = request(AdjustmentKind::Exempt, kind);
    blank.reason = "   ".into();
    assert_eq!(check(blank), Err("reason".into()));
    let nobody = PartySelection::Parties(vec![Reporter::Agency(AgencyId(99))]);
    assert_eq!(check(request(AdjustmentKind::Exempt, nobody)), Err("parties".into()));
    assert_eq!(check_revocation(&[], "r").map_err(field), Err("ids".into()));
}
