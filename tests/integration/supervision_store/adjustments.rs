//! Exemptions and extensions in the store: an exemption already in force is not stored again
//! (nor twice in one request), extensions stack and the latest in force wins, revoking is all or
//! nothing (an unknown id changes nothing) and leaves revoked ones as they were, and a request
//! takes as many statements for one obligation as for every province.

use chrono::{DateTime, TimeZone, Utc};
use workplan_domain::Error;
use workplan_domain::access::Principal;
use workplan_domain::ids::TaskId;
use workplan_domain::ports::{AdjustmentStore, PlanReader, SupervisionReader};
use workplan_domain::report::{Period, Reporter};
use workplan_domain::supervision::{AdjustmentId, AdjustmentKind, Adjustments, NewAdjustment, Revocation};
use workplan_tests::TestApp;

use super::admin;

/// 2017-01-`day` 08:00 UTC.
fn at(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2017, 1, day, 8, 0, 0).single().expect("valid time")
}

fn q4() -> Option<Period> {
    Period::parse("2016-Q4").ok()
}

fn exempt(task: TaskId, period: Option<Period>, party: Reporter) -> NewAdjustment {
    NewAdjustment {
        kind: AdjustmentKind::Exempt,
        period,
        task_id: task,
        party,
        due_at: None,
        reason: "the central joint-conference system".into(),
    }
}

fn extend(task: TaskId, party: Reporter, due: DateTime<Utc>) -> NewAdjustment {
    NewAdjustment {
        kind: AdjustmentKind::Extend,
        period: q4(),
        task_id: task,
        party,
        due_at: Some(due),
        reason: "flood".into(),
    }
}

/// A task, one of its agencies and the provinces.
async fn parties(app: &TestApp) -> (Principal, TaskId, Reporter, Vec<Reporter>) {
    let responsibility = app.store.responsibilities().await.expect("responsibilities")[0].clone();
    let provinces = app.store.provinces().await.expect("provinces");
    let provinces = provinces.iter().map(|p| Reporter::Province(p.id)).collect();
    (admin(app).await, responsibility.task_id, Reporter::Agency(responsibility.agency_id), provinces)
}

#[tokio::test]
async fn adjustments_are_stored_once_and_revoked_as_the_ports_say() {
    let app = TestApp::spawn().await;
    let store = &app.store;
    let (principal, task, agency, provinces) = parties(&app).await;
    let province = provinces[0];
    let (q4, q1) = (q4().expect("2016-Q4"), Period::parse("2017-Q1").expect("2017-Q1"));

    let asked = vec![exempt(task, Some(q4), agency), exempt(task, None, province), extend(task, province, at(20))];
    let first = store.adjust(&principal, asked.clone(), at(1)).await.expect("adjust");
    assert_eq!(first.len(), 3);
    for (stored, asked) in first.iter().zip(&asked) {
        assert_eq!(
            (stored.kind, stored.period, stored.task_id, stored.party, stored.due_at, stored.reason.as_str()),
            (asked.kind, asked.period, asked.task_id, asked.party, asked.due_at, asked.reason.as_str())
        );
        assert_eq!((stored.actor.as_str(), stored.at, &stored.revoked), (principal.actor().as_str(), at(1), &None));
    }
    assert!(first[0].id < first[1].id && first[1].id < first[2].id);

    // The exemption in force is returned as it stands; one for another period (2016-Q4 rather
    // than every period) is new, and stored once though asked twice; extensions stack.
    let again = vec![
        exempt(task, Some(q4), agency),
        exempt(task, Some(q4), province),
        extend(task, province, at(25)),
        exempt(task, Some(q4), province),
    ];
    let second = store.adjust(&principal, again, at(2)).await.expect("adjust again");
    assert_eq!(second[0], first[0]);
    assert_eq!((second[1].at, second[1].period), (at(2), Some(q4)));
    assert!(second[1].id > first[2].id && second[2].id > second[1].id);
    assert_eq!(second[3], second[1]);
    assert_eq!(second[2].due_at, Some(at(25)));

    let mut of_q4 = vec![first[0].clone(), first[1].clone(), first[2].clone(), second[1].clone(), second[2].clone()];
    of_q4.sort_by_key(|a| a.id);
    assert_eq!(store.adjustments(&[q4]).await.expect("q4"), of_q4);
    assert_eq!(store.adjustments(&[q1]).await.expect("q1"), [first[1].clone()], "every period's only");
    assert_eq!(store.adjustments(&[]).await.expect("none"), [first[1].clone()]);
    let index = Adjustments::new(&of_q4);
    assert!(index.is_exempt(q4, task, agency) && index.is_exempt(q1, task, province));
    assert_eq!(index.extension(q4, task, province), Some(at(25)), "the latest extension wins");
    let by_ids = store.adjustments_by_ids(&[second[2].id, first[0].id, AdjustmentId(999_999)]).await.expect("ids");
    assert_eq!(by_ids, [first[0].clone(), second[2].clone()]);

    // An unknown id: NOT_FOUND, and nothing revoked.
    let unknown = store.revoke_adjustments(&principal, &[first[0].id, AdjustmentId(999_999)], "oops", at(3)).await;
    assert!(matches!(unknown, Err(Error::NotFound { .. })), "{unknown:?}");
    assert_eq!(store.adjustments(&[q4]).await.expect("q4"), of_q4);

    let revocation =
        |day, reason: &str| Some(Revocation { actor: principal.actor(), at: at(day), reason: reason.into() });
    let revoked = store
        .revoke_adjustments(&principal, &[second[2].id, first[0].id], "granted in error", at(4))
        .await
        .expect("revoke");
    let with = |a: &workplan_domain::supervision::ObligationAdjustment, r| {
        let mut a = a.clone();
        a.revoked = r;
        a
    };
    assert_eq!(
        revoked,
        [with(&first[0], revocation(4, "granted in error")), with(&second[2], revocation(4, "granted in error"))]
    );
    // Revoked ones stay as they were.
    let later =
        store.revoke_adjustments(&principal, &[first[1].id, first[0].id], "no longer", at(5)).await.expect("revoke");
    assert_eq!(
        later,
        [with(&first[0], revocation(4, "granted in error")), with(&first[1], revocation(5, "no longer"))]
    );

    let index = Adjustments::new(&store.adjustments(&[q4, q1]).await.expect("all"));
    assert!(!index.is_exempt(q4, task, agency) && !index.is_exempt(q1, task, province));
    assert!(index.is_exempt(q4, task, province), "the 2016-Q4 exemption stays");
    assert_eq!(index.extension(q4, task, province), Some(at(20)), "the earlier extension is back");
    // A revoked exemption no longer stands in the way of a new one.
    let renewed = store.adjust(&principal, vec![exempt(task, Some(q4), agency)], at(6)).await.expect("renew");
    assert!(renewed[0].id > second[2].id && renewed[0].revoked.is_none());
}

#[tokio::test]
async fn adjusting_and_revoking_take_the_same_statements_for_one_obligation_or_many() {
    let app = TestApp::spawn().await;
    let store = &app.store;
    let (principal, task, _, provinces) = parties(&app).await;
    let statements = |f: u64| app.statements() - f;

    let start = app.statements();
    let one = store.adjust(&principal, vec![exempt(task, q4(), provinces[0])], at(1)).await.expect("one");
    let for_one = statements(start);
    let many: Vec<NewAdjustment> = provinces[1..].iter().map(|p| exempt(task, q4(), *p)).collect();
    assert!(many.len() >= 30, "{}", many.len());
    let start = app.statements();
    let all = store.adjust(&principal, many, at(1)).await.expect("many");
    assert_eq!(statements(start), for_one, "adjusting");

    let start = app.statements();
    store.revoke_adjustments(&principal, &[one[0].id], "r", at(2)).await.expect("revoke one");
    let for_one = statements(start);
    let ids: Vec<AdjustmentId> = all.iter().map(|a| a.id).collect();
    let start = app.statements();
    store.revoke_adjustments(&principal, &ids, "r", at(2)).await.expect("revoke many");
    assert_eq!(statements(start), for_one, "revoking");
}
