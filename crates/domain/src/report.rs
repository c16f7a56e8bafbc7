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
            if digits.is_empty() || digits.len() > 2 || !digits.bytes().all(|b| b.is_ascii_digit())
            {
                return Err(bad());
            }
            digits
                .parse::<u8>()
                .ok()
                .filter(|n| range.contains(n))
                .ok_or_else(bad)
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
    /// When it was submitted.
    pub submitted_at: chrono::DateTime<chrono::Utc>,
    pub is_demo: bool,
}

fn check_url(url: &str, field: &str) -> Result<()> {
    let bad = |why: &str| {
        Error::validation(
            field,
            format!("{why}: {:?}", url.chars().take(80).collect::<String>()),
        )
    };
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
            let (inner, after) = v6
                .split_once(']')
                .ok_or_else(|| bad("URL has a bad IPv6 host"))?;
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
                return Err(Error::validation(
                    "percentComplete",
                    format!("must be between 0 and 100, got {p}"),
                ));
            }
            match self.status {
                ReportStatus::NotStarted if p != 0 => {
                    return Err(Error::validation(
                        "percentComplete",
                        "a NOT_STARTED task is 0% complete",
                    ));
                }
                ReportStatus::Completed if p != 100 => {
                    return Err(Error::validation(
                        "percentComplete",
                        "a COMPLETED task is 100% complete",
                    ));
                }
                _ => {}
            }
        }
        let summary = self.summary.trim();
        if summary.is_empty() {
            return Err(Error::validation("summary", "must not be empty"));
        }
        if summary.chars().count() > MAX_SUMMARY_CHARS {
            return Err(Error::validation(
                "summary",
                format!("at most {MAX_SUMMARY_CHARS} characters"),
            ));
        }
        if summary.contains('\0') {
            return Err(Error::validation(
                "summary",
                "must not contain NUL characters",
            ));
        }
        if self.evidence_urls.len() > MAX_EVIDENCE_URLS {
            return Err(Error::validation(
                "evidenceUrls",
                format!("at most {MAX_EVIDENCE_URLS} URLs"),
            ));
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
        for ok in [
            "2016", "2016-H2", "2016-Q3", "2016-09", "2099-12", "2017-H1",
        ] {
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
            (
                SubmitReport {
                    percent_complete: Some(101),
                    ..input()
                },
                "percentComplete",
            ),
            (
                SubmitReport {
                    percent_complete: Some(-1),
                    ..input()
                },
                "percentComplete",
            ),
            (
                SubmitReport {
                    status: ReportStatus::Completed,
                    percent_complete: Some(50),
                    ..input()
                },
                "percentComplete",
            ),
            (
                SubmitReport {
                    status: ReportStatus::NotStarted,
                    percent_complete: Some(5),
                    ..input()
                },
                "percentComplete",
            ),
            (
                SubmitReport {
                    summary: "   ".into(),
                    ..input()
                },
                "summary",
            ),
            (
                SubmitReport {
                    summary: "a".repeat(5001),
                    ..input()
                },
                "summary",
            ),
            (
                SubmitReport {
                    summary: "a\0b".into(),
                    ..input()
                },
                "summary",
            ),
            (
                SubmitReport {
                    evidence_urls: vec!["https://a.org".into(); 11],
                    ..input()
                },
                "evidenceUrls",
            ),
            (
                SubmitReport {
                    evidence_urls: vec!["ftp://a.org/x".into()],
                    ..input()
                },
                "evidenceUrls[0]",
            ),
            (
                SubmitReport {
                    evidence_urls: vec!["https://".into()],
                    ..input()
                },
                "evidenceUrls[0]",
            ),
            (
                SubmitReport {
                    evidence_urls: vec!["https://a.org/x y".into()],
                    ..input()
                },
                "evidenceUrls[0]",
            ),
            (
                SubmitReport {
                    evidence_urls: vec![format!("https://a.org/{}", "x".repeat(2100))],
                    ..input()
                },
                "evidenceUrls[0]",
            ),
            (
                SubmitReport {
                    period: "2016-Q9".into(),
                    ..input()
                },
                "period",
            ),
        ];
        for (case, field) in cases {
            match case.validate_fields() {
                Err(Error::Validation { field: f, .. }) => assert_eq!(f, field, "{case:?}"),
                other => panic!("{case:?} gave {other:?}"),
            }
        }
        assert!(
            SubmitReport {
                summary: "a".repeat(5000),
                ..input()
            }
            .validate_fields()
            .is_ok()
        );
        assert!(
            SubmitReport {
                evidence_urls: vec!["http://a.org:8080/x?y#z".into(); 10],
                ..input()
            }
            .validate_fields()
            .is_ok()
        );
        assert!(
            SubmitReport {
                status: ReportStatus::Completed,
                percent_complete: Some(100),
                ..input()
            }
            .validate_fields()
            .is_ok()
        );
    }
}
