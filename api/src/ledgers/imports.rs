//! Importing a ledger from a spreadsheet: every row placed (resident by
//! ID number, household by address) and checked against the type, all or
//! nothing, with a report of each bad row.

use crate::http::input::Query;
use actix_web::http::header;
use actix_web::web::{Data, Path, Payload};
use actix_web::{HttpRequest, HttpResponse, post};
use chrono::{Duration, NaiveDate};
use onegrid_domain::identity::parse_id_number;
use onegrid_domain::ledger::{FieldDef, FieldType, Subject, check_record};
use onegrid_domain::permissions::Action;
use onegrid_domain::query::TargetQuery;
use onegrid_store::ledgers::{self, LedgerType, NewRecord};
use onegrid_store::registry::households::{self, SensitiveField};
use onegrid_store::targets::{self, On};
use onegrid_store::{Conn, Principal, registry::hierarchy};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::files::{sheet_error, subject_column};
use crate::http::error::{ApiError, ApiResult, Code};
use crate::http::sheets::{self, Cell, Format};
use crate::platform::auth::Caller;
use crate::state::AppState;

/// Import options.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// `true` (default): check every row and report, write nothing.
    pub dry_run: Option<bool>,
}

/// A query to export.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QueryExportBody {
    pub query: TargetQuery,
    pub format: Option<Format>,
}

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

/// Where a row's record goes.
struct Placed {
    grid_id: Uuid,
    resident_id: Option<Uuid>,
    household_id: Option<Uuid>,
}

async fn place(
    c: &mut Conn,
    st: &AppState,
    p: &Principal,
    t: &LedgerType,
    cell: &Cell,
    grids: &std::collections::HashMap<String, Uuid>,
) -> Result<Placed, String> {
    match t.subject() {
        Subject::Resident => {
            let raw = match cell {
                Cell::Text(s) => s.clone(),
                Cell::Number(_) => return Err("the ID number is stored as a number and has lost digits: format the column as text".into()),
                _ => return Err("an ID number is required".into()),
            };
            let id = parse_id_number(&raw, st.clock.today()).map_err(|e| e.to_string())?;
            let found = households::find_residents(
                c,
                &st.keys,
                &p.streets,
                SensitiveField::IdNumber,
                &id.value,
            )
            .await
            .map_err(|e| e.to_string())?;
            match found.as_slice() {
                [r] => Ok(Placed { grid_id: r.grid_id, resident_id: Some(r.id), household_id: None }),
                [] => Err("no resident with this ID number in your scope".into()),
                _ => Err("several residents in your streets have this ID number: add the records one by one".into()),
            }
        }
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
            let grid = grids
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

/// Import ledger records
///
/// Imports a CSV or xlsx file (Content-Type `text/csv` or the xlsx type, at
/// most 5 MB and 20,000 rows). With `dry_run=true` (the default) every row is
/// checked and a row-by-row error report returned; nothing is written. With
/// `dry_run=false` the rows are written only if every row is valid: a failed
/// import writes nothing. An ID number stored as a number has lost digits and
/// is a row error, never silently truncated.
#[utoipa::path(tag = "ledgers", params(("ledger_type_id" = Uuid, Path, description = "Ledger type id"), ImportQuery), request_body(content = String, content_type = "text/csv", description = "CSV or xlsx file"), responses((status = 200, body = ImportReport), (status = 422, body = ImportReport)))]
#[post("/ledger-types/{ledger_type_id}/import")]
pub async fn import(
    state: Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: Path<Uuid>,
    q: Query<ImportQuery>,
    payload: Payload,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let dry_run = q.dry_run.unwrap_or(true);
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let format = if content_type.starts_with("text/csv") {
        Format::Csv
    } else if content_type.starts_with(Format::XLSX_TYPE) {
        Format::Xlsx
    } else {
        return Err(ApiError::new(
            Code::UnsupportedMediaType,
            "send text/csv or an xlsx file",
        ));
    };
    let permitted = crate::http::permit(&state, &caller, Action::LedgerWrite, On::Anywhere).await?;
    let body =
        crate::http::read_body(&req, payload, sheets::MAX_UPLOAD, "files", &permitted).await?;
    let table = sheets::read_off_thread(format, body, sheets::Limits::default())
        .await
        .map_err(sheet_error)?;
    let st = state.clone();
    let report = state
        .checked(caller, Action::LedgerWrite, On::Anywhere, move |c, p, _| {
            Box::pin(async move {
                let t = ledgers::get_type(c, id).await?;
                let fields = t.field_defs();
                let subject_col = subject_column(t.subject());
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
                let grids: std::collections::HashMap<String, Uuid> = hierarchy::grid_codes(c)
                    .await?
                    .into_iter()
                    .map(|(id, code)| (code, id))
                    .collect();
                let mut errors = Vec::new();
                let mut ready = Vec::new();
                for row in &table.rows {
                    let line = row.line;
                    let cell = |at: usize| row.cells.get(at).cloned().unwrap_or(Cell::Empty);
                    let placed = match place(c, &st, &p, &t, &cell(subject_at), &grids).await {
                        Ok(pl) => pl,
                        Err(message) => {
                            errors.push(RowError {
                                row: line,
                                column: subject_col.into(),
                                message,
                            });
                            continue;
                        }
                    };
                    let target = targets::grid(c, &p, placed.grid_id).await?;
                    if !p.can(Action::LedgerWrite, &target) {
                        errors.push(RowError {
                            row: line,
                            column: subject_col.into(),
                            message: "outside the grids you may write".into(),
                        });
                        continue;
                    }
                    let mut data = serde_json::Map::new();
                    let mut row_ok = true;
                    for f in &fields {
                        let Some(at) = position(&f.key) else { continue };
                        match value_of(f, &cell(at)) {
                            Ok(Some(v)) => {
                                data.insert(f.key.clone(), v);
                            }
                            Ok(None) => {}
                            Err(message) => {
                                row_ok = false;
                                errors.push(RowError {
                                    row: line,
                                    column: f.key.clone(),
                                    message,
                                });
                            }
                        }
                    }
                    if !row_ok {
                        continue;
                    }
                    match check_record(&fields, &data) {
                        Ok(valid) if valid.references.is_empty() => {
                            ready.push(NewRecord {
                                street_id: target.street.unwrap_or_default(),
                                ledger_type_id: t.id,
                                grid_id: placed.grid_id,
                                resident_id: placed.resident_id,
                                household_id: placed.household_id,
                                data: Value::Object(valid.data.into_iter().collect()),
                            });
                        }
                        Ok(_) => errors.push(RowError {
                            row: line,
                            column: "data".into(),
                            message: "reference fields are set through the API, not imports".into(),
                        }),
                        Err(invalid) => errors.extend(invalid.into_iter().map(|e| RowError {
                            row: line,
                            column: e.field.trim_start_matches("data.").to_owned(),
                            message: e.message,
                        })),
                    }
                }
                let mut report = ImportReport {
                    dry_run,
                    rows: table.rows.len(),
                    valid: ready.len(),
                    created: 0,
                    errors,
                };
                if !dry_run && report.errors.is_empty() {
                    report.created = ledgers::create_records(c, ready, p.accountable_user())
                        .await?
                        .len();
                }
                Ok(report)
            })
        })
        .await?;
    let status = if report.errors.is_empty() || report.dry_run {
        200
    } else {
        422
    };
    Ok(
        HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap_or_default())
            .json(report),
    )
}
