//! Reporting periods: a year, a half, a quarter or a month.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc};

use crate::{Error, Result};

/// Earliest and latest reporting years.
pub const YEARS: std::ops::RangeInclusive<i32> = 2016..=2099;

/// A reporting period: a year, a half, a quarter or a month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    /// A calendar year.
    Year(i32),
    /// A half year (1 or 2).
    Half(i32, u8),
    /// A quarter (1–4).
    Quarter(i32, u8),
    /// A month (1–12).
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

impl Period {
    /// The year and month (1–12) the period starts in.
    pub fn start_month(&self) -> (i32, u8) {
        match *self {
            Self::Year(y) => (y, 1),
            Self::Half(y, h) => (y, (h - 1) * 6 + 1),
            Self::Quarter(y, q) => (y, (q - 1) * 3 + 1),
            Self::Month(y, m) => (y, m),
        }
    }

    /// The first day of the period: periods of different lengths compare by it ("2016-Q3"
    /// and "2016-H2" and "2016-07" all start on 2016-07-01).
    pub fn start(&self) -> chrono::NaiveDate {
        let (y, m) = self.start_month();
        chrono::NaiveDate::from_ymd_opt(y, u32::from(m), 1).unwrap_or(chrono::NaiveDate::MIN)
    }

    /// The year and month (1–12) the period ends before: the month after its last one.
    pub fn end_month(&self) -> (i32, u8) {
        let (y, m) = self.start_month();
        let months = match self {
            Self::Year(_) => 12,
            Self::Half(..) => 6,
            Self::Quarter(..) => 3,
            Self::Month(..) => 1,
        };
        let next = m + months;
        if next > 12 { (y + 1, next - 12) } else { (y, next) }
    }

    /// The instant the period starts: midnight at the start of its first day in China
    /// Standard Time (UTC+08:00) — "2016-Q4" starts at 2016-10-01T00:00+08:00, which is
    /// 2016-09-30T16:00Z.
    pub fn starts_at(&self) -> DateTime<Utc> {
        cst_midnight(self.start_month())
    }

    /// The instant the period ends (exclusive): midnight at the start of the first day after
    /// it, in China Standard Time — "2016-Q4" ends at 2017-01-01T00:00+08:00.
    pub fn ends_at(&self) -> DateTime<Utc> {
        cst_midnight(self.end_month())
    }

    /// The start as "YYYY-MM", which sorts like the date.
    pub fn start_key(&self) -> String {
        let (y, m) = self.start_month();
        format!("{y:04}-{m:02}")
    }
}

/// China Standard Time (UTC+08:00), the time zone period boundaries are drawn in.
pub const CHINA_STANDARD_TIME: FixedOffset = match FixedOffset::east_opt(8 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+08:00 is a valid offset"),
};

/// Midnight at the start of the first day of `(year, month)` in China Standard Time.
fn cst_midnight((year, month): (i32, u8)) -> DateTime<Utc> {
    let day = NaiveDate::from_ymd_opt(year, u32::from(month), 1).unwrap_or(NaiveDate::MIN);
    CHINA_STANDARD_TIME
        .from_local_datetime(&day.and_time(NaiveTime::MIN))
        .single()
        .map_or(DateTime::<Utc>::MIN_UTC, |t| t.with_timezone(&Utc))
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn periods_start_on_the_first_day_of_their_first_month() {
        let start = |s: &str| Period::parse(s).expect(s).start().to_string();
        assert_eq!(start("2016"), "2016-01-01");
        assert_eq!(start("2016-H2"), "2016-07-01");
        assert_eq!(start("2016-Q3"), "2016-07-01");
        assert_eq!(start("2016-Q4"), "2016-10-01");
        assert_eq!(start("2016-09"), "2016-09-01");
        assert_eq!(start("2017-H1"), "2017-01-01");
        assert_eq!(Period::parse("2016-Q3").expect("q").start_key(), "2016-07");
        assert!(Period::parse("2016-H2").expect("h").start_key() < Period::parse("2016-08").expect("m").start_key());
    }

    #[test]
    fn periods_are_bounded_by_midnight_in_china_standard_time() {
        let bounds = |s: &str| {
            let p = Period::parse(s).expect(s);
            (p.starts_at().to_rfc3339(), p.ends_at().to_rfc3339())
        };
        let cst = |s: &str| DateTime::parse_from_rfc3339(s).expect(s).with_timezone(&Utc).to_rfc3339();
        assert_eq!(bounds("2016-Q4"), ("2016-09-30T16:00:00+00:00".into(), "2016-12-31T16:00:00+00:00".into()));
        assert_eq!(bounds("2016-Q4").1, cst("2017-01-01T00:00:00+08:00"));
        assert_eq!(bounds("2016"), (cst("2016-01-01T00:00:00+08:00"), cst("2017-01-01T00:00:00+08:00")));
        assert_eq!(bounds("2016-H1"), (cst("2016-01-01T00:00:00+08:00"), cst("2016-07-01T00:00:00+08:00")));
        assert_eq!(bounds("2016-H2"), (cst("2016-07-01T00:00:00+08:00"), cst("2017-01-01T00:00:00+08:00")));
        assert_eq!(bounds("2016-Q1"), (cst("2016-01-01T00:00:00+08:00"), cst("2016-04-01T00:00:00+08:00")));
        assert_eq!(bounds("2016-02"), (cst("2016-02-01T00:00:00+08:00"), cst("2016-03-01T00:00:00+08:00")));
        assert_eq!(bounds("2016-12"), (cst("2016-12-01T00:00:00+08:00"), cst("2017-01-01T00:00:00+08:00")));
        assert_eq!(bounds("2099"), (cst("2099-01-01T00:00:00+08:00"), cst("2100-01-01T00:00:00+08:00")));
    }
}
