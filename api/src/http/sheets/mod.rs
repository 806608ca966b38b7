//! Reading and writing ledger spreadsheets (CSV and xlsx) with hostile files
//! in mind: reading is bounded while it happens (see [`read`]), and
//! formula-looking text is exported inert.

use actix_web::HttpResponse;
use actix_web::http::header;
use rust_xlsxwriter::Workbook;

use crate::http::error::{ApiError, ApiResult, Code};

/// Largest upload.
pub const MAX_UPLOAD: usize = 5 * 1024 * 1024;

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

    /// The format an upload declares in its `Content-Type`; 415 for any other.
    pub fn of_upload(req: &actix_web::HttpRequest) -> ApiResult<Format> {
        let declared = req
            .headers()
            .get(actix_web::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if declared.starts_with("text/csv") {
            Ok(Format::Csv)
        } else if declared.starts_with(Format::XLSX_TYPE) {
            Ok(Format::Xlsx)
        } else {
            Err(ApiError::new(
                Code::UnsupportedMediaType,
                "send text/csv or an xlsx file",
            ))
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }
}

mod read;

pub use read::{Cell, Limits, ReadError, Row, Table, read, read_off_thread};

/// Makes text that a spreadsheet would treat as a formula inert.
pub fn inert(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

/// A sheet as a download named `name` (without extension): written by
/// [`write`], never cached.
pub fn download(
    format: Format,
    name: &str,
    header: &[String],
    rows: &[Vec<String>],
) -> ApiResult<HttpResponse> {
    let bytes = write(format, header, rows).map_err(|e| ApiError::new(Code::Internal, e))?;
    Ok(HttpResponse::Ok()
        .content_type(format.content_type())
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}.{}\"", format.extension()),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(bytes))
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
            let table = read(format, &bytes, &Limits::default()).unwrap();
            assert_eq!(table.header, header);
            assert_eq!(
                table.rows[0].cells[0],
                Cell::Text("11010519491231002X".into())
            );
            assert_eq!(table.rows[0].cells[1], Cell::Text("'=1+1".into()));
            assert_eq!(table.rows[0].line, 2);
        }
    }
}
