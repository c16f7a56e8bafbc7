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

/// When the history says a report entered SUBMITTED (first and last time) and was last accepted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Facts {
    pub first_submitted: Option<DateTime<Utc>>,
    pub last_submitted: Option<DateTime<Utc>>,
    pub last_accepted: Option<DateTime<Utc>>,
}

impl Facts {
    /// Takes one history entry into account.
    pub fn record(&mut self, action: &str, at: DateTime<Utc>, entered_submitted: bool) {
        if entered_submitted {
            self.first_submitted = Some(self.first_submitted.map_or(at, |t| Ord::min(t, at)));
            self.last_submitted = Some(self.last_submitted.map_or(at, |t| Ord::max(t, at)));
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

/// Whether a history entry's `changes` (a JSON array of `{field, before, after}`) moves the
/// state to SUBMITTED: a CREATE or SYNC straight to SUBMITTED, a SUBMIT, a resubmission.
pub(super) fn enters_submitted(changes: &str) -> Result<bool, serde_json::Error> {
    let changes: Vec<Value> = serde_json::from_str(changes)?;
    Ok(changes.iter().any(|c| {
        c.get("field").and_then(Value::as_str) == Some("state")
            && c.get("after").and_then(Value::as_str) == Some("SUBMITTED")
    }))
}

/// What the history says about each report that was ever submitted or accepted.
pub(super) async fn history_facts<C: ConnectionTrait>(db: &C) -> Result<HashMap<i64, Facts>, DbErr> {
    // Only entries that accept or mention SUBMITTED can matter; the rest need not be read.
    let query = Query::select()
        .columns([H::Id, H::ReportId, H::Action, H::At, H::Changes])
        .from(H::Table)
        .cond_where(Cond::any().add(Expr::col(H::Action).eq("ACCEPT")).add(Expr::col(H::Changes).like("%SUBMITTED%")))
        .order_by(H::Id, Order::Asc)
        .take();
    let mut facts: HashMap<i64, Facts> = HashMap::new();
    for row in db.query_all(&query).await? {
        let id: i64 = get(&row, "id")?;
        let action: String = get(&row, "action")?;
        let changes: String = get(&row, "changes")?;
        let entered = enters_submitted(&changes)
            .map_err(|e| DbErr::Migration(format!("report_history row {id}: changes are not a JSON array: {e}")))?;
        facts.entry(get(&row, "report_id")?).or_default().record(&action, get(&row, "at")?, entered);
    }
    Ok(facts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_changes_to_submitted_count_and_nothing_else_does() {
        let yes = [
            r#"[{"field":"state","before":null,"after":"SUBMITTED"}]"#,
            r#"[{"field":"summary","before":"a","after":"b"},{"field":"state","before":"RETURNED","after":"SUBMITTED"}]"#,
        ];
        for changes in yes {
            assert!(enters_submitted(changes).expect("json"), "{changes}");
        }
        let no = [
            "[]",
            r#"[{"field":"state","before":"SUBMITTED","after":"ACCEPTED"}]"#,
            r#"[{"field":"summary","before":null,"after":"SUBMITTED"}]"#,
            r#"[{"field":"state","before":null,"after":"DRAFT"}]"#,
        ];
        for changes in no {
            assert!(!enters_submitted(changes).expect("json"), "{changes}");
        }
        assert!(enters_submitted("not json").is_err());
    }

    #[test]
    fn facts_keep_the_first_and_last_submission_and_the_last_acceptance() {
        let t = |s: i64| DateTime::<Utc>::from_timestamp(s, 0).expect("time");
        let mut f = Facts::default();
        f.record("SUBMIT", t(20), true);
        f.record("RETURN", t(30), false);
        f.record("SUBMIT", t(40), true);
        f.record("CREATE", t(10), true);
        f.record("ACCEPT", t(50), false);
        f.record("ACCEPT", t(45), false);
        assert_eq!(f, Facts { first_submitted: Some(t(10)), last_submitted: Some(t(40)), last_accepted: Some(t(50)) });
    }
}
