//! The supervision columns of existing reports: the bounds of their period, whether they were
//! ever returned, and the status, percent and health of their accepted version.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};
use sea_orm::{ConnectionTrait, QueryResult};
use sea_orm_migration::prelude::*;
use serde_json::Value as Json;

use super::{ProgressReports as P, ReportHistory as H};

/// Reports per UPDATE of the accepted columns: one bound id each, well under SQLite's limit.
const CHUNK: usize = 500;

/// What the backfill wrote.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct Filled {
    /// Distinct period keys given their bounds.
    pub periods: usize,
    /// Reports marked as ever returned.
    pub returned: u64,
    /// Reports given the columns of their accepted version.
    pub accepted: usize,
}

/// Fills every report's supervision columns.
pub(super) async fn run<C: ConnectionTrait>(db: &C) -> Result<Filled, DbErr> {
    Ok(Filled { periods: period_bounds(db).await?, returned: ever_returned(db).await?, accepted: accepted(db).await? })
}

fn get<T: sea_orm::TryGetable>(row: &QueryResult, col: &str) -> Result<T, DbErr> {
    row.try_get("", col)
}

/// The first month (year, 1–12) of a stored period key ("2016", "2016-H2", "2016-Q4",
/// "2016-09") and its length in months.
fn months(key: &str) -> Option<((i32, u32), u32)> {
    let (year, rest) = match key.split_once('-') {
        Some((y, r)) => (y, Some(r)),
        None => (key, None),
    };
    if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year: i32 = year.parse().ok()?;
    let number = |digits: &str, max: u32| -> Option<u32> {
        let ok = !digits.is_empty() && digits.len() <= 2 && digits.bytes().all(|b| b.is_ascii_digit());
        ok.then(|| digits.parse::<u32>().ok()).flatten().filter(|n| (1..=max).contains(n))
    };
    match rest {
        None => Some(((year, 1), 12)),
        Some(r) => {
            if let Some(h) = r.strip_prefix('H') {
                number(h, 2).map(|h| ((year, (h - 1) * 6 + 1), 6))
            } else if let Some(q) = r.strip_prefix('Q') {
                number(q, 4).map(|q| ((year, (q - 1) * 3 + 1), 3))
            } else if r.len() == 2 {
                number(r, 12).map(|m| ((year, m), 1))
            } else {
                None
            }
        }
    }
}

/// Midnight at the start of the first day of `(year, month)` in China Standard Time.
fn cst_midnight(year: i32, month: u32) -> Option<DateTime<Utc>> {
    let cst = FixedOffset::east_opt(8 * 3600)?;
    let day = NaiveDate::from_ymd_opt(year, month, 1)?.and_hms_opt(0, 0, 0)?;
    cst.from_local_datetime(&day).single().map(|t| t.with_timezone(&Utc))
}

/// The instants a period starts and ends (exclusive): calendar boundaries in China Standard
/// Time (UTC+08:00). `None` for a key that is not a period.
pub(super) fn bounds(key: &str) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let ((year, month), length) = months(key)?;
    let next = month + length;
    let (end_year, end_month) = if next > 12 { (year + 1, next - 12) } else { (year, next) };
    Some((cst_midnight(year, month)?, cst_midnight(end_year, end_month)?))
}

/// Gives every report the bounds of its period: one UPDATE per distinct period key. Returns how
/// many keys there were.
async fn period_bounds<C: ConnectionTrait>(db: &C) -> Result<usize, DbErr> {
    let keys = db.query_all(&Query::select().distinct().column(P::Period).from(P::Table).take()).await?;
    for row in &keys {
        let key: String = get(row, "period")?;
        let (starts, ends) =
            bounds(&key).ok_or_else(|| DbErr::Migration(format!("progress_reports.period {key:?} is not a period")))?;
        db.execute(
            Query::update()
                .table(P::Table)
                .value(P::PeriodStartsAt, starts)
                .value(P::PeriodEndsAt, ends)
                .and_where(Expr::col(P::Period).eq(key)),
        )
        .await?;
    }
    Ok(keys.len())
}

/// Marks the reports a supervisor ever returned: those the history shows returned or reopened
/// for correction, and those RETURNED now (the state a return leaves, whatever the history
/// says). Returns how many.
async fn ever_returned<C: ConnectionTrait>(db: &C) -> Result<u64, DbErr> {
    let returned = Query::select()
        .column(H::ReportId)
        .from(H::Table)
        .and_where(Expr::col(H::Action).is_in(["RETURN", "REOPEN"]))
        .take();
    let update = Query::update()
        .table(P::Table)
        .value(P::EverReturned, true)
        .cond_where(Cond::any().add(Expr::col(P::State).eq("RETURNED")).add(Expr::col(P::Id).in_subquery(returned)))
        .take();
    Ok(db.execute(&update).await?.rows_affected())
}

/// The status, percent and health an accepted version holds (its JSON keys `status`,
/// `percentComplete` and `health`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct AcceptedColumns {
    pub status: String,
    pub percent: Option<i32>,
    pub health: Option<String>,
}

/// Reads the columns off a report's `accepted_content`.
pub(super) fn accepted_columns(id: i64, content: &str) -> Result<AcceptedColumns, DbErr> {
    let bad = |what: &str| DbErr::Migration(format!("report {id}: accepted_content {what}"));
    let json: Json = serde_json::from_str(content).map_err(|e| bad(&format!("is not JSON: {e}")))?;
    let status = json.get("status").and_then(Json::as_str).ok_or_else(|| bad("has no status"))?.to_owned();
    let percent = match json.get("percentComplete") {
        None | Some(Json::Null) => None,
        Some(p) => Some(
            p.as_i64().and_then(|p| <i32 as TryFrom<i64>>::try_from(p).ok()).ok_or_else(|| bad("has a bad percent"))?,
        ),
    };
    let health = match json.get("health") {
        None | Some(Json::Null) => None,
        Some(h) => Some(h.as_str().ok_or_else(|| bad("has a bad health"))?.to_owned()),
    };
    Ok(AcceptedColumns { status, percent, health })
}

/// Gives every report with an accepted version the columns of that version: reports are
/// grouped by their values, so one UPDATE writes a chunk of reports. Returns how many.
async fn accepted<C: ConnectionTrait>(db: &C) -> Result<usize, DbErr> {
    let query = Query::select()
        .columns([P::Id, P::AcceptedContent])
        .from(P::Table)
        .and_where(Expr::col(P::AcceptedContent).is_not_null())
        .take();
    let mut groups: BTreeMap<AcceptedColumns, Vec<i64>> = BTreeMap::new();
    let rows = db.query_all(&query).await?;
    for row in &rows {
        let id: i64 = get(row, "id")?;
        let content: String = get(row, "accepted_content")?;
        groups.entry(accepted_columns(id, &content)?).or_default().push(id);
    }
    for (columns, ids) in groups {
        for chunk in ids.chunks(CHUNK) {
            db.execute(
                Query::update()
                    .table(P::Table)
                    .value(P::AcceptedStatus, columns.status.clone())
                    .value(P::AcceptedPercent, columns.percent)
                    .value(P::AcceptedHealth, columns.health.clone())
                    .and_where(Expr::col(P::Id).is_in(chunk.iter().copied())),
            )
            .await?;
        }
    }
    Ok(rows.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cst(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).expect(s).with_timezone(&Utc)
    }

    #[test]
    fn period_bounds_are_midnight_in_china_standard_time() {
        let cases = [
            ("2016", "2016-01-01T00:00:00+08:00", "2017-01-01T00:00:00+08:00"),
            ("2016-H1", "2016-01-01T00:00:00+08:00", "2016-07-01T00:00:00+08:00"),
            ("2016-H2", "2016-07-01T00:00:00+08:00", "2017-01-01T00:00:00+08:00"),
            ("2016-Q4", "2016-10-01T00:00:00+08:00", "2017-01-01T00:00:00+08:00"),
            ("2017-Q2", "2017-04-01T00:00:00+08:00", "2017-07-01T00:00:00+08:00"),
            ("2016-02", "2016-02-01T00:00:00+08:00", "2016-03-01T00:00:00+08:00"),
            ("2016-12", "2016-12-01T00:00:00+08:00", "2017-01-01T00:00:00+08:00"),
        ];
        for (key, starts, ends) in cases {
            assert_eq!(bounds(key), Some((cst(starts), cst(ends))), "{key}");
        }
        assert_eq!(bounds("2016-Q4").map(|b| b.0.to_rfc3339()), Some("2016-09-30T16:00:00+00:00".to_owned()));
        for bad in ["", "16", "2016-H3", "2016-Q0", "2016-13", "2016-9", "2016-X1", "2016-Q+1"] {
            assert_eq!(bounds(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn accepted_columns_come_from_the_json() {
        let full = r#"{"version":2,"status":"IN_PROGRESS","percentComplete":40,"summary":"s","health":"AT_RISK"}"#;
        assert_eq!(
            accepted_columns(1, full).expect("columns"),
            AcceptedColumns { status: "IN_PROGRESS".into(), percent: Some(40), health: Some("AT_RISK".into()) }
        );
        let bare = r#"{"version":1,"status":"ONGOING","percentComplete":null,"summary":"s"}"#;
        assert_eq!(
            accepted_columns(1, bare).expect("columns"),
            AcceptedColumns { status: "ONGOING".into(), percent: None, health: None }
        );
        assert!(accepted_columns(7, "not json").expect_err("bad").to_string().contains("report 7"));
        assert!(accepted_columns(7, r#"{"percentComplete":1}"#).is_err());
    }
}
