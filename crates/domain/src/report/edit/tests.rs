//! The rules of edits, withdrawals, reviews and reopening, case by case.

use super::*;
use crate::ids::{AgencyId, TokenId};
use crate::report::ProgressReport;
use crate::report::tests::report;
use crate::token::AccessRole;

fn principal(role: AccessRole) -> Principal {
    Principal { token: TokenId(1), name: "t".into(), role, agency: Some(AgencyId(7)), province: None }
}

fn at() -> DateTime<Utc> {
    DateTime::<Utc>::default()
}

fn patch(p: ReportPatch) -> Edit {
    Edit::Patch(p)
}

#[test]
fn a_patch_updates_or_submits() {
    let owner = principal(AccessRole::AgencyReporter);
    let edit = patch(ReportPatch { summary: Some("More.".into()), ..ReportPatch::default() });
    let applied = apply_edit(&owner, &report(ReportState::Draft), 1, &edit, at()).expect("update");
    assert_eq!((applied.action, applied.state), ("UPDATE", ReportState::Draft));
    assert_eq!(applied.changes.len(), 1);
    let edit = patch(ReportPatch { submit: true, ..ReportPatch::default() });
    let applied = apply_edit(&owner, &report(ReportState::Returned), 1, &edit, at()).expect("submit");
    assert_eq!((applied.action, applied.kind), ("SUBMIT", ChangeKind::StatusChanged));
}

#[test]
fn patch_errors_name_the_patch_field() {
    let owner = principal(AccessRole::AgencyReporter);
    let edit = patch(ReportPatch { percent_complete: Some(Some(101)), ..ReportPatch::default() });
    match apply_edit(&owner, &report(ReportState::Draft), 1, &edit, at()) {
        Err(Error::Validation { field, .. }) => assert_eq!(field, "patch.percentComplete"),
        other => panic!("{other:?}"),
    }
    let nothing = patch(ReportPatch::default());
    assert!(matches!(
        apply_edit(&owner, &report(ReportState::Draft), 1, &nothing, at()),
        Err(Error::Validation { .. })
    ));
}

#[test]
fn locked_reports_do_not_change() {
    let owner = principal(AccessRole::AgencyReporter);
    for state in [ReportState::Accepted, ReportState::Withdrawn] {
        let edit = patch(ReportPatch { summary: Some("x".into()), ..ReportPatch::default() });
        assert!(matches!(apply_edit(&owner, &report(state), 1, &edit, at()), Err(Error::Conflict(_))));
        assert!(matches!(apply_edit(&owner, &report(state), 1, &Edit::Withdraw, at()), Err(Error::Conflict(_))));
    }
    let applied = apply_edit(&owner, &report(ReportState::Submitted), 1, &Edit::Withdraw, at()).expect("withdraw");
    assert_eq!((applied.state, applied.kind), (ReportState::Withdrawn, ChangeKind::Withdrawn));
}

#[test]
fn who_and_which_version() {
    let other = Principal { agency: Some(AgencyId(8)), ..principal(AccessRole::AgencyReporter) };
    assert!(matches!(
        apply_edit(&other, &submitted(ReportState::Accepted), 1, &Edit::Withdraw, at()),
        Err(Error::Forbidden(_))
    ));
    let owner = principal(AccessRole::AgencyReporter);
    assert!(matches!(
        apply_edit(&owner, &report(ReportState::Draft), 2, &Edit::Withdraw, at()),
        Err(Error::StaleVersion { expected: 2, current: 1 })
    ));
    let review = Edit::Review { accept: true, comment: None };
    assert!(matches!(apply_edit(&owner, &report(ReportState::Submitted), 1, &review, at()), Err(Error::Forbidden(_))));
}

/// A report in `state` that was submitted once.
fn submitted(state: ReportState) -> ProgressReport {
    ProgressReport { first_submitted_at: Some(at()), submitted_at: Some(at()), ..report(state) }
}

#[test]
fn a_report_the_caller_cannot_read_is_not_found_and_one_it_reads_but_cannot_change_is_forbidden() {
    let other = Principal { agency: Some(AgencyId(8)), ..principal(AccessRole::AgencyReporter) };
    let reader = principal(AccessRole::Reader);
    let review = Edit::Review { accept: true, comment: None };
    let summary = patch(ReportPatch { summary: Some("x".into()), ..ReportPatch::default() });
    let not_found = |r: Result<Applied>| matches!(r, Err(Error::NotFound { field: Some(f), .. }) if f == "id");
    let forbidden = |r: Result<Applied>| matches!(r, Err(Error::Forbidden(_)));
    for edit in [&Edit::Withdraw, &review, &summary] {
        // Another reporter's draft, submitted or returned report: not readable.
        for current in [report(ReportState::Draft), submitted(ReportState::Submitted), submitted(ReportState::Returned)]
        {
            assert!(not_found(apply_edit(&other, &current, 1, edit, at())), "{edit:?} {:?}", current.state);
        }
        // A reader reads what was submitted, never a draft (withdrawn or not).
        for current in [report(ReportState::Draft), report(ReportState::Withdrawn)] {
            assert!(not_found(apply_edit(&reader, &current, 1, edit, at())), "{edit:?} {:?}", current.state);
        }
        for current in [submitted(ReportState::Submitted), submitted(ReportState::Withdrawn)] {
            assert!(forbidden(apply_edit(&reader, &current, 1, edit, at())), "{edit:?} {:?}", current.state);
        }
        // Everyone reads an accepted report; only its reporter or an admin changes it.
        assert!(forbidden(apply_edit(&other, &submitted(ReportState::Accepted), 1, edit, at())), "{edit:?}");
    }
    // The owner reads its own report, so it is told it may not review it.
    let owner = principal(AccessRole::AgencyReporter);
    assert!(forbidden(apply_edit(&owner, &report(ReportState::Draft), 1, &review, at())));
}

#[test]
fn reopening_keeps_the_accepted_version_and_blocks_withdrawal() {
    let supervisor = principal(AccessRole::Supervisor);
    let accepted = apply_edit(
        &supervisor,
        &report(ReportState::Submitted),
        1,
        &Edit::Review { accept: true, comment: None },
        at(),
    )
    .expect("accept");
    let snapshot = accepted.accepted.clone().expect("a snapshot on acceptance");
    assert_eq!((snapshot.version, snapshot.summary.as_str()), (2, "Done a lot."));
    let current = ProgressReport {
        state: ReportState::Accepted,
        version: 2,
        accepted: Some(snapshot.clone()),
        ..report(ReportState::Accepted)
    };
    let reopen = Edit::Reopen { reason: "Wrong figure.".into() };
    let owner = principal(AccessRole::AgencyReporter);
    assert!(matches!(apply_edit(&owner, &current, 2, &reopen, at()), Err(Error::Forbidden(_))));
    let applied = apply_edit(&supervisor, &current, 2, &reopen, at()).expect("reopen");
    assert_eq!((applied.action, applied.kind, applied.state), ("REOPEN", ChangeKind::Reopened, ReportState::Returned));
    assert_eq!((applied.review_comment.as_deref(), applied.accepted), (Some("Wrong figure."), Some(snapshot.clone())));
    let blank = Edit::Reopen { reason: " ".into() };
    assert!(
        matches!(apply_edit(&supervisor, &current, 2, &blank, at()), Err(Error::Validation { field, .. }) if field == "reason")
    );
    let reopened = ProgressReport { state: ReportState::Returned, version: 3, ..current };
    assert!(matches!(apply_edit(&owner, &reopened, 3, &Edit::Withdraw, at()), Err(Error::Conflict(_))));
    assert!(matches!(apply_edit(&supervisor, &reopened, 3, &reopen, at()), Err(Error::Conflict(_))));
}

#[test]
fn reviews() {
    let supervisor = principal(AccessRole::Supervisor);
    let accept = Edit::Review { accept: true, comment: Some("  ".into()) };
    let applied = apply_edit(&supervisor, &report(ReportState::Submitted), 1, &accept, at()).expect("accept");
    assert_eq!((applied.action, applied.review_comment), ("ACCEPT", None));
    let bare_return = Edit::Review { accept: false, comment: None };
    assert!(matches!(
        apply_edit(&supervisor, &report(ReportState::Submitted), 1, &bare_return, at()),
        Err(Error::Validation { .. })
    ));
    let ret = Edit::Review { accept: false, comment: Some("Add data.".into()) };
    let applied = apply_edit(&supervisor, &report(ReportState::Submitted), 1, &ret, at()).expect("return");
    assert_eq!((applied.action, applied.state), ("RETURN", ReportState::Returned));
    assert!(matches!(apply_edit(&supervisor, &report(ReportState::Draft), 1, &ret, at()), Err(Error::Conflict(_))));
}

#[test]
fn a_patch_sets_and_clears_health_and_obstacles() {
    let owner = principal(AccessRole::AgencyReporter);
    let set = patch(ReportPatch {
        health: Some(Some(Health::AtRisk)),
        obstacles: Some(Some("  Late funds. ".into())),
        ..ReportPatch::default()
    });
    let applied = apply_edit(&owner, &report(ReportState::Draft), 1, &set, at()).expect("set");
    assert_eq!(
        (applied.fields.health, applied.fields.obstacles.as_deref()),
        (Some(Health::AtRisk), Some("Late funds."))
    );
    let names: Vec<&str> = applied.changes.iter().map(|c| c.field.as_str()).collect();
    assert_eq!(names, ["health", "obstacles"]);
    assert_eq!(applied.changes[0].after, Some("AT_RISK".into()));

    let current = ProgressReport {
        health: Some(Health::AtRisk),
        obstacles: Some("Late funds.".into()),
        ..report(ReportState::Draft)
    };
    let kept = patch(ReportPatch { summary: Some("More.".into()), ..ReportPatch::default() });
    let applied = apply_edit(&owner, &current, 1, &kept, at()).expect("keep");
    assert_eq!(
        (applied.fields.health, applied.fields.obstacles.as_deref()),
        (Some(Health::AtRisk), Some("Late funds."))
    );
    for obstacles in [None, Some(" ".to_owned())] {
        let clear = patch(ReportPatch { health: Some(None), obstacles: Some(obstacles), ..ReportPatch::default() });
        let applied = apply_edit(&owner, &current, 1, &clear, at()).expect("clear");
        assert_eq!((applied.fields.health, applied.fields.obstacles), (None, None));
        assert!(applied.changes.iter().all(|c| c.after.is_none() && c.before.is_some()), "{:?}", applied.changes);
        assert_eq!(applied.changes.len(), 2);
    }
    let too_long = patch(ReportPatch { obstacles: Some(Some("x".repeat(2001))), ..ReportPatch::default() });
    assert!(matches!(
        apply_edit(&owner, &current, 1, &too_long, at()),
        Err(Error::Validation { field, .. }) if field == "patch.obstacles"
    ));
}

#[test]
fn the_accepted_snapshot_keeps_health_and_obstacles() {
    let supervisor = principal(AccessRole::Supervisor);
    let current = ProgressReport {
        health: Some(Health::OffTrack),
        obstacles: Some("Blocked.".into()),
        ..report(ReportState::Submitted)
    };
    let accept = Edit::Review { accept: true, comment: None };
    let snapshot = apply_edit(&supervisor, &current, 1, &accept, at()).expect("accept").accepted.expect("snapshot");
    assert_eq!((snapshot.health, snapshot.obstacles.as_deref()), (Some(Health::OffTrack), Some("Blocked.")));
}
