//! Ledger records: added, edited (If-Match), verified ("still true as of
//! today"), retired with a reason (无用删减) and restored; every change kept as
//! a version. Reads follow the ledger's sensitivity: audited ledgers log every
//! read, protected ones need a break-glass grant outside one's scope, closed
//! ones never leave it.

use std::collections::HashMap;

use crate::http::input::Json;
use crate::http::input::Query;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, get, patch, post};
use chrono::{DateTime, Duration, Utc};
use onegrid_domain::identity::{Gender, age_on};
use onegrid_domain::ledger::{FieldType, Subject, check_record};
use onegrid_domain::masking::{mask_id_number, mask_name};
use onegrid_domain::permissions::{Action, LedgerAccess, Target, ledger_access};
use onegrid_store::ledgers::{self, Change, LedgerRecord, LedgerType, NewRecord, RecordFilter};
use onegrid_store::registry::households::{self, Resident, SensitiveField};
use onegrid_store::{Conn, Principal, ledgers::break_glass, platform::audit, registry::hierarchy};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::http::error::{ApiError, ApiResult, Code, FieldError, reference};
use crate::http::{IdempotencyKey, IfMatch, PageQuery, Paged, check_name, ok_with_etag};
use crate::platform::auth::Caller;
use crate::registry::grids::grid_target;
use crate::state::{AppState, Created, Guard};

/// The resident a record is about, masked as the ledger type asks.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResidentSummary {
    pub id: Uuid,
    /// `张*` when the ledger type masks names.
    pub name: String,
    pub gender: Option<Gender>,
    pub age: Option<i32>,
    /// Always masked.
    pub id_number: Option<String>,
}

/// A ledger record.
#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerRecordView {
    pub id: Uuid,
    pub ledger_type_id: Uuid,
    pub street_id: Uuid,
    pub grid_id: Uuid,
    pub resident: Option<ResidentSummary>,
    pub household_id: Option<Uuid>,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    /// `active` or `retired`.
    pub status: String,
    pub retired_reason: Option<String>,
    pub verified_at: DateTime<Utc>,
    pub verified_by: Option<Uuid>,
    /// Not verified within the type's period.
    pub stale: bool,
    pub version: i32,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One kept state of a record.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordVersionView {
    pub version: i32,
    /// created, edited, verified, retired, restored, moved.
    pub change: String,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    pub status: String,
    pub retired_reason: Option<String>,
    pub grid_id: Uuid,
    pub actor_id: Uuid,
    pub at: DateTime<Utc>,
}

/// A new record.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRecordBody {
    /// Required for ledgers about nothing else; otherwise the resident's or household's grid.
    pub grid_id: Option<Uuid>,
    /// Required for ledgers about residents.
    pub resident_id: Option<Uuid>,
    /// Required for ledgers about households.
    pub household_id: Option<Uuid>,
    #[schema(value_type = Object)]
    pub data: serde_json::Map<String, serde_json::Value>,
}

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
    pub status: Option<String>,
    pub resident_id: Option<Uuid>,
    pub cursor: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

/// A break-glass request.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BreakGlassBody {
    /// The community whose records are needed.
    pub community_id: Uuid,
    /// Why (5-500 characters); the community's admins are told.
    pub reason: String,
}

/// An open break-glass grant.
#[derive(Debug, Serialize, ToSchema)]
pub struct BreakGlassView {
    pub id: Uuid,
    pub ledger_type_id: Uuid,
    pub community_id: Uuid,
    pub reason: String,
    pub granted_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// Community admins notified.
    pub notified: usize,
}

fn summary(state: &AppState, t: &LedgerType, r: &Resident) -> ResidentSummary {
    let id_number = match r.open(&state.keys, SensitiveField::IdNumber) {
        Ok(v) => v.map(|v| mask_id_number(&v)),
        Err(_) => r.has(SensitiveField::IdNumber).then(|| "***".to_owned()),
    };
    ResidentSummary {
        id: r.id,
        name: if t.mask_name {
            mask_name(&r.name)
        } else {
            r.name.clone()
        },
        gender: r.gender.as_deref().and_then(Gender::parse),
        age: r.birth_date.map(|b| age_on(b, state.clock.today())),
        id_number,
    }
}

pub(crate) fn view(
    state: &AppState,
    t: &LedgerType,
    r: LedgerRecord,
    resident: Option<&Resident>,
) -> LedgerRecordView {
    let stale = r.verified_at + Duration::days(i64::from(t.verify_period_days)) < state.clock.now();
    LedgerRecordView {
        id: r.id,
        ledger_type_id: r.ledger_type_id,
        street_id: r.street_id,
        grid_id: r.grid_id,
        resident: resident.map(|res| summary(state, t, res)),
        household_id: r.household_id,
        data: r.data,
        status: r.status,
        retired_reason: r.retired_reason,
        verified_at: r.verified_at,
        verified_by: r.verified_by,
        stale,
        version: r.version,
        created_by: r.created_by,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

/// How a read was allowed (for the audit trail).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Via {
    Scope,
    BreakGlass,
}

/// Checks read access to records of `t` in a grid: 404 when the caller may
/// never see them, 403 `break_glass_required` when a grant would open them.
async fn read_access(
    c: &mut Conn,
    p: &Principal,
    t: &LedgerType,
    grid_id: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<Via> {
    let target = grid_target(c, p, grid_id).await?;
    let community = target.community.unwrap_or_default();
    match ledger_access(&p.grants, t.sensitivity(), &target) {
        LedgerAccess::Allowed => Ok(Via::Scope),
        LedgerAccess::NeedsBreakGlass => {
            if break_glass::live_communities(c, p.accountable_user(), t.id, now)
                .await?
                .contains(&community)
            {
                Ok(Via::BreakGlass)
            } else {
                Err(ApiError::new(
                    Code::BreakGlassRequired,
                    format!("break the glass for {} in this community first", t.code),
                ))
            }
        }
        LedgerAccess::Denied => Err(ApiError::not_found()),
    }
}

pub(crate) async fn audit_read(
    c: &mut Conn,
    p: &Principal,
    t: &LedgerType,
    street: Option<Uuid>,
    ids: Vec<Uuid>,
    via: Via,
) -> ApiResult<()> {
    if !t.sensitivity().audits_reads() && via == Via::Scope {
        return Ok(());
    }
    let request_id = crate::http::request_id::current();
    let event = audit::Event {
        street_id: street,
        action: "ledger.read",
        subject_type: "ledger_record",
        subject_id: (ids.len() == 1).then(|| ids[0]),
        field: None,
        purpose: None,
        request_id: &request_id,
        details: serde_json::json!({ "ledger_type": t.code, "records": ids, "break_glass": via == Via::BreakGlass }),
    };
    Ok(audit::record(c, p, event).await?)
}

/// The grids whose records of `t` the caller may read (`None`: every grid in
/// scope), and whether a break-glass grant opened some of them.
pub(crate) async fn readable_grids(
    c: &mut Conn,
    p: &Principal,
    t: &LedgerType,
    now: DateTime<Utc>,
) -> ApiResult<(Option<Vec<Uuid>>, Via)> {
    let live = break_glass::live_communities(c, p.accountable_user(), t.id, now).await?;
    let mut allowed = Vec::new();
    let mut all = true;
    let mut via = Via::Scope;
    for (grid, street, community) in hierarchy::visible_grids(c).await? {
        let target = Target::grid(p.district_id, street, community, grid);
        match ledger_access(&p.grants, t.sensitivity(), &target) {
            LedgerAccess::Allowed => allowed.push(grid),
            LedgerAccess::NeedsBreakGlass if live.contains(&community) => {
                via = Via::BreakGlass;
                allowed.push(grid);
            }
            _ => all = false,
        }
    }
    Ok((if all { None } else { Some(allowed) }, via))
}

/// Loads a record and its type, checking read access (and auditing the read).
async fn load_readable(
    c: &mut Conn,
    p: &Principal,
    id: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<(LedgerRecord, LedgerType)> {
    let r = ledgers::get_record(c, id).await?;
    let t = ledgers::get_type(c, r.ledger_type_id).await?;
    let via = read_access(c, p, &t, r.grid_id, now).await?;
    audit_read(c, p, &t, Some(r.street_id), vec![r.id], via).await?;
    Ok((r, t))
}

/// Loads a record for a write (404 when unreadable, 403 without `ledger.write`).
async fn load_writable(
    c: &mut Conn,
    p: &Principal,
    id: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<(LedgerRecord, LedgerType)> {
    let r = ledgers::get_record(c, id).await?;
    let t = ledgers::get_type(c, r.ledger_type_id).await?;
    let target = grid_target(c, p, r.grid_id).await?;
    if !p.can(Action::LedgerWrite, &target) {
        read_access(c, p, &t, r.grid_id, now).await?;
        return Err(ApiError::forbidden("ledger.write"));
    }
    Ok((r, t))
}

async fn resident_of(c: &mut Conn, r: &LedgerRecord) -> ApiResult<Option<Resident>> {
    Ok(match r.resident_id {
        Some(id) => Some(households::get_resident(c, id).await?),
        None => None,
    })
}

/// Validates data against the type and checks every reference lies in `street`.
async fn checked_data(
    c: &mut Conn,
    t: &LedgerType,
    street: Uuid,
    data: &serde_json::Map<String, serde_json::Value>,
) -> ApiResult<serde_json::Value> {
    let valid = check_record(&t.field_defs(), data).map_err(|errors| {
        ApiError::fields(
            errors
                .into_iter()
                .map(|e| FieldError {
                    field: e.field,
                    message: e.message,
                })
                .collect(),
        )
    })?;
    for (field, kind, id) in &valid.references {
        let path = format!("data.{field}");
        let found_street = match kind {
            FieldType::Resident => {
                households::get_resident(c, *id)
                    .await
                    .map_err(reference(&path))?
                    .street_id
            }
            FieldType::Household => {
                households::get_household(c, *id)
                    .await
                    .map_err(reference(&path))?
                    .street_id
            }
            _ => {
                ledgers::get_record(c, *id)
                    .await
                    .map_err(reference(&path))?
                    .street_id
            }
        };
        if found_street != street {
            return Err(ApiError::new(
                Code::InvalidReference,
                format!("{path} does not exist in your scope"),
            ));
        }
    }
    Ok(serde_json::Value::Object(valid.data.into_iter().collect()))
}

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
    state
        .create(caller, key, hash, move |c, p| {
            Box::pin(async move {
                let t = ledgers::get_type(c, type_id).await?;
                if !t.active {
                    return Err(ApiError::field(
                        "ledger_type_id",
                        "this ledger type is retired",
                    ));
                }
                let (grid_id, resident) = match t.subject() {
                    Subject::Resident => {
                        let rid = body.resident_id.ok_or_else(|| {
                            ApiError::field("resident_id", "required for this ledger")
                        })?;
                        let r = households::get_resident(c, rid)
                            .await
                            .map_err(reference("resident_id"))?;
                        (r.grid_id, Some(r))
                    }
                    Subject::Household => {
                        let hid = body.household_id.ok_or_else(|| {
                            ApiError::field("household_id", "required for this ledger")
                        })?;
                        (
                            households::get_household(c, hid)
                                .await
                                .map_err(reference("household_id"))?
                                .grid_id,
                            None,
                        )
                    }
                    Subject::None => (
                        body.grid_id.ok_or_else(|| {
                            ApiError::field("grid_id", "required for this ledger")
                        })?,
                        None,
                    ),
                };
                if body.grid_id.is_some_and(|g| g != grid_id) {
                    return Err(ApiError::field(
                        "grid_id",
                        "records about a resident or household live in their grid",
                    ));
                }
                let target = grid_target(c, &p, grid_id).await.map_err(|e| {
                    if e.code == Code::NotFound {
                        ApiError::new(
                            Code::InvalidReference,
                            "grid_id does not exist in your scope",
                        )
                    } else {
                        e
                    }
                })?;
                p.require(Action::LedgerWrite, &target)?;
                let street = target.street.unwrap_or_default();
                let community = target.community.unwrap_or_default();
                if t.street_id.is_some_and(|s| s != street)
                    || t.community_id.is_some_and(|cm| cm != community)
                {
                    return Err(ApiError::field(
                        "ledger_type_id",
                        "this ledger type belongs to another street or community",
                    ));
                }
                let data = checked_data(c, &t, street, &body.data).await?;
                let new = NewRecord {
                    street_id: street,
                    ledger_type_id: t.id,
                    grid_id,
                    resident_id: resident.as_ref().map(|r| r.id),
                    household_id: if t.subject() == Subject::Household {
                        body.household_id
                    } else {
                        None
                    },
                    data,
                };
                let record = ledgers::create_record(c, new, p.accountable_user()).await?;
                let location = format!("/api/v1/ledger-records/{}", record.id);
                let version = record.version;
                Created::new(
                    view(&st, &t, record, resident.as_ref()),
                    location,
                    Some(version),
                )
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
    q: Query<RecordQuery>,
) -> ApiResult<HttpResponse> {
    let type_id = id.into_inner();
    let q = q.into_inner();
    let page = PageQuery {
        cursor: q.cursor,
        limit: q.limit,
    }
    .request()?;
    let status = q.status.unwrap_or_else(|| "active".into());
    if status != "active" && status != "retired" {
        return Err(ApiError::new(
            Code::InvalidParameter,
            "status is active or retired",
        ));
    }
    let now = state.clock.now();
    let st = state.clone();
    let (t, rows, residents) = state
        .run(caller, move |c, p| {
            Box::pin(async move {
                p.require_anywhere(Action::LedgerRead)?;
                let t = ledgers::get_type(c, type_id).await?;
                let (grids, via) = match q.grid_id {
                    Some(g) => (Some(vec![g]), read_access(c, &p, &t, g, now).await?),
                    None => readable_grids(c, &p, &t, now).await?,
                };
                let filter = RecordFilter {
                    grids,
                    status: Some(status),
                    resident_id: q.resident_id,
                };
                let rows = ledgers::list_records(c, t.id, &filter, &page).await?;
                let ids: Vec<Uuid> = rows.items.iter().map(|r| r.id).collect();
                if !ids.is_empty() {
                    audit_read(c, &p, &t, None, ids, via).await?;
                }
                let resident_ids: Vec<Uuid> =
                    rows.items.iter().filter_map(|r| r.resident_id).collect();
                let residents: HashMap<Uuid, Resident> =
                    households::get_residents(c, &resident_ids)
                        .await?
                        .into_iter()
                        .map(|r| (r.id, r))
                        .collect();
                Ok((t, rows, residents))
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(rows, |r| {
        let resident = r.resident_id.and_then(|id| residents.get(&id));
        view(&st, &t, r, resident)
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
        .run(caller, move |c, p| {
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
        .run(caller, move |c, p| {
            Box::pin(async move {
                let (current, t) = load_writable(c, &p, id, now).await?;
                let version = if_match.version()?;
                let change = match change {
                    Change::Edit(serde_json::Value::Object(data)) => {
                        Change::Edit(checked_data(c, &t, current.street_id, &data).await?)
                    }
                    Change::Retire(_) if current.status == "retired" => {
                        return Err(ApiError::new(
                            Code::Conflict,
                            "the record is already retired",
                        ));
                    }
                    Change::Restore if current.status == "active" => {
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
        .run(caller, move |c, p| {
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

/// Break the glass
///
/// Opens a 3-hour grant to read a protected ledger in one community outside
/// the caller's scope, for a stated reason. The grant and every read under it
/// are audited, and the community's admins are notified. Closed ledgers have
/// no break-glass.
#[utoipa::path(tag = "ledgers", params(("ledger_type_id" = Uuid, Path, description = "Ledger type id")), request_body = BreakGlassBody, responses((status = 201, body = BreakGlassView)))]
#[post("/ledger-types/{ledger_type_id}/break-glass")]
pub async fn break_the_glass(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    body: Json<BreakGlassBody>,
) -> ApiResult<HttpResponse> {
    let type_id = id.into_inner();
    let body = body.into_inner();
    if body.reason.trim().chars().count() < 5 {
        return Err(ApiError::field(
            "reason",
            "state why (at least 5 characters)",
        ));
    }
    check_name("reason", &body.reason, 500)?;
    let now = state.clock.now();
    let today = state.clock.today();
    let request_id = crate::http::request_id::current();
    let grant = state
        .run(caller, move |c, p| {
            Box::pin(async move {
                let t = ledgers::get_type(c, type_id).await?;
                let community = hierarchy::get_community(c, body.community_id).await.map_err(reference("community_id"))?;
                let target = Target::community(p.district_id, community.street_id, community.id);
                if t.sensitivity() != onegrid_domain::ledger::Sensitivity::Protected {
                    return Err(ApiError::field("ledger_type_id", "only protected ledgers have a break-glass; open and audited ones need none, closed ones allow none"));
                }
                p.require(Action::BreakGlass, &target)?;
                let user = match p.actor {
                    onegrid_store::scope::Actor::User { user_id, .. } => user_id,
                    onegrid_store::scope::Actor::ApiKey { .. } => return Err(ApiError::forbidden("ledger.break_glass").with_detail("only people break the glass")),
                };
                let grant = break_glass::open(c, community.street_id, community.id, user, t.id, &body.reason, now).await?;
                let event = audit::Event {
                    street_id: Some(community.street_id),
                    action: "ledger.break_glass",
                    subject_type: "ledger_type",
                    subject_id: Some(t.id),
                    field: None,
                    purpose: Some(&body.reason),
                    request_id: &request_id,
                    details: serde_json::json!({ "community_id": community.id, "expires_at": grant.expires_at }),
                };
                audit::record(c, &p, event).await?;
                let notified = break_glass::notify_admins(
                    c,
                    p.district_id,
                    community.street_id,
                    community.id,
                    today,
                    &format!("破窗访问：{}", t.name),
                    serde_json::json!({ "grant_id": grant.id, "user_id": user, "ledger_type": t.code, "reason": body.reason, "expires_at": grant.expires_at }),
                )
                .await?;
                Ok(BreakGlassView {
                    id: grant.id,
                    ledger_type_id: grant.ledger_type_id,
                    community_id: grant.community_id,
                    reason: grant.reason,
                    granted_at: grant.granted_at,
                    expires_at: grant.expires_at,
                    notified,
                })
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(grant))
}
