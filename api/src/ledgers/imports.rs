//! Importing a ledger from a spreadsheet (the work is in
//! [`imports_use`](super::imports_use)): the file's type and size checked
//! once the caller is proven, read off the request thread, then placed and
//! checked row by row.

use crate::http::input::Query;
use actix_web::http::StatusCode;
use actix_web::web::{Data, Path, Payload};
use actix_web::{HttpRequest, HttpResponse, post};
use onegrid_domain::permissions::Action;
use onegrid_domain::query::TargetQuery;
use onegrid_store::targets::On;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::files::sheet_error;
use super::imports_use::{self, Import, ImportReport};
use crate::http::error::ApiResult;
use crate::http::sheets::{self, Format};
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
    let format = Format::of_upload(&req)?;
    let permitted = crate::http::permit(&state, &caller, Action::LedgerWrite, On::Anywhere).await?;
    let body =
        crate::http::read_body(&req, payload, sheets::MAX_UPLOAD, "files", &permitted).await?;
    let table = sheets::read_off_thread(format, body, sheets::Limits::default())
        .await
        .map_err(sheet_error)?;
    let cmd = Import {
        ledger_type_id: id.into_inner(),
        table,
        dry_run: q.dry_run.unwrap_or(true),
    };
    let (keys, today) = (state.keys.clone(), state.clock.today());
    let report: ImportReport = state
        .checked(caller, Action::LedgerWrite, On::Anywhere, move |c, p, _| {
            Box::pin(async move { imports_use::import(c, &p, &keys, today, cmd).await })
        })
        .await?;
    let status = if report.errors.is_empty() || report.dry_run {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(HttpResponse::build(status).json(report))
}
