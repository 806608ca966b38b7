//! Ledger types (台账类型): the built-in ones and those a street or community
//! adds through the API, without a code change.

use crate::http::input::Json;
use crate::http::input::Listed;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, get, patch, post, put};
use chrono::{DateTime, Utc};
use onegrid_domain::ledger::{FieldDef, Sensitivity, Subject};
use onegrid_domain::permissions::Action;
use onegrid_store::ledgers::{self, LedgerType};
use onegrid_store::targets::On;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::types_use::{self, LedgerTypePatch, NewLedgerTypeBody, SensitivityChange};
use crate::http::error::ApiResult;
use crate::http::{IdempotencyKey, IfMatch, PageQuery, Paged, ok_with_etag};
use crate::platform::auth::Caller;
use crate::state::{AppState, Created};

/// A ledger type.
#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerTypeView {
    pub id: Uuid,
    /// e.g. `veterans`, `low_income`; unique among the types one street sees.
    pub code: String,
    pub name: String,
    pub description: Option<String>,
    pub subject: Subject,
    pub sensitivity: Sensitivity,
    /// Names of the records' residents are shown as `张*`.
    pub mask_name: bool,
    /// Records not verified within this many days are stale.
    pub verify_period_days: i32,
    pub fields: Vec<FieldDef>,
    pub built_in: bool,
    pub active: bool,
    /// Owner: absent for district-wide types.
    pub street_id: Option<Uuid>,
    pub community_id: Option<Uuid>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&LedgerType> for LedgerTypeView {
    fn from(t: &LedgerType) -> Self {
        LedgerTypeView {
            id: t.id,
            code: t.code.clone(),
            name: t.name.clone(),
            description: t.description.clone(),
            subject: t.subject(),
            sensitivity: t.sensitivity(),
            mask_name: t.mask_name,
            verify_period_days: t.verify_period_days,
            fields: t.field_defs(),
            built_in: t.built_in,
            active: t.active,
            street_id: t.street_id,
            community_id: t.community_id,
            version: t.version,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

/// List ledger types
///
/// The district's built-in types and those of the caller's streets and communities.
#[utoipa::path(tag = "ledgers", params(PageQuery), responses((status = 200, body = Paged<LedgerTypeView>)))]
#[get("/ledger-types")]
pub async fn list_ledger_types(
    state: Data<AppState>,
    caller: Caller,
    Listed(_query, page): Listed,
) -> ApiResult<HttpResponse> {
    let rows = state
        .proven(caller, Action::LedgerRead, On::Anywhere, move |c| {
            Box::pin(async move { ledgers::list_types(c, &page).await })
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(rows, |t| LedgerTypeView::from(&t))))
}

/// Add a ledger type
///
/// Adds a ledger type for a street or community (or the district): its
/// fields (text, number, date, boolean, single/multi choice, references to
/// residents, households or organisations), required flags, choices, and its
/// sensitivity (open, audited, protected, closed). No code change needed.
#[utoipa::path(tag = "ledgers", request_body = NewLedgerTypeBody, responses((status = 201, body = LedgerTypeView)))]
#[post("/ledger-types")]
pub async fn create_ledger_type(
    state: Data<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    body: Json<NewLedgerTypeBody>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    types_use::check_new(&body)?;
    let hash = crate::http::request_hash(&body);
    // The owning scope is named in the body: it is found (422 when it is not)
    // and checked in the use case.
    let on = (Action::LedgerTypeManage, On::Anywhere);
    state
        .create(caller, on, (key, hash), move |c, p, _| {
            Box::pin(async move {
                let t = types_use::create(c, &p, body).await?;
                let location = format!("/api/v1/ledger-types/{}", t.id);
                Created::new(LedgerTypeView::from(&t), location, Some(t.version))
            })
        })
        .await
}

/// Get a ledger type
///
/// One ledger type with its field definitions.
#[utoipa::path(tag = "ledgers", params(("ledger_type_id" = Uuid, Path, description = "Ledger type id")), responses((status = 200, body = LedgerTypeView)))]
#[get("/ledger-types/{ledger_type_id}")]
pub async fn get_ledger_type(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let t = state
        .proven(caller, Action::LedgerRead, On::Anywhere, move |c| {
            Box::pin(async move { ledgers::get_type(c, id).await })
        })
        .await?;
    Ok(ok_with_etag(&LedgerTypeView::from(&t), t.version))
}

/// Evolve a ledger type
///
/// Renames, describes, (de)activates a type or adds fields; existing fields
/// keep their key and type and choice lists only grow, so existing records
/// stay valid. Built-in types change only in the district. Requires `If-Match`.
#[utoipa::path(tag = "ledgers", params(("ledger_type_id" = Uuid, Path, description = "Ledger type id"), ("If-Match" = String, Header, description = "ETag of the last read")), request_body = LedgerTypePatch, responses((status = 200, body = LedgerTypeView)))]
#[patch("/ledger-types/{ledger_type_id}")]
pub async fn update_ledger_type(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    if_match: IfMatch,
    body: Json<LedgerTypePatch>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let body = body.into_inner();
    types_use::check_patch(&body)?;
    let t = state
        .on_row(
            caller,
            Action::LedgerTypeManage,
            move |c| Box::pin(ledgers::get_type(c, id)),
            move |c, _, current| {
                Box::pin(async move {
                    let version = if_match.version()?;
                    types_use::update(c, &current, version, body).await
                })
            },
        )
        .await?;
    Ok(ok_with_etag(&LedgerTypeView::from(&t), t.version))
}

/// Change a ledger type's sensitivity
///
/// Who reads the type's records: `open` and `audited` ledgers street-wide,
/// `protected` ones in the reader's own grids (elsewhere by breaking the
/// glass), `closed` ones in their own grids only. Built-in types are the
/// district's to change. The change, with its reason and the levels before
/// and after, is in the audit log (`ledger_type.sensitivity`). Requires
/// `If-Match`.
#[utoipa::path(tag = "ledgers", params(("ledger_type_id" = Uuid, Path, description = "Ledger type id"), ("If-Match" = String, Header, description = "ETag of the last read")), request_body = SensitivityChange, responses((status = 200, body = LedgerTypeView)))]
#[put("/ledger-types/{ledger_type_id}/sensitivity")]
pub async fn set_sensitivity(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    if_match: IfMatch,
    body: Json<SensitivityChange>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let body = body.into_inner();
    types_use::check_sensitivity(&body)?;
    let request_id = crate::http::request_id::current();
    let t = state
        .on_row(
            caller,
            Action::LedgerTypeManage,
            move |c| Box::pin(ledgers::get_type(c, id)),
            move |c, p, current| {
                Box::pin(async move {
                    let at = (&current, if_match.version()?);
                    types_use::change_sensitivity(c, &p, at, body, &request_id).await
                })
            },
        )
        .await?;
    Ok(ok_with_etag(&LedgerTypeView::from(&t), t.version))
}
