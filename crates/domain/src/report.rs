//! Progress reports: the rules a report must meet before anything is written.

use crate::model::{ReportStatus, Reporter, TaskId};
use crate::{Error, Result};

/// Longest summary, in characters.
pub const MAX_SUMMARY_CHARS: usize = 5000;
/// Most evidence URLs on one report.
pub const MAX_EVIDENCE_URLS: usize = 10;
/// Longest evidence URL, in bytes.
pub const MAX_URL_LEN: usize = 2048;
/// Earliest and latest reporting years.
pub const YEARS: std::ops::RangeInclusive<i32> = 2016..=2099;

/// A reporting period: a year, a half, a quarter or a month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    Year(i32),
    Half(i32, u8),
    Quarter(i32, u8),
    Month(i32, u8),
}

impl Period {
    /// Parses "2016", "2016-H2", "2016-Q3" or "2016-09".
    pub fn parse(s: &str) -> Result<Self> {
        let bad = || {
            Error::validation(
                "period",
                format!(
                    "{s:?} is not a period: use a year (2016), half (2016-H2), quarter (2016-Q3) or month (2016-09), years {}–{}",
                    YEARS.start(),
                    YEARS.end()
                ),
            )
        };
        let (year, rest) = match s.split_once('-') {
            Some((y, r)) => (y, Some(r)),
            None => (s, None),
        };
        if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let year: i32 = year.parse().map_err(|_| bad())?;
        if !YEARS.contains(&year) {
            return Err(bad());
        }
        let number = |digits: &str, range: std::ops::RangeInclusive<u8>| -> Result<u8> {
            if digits.is_empty() || digits.len() > 2 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            digits.parse::<u8>().ok().filter(|n| range.contains(n)).ok_or_else(bad)
        };
        Ok(match rest {
            None => Self::Year(year),
            Some(r) => {
                if let Some(h) = r.strip_prefix('H') {
                    Self::Half(year, number(h, 1..=2)?)
                } else if let Some(q) = r.strip_prefix('Q') {
                    Self::Quarter(year, number(q, 1..=4)?)
                } else if r.len() == 2 {
                    Self::Month(year, number(r, 1..=12)?)
                } else {
                    return Err(bad());
                }
            }
        })
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Year(y) => write!(f, "{y}"),
            Self::Half(y, h) => write!(f, "{y}-H{h}"),
            Self::Quarter(y, q) => write!(f, "{y}-Q{q}"),
            Self::Month(y, m) => write!(f, "{y}-{m:02}"),
        }
    }
}

/// Who the caller says is reporting, before it is resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReporterRef {
    /// An agency, by id.
    Agency(crate::model::AgencyId),
    /// A province, by GB/T 2260 code.
    Province(String),
}

/// A report as submitted, not yet checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmitReport {
    pub task_number: i32,
    pub reporter: ReporterRef,
    pub period: String,
    pub status: ReportStatus,
    pub percent_complete: Option<i32>,
    pub summary: String,
    pub evidence_urls: Vec<String>,
}

/// A report that passed every rule that needs no lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidReportFields {
    pub period: Period,
    pub status: ReportStatus,
    pub percent_complete: Option<i32>,
    pub summary: String,
    pub evidence_urls: Vec<String>,
}

/// A report ready to be stored: every reference resolved and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReport {
    pub task_id: TaskId,
    pub reporter: Reporter,
    pub fields: ValidReportFields,
    /// DRAFT or SUBMITTED.
    pub state: crate::model::ReportState,
    /// The reporter's own id for it (batch sync).
    pub client_report_id: Option<String>,
    /// When it was submitted.
    pub submitted_at: chrono::DateTime<chrono::Utc>,
    pub is_demo: bool,
}

fn check_url(url: &str, field: &str) -> Result<()> {
    let bad = |why: &str| Error::validation(field, format!("{why}: {:?}", url.chars().take(80).collect::<String>()));
    if url.len() > MAX_URL_LEN {
        return Err(bad("URL longer than 2048 bytes"));
    }
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| bad("not an http or https URL"))?;
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("URL contains whitespace or control characters"));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let (host, port) = match host_port.strip_prefix('[') {
        Some(v6) => {
            let (inner, after) = v6.split_once(']').ok_or_else(|| bad("URL has a bad IPv6 host"))?;
            (inner, after.strip_prefix(':'))
        }
        None => match host_port.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (host_port, None),
        },
    };
    if host.is_empty() {
        return Err(bad("URL has no host"));
    }
    if let Some(port) = port
        && (port.is_empty() || port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(bad("URL has a bad port"));
    }
    Ok(())
}

impl SubmitReport {
    /// Checks every rule that needs no lookup. Field names are the input's.
    pub fn validate_fields(&self) -> Result<ValidReportFields> {
        let period = Period::parse(self.period.trim())?;
        if let Some(p) = self.percent_complete {
            if !(0..=100).contains(&p) {
                return Err(Error::validation("percentComplete", format!("must be between 0 and 100, got {p}")));
            }
            match self.status {
                ReportStatus::NotStarted if p != 0 => {
                    return Err(Error::validation("percentComplete", "a NOT_STARTED task is 0% complete"));
                }
                ReportStatus::Completed if p != 100 => {
                    return Err(Error::validation("percentComplete", "a COMPLETED task is 100% complete"));
                }
                _ => {}
            }
        }
        let summary = self.summary.trim();
        if summary.is_empty() {
            return Err(Error::validation("summary", "must not be empty"));
        }
        if summary.chars().count() > MAX_SUMMARY_CHARS {
            return Err(Error::validation("summary", format!("at most {MAX_SUMMARY_CHARS} characters")));
        }
        if summary.contains('\0') {
            return Err(Error::validation("summary", "must not contain NUL characters"));
        }
        if self.evidence_urls.len() > MAX_EVIDENCE_URLS {
            return Err(Error::validation("evidenceUrls", format!("at most {MAX_EVIDENCE_URLS} URLs")));
        }
        for (i, url) in self.evidence_urls.iter().enumerate() {
            check_url(url, &format!("evidenceUrls[{i}]"))?;
        }
        Ok(ValidReportFields {
            period,
            status: self.status,
            percent_complete: self.percent_complete,
            summary: summary.to_owned(),
            evidence_urls: self.evidence_urls.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> SubmitReport {
        SubmitReport {
            task_number: 1,
            reporter: ReporterRef::Province("110000".into()),
            period: "2016-Q3".into(),
            status: ReportStatus::InProgress,
            percent_complete: Some(40),
            summary: "Done a lot.".into(),
            evidence_urls: vec!["https://example.org/a.pdf".into()],
        }
    }

    #[test]
    fn periods() {
        for ok in ["2016", "2016-H2", "2016-Q3", "2016-09", "2099-12", "2017-H1"] {
            assert_eq!(Period::parse(ok).expect(ok).to_string(), ok);
        }
        for bad in [
            "",
            "16",
            "2015",
            "2100",
            "2016-H3",
            "2016-Q0",
            "2016-Q5",
            "2016-13",
            "2016-00",
            "2016-9",
            "2016-",
            "2016-Q",
            "2016-X1",
            "２０１６",
            "2016-Q+1",
            "-2016",
        ] {
            assert!(Period::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn valid_input_passes() {
        let v = input().validate_fields().expect("valid");
        assert_eq!(v.period, Period::Quarter(2016, 3));
    }

    #[test]
    fn each_rule_names_its_field() {
        let cases: Vec<(SubmitReport, &str)> = vec![
            (SubmitReport { percent_complete: Some(101), ..input() }, "percentComplete"),
            (SubmitReport { percent_complete: Some(-1), ..input() }, "percentComplete"),
            (
                SubmitReport { status: ReportStatus::Completed, percent_complete: Some(50), ..input() },
                "percentComplete",
            ),
            (
                SubmitReport { status: ReportStatus::NotStarted, percent_complete: Some(5), ..input() },
                "percentComplete",
            ),
            (SubmitReport { summary: "   ".into(), ..input() }, "summary"),
            (SubmitReport { summary: "a".repeat(5001), ..input() }, "summary"),
            (SubmitReport { summary: "a\0b".into(), ..input() }, "summary"),
            (SubmitReport { evidence_urls: vec!["https://a.org".into(); 11], ..input() }, "evidenceUrls"),
            (SubmitReport { evidence_urls: vec!["ftp://a.org/x".into()], ..input() }, "evidenceUrls[0]"),
            (SubmitReport { evidence_urls: vec!["https://".into()], ..input() }, "evidenceUrls[0]"),
            (SubmitReport { evidence_urls: vec!["https://a.org/x y".into()], ..input() }, "evidenceUrls[0]"),
            (
                SubmitReport { evidence_urls: vec![format!("https://a.org/{}", "x".repeat(2100))], ..input() },
                "evidenceUrls[0]",
            ),
            (SubmitReport { period: "2016-Q9".into(), ..input() }, "period"),
        ];
        for (case, field) in cases {
            match case.validate_fields() {
                Err(Error::Validation { field: f, .. }) => assert_eq!(f, field, "{case:?}"),
                other => panic!("{case:?} gave {other:?}"),
            }
        }
        assert!(SubmitReport { summary: "a".repeat(5000), ..input() }.validate_fields().is_ok());
        assert!(
            SubmitReport { evidence_urls: vec!["http://a.org:8080/x?y#z".into(); 10], ..input() }
                .validate_fields()
                .is_ok()
        );
        assert!(
            SubmitReport { status: ReportStatus::Completed, percent_complete: Some(100), ..input() }
                .validate_fields()
                .is_ok()
        );
    }
}

/// Longest review comment, in characters.
pub const MAX_COMMENT_CHARS: usize = 5000;

/// Changes to a report's content; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportPatch {
    pub period: Option<String>,
    pub status: Option<ReportStatus>,
    /// `Some(None)` clears it.
    pub percent_complete: Option<Option<i32>>,
    pub summary: Option<String>,
    pub evidence_urls: Option<Vec<String>>,
    /// Move a DRAFT or RETURNED report to SUBMITTED.
    pub submit: bool,
}

/// A change to an existing report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// Edit the content (and maybe submit).
    Patch(ReportPatch),
    /// Withdraw it.
    Withdraw,
    /// Accept or return it, with a comment (required to return).
    Review { accept: bool, comment: Option<String> },
}

/// What applying an edit or a sync item produces: the new content and state, and what to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub task_id: TaskId,
    pub fields: ValidReportFields,
    pub state: crate::model::ReportState,
    pub review_comment: Option<String>,
    /// The history action: CREATE, UPDATE, SUBMIT, WITHDRAW, ACCEPT, RETURN, SYNC.
    pub action: &'static str,
    pub kind: crate::model::ChangeKind,
    pub changes: Vec<crate::model::FieldChange>,
}

/// The content of a stored report, as validated fields.
pub fn fields_of(report: &crate::model::ProgressReport) -> Result<ValidReportFields> {
    Ok(ValidReportFields {
        period: Period::parse(&report.period)?,
        status: report.status,
        percent_complete: report.percent_complete,
        summary: report.summary.clone(),
        evidence_urls: report.evidence_urls.clone(),
    })
}

fn json<T: serde::Serialize>(v: &T) -> Option<serde_json::Value> {
    serde_json::to_value(v).ok().filter(|v| !v.is_null())
}

/// The field-by-field difference between two versions of a report.
pub fn diff(
    before: Option<(&ValidReportFields, crate::model::ReportState, Option<&str>)>,
    after: (&ValidReportFields, crate::model::ReportState, Option<&str>),
) -> Vec<crate::model::FieldChange> {
    let row =
        |f: Option<&ValidReportFields>, state: Option<crate::model::ReportState>, comment: Option<Option<&str>>| {
            [
                ("period", f.and_then(|f| json(&f.period.to_string()))),
                ("status", f.and_then(|f| json(&f.status))),
                ("percentComplete", f.and_then(|f| json(&f.percent_complete))),
                ("summary", f.and_then(|f| json(&f.summary))),
                ("evidenceUrls", f.and_then(|f| json(&f.evidence_urls))),
                ("state", state.and_then(|s| json(&s))),
                ("reviewComment", comment.flatten().and_then(|c| json(&c))),
            ]
        };
    let old = row(before.map(|b| b.0), before.map(|b| b.1), before.map(|b| b.2));
    let new = row(Some(after.0), Some(after.1), Some(after.2));
    old.into_iter()
        .zip(new)
        .filter(|((_, b), (_, a))| b != a)
        .map(|((field, before), (_, after))| crate::model::FieldChange { field: field.to_owned(), before, after })
        .collect()
}

fn prefixed(err: Error, prefix: &str) -> Error {
    match err {
        Error::Validation { field, message } => Error::validation(format!("{prefix}{field}"), message),
        other => other,
    }
}

/// Applies `edit` to `current` on behalf of `principal`, checking every rule: who may, in which
/// state, and on which version. Nothing is decided elsewhere.
pub fn apply_edit(
    principal: &crate::auth::Principal,
    current: &crate::model::ProgressReport,
    expected_version: i32,
    edit: &Edit,
) -> Result<Applied> {
    use crate::model::{ChangeKind, ReportState};
    match edit {
        Edit::Review { .. } => crate::auth::can_review(principal)?,
        Edit::Patch(_) | Edit::Withdraw => crate::auth::can_edit(principal, current)?,
    }
    if current.version != expected_version {
        return Err(Error::StaleVersion { expected: expected_version, current: current.version });
    }
    let fields = fields_of(current)?;
    let before = Some((&fields, current.state, current.review_comment.as_deref()));
    let (new_fields, state, comment, action, kind) = match edit {
        Edit::Patch(patch) => {
            if matches!(current.state, ReportState::Accepted | ReportState::Withdrawn) {
                return Err(Error::Conflict(format!("a {} report cannot be changed", current.state.as_str())));
            }
            let merged = SubmitReport {
                task_number: 0,
                reporter: ReporterRef::Province(String::new()),
                period: patch.period.clone().unwrap_or_else(|| current.period.clone()),
                status: patch.status.unwrap_or(current.status),
                percent_complete: patch.percent_complete.unwrap_or(current.percent_complete),
                summary: patch.summary.clone().unwrap_or_else(|| current.summary.clone()),
                evidence_urls: patch.evidence_urls.clone().unwrap_or_else(|| current.evidence_urls.clone()),
            }
            .validate_fields()
            .map_err(|e| prefixed(e, "patch."))?;
            let state = if patch.submit { ReportState::Submitted } else { current.state };
            let (action, kind) = if state != current.state {
                ("SUBMIT", ChangeKind::StatusChanged)
            } else {
                ("UPDATE", ChangeKind::Updated)
            };
            (merged, state, current.review_comment.clone(), action, kind)
        }
        Edit::Withdraw => {
            if matches!(current.state, ReportState::Accepted | ReportState::Withdrawn) {
                return Err(Error::Conflict(format!("a {} report cannot be withdrawn", current.state.as_str())));
            }
            (fields.clone(), ReportState::Withdrawn, current.review_comment.clone(), "WITHDRAW", ChangeKind::Withdrawn)
        }
        Edit::Review { accept, comment } => {
            if current.state != ReportState::Submitted {
                return Err(Error::Conflict(format!(
                    "only SUBMITTED reports are reviewed; this one is {}",
                    current.state.as_str()
                )));
            }
            let comment = comment.as_deref().map(str::trim).filter(|c| !c.is_empty()).map(str::to_owned);
            if let Some(c) = &comment {
                if c.chars().count() > MAX_COMMENT_CHARS {
                    return Err(Error::validation("comment", format!("at most {MAX_COMMENT_CHARS} characters")));
                }
                if c.contains('\0') {
                    return Err(Error::validation("comment", "must not contain NUL characters"));
                }
            }
            if !accept && comment.is_none() {
                return Err(Error::validation("comment", "returning a report needs a reason"));
            }
            let (state, action) =
                if *accept { (ReportState::Accepted, "ACCEPT") } else { (ReportState::Returned, "RETURN") };
            (fields.clone(), state, comment, action, ChangeKind::Reviewed)
        }
    };
    let changes = diff(before, (&new_fields, state, comment.as_deref()));
    if changes.is_empty() {
        return Err(Error::validation("patch", "the patch changes nothing"));
    }
    Ok(Applied { task_id: current.task_id, fields: new_fields, state, review_comment: comment, action, kind, changes })
}

/// A stable fingerprint of a request, for idempotency keys.
pub fn fingerprint(parts: &[&str]) -> String {
    crate::auth::hash_secret(&parts.join("\u{1f}"))
}
