//! Ledger records: added, edited (If-Match), verified ("still true as of
//! today"), retired with a reason (无用删减) and restored; every change kept as
//! a version. Reads follow the ledger's sensitivity: audited ledgers log every
//! read, protected ones need a break-glass grant outside one's scope, closed
//! ones never leave it.

use crate::http::input::Json;
use crate::http::input::Listed;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, get, patch, post};
use onegrid_domain::ledger::RecordStatus;
use onegrid_domain::permissions::Action;
use onegrid_store::ledgers::{self, Change};
use onegrid_store::targets::On;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::record_views::{
    LedgerRecordView, RecordVersionView, checked_data, load_readable, load_writable, resident_of,
    view,
};
use super::records_use::{self, NewRecordBody, RecordSelection};
use crate::http::error::{ApiError, ApiResult, Code};
use crate::http::{IdempotencyKey, IfMatch, Paged, check_name, ok_with_etag};
use crate::platform::auth::Caller;
use crate::state::{AppState, Created};

/// New data for a record.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordPatch {
    #[schema(value_type = Object)]
    pub data: serde_json::Map<String, serde_json::Value>,
}

/// Why a record no longer applies.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetireBody {
    pub reason: String,
}

/// Filters of a record list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RecordQuery {
    pub grid_id: Option<Uuid>,
    /// `active` (default) or `retired`.
    pub status: Option<RecordStatus>,
    pub resident_id: Option<Uuid>,
    pub cursor: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

crate::http::page_params!(RecordQuery);

/// Add a ledger record
///
/// Adds a record to a ledger. Its data is validated against the type's
/// fields: unknown fields, missing required ones, wrong types, choices outside
/// the list and references to another street's objects are 422 with field errors.
#[utoipa::path(tag = "ledgers", params(("ledger_type_id" = Uuid, Path, description = "Ledger type id")), request_body = NewRecordBody, responses((status = 201, body = LedgerRecordView)))]
#[post("/ledger-types/{ledger_type_id}/records")]
pub async fn create_record(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    key: IdempotencyKey,
    body: Json<NewRecordBody>,
) -> ApiResult<HttpResponse> {
    let type_id = id.into_inner();
    let body = body.into_inner();
    let hash = crate::http::request_hash(&serde_json::json!((type_id, &body)));
    let st = state.clone();
    // The record's grid follows from its subject: it is found in the use
    // case and `ledger.write` proven there.
    let on = (Action::LedgerWrite, On::Anywhere);
    state
        .create(caller, on, (key, hash), move |c, p, _| {
            Box::pin(async move {
                let (t, record, resident) = records_use::create(c, &p, type_id, body).await?;
                let location = format!("/api/v1/ledger-records/{}", record.id);
                let version = record.version;
                let view = view(&st, &t, record, resident.as_ref());
                Created::new(view, location, Some(version))
            })
        })
        .await
}

/// List ledger records
///
/// Records of a ledger the caller may read (open and audited ledgers across
/// the street, protected and closed ones within the caller's scope, or where
/// a break-glass grant is live), masked; reads of audited, protected and
/// closed ledgers are logged.
#[utoipa::path(tag = "ledgers", params(("ledger_type_id" = Uuid, Path, description = "Ledger type id"), RecordQuery), responses((status = 200, body = Paged<LedgerRecordView>)))]
#[get("/ledger-types/{ledger_type_id}/records")]
pub async fn list_records(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    Listed(q, page): Listed<RecordQuery>,
) -> ApiResult<HttpResponse> {
    let status = q.status.unwrap_or(RecordStatus::Active);
    let sel = RecordSelection {
        ledger_type_id: id.into_inner(),
        grid_id: q.grid_id,
        status,
        resident_id: q.resident_id,
    };
    let now = state.clock.now();
    let (t, rows, residents) = state
        .checked(caller, Action::LedgerRead, On::Anywhere, move |c, p, _| {
            Box::pin(async move { records_use::list(c, &p, sel, &page, now).await })
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(rows, |r| {
        let resident = r.resident_id.and_then(|id| residents.get(&id));
        view(&state, &t, r, resident)
    })))
}

/// Get a ledger record
///
/// One record, masked; the read is logged for audited, protected and closed ledgers.
#[utoipa::path(tag = "ledgers", params(("ledger_record_id" = Uuid, Path, description = "Ledger record id")), responses((status = 200, body = LedgerRecordView)))]
#[get("/ledger-records/{ledger_record_id}")]
pub async fn get_record(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let now = state.clock.now();
    let (r, t, resident) = state
        .checked(caller, Action::LedgerRead, On::Anywhere, move |c, p, _| {
            Box::pin(async move {
                let (r, t) = load_readable(c, &p, id, now).await?;
                let resident = resident_of(c, &r).await?;
                Ok((r, t, resident))
            })
        })
        .await?;
    let version = r.version;
    Ok(ok_with_etag(
        &view(&state, &t, r, resident.as_ref()),
        version,
    ))
}

async fn apply(
    state: Data<AppState>,
    caller: Caller,
    id: Uuid,
    if_match: IfMatch,
    change: Change,
) -> ApiResult<HttpResponse> {
    let now = state.clock.now();
    let st = state.clone();
    let (r, t, resident) = state
        .checked(caller, Action::LedgerWrite, On::Anywhere, move |c, p, _| {
            Box::pin(async move {
                let (current, t) = load_writable(c, &p, id, now).await?;
                let version = if_match.version()?;
                let change = match change {
                    Change::Edit(serde_json::Value::Object(data)) => {
                        Change::Edit(checked_data(c, &t, current.street_id, &data).await?)
                    }
                    Change::Retire(_) if current.status == RecordStatus::Retired => {
                        return Err(ApiError::new(
                            Code::Conflict,
                            "the record is already retired",
                        ));
                    }
                    Change::Restore if current.status == RecordStatus::Active => {
                        return Err(ApiError::new(Code::Conflict, "the record is active"));
                    }
                    other => other,
                };
                if version != current.version {
                    return Err(onegrid_store::StoreError::VersionMismatch {
                        current: current.version,
                    }
                    .into());
                }
                let r = ledgers::change_record(c, &current, version, change, p.accountable_user())
                    .await?;
                let resident = resident_of(c, &r).await?;
                Ok((r, t, resident))
            })
        })
        .await?;
    let version = r.version;
    Ok(ok_with_etag(&view(&st, &t, r, resident.as_ref()), version))
}

/// Edit a ledger record
///
/// Replaces the record's data (validated like a new record). Requires `If-Match`.
#[utoipa::path(tag = "ledgers", params(("ledger_record_id" = Uuid, Path, description = "Ledger record id"), ("If-Match" = String, Header, description = "ETag of the last read")), request_body = RecordPatch, responses((status = 200, body = LedgerRecordView)))]
#[patch("/ledger-records/{ledger_record_id}")]
pub async fn update_record(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    if_match: IfMatch,
    body: Json<RecordPatch>,
) -> ApiResult<HttpResponse> {
    apply(
        state,
        caller,
        id.into_inner(),
        if_match,
        Change::Edit(serde_json::Value::Object(body.into_inner().data)),
    )
    .await
}

/// Verify a ledger record
///
/// Marks the record "still true as of today". Requires `If-Match`.
#[utoipa::path(tag = "ledgers", params(("ledger_record_id" = Uuid, Path, description = "Ledger record id"), ("If-Match" = String, Header, description = "ETag of the last read")), responses((status = 200, body = LedgerRecordView)))]
#[post("/ledger-records/{ledger_record_id}/verify")]
pub async fn verify_record(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    let at = state.clock.now();
    apply(state, caller, id.into_inner(), if_match, Change::Verify(at)).await
}

/// Retire a ledger record
///
/// 无用删减: the record no longer applies; the reason is kept and the record
/// can be restored. Requires `If-Match`.
#[utoipa::path(tag = "ledgers", params(("ledger_record_id" = Uuid, Path, description = "Ledger record id"), ("If-Match" = String, Header, description = "ETag of the last read")), request_body = RetireBody, responses((status = 200, body = LedgerRecordView)))]
#[post("/ledger-records/{ledger_record_id}/retire")]
pub async fn retire_record(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    if_match: IfMatch,
    body: Json<RetireBody>,
) -> ApiResult<HttpResponse> {
    let reason = body.into_inner().reason;
    check_name("reason", &reason, 200)?;
    apply(
        state,
        caller,
        id.into_inner(),
        if_match,
        Change::Retire(reason),
    )
    .await
}

/// Restore a ledger record
///
/// Brings a retired record back. Requires `If-Match`.
#[utoipa::path(tag = "ledgers", params(("ledger_record_id" = Uuid, Path, description = "Ledger record id"), ("If-Match" = String, Header, description = "ETag of the last read")), responses((status = 200, body = LedgerRecordView)))]
#[post("/ledger-records/{ledger_record_id}/restore")]
pub async fn restore_record(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    apply(state, caller, id.into_inner(), if_match, Change::Restore).await
}

/// A record's versions
///
/// Every kept state of the record with its change, actor and time, oldest first.
#[utoipa::path(tag = "ledgers", params(("ledger_record_id" = Uuid, Path, description = "Ledger record id")), responses((status = 200, body = Vec<RecordVersionView>)))]
#[get("/ledger-records/{ledger_record_id}/versions")]
pub async fn list_versions(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let now = state.clock.now();
    let versions = state
        .checked(caller, Action::LedgerRead, On::Anywhere, move |c, p, _| {
            Box::pin(async move {
                load_readable(c, &p, id, now).await?;
                Ok(ledgers::list_versions(c, id).await?)
            })
        })
        .await?;
    let views: Vec<RecordVersionView> = versions
        .into_iter()
        .map(|v| RecordVersionView {
            version: v.version,
            change: v.change,
            data: v.data,
            status: v.status,
            retired_reason: v.retired_reason,
            grid_id: v.grid_id,
            actor_id: v.actor_id,
            at: v.at,
        })
        .collect();
    Ok(HttpResponse::Ok().json(views))
}
