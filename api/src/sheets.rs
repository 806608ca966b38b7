//! Reading and writing ledger spreadsheets (CSV and xlsx) with hostile files
//! in mind: size and row limits, zip-bomb checks before decompressing, and
//! formula-looking text exported inert.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use rust_xlsxwriter::Workbook;

/// Largest upload.
pub const MAX_UPLOAD: usize = 5 * 1024 * 1024;
/// Most data rows in one import.
pub const MAX_ROWS: usize = 20_000;
/// Most bytes an xlsx may decompress to.
const MAX_UNCOMPRESSED: u64 = 50 * 1024 * 1024;
/// Highest compression ratio of an xlsx part.
const MAX_RATIO: u64 = 100;

/// A file format.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    pub const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xlsx => Self::XLSX_TYPE,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }
}

/// One cell as read.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    Bool(bool),
    /// An Excel date, as its serial number.
    Date(f64),
}

/// A sheet: the header and the data rows.
#[derive(Debug, Clone)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

fn cell_text(s: &str) -> Cell {
    let t = s.trim();
    if t.is_empty() {
        Cell::Empty
    } else {
        Cell::Text(t.to_owned())
    }
}

fn read_csv(bytes: &[u8]) -> Result<Table, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(bytes);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| format!("header: {e}"))?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        if i >= MAX_ROWS {
            return Err(format!("more than {MAX_ROWS} rows"));
        }
        let record = record.map_err(|e| format!("row {}: {e}", i + 2))?;
        rows.push(record.iter().map(cell_text).collect());
    }
    Ok(Table { header, rows })
}

/// Refuses archives that would decompress to too much, before decompressing.
fn check_archive(bytes: &[u8]) -> Result<(), String> {
    let mut archive =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| "not an xlsx file".to_owned())?;
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let entry = archive
            .by_index_raw(i)
            .map_err(|_| "not an xlsx file".to_owned())?;
        let (size, packed) = (entry.size(), entry.compressed_size().max(1));
        total = total.saturating_add(size);
        if size / packed > MAX_RATIO || total > MAX_UNCOMPRESSED {
            return Err("the file decompresses to too much (zip bomb?)".into());
        }
    }
    Ok(())
}

fn read_xlsx(bytes: &[u8]) -> Result<Table, String> {
    check_archive(bytes)?;
    let mut book: Xlsx<_> =
        Xlsx::new(Cursor::new(bytes)).map_err(|e| format!("not a readable xlsx file: {e}"))?;
    let range = book
        .worksheet_range_at(0)
        .ok_or("the workbook has no sheet")?
        .map_err(|e| format!("first sheet: {e}"))?;
    let mut rows = range.rows();
    let header: Vec<String> = rows
        .next()
        .ok_or("the sheet is empty")?
        .iter()
        .map(|c| match c {
            Data::String(s) => s.trim().to_owned(),
            other => other.to_string(),
        })
        .collect();
    let mut out = Vec::new();
    for (i, row) in rows.enumerate() {
        if i >= MAX_ROWS {
            return Err(format!("more than {MAX_ROWS} rows"));
        }
        let cells: Vec<Cell> = row
            .iter()
            .map(|c| match c {
                Data::Empty => Cell::Empty,
                Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => cell_text(s),
                Data::Int(n) => Cell::Number(*n as f64),
                Data::Float(f) => Cell::Number(*f),
                Data::Bool(b) => Cell::Bool(*b),
                Data::DateTime(d) => Cell::Date(d.as_f64()),
                Data::Error(e) => Cell::Text(format!("#{e:?}")),
            })
            .collect();
        if cells.iter().all(|c| *c == Cell::Empty) {
            continue;
        }
        out.push(cells);
    }
    Ok(Table { header, rows: out })
}

/// Reads an upload; the error says what is wrong with the file as a whole.
pub fn read(format: Format, bytes: &[u8]) -> Result<Table, String> {
    if bytes.len() > MAX_UPLOAD {
        return Err(format!("the file is larger than {} bytes", MAX_UPLOAD));
    }
    match format {
        Format::Csv => read_csv(bytes),
        Format::Xlsx => read_xlsx(bytes),
    }
}

/// Makes text that a spreadsheet would treat as a formula inert.
pub fn inert(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

/// Writes a sheet; every cell is text, formula-looking text made inert.
pub fn write(format: Format, header: &[String], rows: &[Vec<String>]) -> Result<Vec<u8>, String> {
    match format {
        Format::Csv => {
            let mut out = b"\xEF\xBB\xBF".to_vec();
            {
                let mut writer = csv::Writer::from_writer(&mut out);
                writer
                    .write_record(header.iter().map(|h| inert(h)))
                    .map_err(|e| e.to_string())?;
                for row in rows {
                    writer
                        .write_record(row.iter().map(|c| inert(c)))
                        .map_err(|e| e.to_string())?;
                }
                writer.flush().map_err(|e| e.to_string())?;
            }
            Ok(out)
        }
        Format::Xlsx => {
            let mut book = Workbook::new();
            let sheet = book.add_worksheet();
            for (col, h) in header.iter().enumerate() {
                let col = u16::try_from(col).map_err(|e| e.to_string())?;
                sheet
                    .write_string(0, col, inert(h))
                    .map_err(|e| e.to_string())?;
            }
            for (r, row) in rows.iter().enumerate() {
                let r = u32::try_from(r + 1).map_err(|e| e.to_string())?;
                for (col, value) in row.iter().enumerate() {
                    let col = u16::try_from(col).map_err(|e| e.to_string())?;
                    sheet
                        .write_string(r, col, inert(value))
                        .map_err(|e| e.to_string())?;
                }
            }
            book.save_to_buffer().map_err(|e| e.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_made_inert() {
        assert_eq!(
            inert("=HYPERLINK(\"http://x\")"),
            "'=HYPERLINK(\"http://x\")"
        );
        assert_eq!(inert("+1"), "'+1");
        assert_eq!(inert("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(inert("张芬"), "张芬");
    }

    #[test]
    fn csv_and_xlsx_round_trip() {
        let header = vec!["id_number".to_owned(), "note".to_owned()];
        let rows = vec![vec!["11010519491231002X".to_owned(), "=1+1".to_owned()]];
        for format in [Format::Csv, Format::Xlsx] {
            let bytes = write(format, &header, &rows).unwrap();
            let table = read(format, &bytes).unwrap();
            assert_eq!(table.header, header);
            assert_eq!(table.rows[0][0], Cell::Text("11010519491231002X".into()));
            assert_eq!(table.rows[0][1], Cell::Text("'=1+1".into()));
        }
    }

    #[test]
    fn garbage_is_refused() {
        assert!(read(Format::Xlsx, b"not a zip").is_err());
        assert!(read(Format::Csv, &vec![b'a'; MAX_UPLOAD + 1]).is_err());
        assert!(read(Format::Csv, b"a,b\n1,2,3\n").is_err());
    }
}
