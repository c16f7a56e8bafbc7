//! A table as CSV: UTF-8 with a byte-order mark (so Excel reads Chinese names and accents
//! correctly), a header row, CRLF line ends, quoting by the `csv` crate.

use workplan_domain::{Error, Result};

use super::table::Table;

/// The UTF-8 byte-order mark.
pub(crate) const BOM: &[u8] = b"\xEF\xBB\xBF";

/// `table` as CSV bytes.
pub(crate) fn write(table: &Table) -> Result<Vec<u8>> {
    let mut writer = ::csv::WriterBuilder::new().terminator(::csv::Terminator::CRLF).from_writer(BOM.to_vec());
    writer.write_record(table.columns.iter().map(|c| c.title)).map_err(Error::internal)?;
    for row in &table.rows {
        writer.write_record(row.iter().map(super::table::Cell::to_csv)).map_err(Error::internal)?;
    }
    writer.into_inner().map_err(|e| Error::internal(std::io::Error::other(e.to_string())))
}

#[cfg(test)]
mod tests {
    use super::super::table::{Cell, Column};
    use super::*;

    #[test]
    fn quotes_what_needs_quoting_after_a_bom() {
        let table = Table {
            sheet: "t".into(),
            columns: vec![Column { title: "Task", width: 6.0 }, Column { title: "Text", width: 40.0 }],
            rows: vec![vec![Cell::Integer(1), Cell::Text("a, \"b\"\nc 国务院".into())]],
        };
        let bytes = write(&table).expect("csv");
        assert!(bytes.starts_with(BOM));
        let text = std::str::from_utf8(&bytes[BOM.len()..]).expect("utf-8");
        assert_eq!(text, "Task,Text\r\n1,\"a, \"\"b\"\"\nc 国务院\"\r\n");
    }
}
