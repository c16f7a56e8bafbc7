//! The new columns of existing reports: submission times from the history, and the accepted
//! content of accepted reports.

use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::ConnectionTrait;
use sea_orm_migration::prelude::*;
use serde_json::json;

use super::ProgressReports as P;
use super::rows::{Facts, Report};

/// Rows per UPDATE: each row binds at most seven values, well under SQLite's limit of 999.
const CHUNK: usize = 100;

/// The values one report gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Fill {
    pub id: i64,
    pub submitted_at: Option<DateTime<Utc>>,
    pub first_submitted_at: Option<DateTime<Utc>>,
    /// JSON: `{version, status, percentComplete, summary, evidenceUrls, period, acceptedAt}`.
    pub accepted_content: Option<String>,
}

impl Fill {
    fn is_empty(&self) -> bool {
        self.submitted_at.is_none() && self.first_submitted_at.is_none() && self.accepted_content.is_none()
    }
}

/// What `report` gets, from what its history says. A report the migration withdraws as a
/// duplicate keeps its submission times but gets no accepted content: it no longer counts.
pub(super) fn plan(report: &Report, facts: Option<&Facts>, withdrawn_now: bool) -> Result<Fill, DbErr> {
    let facts = facts.cloned().unwrap_or_default();
    // A report that was already submitted when its history began (reports older than the
    // history were submitted when created) gets its creation time: that is all we know.
    let first_known_state = match &facts.state_before_history {
        Some(before) => before.as_deref(),
        None => Some(report.state.as_str()),
    };
    let predates_history = matches!(first_known_state, Some("SUBMITTED" | "ACCEPTED" | "RETURNED"));
    let (first, last) = if predates_history {
        (Some(report.created_at), Some(facts.last_submitted.unwrap_or(report.created_at)))
    } else {
        (facts.first_submitted, facts.last_submitted)
    };
    let accepted_content = if report.state == "ACCEPTED" && !withdrawn_now {
        let accepted_at = facts.last_accepted.or(report.updated_at).unwrap_or(report.created_at);
        Some(accepted_content(report, accepted_at)?)
    } else {
        None
    };
    Ok(Fill { id: report.id, submitted_at: last, first_submitted_at: first, accepted_content })
}

fn accepted_content(report: &Report, accepted_at: DateTime<Utc>) -> Result<String, DbErr> {
    let evidence_urls: Vec<String> = serde_json::from_str(&report.evidence_urls).map_err(|e| {
        DbErr::Migration(format!("report {}: evidence_urls is not a JSON array of strings: {e}", report.id))
    })?;
    let content = json!({
        "version": report.version,
        "status": report.status,
        "percentComplete": report.percent_complete,
        "summary": report.summary,
        "evidenceUrls": evidence_urls,
        "period": report.period,
        "acceptedAt": accepted_at.to_rfc3339_opts(SecondsFormat::AutoSi, true),
    });
    Ok(content.to_string())
}

/// Reads one column's value off a [`Fill`].
type ValueOf = fn(&Fill) -> Option<Value>;

/// Writes `fills`, a chunk of reports per UPDATE (`SET col = CASE WHEN id = … THEN … END`).
pub(super) async fn write<C: ConnectionTrait>(db: &C, fills: &[Fill]) -> Result<(), DbErr> {
    let fills: Vec<&Fill> = fills.iter().filter(|f| !f.is_empty()).collect();
    for chunk in fills.chunks(CHUNK) {
        let mut update = Query::update();
        update.table(P::Table).and_where(Expr::col(P::Id).is_in(chunk.iter().map(|f| f.id)));
        // The new columns are NULL, so a CASE without ELSE leaves the others as they are.
        let columns: [(P, ValueOf); 3] = [
            (P::SubmittedAt, |f| f.submitted_at.map(Value::from)),
            (P::FirstSubmittedAt, |f| f.first_submitted_at.map(Value::from)),
            (P::AcceptedContent, |f| f.accepted_content.clone().map(Value::from)),
        ];
        for (column, value_of) in columns {
            let mut case = CaseStatement::new();
            let mut any = false;
            for fill in chunk {
                if let Some(value) = value_of(fill) {
                    case = case.case(Expr::col(P::Id).eq(fill.id), value);
                    any = true;
                }
            }
            if any {
                update.value(column, case);
            }
        }
        db.execute(&update).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(s, 0).expect("time")
    }

    fn report(state: &str) -> Report {
        Report {
            id: 7,
            task_id: 1,
            agency_id: Some(1),
            province_id: None,
            period: "2016-Q4".into(),
            kind: "PART".into(),
            state: state.into(),
            version: 3,
            status: "IN_PROGRESS".into(),
            percent_complete: Some(40),
            summary: "s".into(),
            evidence_urls: r#"["https://example.org/a"]"#.into(),
            created_at: t(100),
            updated_at: Some(t(300)),
        }
    }

    #[test]
    fn history_wins_and_older_reports_fall_back_to_the_creation_time() {
        let facts = Facts {
            first_submitted: Some(t(110)),
            last_submitted: Some(t(200)),
            state_before_history: Some(Some("DRAFT".into())),
            ..Facts::default()
        };
        let fill = plan(&report("SUBMITTED"), Some(&facts), false).expect("plan");
        assert_eq!((fill.first_submitted_at, fill.submitted_at), (Some(t(110)), Some(t(200))));
        for state in ["SUBMITTED", "ACCEPTED", "RETURNED"] {
            let fill = plan(&report(state), None, false).expect("plan");
            assert_eq!((fill.first_submitted_at, fill.submitted_at), (Some(t(100)), Some(t(100))), "{state}");
        }
        for state in ["DRAFT", "WITHDRAWN"] {
            assert!(plan(&report(state), None, false).expect("plan").is_empty(), "{state}");
        }
        // Withdrawn (say, by an earlier run of this migration) from a state it had before the
        // history began.
        let older = Facts { state_before_history: Some(Some("ACCEPTED".into())), ..Facts::default() };
        let fill = plan(&report("WITHDRAWN"), Some(&older), false).expect("plan");
        assert_eq!((fill.first_submitted_at, fill.submitted_at), (Some(t(100)), Some(t(100))));
        // Submitted before the history began, returned and resubmitted within it.
        let resubmitted = Facts {
            first_submitted: Some(t(200)),
            last_submitted: Some(t(200)),
            state_before_history: Some(Some("SUBMITTED".into())),
            ..Facts::default()
        };
        let fill = plan(&report("SUBMITTED"), Some(&resubmitted), false).expect("plan");
        assert_eq!((fill.first_submitted_at, fill.submitted_at), (Some(t(100)), Some(t(200))));
        // Created as a draft within the history and never submitted.
        let draft = Facts { state_before_history: Some(None), ..Facts::default() };
        assert!(plan(&report("WITHDRAWN"), Some(&draft), false).expect("plan").is_empty());
    }

    #[test]
    fn accepted_reports_get_their_content_with_the_acceptance_time() {
        let facts = Facts { last_accepted: Some(t(250)), ..Facts::default() };
        let fill = plan(&report("ACCEPTED"), Some(&facts), false).expect("plan");
        let content: serde_json::Value =
            serde_json::from_str(fill.accepted_content.as_deref().expect("content")).expect("json");
        assert_eq!(
            content,
            json!({"version": 3, "status": "IN_PROGRESS", "percentComplete": 40, "summary": "s",
                   "evidenceUrls": ["https://example.org/a"], "period": "2016-Q4",
                   "acceptedAt": "1970-01-01T00:04:10Z"})
        );
        let fill = plan(&report("ACCEPTED"), None, false).expect("plan");
        assert!(fill.accepted_content.expect("content").contains(r#""acceptedAt":"1970-01-01T00:05:00Z""#));
        assert_eq!(plan(&report("ACCEPTED"), Some(&facts), true).expect("plan").accepted_content, None);
        let mut bad = report("ACCEPTED");
        bad.evidence_urls = "{".into();
        assert!(plan(&bad, None, false).is_err());
    }
}
