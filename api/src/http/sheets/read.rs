//! Reading an uploaded sheet with every dimension bounded while it is read:
//! cells stream in one at a time (an xlsx's declared `<dimension>` or a cell
//! at the sheet's far corner is never turned into a rectangle), and rows,
//! columns, cell lengths, total text and time each stop the read the moment
//! they pass their limit. Parsing runs on the blocking pool, a few files at a
//! time, never on the server's request threads.

use std::io::Cursor;
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use calamine::{DataRef, Reader, Xlsx};
use tokio::sync::Semaphore;

use super::{Format, MAX_UPLOAD};

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

/// A data row and its line in the sheet (the header is line 1 of its sheet
/// when it starts at the top).
#[derive(Debug, Clone)]
pub struct Row {
    pub line: usize,
    pub cells: Vec<Cell>,
}

/// A sheet: the header and the non-empty data rows.
#[derive(Debug, Clone)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Row>,
}

/// What one read may take.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Data rows after the header (counted by position, so a cell far below
    /// the rest is refused without reading on).
    pub rows: usize,
    /// Columns, counted from A.
    pub columns: usize,
    /// Characters of one cell.
    pub cell_chars: usize,
    /// Bytes of text over the whole sheet.
    pub text_bytes: usize,
    /// Wall time of the read.
    pub budget: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            rows: 20_000,
            columns: 100,
            cell_chars: 4_000,
            text_bytes: 32 * 1024 * 1024,
            budget: Duration::from_secs(10),
        }
    }
}

/// Most bytes an xlsx may decompress to, over all its parts.
const MAX_UNCOMPRESSED: u64 = 50 * 1024 * 1024;
/// Most bytes the shared strings (loaded whole by the xlsx reader) may take.
const MAX_SHARED_STRINGS: u64 = 8 * 1024 * 1024;
/// Most strings the shared strings may declare: the xlsx reader reserves
/// room for the declared `uniqueCount` before reading one (24 bytes each, so
/// this bounds it to 24 MiB); eight bytes a string is more than 8 MiB holds.
const MAX_SHARED_STRING_COUNT: u64 = MAX_SHARED_STRINGS / 8;
/// Highest compression ratio of an xlsx part.
const MAX_RATIO: u64 = 100;
/// Sheets parsed at once by the whole process.
const PARALLEL_PARSES: usize = 2;
/// How long a read waits for a turn before the server says it is busy.
const QUEUE_WAIT: Duration = Duration::from_secs(5);

static PARSES: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(PARALLEL_PARSES));

/// Why an upload cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// The file itself is at fault (422, with this message).
    File(String),
    /// Too many files are being read right now (503, retry).
    Busy,
}

/// Reads `bytes` on the blocking pool, at most [`PARALLEL_PARSES`] at once.
pub async fn read_off_thread(
    format: Format,
    bytes: Vec<u8>,
    limits: Limits,
) -> Result<Table, ReadError> {
    let permit = tokio::time::timeout(QUEUE_WAIT, PARSES.acquire())
        .await
        .map_err(|_| ReadError::Busy)?
        .map_err(|_| ReadError::Busy)?;
    let table = tokio::task::spawn_blocking(move || read(format, &bytes, &limits))
        .await
        .map_err(|_| ReadError::File("the file could not be read".into()))?;
    drop(permit);
    table.map_err(ReadError::File)
}

/// Reads an upload within `limits`; the error says what is wrong with the file.
pub fn read(format: Format, bytes: &[u8], limits: &Limits) -> Result<Table, String> {
    if bytes.len() > MAX_UPLOAD {
        return Err(format!("the file is larger than {MAX_UPLOAD} bytes"));
    }
    let mut table = Builder::new(limits);
    match format {
        Format::Csv => read_csv(bytes, &mut table)?,
        Format::Xlsx => read_xlsx(bytes, &mut table)?,
    }
    table.finish()
}

fn read_csv(bytes: &[u8], table: &mut Builder<'_>) -> Result<(), String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(false)
        .from_reader(bytes);
    let mut record = csv::StringRecord::new();
    let mut line: u32 = 0;
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => return Ok(()),
            Ok(true) => {}
            Err(e) => return Err(csv_error(&e)),
        }
        if record.len() > table.limits.columns {
            return Err(format!("more than {} columns", table.limits.columns));
        }
        for (col, value) in record.iter().enumerate() {
            let col = u32::try_from(col).map_err(|_| "too many columns".to_owned())?;
            table.put(line, col, text_cell(value))?;
        }
        line = line.saturating_add(1);
    }
}

/// A CSV error by position, without the text it met.
fn csv_error(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            pos, expected_len, ..
        } => format!(
            "row {}: expected {expected_len} fields like the header",
            pos.as_ref().map_or(0, csv::Position::line)
        ),
        csv::ErrorKind::Utf8 { pos, .. } => format!(
            "row {}: not UTF-8 text",
            pos.as_ref().map_or(0, csv::Position::line)
        ),
        _ => "not a readable CSV file".into(),
    }
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
        let shared = entry.name().is_ok_and(|n| is_shared_strings(&n));
        if shared && size > MAX_SHARED_STRINGS {
            return Err("the file's shared strings are too large".into());
        }
    }
    for i in 0..archive.len() {
        let entry = archive
            .by_index(i)
            .map_err(|_| "not an xlsx file".to_owned())?;
        let shared = entry.name().is_ok_and(|n| is_shared_strings(&n));
        if shared && declared_strings(entry)? > MAX_SHARED_STRING_COUNT {
            return Err(format!(
                "the file's shared strings declare more than {MAX_SHARED_STRING_COUNT} strings"
            ));
        }
    }
    Ok(())
}

/// Whatever folder the workbook names, the reader takes its shared strings
/// from a part of this name.
fn is_shared_strings(name: &str) -> bool {
    name.to_ascii_lowercase().ends_with("sharedstrings.xml")
}

/// The `uniqueCount` the shared strings' `<sst>` tag declares (0 if none),
/// read as the xlsx reader reads it; the part is already known to be small.
fn declared_strings(part: impl std::io::Read) -> Result<u64, String> {
    let mut xml = quick_xml::Reader::from_reader(std::io::BufReader::new(part));
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match xml.read_event_into(&mut buf) {
            Ok(quick_xml::events::Event::Start(tag) | quick_xml::events::Event::Empty(tag))
                if tag.local_name().into_inner() == "sst" =>
            {
                let count = tag
                    .attributes()
                    .flatten()
                    .find(|a| a.key.into_inner() == "uniqueCount")
                    .and_then(|a| a.value.trim().parse::<u64>().ok());
                return Ok(count.unwrap_or(0));
            }
            Ok(quick_xml::events::Event::Eof) => return Ok(0),
            Ok(_) => {}
            Err(_) => return Err("the file's shared strings are not readable XML".into()),
        }
    }
}

fn read_xlsx(bytes: &[u8], table: &mut Builder<'_>) -> Result<(), String> {
    check_archive(bytes)?;
    let mut book: Xlsx<_> =
        Xlsx::new(Cursor::new(bytes)).map_err(|_| "not a readable xlsx file".to_owned())?;
    let first = book
        .sheet_names()
        .first()
        .cloned()
        .ok_or("the workbook has no sheet")?;
    let mut cells = book
        .worksheet_cells_reader(&first)
        .map_err(|_| "the first sheet is not readable".to_owned())?;
    while let Some(cell) = cells
        .next_cell()
        .map_err(|_| "the first sheet is not readable".to_owned())?
    {
        let (row, col) = cell.get_position();
        let value = match cell.get_value() {
            DataRef::Empty => continue,
            DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => text_cell(s),
            DataRef::SharedString(s) => text_cell(s),
            DataRef::Int(n) => Cell::Number(*n as f64),
            DataRef::Float(f) => Cell::Number(*f),
            DataRef::Bool(b) => Cell::Bool(*b),
            DataRef::DateTime(d) => Cell::Date(d.as_f64()),
            DataRef::Error(e) => Cell::Text(format!("#{e:?}")),
        };
        table.put(row, col, value)?;
    }
    Ok(())
}

fn text_cell(s: &str) -> Cell {
    let t = s.trim();
    if t.is_empty() {
        Cell::Empty
    } else {
        Cell::Text(t.to_owned())
    }
}

/// Rows built cell by cell, in the order a sheet lists them.
struct Builder<'a> {
    limits: &'a Limits,
    started: Instant,
    header: Option<(u32, Vec<Cell>)>,
    current: Option<(u32, Vec<Cell>)>,
    rows: Vec<Row>,
    text: usize,
    seen: usize,
}

impl<'a> Builder<'a> {
    fn new(limits: &'a Limits) -> Builder<'a> {
        Builder {
            limits,
            started: Instant::now(),
            header: None,
            current: None,
            rows: Vec::new(),
            text: 0,
            seen: 0,
        }
    }

    /// Places one cell; refuses the file once a limit is passed.
    fn put(&mut self, row: u32, col: u32, cell: Cell) -> Result<(), String> {
        self.seen += 1;
        if self.seen.is_multiple_of(1024) && self.started.elapsed() > self.limits.budget {
            return Err(format!(
                "the file took longer than {} s to read",
                self.limits.budget.as_secs()
            ));
        }
        let col = usize::try_from(col).unwrap_or(usize::MAX);
        if col >= self.limits.columns {
            return Err(format!("more than {} columns", self.limits.columns));
        }
        if let Cell::Text(t) = &cell {
            if t.chars().count() > self.limits.cell_chars {
                return Err(format!(
                    "row {}: a cell is longer than {} characters",
                    u64::from(row) + 1,
                    self.limits.cell_chars
                ));
            }
            self.text += t.len();
            if self.text > self.limits.text_bytes {
                return Err(format!(
                    "the file holds more than {} bytes of text",
                    self.limits.text_bytes
                ));
            }
        }
        if cell == Cell::Empty {
            return Ok(());
        }
        match &mut self.current {
            Some((at, cells)) if *at == row => {
                if cells.len() <= col {
                    cells.resize(col + 1, Cell::Empty);
                }
                if let Some(slot) = cells.get_mut(col) {
                    *slot = cell;
                }
                return Ok(());
            }
            Some((at, _)) if *at > row => {
                return Err("the sheet lists its rows out of order".into());
            }
            _ => {}
        }
        self.flush();
        // Rows count by position below the header (the first row with
        // content), so a cell far down is refused before anything else is read.
        if let Some((header_row, _)) = &self.header
            && u64::from(row.saturating_sub(*header_row)) > self.limits.rows as u64
        {
            return Err(format!("more than {} rows", self.limits.rows));
        }
        let mut cells = vec![Cell::Empty; col];
        cells.push(cell);
        self.current = Some((row, cells));
        Ok(())
    }

    /// Ends the current row: the first becomes the header, the others data.
    fn flush(&mut self) {
        let Some((at, cells)) = self.current.take() else {
            return;
        };
        if self.header.is_none() {
            self.header = Some((at, cells));
        } else {
            self.rows.push(Row {
                line: usize::try_from(at).unwrap_or(usize::MAX).saturating_add(1),
                cells,
            });
        }
    }

    fn finish(mut self) -> Result<Table, String> {
        self.flush();
        let (_, header) = self.header.ok_or("the sheet is empty")?;
        let header = header
            .into_iter()
            .map(|c| match c {
                Cell::Empty => String::new(),
                Cell::Text(t) => t,
                Cell::Number(n) | Cell::Date(n) => n.to_string(),
                Cell::Bool(b) => b.to_string(),
            })
            .collect();
        Ok(Table {
            header,
            rows: self.rows,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(text: &str) -> Result<Table, String> {
        read(Format::Csv, text.as_bytes(), &Limits::default())
    }

    #[test]
    fn garbage_is_refused() {
        let limits = Limits::default();
        assert!(read(Format::Xlsx, b"not a zip", &limits).is_err());
        assert!(read(Format::Csv, &vec![b'a'; MAX_UPLOAD + 1], &limits).is_err());
        assert!(csv("a,b\n1,2,3\n").is_err());
        assert!(csv("").is_err(), "no header");
    }

    #[test]
    fn rows_keep_their_lines_and_blank_rows_are_skipped() {
        let t = csv("a,b\n1,2\n,\n3,4\n").unwrap();
        assert_eq!(t.header, ["a", "b"]);
        let lines: Vec<usize> = t.rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, [2, 4]);
    }

    #[test]
    fn every_dimension_is_bounded_while_reading() {
        let small = Limits {
            rows: 2,
            columns: 3,
            cell_chars: 5,
            text_bytes: 25,
            budget: Duration::from_secs(10),
        };
        let read = |text: &str| read(Format::Csv, text.as_bytes(), &small);
        assert!(read("a,b\n1,2\n3,4\n").is_ok());
        assert_eq!(read("a\n1\n2\n3\n").unwrap_err(), "more than 2 rows");
        assert_eq!(
            read("a,b,c,d\n1,2,3,4\n").unwrap_err(),
            "more than 3 columns"
        );
        assert!(read("a\n123456\n").unwrap_err().contains("longer than 5"));
        assert!(
            read("abcde,abcde\nabcde,abcde\nabcde,abcde\n")
                .unwrap_err()
                .contains("bytes of text")
        );
    }

    #[test]
    fn the_declared_count_of_shared_strings_is_read_as_the_xlsx_reader_reads_it() {
        let count = |xml: &str| declared_strings(xml.as_bytes());
        let sst = r#"<?xml version="1.0"?><!-- x --><sst xmlns="urn:x" count="3" uniqueCount="2"><si><t>a</t></si></sst>"#;
        assert_eq!(count(sst), Ok(2));
        assert_eq!(
            count(r#"<x:sst xmlns:x="urn:x" uniqueCount=" 7 "/>"#),
            Ok(7)
        );
        assert_eq!(
            count(r#"<sst count="9"></sst>"#),
            Ok(0),
            "no uniqueCount, no reservation"
        );
        assert_eq!(count(r#"<sst uniqueCount="many"></sst>"#), Ok(0));
        assert!(count("<sst uniqueCount=\"1\"").is_err(), "unreadable XML");
        // Wherever the workbook puts them.
        assert!(is_shared_strings("xl/sharedStrings.xml"));
        assert!(is_shared_strings("book/SHAREDSTRINGS.XML"));
        assert!(!is_shared_strings("xl/styles.xml"));
    }

    #[test]
    fn errors_name_positions_not_contents() {
        let e = csv("a,b\n110105194912310021,2,3\n").unwrap_err();
        assert!(!e.contains("110105194912310021"), "{e}");
    }
}
