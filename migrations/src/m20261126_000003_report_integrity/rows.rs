//! What the migration reads: every report, and what the audit history says about when each was
//! submitted and accepted.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, QueryResult};
use sea_orm_migration::prelude::*;
use serde_json::Value;

use super::{ProgressReports as P, ReportHistory as H};

/// A report as the migration sees it (after the columns were added).
#[derive(Debug, Clone)]
pub(super) struct Report {
    pub id: i64,
    pub task_id: i64,
    pub agency_id: Option<i64>,
    pub province_id: Option<i64>,
    pub period: String,
    pub kind: String,
    pub state: String,
    pub version: i32,
    pub status: String,
    pub percent_complete: Option<i32>,
    pub summary: String,
    /// A JSON array of strings.
    pub evidence_urls: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// A state change an audit entry records: (before, after); `before` is None on creation.
pub(super) type StateChange = (Option<String>, Option<String>);

/// What the history says about a report: when it entered SUBMITTED (first and last time), when
/// it was last accepted, and the state it was in when the history began.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Facts {
    pub first_submitted: Option<DateTime<Utc>>,
    pub last_submitted: Option<DateTime<Utc>>,
    pub last_accepted: Option<DateTime<Utc>>,
    /// The `before` of the earliest state change: `Some(None)` if the report was created
    /// within the history, `Some(Some(state))` if it already existed in that state, `None` if
    /// the history records no state change (the current state is the one it always had).
    pub state_before_history: Option<Option<String>>,
}

impl Facts {
    /// Takes one history entry into account; entries come in the order they were written.
    pub(super) fn record(&mut self, action: &str, at: DateTime<Utc>, state: Option<StateChange>) {
        if let Some((before, after)) = state {
            if self.state_before_history.is_none() {
                self.state_before_history = Some(before);
            }
            if after.as_deref() == Some("SUBMITTED") {
                self.first_submitted = Some(self.first_submitted.map_or(at, |t| Ord::min(t, at)));
                self.last_submitted = Some(self.last_submitted.map_or(at, |t| Ord::max(t, at)));
            }
        }
        if action == "ACCEPT" {
            self.last_accepted = Some(self.last_accepted.map_or(at, |t| Ord::max(t, at)));
        }
    }
}

fn get<T: sea_orm::TryGetable>(row: &QueryResult, col: &str) -> Result<T, DbErr> {
    row.try_get("", col)
}

/// Every report, by id.
pub(super) async fn reports<C: ConnectionTrait>(db: &C) -> Result<Vec<Report>, DbErr> {
    let query = Query::select()
        .columns([
            P::Id,
            P::TaskId,
            P::AgencyId,
            P::ProvinceId,
            P::Period,
            P::Kind,
            P::State,
            P::Version,
            P::Status,
            P::PercentComplete,
            P::Summary,
            P::EvidenceUrls,
            P::CreatedAt,
            P::UpdatedAt,
        ])
        .from(P::Table)
        .order_by(P::Id, Order::Asc)
        .take();
    db.query_all(&query)
        .await?
        .iter()
        .map(|row| {
            Ok(Report {
                id: get(row, "id")?,
                task_id: get(row, "task_id")?,
                agency_id: get(row, "agency_id")?,
                province_id: get(row, "province_id")?,
                period: get(row, "period")?,
                kind: get(row, "kind")?,
                state: get(row, "state")?,
                version: get(row, "version")?,
                status: get(row, "status")?,
                percent_complete: get(row, "percent_complete")?,
                summary: get(row, "summary")?,
                evidence_urls: get(row, "evidence_urls")?,
                created_at: get(row, "created_at")?,
                updated_at: get(row, "updated_at")?,
            })
        })
        .collect()
}

/// The state change in a history entry's `changes` (a JSON array of `{field, before, after}`),
/// if it has one.
pub(super) fn state_change(changes: &str) -> Result<Option<StateChange>, serde_json::Error> {
    let changes: Vec<Value> = serde_json::from_str(changes)?;
    let text = |c: &Value, key: &str| c.get(key).and_then(Value::as_str).map(str::to_owned);
    Ok(changes
        .iter()
        .find(|c| c.get("field").and_then(Value::as_str) == Some("state"))
        .map(|c| (text(c, "before"), text(c, "after"))))
}

/// What the history says about each report whose state it records changing, or that it
/// records being accepted.
pub(super) async fn history_facts<C: ConnectionTrait>(db: &C) -> Result<HashMap<i64, Facts>, DbErr> {
    // Entries without the word "state" change no state; they need not be read.
    let query = Query::select()
        .columns([H::Id, H::ReportId, H::Action, H::At, H::Changes])
        .from(H::Table)
        .cond_where(Cond::any().add(Expr::col(H::Action).eq("ACCEPT")).add(Expr::col(H::Changes).like("%state%")))
        .order_by(H::Id, Order::Asc)
        .take();
    let mut facts: HashMap<i64, Facts> = HashMap::new();
    for row in db.query_all(&query).await? {
        let id: i64 = get(&row, "id")?;
        let action: String = get(&row, "action")?;
        let changes: String = get(&row, "changes")?;
        let state = state_change(&changes)
            .map_err(|e| DbErr::Migration(format!("report_history row {id}: changes are not a JSON array: {e}")))?;
        facts.entry(get(&row, "report_id")?).or_default().record(&action, get(&row, "at")?, state);
    }
    Ok(facts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(before: Option<&str>, after: &str) -> Option<StateChange> {
        Some((before.map(str::to_owned), Some(after.to_owned())))
    }

    #[test]
    fn the_state_change_is_found_among_the_fields() {
        let cases = [
            (r#"[{"field":"state","before":null,"after":"SUBMITTED"}]"#, change(None, "SUBMITTED")),
            (
                r#"[{"field":"summary","before":"a","after":"state"},{"field":"state","before":"RETURNED","after":"SUBMITTED"}]"#,
                change(Some("RETURNED"), "SUBMITTED"),
            ),
            ("[]", None),
            (r#"[{"field":"summary","before":null,"after":"SUBMITTED"}]"#, None),
        ];
        for (changes, expected) in cases {
            assert_eq!(state_change(changes).expect("json"), expected, "{changes}");
        }
        assert!(state_change("not json").is_err());
    }

    #[test]
    fn facts_keep_the_first_and_last_submission_the_last_acceptance_and_the_first_state() {
        let t = |s: i64| DateTime::<Utc>::from_timestamp(s, 0).expect("time");
        let mut f = Facts::default();
        f.record("CREATE", t(10), change(None, "SUBMITTED"));
        f.record("RETURN", t(30), change(Some("SUBMITTED"), "RETURNED"));
        f.record("SUBMIT", t(40), change(Some("RETURNED"), "SUBMITTED"));
        f.record("SYNC", t(45), None);
        f.record("ACCEPT", t(50), change(Some("SUBMITTED"), "ACCEPTED"));
        assert_eq!(
            f,
            Facts {
                first_submitted: Some(t(10)),
                last_submitted: Some(t(40)),
                last_accepted: Some(t(50)),
                state_before_history: Some(None),
            }
        );
        let mut older = Facts::default();
        older.record("WITHDRAW", t(60), change(Some("ACCEPTED"), "WITHDRAWN"));
        assert_eq!(older.state_before_history, Some(Some("ACCEPTED".to_owned())));
        assert_eq!(older.first_submitted, None);
    }
}
