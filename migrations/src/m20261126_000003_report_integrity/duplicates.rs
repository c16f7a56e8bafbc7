//! Duplicate live reports: more than one not-withdrawn report for one reporter, task, period
//! and kind. One is kept; the others are withdrawn as the application would withdraw them, with
//! a history entry and a change-feed row, so readers of the feed learn about it.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use sea_orm_migration::prelude::*;
use serde_json::json;

use super::rows::Report;
use super::{ACTOR, ProgressReports as P, ReportChanges as C, ReportHistory as H};

/// Rows per statement: at most eight values each, well under SQLite's limit of 999.
const CHUNK: usize = 100;

/// A report to withdraw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Withdrawal {
    pub id: i64,
    pub old_state: String,
    /// The version the withdrawal produces.
    pub new_version: i32,
    pub agency_id: Option<i64>,
    pub province_id: Option<i64>,
    /// The report kept for the same key.
    pub kept: i64,
}

/// What [`find`] found.
#[derive(Debug, Default)]
pub(super) struct Found {
    /// Keys with more than one live report.
    pub keys: usize,
    pub withdrawals: Vec<Withdrawal>,
}

/// The order of preference for the report to keep.
fn rank(state: &str) -> u8 {
    match state {
        "ACCEPTED" => 4,
        "SUBMITTED" => 3,
        "RETURNED" => 2,
        "DRAFT" => 1,
        _ => 0,
    }
}

/// Per key with several live reports: keeps the best state (ACCEPTED > SUBMITTED > RETURNED >
/// DRAFT), then the highest id, and withdraws the others.
pub(super) fn find(reports: &[Report]) -> Found {
    type Key<'a> = (Option<i64>, Option<i64>, i64, &'a str, &'a str);
    let mut groups: HashMap<Key<'_>, Vec<&Report>> = HashMap::new();
    for r in reports.iter().filter(|r| r.state != "WITHDRAWN") {
        groups.entry((r.agency_id, r.province_id, r.task_id, &r.period, &r.kind)).or_default().push(r);
    }
    let mut found = Found::default();
    for group in groups.into_values().filter(|g| g.len() > 1) {
        found.keys += 1;
        let Some(kept) = group.iter().max_by_key(|r| (rank(&r.state), r.id)).map(|r| r.id) else { continue };
        found.withdrawals.extend(group.iter().filter(|r| r.id != kept).map(|r| Withdrawal {
            id: r.id,
            old_state: r.state.clone(),
            new_version: r.version + 1,
            agency_id: r.agency_id,
            province_id: r.province_id,
            kept,
        }));
    }
    found.withdrawals.sort_by_key(|w| w.id);
    found
}

/// The history entry's `changes`, as the application writes them.
fn changes(w: &Withdrawal) -> String {
    json!([
        {"field": "state", "before": w.old_state, "after": "WITHDRAWN"},
        {"field": "reason", "before": null,
         "after": format!("duplicate of report {} for the same reporter, task, period and kind", w.kept)},
    ])
    .to_string()
}

/// Withdraws the reports at `now`, with their history entries and change-feed rows.
pub(super) async fn withdraw<C2: ConnectionTrait>(
    db: &C2,
    all: &[Withdrawal],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    for chunk in all.chunks(CHUNK) {
        db.execute(
            Query::update()
                .table(P::Table)
                .value(P::State, "WITHDRAWN")
                .value(P::Version, Expr::col(P::Version).add(1))
                .value(P::UpdatedAt, now)
                .and_where(Expr::col(P::Id).is_in(chunk.iter().map(|w| w.id))),
        )
        .await?;

        let mut history = Query::insert();
        history.into_table(H::Table).columns([H::ReportId, H::Version, H::Action, H::Actor, H::At, H::Changes]);
        for w in chunk {
            history.values_panic([
                w.id.into(),
                w.new_version.into(),
                "WITHDRAW".into(),
                ACTOR.into(),
                now.into(),
                changes(w).into(),
            ]);
        }
        db.execute(&history).await?;

        let mut feed = Query::insert();
        feed.into_table(C::Table).columns([
            C::ReportId,
            C::Kind,
            C::Version,
            C::State,
            C::AgencyId,
            C::ProvinceId,
            C::Actor,
            C::At,
        ]);
        for w in chunk {
            feed.values_panic([
                w.id.into(),
                "WITHDRAWN".into(),
                w.new_version.into(),
                "WITHDRAWN".into(),
                w.agency_id.into(),
                w.province_id.into(),
                ACTOR.into(),
                now.into(),
            ]);
        }
        db.execute(&feed).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(id: i64, agency: Option<i64>, period: &str, state: &str) -> Report {
        Report {
            id,
            task_id: 1,
            agency_id: agency,
            province_id: if agency.is_some() { None } else { Some(9) },
            period: period.into(),
            kind: "PART".into(),
            state: state.into(),
            version: id as i32,
            status: "IN_PROGRESS".into(),
            percent_complete: None,
            summary: String::new(),
            evidence_urls: "[]".into(),
            created_at: DateTime::<Utc>::UNIX_EPOCH,
            updated_at: None,
        }
    }

    #[test]
    fn keeps_the_best_state_then_the_highest_id() {
        let reports = [
            report(1, Some(1), "2016-Q4", "SUBMITTED"),
            report(2, Some(1), "2016-Q4", "SUBMITTED"),
            report(3, Some(1), "2016-Q4", "SUBMITTED"),
            report(4, Some(2), "2016-Q4", "ACCEPTED"),
            report(5, Some(2), "2016-Q4", "DRAFT"),
            report(6, None, "2016-Q4", "WITHDRAWN"),
            report(7, None, "2016-Q4", "SUBMITTED"),
            report(8, None, "2017-Q1", "RETURNED"),
            report(9, None, "2017-Q1", "DRAFT"),
        ];
        let found = find(&reports);
        assert_eq!(found.keys, 3);
        let summary: Vec<_> =
            found.withdrawals.iter().map(|w| (w.id, w.old_state.as_str(), w.new_version, w.kept)).collect();
        assert_eq!(summary, [(1, "SUBMITTED", 2, 3), (2, "SUBMITTED", 3, 3), (5, "DRAFT", 6, 4), (9, "DRAFT", 10, 8)]);
    }

    #[test]
    fn the_reason_names_the_kept_report() {
        let w = Withdrawal {
            id: 1,
            old_state: "SUBMITTED".into(),
            new_version: 2,
            agency_id: Some(1),
            province_id: None,
            kept: 3,
        };
        let parsed: serde_json::Value = serde_json::from_str(&changes(&w)).expect("json");
        assert_eq!(parsed[0], json!({"field": "state", "before": "SUBMITTED", "after": "WITHDRAWN"}));
        assert_eq!(parsed[1]["after"], "duplicate of report 3 for the same reporter, task, period and kind");
        assert_eq!(parsed[1]["before"], serde_json::Value::Null);
    }
}
