//! A table as an Excel workbook (rust_xlsxwriter): one worksheet, a bold header row that stays
//! in view (frozen) with filters, sensible column widths, numbers as numbers, yes/no as
//! booleans, and times as date-time cells in China Standard Time.

use chrono::{DateTime, Utc};
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, Worksheet, XlsxError};
use workplan_domain::report::period::CHINA_STANDARD_TIME;
use workplan_domain::{Error, Result};

use super::table::{Cell, Table};

/// The number format of time cells (shown in China Standard Time, as the header says).
const TIME_FORMAT: &str = "yyyy-mm-dd hh:mm:ss";

/// `table` as the bytes of an .xlsx file created at `now` (the document's creation time, so
/// the same table at the same moment gives the same bytes).
pub(crate) fn write(table: &Table, now: DateTime<Utc>) -> Result<Vec<u8>> {
    build(table, now).map_err(Error::internal)
}

fn build(table: &Table, now: DateTime<Utc>) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    // Document properties are in UTC, unlike the cells.
    let created = ExcelDateTime::from_timestamp(now.timestamp())?;
    workbook.set_properties(&DocProperties::new().set_creation_datetime(&created));
    let sheet = workbook.add_worksheet();
    sheet.set_name(&table.sheet)?;
    let formats = Formats {
        header: Format::new().set_bold(),
        time: Format::new().set_num_format(TIME_FORMAT),
        number: Format::new().set_num_format("0.0"),
        ratio: Format::new().set_num_format("0.0%"),
    };
    for (col, column) in (0u16..).zip(&table.columns) {
        sheet.set_column_width(col, column.width)?;
        sheet.write_string_with_format(0, col, column.title, &formats.header)?;
    }
    for (row, cells) in (1u32..).zip(&table.rows) {
        for (col, cell) in (0u16..).zip(cells) {
            write_cell(sheet, row, col, cell, &formats)?;
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    let last_row = u32::try_from(table.rows.len()).unwrap_or(u32::MAX);
    let last_col = u16::try_from(table.columns.len().saturating_sub(1)).unwrap_or(u16::MAX);
    sheet.autofilter(0, 0, last_row, last_col)?;
    workbook.save_to_buffer()
}

/// The cell formats.
struct Formats {
    header: Format,
    time: Format,
    number: Format,
    ratio: Format,
}

fn write_cell(sheet: &mut Worksheet, row: u32, col: u16, cell: &Cell, formats: &Formats) -> Result<(), XlsxError> {
    match cell {
        Cell::Empty => return Ok(()),
        Cell::Text(s) => sheet.write_string(row, col, s)?,
        #[expect(clippy::cast_precision_loss, reason = "counts, task numbers and days far below 2^52")]
        Cell::Integer(n) => sheet.write_number(row, col, *n as f64)?,
        Cell::Number(x) => sheet.write_number_with_format(row, col, *x, &formats.number)?,
        Cell::Ratio(x) => sheet.write_number_with_format(row, col, *x, &formats.ratio)?,
        Cell::Bool(b) => sheet.write_boolean(row, col, *b)?,
        Cell::Time(at) => sheet.write_datetime_with_format(row, col, &excel_time(*at)?, &formats.time)?,
    };
    Ok(())
}

/// `at` as the wall-clock time in China Standard Time (spreadsheet times have no zone).
fn excel_time(at: DateTime<Utc>) -> Result<ExcelDateTime, XlsxError> {
    ExcelDateTime::from_timestamp(at.with_timezone(&CHINA_STANDARD_TIME).naive_local().and_utc().timestamp())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::super::table::Column;
    use super::*;

    #[test]
    fn the_same_table_at_the_same_moment_gives_the_same_bytes() {
        let now = Utc.with_ymd_and_hms(2017, 1, 20, 0, 0, 0).single().expect("time");
        let table = Table {
            sheet: "Reporting matrix 2016-Q4".into(),
            columns: vec![Column { title: "Due at", width: 20.0 }, Column { title: "On time", width: 8.0 }],
            rows: vec![vec![Cell::Time(now), Cell::Bool(true)], vec![Cell::Empty, Cell::Ratio(0.5)]],
        };
        let a = write(&table, now).expect("xlsx");
        assert!(a.starts_with(b"PK"), "a zip file");
        assert_eq!(a, write(&table, now).expect("xlsx"));
    }

    #[test]
    fn a_bad_sheet_name_is_an_internal_error_not_a_panic() {
        let table = Table { sheet: "a/b".into(), columns: vec![], rows: vec![] };
        assert!(matches!(write(&table, Utc::now()), Err(Error::Internal(_))));
    }
}
