//! The use case of importing a ledger from a spreadsheet: every row placed
//! (resident by ID number, household by id, grid by code) and checked
//! against the type, all or nothing, with a report of each bad row. It
//! knows no HTTP: the file arrives already read into a [`Table`].

use std::collections::HashMap;

use chrono::{Duration, NaiveDate};
use onegrid_domain::identity::parse_id_number;
use onegrid_domain::ledger::{FieldDef, FieldType, Subject, check_record};
use onegrid_domain::permissions::Action;
use onegrid_store::crypto::FieldKeys;
use onegrid_store::ledgers::{self, LedgerType, NewRecord};
use onegrid_store::registry::households::{self, SensitiveField};
use onegrid_store::{Conn, Principal, registry::hierarchy, targets};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::error::{ApiError, ApiResult};
use crate::http::sheets::{Cell, Row, Table};

/// One problem of one row.
#[derive(Debug, Serialize, ToSchema)]
pub struct RowError {
    /// Spreadsheet row number (the header is row 1).
    pub row: usize,
    pub column: String,
    pub message: String,
}

/// The result of an import.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportReport {
    pub dry_run: bool,
    pub rows: usize,
    pub valid: usize,
    /// Records written (0 for a dry run or when any row has an error).
    pub created: usize,
    pub errors: Vec<RowError>,
}

/// The command: a read file for a ledger type, tried or written.
pub struct Import {
    pub ledger_type_id: Uuid,
    pub table: Table,
    /// Check and report only, writing nothing.
    pub dry_run: bool,
}

/// What placing and checking rows needs besides the connection.
struct Sheet<'a> {
    p: &'a Principal,
    keys: &'a FieldKeys,
    today: NaiveDate,
    ledger_type: &'a LedgerType,
    fields: Vec<FieldDef>,
    subject_col: &'static str,
    subject_at: usize,
    /// Column of each field present in the header.
    columns: Vec<(usize, FieldDef)>,
    /// The caller's grids by code.
    grids: HashMap<String, Uuid>,
}

/// Imports `cmd.table` into its ledger type as `p`; writes only when not a
/// dry run and every row is valid.
pub async fn import(
    c: &mut Conn,
    p: &Principal,
    keys: &FieldKeys,
    today: NaiveDate,
    cmd: Import,
) -> ApiResult<ImportReport> {
    let t = ledgers::get_type(c, cmd.ledger_type_id).await?;
    let sheet = Sheet::open(c, p, keys, today, &t, &cmd.table).await?;
    let mut errors = Vec::new();
    let mut ready = Vec::new();
    for row in &cmd.table.rows {
        match sheet.record(c, row).await? {
            Ok(record) => ready.push(record),
            Err(row_errors) => errors.extend(row_errors),
        }
    }
    let mut report = ImportReport {
        dry_run: cmd.dry_run,
        rows: cmd.table.rows.len(),
        valid: ready.len(),
        created: 0,
        errors,
    };
    if !cmd.dry_run && report.errors.is_empty() {
        report.created = ledgers::create_records(c, ready, p.accountable_user())
            .await?
            .len();
    }
    Ok(report)
}

impl<'a> Sheet<'a> {
    /// Checks the header against the type: the subject's column present, no
    /// unknown column.
    async fn open(
        c: &mut Conn,
        p: &'a Principal,
        keys: &'a FieldKeys,
        today: NaiveDate,
        t: &'a LedgerType,
        table: &Table,
    ) -> ApiResult<Sheet<'a>> {
        let fields = t.field_defs();
        let subject_col = t.subject().column();
        let position = |name: &str| table.header.iter().position(|h| h == name);
        let subject_at = position(subject_col).ok_or_else(|| {
            ApiError::field("file", format!("the header lacks the {subject_col} column"))
        })?;
        if let Some(unknown) = table
            .header
            .iter()
            .find(|h| *h != subject_col && !fields.iter().any(|f| &f.key == *h))
        {
            return Err(ApiError::field("file", format!("unknown column {unknown}")));
        }
        let columns = fields
            .iter()
            .filter_map(|f| position(&f.key).map(|at| (at, f.clone())))
            .collect();
        let grids = hierarchy::grid_codes(c)
            .await?
            .into_iter()
            .map(|(id, code)| (code, id))
            .collect();
        Ok(Sheet {
            p,
            keys,
            today,
            ledger_type: t,
            fields,
            subject_col,
            subject_at,
            columns,
            grids,
        })
    }

    /// One row as a record ready to write, or the row's problems.
    async fn record(&self, c: &mut Conn, row: &Row) -> ApiResult<Result<NewRecord, Vec<RowError>>> {
        let line = row.line;
        let cell = |at: usize| row.cells.get(at).cloned().unwrap_or(Cell::Empty);
        let refuse = |column: &str, message: String| {
            vec![RowError {
                row: line,
                column: column.to_owned(),
                message,
            }]
        };
        let placed = match self.place(c, &cell(self.subject_at)).await {
            Ok(placed) => placed,
            Err(message) => return Ok(Err(refuse(self.subject_col, message))),
        };
        let target = targets::grid(c, self.p, placed.grid_id).await?;
        if !self.p.can(Action::LedgerWrite, &target) {
            let message = "outside the grids you may write".to_owned();
            return Ok(Err(refuse(self.subject_col, message)));
        }
        let mut data = serde_json::Map::new();
        let mut errors = Vec::new();
        for (at, f) in &self.columns {
            match value_of(f, &cell(*at)) {
                Ok(Some(v)) => {
                    data.insert(f.key.clone(), v);
                }
                Ok(None) => {}
                Err(message) => errors.extend(refuse(&f.key, message)),
            }
        }
        if !errors.is_empty() {
            return Ok(Err(errors));
        }
        Ok(match check_record(&self.fields, &data) {
            Ok(valid) if valid.references.is_empty() => Ok(NewRecord {
                street_id: target.street.unwrap_or_default(),
                ledger_type_id: self.ledger_type.id,
                grid_id: placed.grid_id,
                resident_id: placed.resident_id,
                household_id: placed.household_id,
                data: Value::Object(valid.data.into_iter().collect()),
            }),
            Ok(_) => Err(refuse(
                "data",
                "reference fields are set through the API, not imports".into(),
            )),
            Err(invalid) => Err(invalid
                .into_iter()
                .map(|e| RowError {
                    row: line,
                    column: e.field.trim_start_matches("data.").to_owned(),
                    message: e.message,
                })
                .collect()),
        })
    }

    /// Where the row with subject cell `cell` goes.
    async fn place(&self, c: &mut Conn, cell: &Cell) -> Result<Placed, String> {
        match self.ledger_type.subject() {
            Subject::Resident => self.place_resident(c, cell).await,
            Subject::Household => {
                let id = text_of(cell)
                    .and_then(|s| Uuid::parse_str(&s).ok())
                    .ok_or("a household id is required")?;
                let h = households::get_household(c, id)
                    .await
                    .map_err(|_| "no such household in your scope".to_owned())?;
                Ok(Placed {
                    grid_id: h.grid_id,
                    resident_id: None,
                    household_id: Some(h.id),
                })
            }
            Subject::None => {
                let code = text_of(cell).ok_or("a 15-digit grid code is required")?;
                let grid = self
                    .grids
                    .get(&code)
                    .ok_or("no grid with this code in your scope")?;
                Ok(Placed {
                    grid_id: *grid,
                    resident_id: None,
                    household_id: None,
                })
            }
        }
    }

    /// The one resident in the caller's streets with the cell's ID number.
    async fn place_resident(&self, c: &mut Conn, cell: &Cell) -> Result<Placed, String> {
        let raw = match cell {
            Cell::Text(s) => s.clone(),
            Cell::Number(_) => return Err("the ID number is stored as a number and has lost digits: format the column as text".into()),
            _ => return Err("an ID number is required".into()),
        };
        let id = parse_id_number(&raw, self.today).map_err(|e| e.to_string())?;
        let found = households::find_residents(
            c,
            self.keys,
            &self.p.streets,
            SensitiveField::IdNumber,
            &id.value,
        )
        .await
        .map_err(|e| e.to_string())?;
        match found.as_slice() {
            [r] => Ok(Placed {
                grid_id: r.grid_id,
                resident_id: Some(r.id),
                household_id: None,
            }),
            [] => Err("no resident with this ID number in your scope".into()),
            _ => Err(
                "several residents in your streets have this ID number: add the records one by one"
                    .into(),
            ),
        }
    }
}

/// Where a row's record goes.
struct Placed {
    grid_id: Uuid,
    resident_id: Option<Uuid>,
    household_id: Option<Uuid>,
}

/// Text of a cell for a text-like column; numbers only when integral.
fn text_of(cell: &Cell) -> Option<String> {
    match cell {
        Cell::Text(s) => Some(s.clone()),
        Cell::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => Some(format!("{}", *n as i64)),
        Cell::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn excel_date(serial: f64) -> Option<NaiveDate> {
    let days = serial.trunc() as i64;
    NaiveDate::from_ymd_opt(1899, 12, 30)?.checked_add_signed(Duration::days(days))
}

/// A cell as the JSON value of a field (validated afterwards like any record).
fn value_of(f: &FieldDef, cell: &Cell) -> Result<Option<Value>, String> {
    if *cell == Cell::Empty {
        return Ok(None);
    }
    Ok(Some(match f.field_type {
        FieldType::Number => match cell {
            Cell::Number(n) => serde_json::json!(n),
            Cell::Text(s) => serde_json::json!(
                s.parse::<f64>()
                    .map_err(|_| "must be a number".to_owned())?
            ),
            _ => return Err("must be a number".into()),
        },
        FieldType::Boolean => match cell {
            Cell::Bool(b) => Value::Bool(*b),
            Cell::Text(s) if ["是", "true", "TRUE", "1", "Y"].contains(&s.as_str()) => {
                Value::Bool(true)
            }
            Cell::Text(s) if ["否", "false", "FALSE", "0", "N"].contains(&s.as_str()) => {
                Value::Bool(false)
            }
            _ => return Err("must be 是/否 or true/false".into()),
        },
        FieldType::Date => match cell {
            Cell::Date(serial) | Cell::Number(serial) => Value::String(
                excel_date(*serial)
                    .ok_or("not a date")?
                    .format("%Y-%m-%d")
                    .to_string(),
            ),
            Cell::Text(s) => Value::String(s.clone()),
            Cell::Bool(_) | Cell::Empty => return Err("must be a date YYYY-MM-DD".into()),
        },
        FieldType::MultiChoice => {
            let text = text_of(cell).ok_or("must be text")?;
            Value::Array(
                text.split(['；', ';', '，', ','])
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| Value::String(s.into()))
                    .collect(),
            )
        }
        _ => Value::String(text_of(cell).ok_or("must be text")?),
    }))
}
