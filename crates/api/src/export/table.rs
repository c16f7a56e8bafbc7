//! A table to export: its columns and rows of typed cells, written as CSV ([`super::csv`]) or
//! XLSX ([`super::xlsx`]) from the same values, so both formats always say the same thing.

use chrono::{DateTime, Utc};
use workplan_domain::report::period::CHINA_STANDARD_TIME;

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    /// Nothing (an empty CSV field, a blank spreadsheet cell).
    Empty,
    /// Text.
    Text(String),
    /// A whole number.
    Integer(i64),
    /// A number shown with one decimal (a mean percent complete).
    Number(f64),
    /// A ratio from 0 to 1 (CSV: the ratio; XLSX: the number, formatted as a percentage).
    Ratio(f64),
    /// Yes or no (CSV: `true` / `false`; XLSX: a boolean cell).
    Bool(bool),
    /// An instant (CSV: RFC 3339 in China Standard Time, e.g. `2017-01-16T00:00:00+08:00`;
    /// XLSX: a date-time cell in China Standard Time).
    Time(DateTime<Utc>),
}

impl Cell {
    /// Text, or [`Cell::Empty`] for `None`.
    pub(crate) fn text(value: Option<impl Into<String>>) -> Self {
        value.map_or(Self::Empty, |v| Self::Text(v.into()))
    }

    /// A whole number, or [`Cell::Empty`] for `None`.
    pub(crate) fn integer(value: Option<i64>) -> Self {
        value.map_or(Self::Empty, Self::Integer)
    }

    /// A count.
    pub(crate) fn count(n: usize) -> Self {
        Self::Integer(i64::try_from(n).unwrap_or(i64::MAX))
    }

    /// How the cell reads in a CSV file.
    pub(crate) fn to_csv(&self) -> String {
        match self {
            Self::Empty => String::new(),
            Self::Text(s) => s.clone(),
            Self::Integer(n) => n.to_string(),
            // Rust prints the shortest text that reads back as the same number.
            Self::Number(x) | Self::Ratio(x) => x.to_string(),
            Self::Bool(b) => b.to_string(),
            Self::Time(at) => at.with_timezone(&CHINA_STANDARD_TIME).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        }
    }
}

/// A column: its title and how wide a spreadsheet shows it (in characters).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Column {
    /// The header.
    pub(crate) title: &'static str,
    /// Width in characters.
    pub(crate) width: f64,
}

/// A titled table.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Table {
    /// The worksheet's name (at most 31 characters, none of `[]:*?/\`).
    pub(crate) sheet: String,
    /// The columns, in order.
    pub(crate) columns: Vec<Column>,
    /// The rows; each has one cell per column.
    pub(crate) rows: Vec<Vec<Cell>>,
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;

    #[test]
    fn cells_read_in_csv_as_their_values() {
        let due = Utc.with_ymd_and_hms(2017, 1, 15, 16, 0, 0).single().expect("time");
        assert_eq!(Cell::Time(due).to_csv(), "2017-01-16T00:00:00+08:00");
        assert_eq!(Cell::Ratio(0.25).to_csv(), "0.25");
        assert_eq!(Cell::Number(100.0 / 3.0).to_csv().parse::<f64>().ok(), Some(100.0 / 3.0));
        assert_eq!(Cell::Bool(false).to_csv(), "false");
        assert_eq!(Cell::integer(None).to_csv(), "");
        assert_eq!(Cell::text(Some("国务院")).to_csv(), "国务院");
    }
}
