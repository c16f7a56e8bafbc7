//! The access rules, case by case.
use super::*;

fn p(role: AccessRole) -> Principal {
    Principal {
        token: TokenId(1),
        name: "t".into(),
        role,
        agency: (role == AccessRole::AgencyReporter).then_some(AgencyId(7)),
        province: (role == AccessRole::ProvinceReporter).then_some(ProvinceId(3)),
    }
}

#[test]
fn scopes() {
    assert_eq!(Viewer::Anonymous.report_scope(true).expect("public"), ReportScope::Accepted);
    assert!(Viewer::Anonymous.report_scope(false).is_err());
    assert_eq!(Viewer::Token(p(AccessRole::Supervisor)).report_scope(false).expect("ok"), ReportScope::All);
    assert_eq!(
        Viewer::Token(p(AccessRole::AgencyReporter)).report_scope(true).expect("ok"),
        ReportScope::OwnOrAccepted(Reporter::Agency(AgencyId(7)))
    );
    let own = ReportScope::OwnOrAccepted(Reporter::Province(ProvinceId(3)));
    assert!(in_scope(&own, ReportState::Draft, Reporter::Province(ProvinceId(3)), false));
    assert!(!in_scope(&own, ReportState::Submitted, Reporter::Province(ProvinceId(4)), true));
    assert!(in_scope(&own, ReportState::Accepted, Reporter::Province(ProvinceId(4)), true));
    let other = Reporter::Province(ProvinceId(4));
    assert!(!in_scope(&ReportScope::NotDraft, ReportState::Draft, other, false));
    assert!(in_scope(&ReportScope::NotDraft, ReportState::Submitted, other, true));
    assert!(in_scope(&ReportScope::NotDraft, ReportState::Withdrawn, other, true), "withdrawn after submission");
    assert!(!in_scope(&ReportScope::NotDraft, ReportState::Withdrawn, other, false), "a withdrawn draft");
    assert!(!in_scope(&own, ReportState::Withdrawn, other, false));
    assert!(in_scope(&own, ReportState::Withdrawn, Reporter::Province(ProvinceId(3)), false), "its own");
}

#[test]
fn readers_limited_to_accepted_reports_see_a_reopened_one_as_accepted() {
    let accepted = crate::report::AcceptedVersion {
        version: 2,
        status: crate::report::ReportStatus::Completed,
        percent_complete: Some(100),
        summary: "official".into(),
        evidence_urls: vec![],
        period: "2016".into(),
        accepted_at: chrono::DateTime::default(),
        health: Some(crate::report::Health::OnTrack),
        obstacles: None,
    };
    let own = Reporter::Agency(AgencyId(7));
    let reopened = ProgressReport {
        state: ReportState::Submitted,
        version: 4,
        summary: "correction".into(),
        health: Some(crate::report::Health::OffTrack),
        obstacles: Some("new obstacle".into()),
        review_comment: None,
        accepted: Some(accepted),
        ..crate::report::tests::report(ReportState::Submitted)
    };
    for scope in [ReportScope::Accepted, ReportScope::OwnOrAccepted(Reporter::Agency(AgencyId(8)))] {
        assert!(reopened.readable_within(&scope));
        let seen = reopened.clone().as_seen_within(&scope);
        assert_eq!((seen.state, seen.version, seen.summary.as_str()), (ReportState::Accepted, 2, "official"));
        assert_eq!((seen.health, seen.obstacles), (Some(crate::report::Health::OnTrack), None));
    }
    for scope in [ReportScope::All, ReportScope::NotDraft, ReportScope::OwnOrAccepted(own)] {
        assert_eq!(reopened.clone().as_seen_within(&scope), reopened);
    }
    let withdrawn = ProgressReport { state: ReportState::Withdrawn, ..reopened.clone() };
    assert!(!withdrawn.readable_within(&ReportScope::Accepted));
    let never = ProgressReport { accepted: None, ..reopened };
    assert!(!never.readable_within(&ReportScope::Accepted));
}

#[test]
fn acting_reporters() {
    assert!(acting_reporter(&p(AccessRole::Reader), None).is_err());
    assert!(acting_reporter(&p(AccessRole::Supervisor), None).is_err());
    assert!(acting_reporter(&p(AccessRole::Admin), None).is_err());
    assert!(acting_reporter(&p(AccessRole::Admin), Some(&ReporterRef::Agency(AgencyId(9)))).is_ok());
    assert!(acting_reporter(&p(AccessRole::AgencyReporter), None).is_ok());
    assert!(matches!(
        acting_reporter(&p(AccessRole::AgencyReporter), Some(&ReporterRef::Agency(AgencyId(8)))),
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(
        acting_reporter(&p(AccessRole::AgencyReporter), Some(&ReporterRef::Province("110000".into()))),
        Err(Error::Forbidden(_))
    ));
}

#[test]
fn responsibility_errors_depend_on_who_asks() {
    let agencies = [AgencyId(1), AgencyId(2)];
    assert!(check_responsible(AccessRole::AgencyReporter, AgencyId(2), &agencies, 5).is_ok());
    assert!(matches!(
        check_responsible(AccessRole::Admin, AgencyId(9), &agencies, 5),
        Err(Error::Validation { field, .. }) if field == "reporter.agencyId"
    ));
    assert!(matches!(
        check_responsible(AccessRole::AgencyReporter, AgencyId(9), &agencies, 5),
        Err(Error::Forbidden(_))
    ));
}

#[test]
fn who_may_report_on_a_task() {
    let mine = [AgencyId(7), AgencyId(8)];
    let others = [AgencyId(8)];
    assert!(may_report_on(&p(AccessRole::Admin), &others));
    assert!(may_report_on(&p(AccessRole::ProvinceReporter), &[]));
    assert!(may_report_on(&p(AccessRole::AgencyReporter), &mine));
    assert!(!may_report_on(&p(AccessRole::AgencyReporter), &others));
    let unbound = Principal { agency: None, ..p(AccessRole::AgencyReporter) };
    assert!(!may_report_on(&unbound, &mine));
    assert!(!may_report_on(&p(AccessRole::Supervisor), &mine));
    assert!(!may_report_on(&p(AccessRole::Reader), &mine));
}
