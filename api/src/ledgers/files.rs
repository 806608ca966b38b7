//! Ledger spreadsheets: a template per ledger type, imports (a dry run with a
//! row-by-row error report first, then all-or-nothing), and exports of a
//! ledger or of a targeting query, masked, with formula-looking text inert.

use crate::http::input::Json;
use crate::http::input::Query;
use actix_web::http::header;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, get, post};
use onegrid_domain::ledger::RecordStatus;
use onegrid_domain::ledger::Subject;
use onegrid_domain::permissions::Action;
use onegrid_store::ledgers::{self, LedgerRecord, LedgerType};
use onegrid_store::registry::households::{self};
use onegrid_store::targets::On;
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;
use uuid::Uuid;

use super::exports_use::{self, Exported, LedgerSelection};
use super::imports::QueryExportBody;
use crate::http::error::{ApiError, ApiResult, Code};
use crate::http::sheets::{self, Format};
use crate::ledgers::record_views::view;
use crate::platform::auth::Caller;
use crate::state::AppState;

/// The file format.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FormatQuery {
    /// `csv` or `xlsx` (default).
    pub format: Option<Format>,
}

/// Export filters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    pub format: Option<Format>,
    pub grid_id: Option<Uuid>,
    /// `active` (default) or `retired`.
    pub status: Option<RecordStatus>,
}

/// A file refused as a whole: 422 on the `file` field.
pub(crate) fn sheet_error(e: sheets::ReadError) -> ApiError {
    match e {
        sheets::ReadError::File(message) => ApiError::field("file", message),
        sheets::ReadError::Busy => ApiError::new(
            Code::Unavailable,
            "too many files are being read; retry shortly",
        )
        .with_header(header::RETRY_AFTER, crate::http::error::RETRY_UNAVAILABLE),
    }
}

/// Columns of a type's template and exports.
fn columns(t: &LedgerType) -> Vec<String> {
    let mut cols = vec![t.subject().column().to_owned()];
    cols.extend(t.field_defs().into_iter().map(|f| f.key));
    cols
}

/// Download an import template
///
/// The columns an import of this ledger expects: how a row names its subject
/// (`id_number` of a resident, `household_id`, or the 15-digit `grid_code`),
/// then one column per field key. Format ID numbers as text in Excel.
#[utoipa::path(tag = "ledgers", params(("ledger_type_id" = Uuid, Path, description = "Ledger type id"), FormatQuery), responses((status = 200, description = "The template file", content((String = "text/csv"), (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))))]
#[get("/ledger-types/{ledger_type_id}/template")]
pub async fn template(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    q: Query<FormatQuery>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let format = q.format.unwrap_or(Format::Xlsx);
    let t = state
        .proven(caller, Action::LedgerWrite, On::Anywhere, move |c| {
            Box::pin(async move { ledgers::get_type(c, id).await })
        })
        .await?;
    sheets::download(format, &format!("{}-template", t.code), &columns(&t), &[])
}

fn record_row(
    state: &AppState,
    t: &LedgerType,
    r: LedgerRecord,
    resident: Option<&households::Resident>,
    codes: &std::collections::HashMap<Uuid, String>,
) -> Vec<String> {
    let grid_code = codes.get(&r.grid_id).cloned().unwrap_or_default();
    let v = view(state, t, r, resident);
    let subject = match t.subject() {
        Subject::Resident => v
            .resident
            .as_ref()
            .map(|s| format!("{} {}", s.name, s.id_number.clone().unwrap_or_default()))
            .unwrap_or_default(),
        Subject::Household => v.household_id.map(|h| h.to_string()).unwrap_or_default(),
        Subject::None => grid_code.clone(),
    };
    let mut row = vec![subject, grid_code];
    for f in t.field_defs() {
        row.push(match v.data.get(&f.key) {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(Value::Array(a)) => a
                .iter()
                .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned))
                .collect::<Vec<_>>()
                .join("；"),
            Some(other) => other.to_string(),
        });
    }
    row.push(v.status.to_string());
    row.push(v.verified_at.format("%Y-%m-%d").to_string());
    row
}

fn export_header(t: &LedgerType) -> Vec<String> {
    let subject = match t.subject() {
        Subject::Resident => "resident",
        Subject::Household => "household_id",
        Subject::None => "grid_code",
    };
    let mut h = vec![subject.to_owned(), "grid".to_owned()];
    h.extend(t.field_defs().into_iter().map(|f| f.key));
    h.push("status".into());
    h.push("verified_at".into());
    h
}

/// The sheet of an export: masked like the API, one row per record.
fn sheet(
    state: &AppState,
    exported: Exported,
    format: Format,
    name: &str,
) -> ApiResult<HttpResponse> {
    let (t, records, residents, codes) = exported;
    let rows: Vec<Vec<String>> = records
        .into_iter()
        .map(|r| {
            let resident = r.resident_id.and_then(|id| residents.get(&id));
            record_row(state, &t, r, resident, &codes)
        })
        .collect();
    sheets::download(
        format,
        &format!("{}{name}", t.code),
        &export_header(&t),
        &rows,
    )
}

/// Export a ledger
///
/// The ledger's records the caller may read, as CSV or xlsx: masked like the
/// API, formula-looking text made inert. The export is audited like a read.
#[utoipa::path(tag = "ledgers", params(("ledger_type_id" = Uuid, Path, description = "Ledger type id"), ExportQuery), responses((status = 200, description = "The export file", content((String = "text/csv"), (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))))]
#[get("/ledger-types/{ledger_type_id}/export")]
pub async fn export(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    q: Query<ExportQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    let sel = LedgerSelection {
        ledger_type_id: id.into_inner(),
        grid_id: q.grid_id,
        status: q.status.unwrap_or(RecordStatus::Active),
    };
    let now = state.clock.now();
    let exported = state
        .checked(caller, Action::LedgerRead, On::Anywhere, move |c, p, _| {
            Box::pin(async move { exports_use::ledger(c, &p, sel, now).await })
        })
        .await?;
    sheet(&state, exported, q.format.unwrap_or(Format::Xlsx), "")
}

/// Export a targeting query
///
/// Runs a targeting query and returns all its results (up to 50,000) as CSV
/// or xlsx, masked and audited like a read.
#[utoipa::path(tag = "ledgers", request_body = QueryExportBody, responses((status = 200, description = "The export file", content((String = "text/csv"), (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))))]
#[post("/ledger-queries/export")]
pub async fn export_query(
    state: Data<AppState>,
    caller: Caller,
    body: Json<QueryExportBody>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let format = body.format.unwrap_or(Format::Xlsx);
    let at = (state.clock.now(), state.clock.today());
    let exported = state
        .checked(caller, Action::LedgerRead, On::Anywhere, move |c, p, _| {
            Box::pin(async move { exports_use::query(c, &p, &body.query, at).await })
        })
        .await?;
    sheet(&state, exported, format, "-query")
}
