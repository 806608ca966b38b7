//! Ledger types (台账类型): the built-in ones and those a street or community
//! adds through the API, without a code change.

use crate::http::input::Json;
use crate::http::input::Query;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, get, patch, post, put};
use chrono::{DateTime, Utc};
use onegrid_domain::ledger::{FieldDef, Sensitivity, Subject, check_fields};
use onegrid_domain::permissions::{Action, Scope};
use onegrid_store::ledgers::{self, LedgerType, LedgerTypeChanges, NewLedgerType};
use onegrid_store::targets::On;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::error::{ApiError, ApiResult, FieldError};
use crate::http::{
    IdempotencyKey, IfMatch, PageQuery, Paged, check_name, double_option, ok_with_etag,
};
use crate::platform::auth::Caller;
use crate::platform::scope_ref::ScopeRef;
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

/// A new ledger type.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLedgerTypeBody {
    #[schema(example = "key_youth")]
    pub code: String,
    #[schema(example = "重点青少年")]
    pub name: String,
    pub description: Option<String>,
    pub subject: Subject,
    pub sensitivity: Sensitivity,
    #[serde(default)]
    pub mask_name: bool,
    /// Default 180.
    #[schema(minimum = 1, maximum = 3650)]
    pub verify_period_days: Option<i32>,
    pub fields: Vec<FieldDef>,
    /// Owner: a street or a community (none = the district; district admins only).
    #[serde(default)]
    pub scope: ScopeRef,
}

/// Changes to a ledger type. Fields may only be added (existing keys keep
/// their type; choice lists may grow).
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LedgerTypePatch {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[schema(minimum = 1, maximum = 3650)]
    pub verify_period_days: Option<i32>,
    pub mask_name: Option<bool>,
    pub active: Option<bool>,
    pub fields: Option<Vec<FieldDef>>,
}

fn field_errors(errors: Vec<onegrid_domain::ledger::Invalid>) -> ApiError {
    ApiError::fields(
        errors
            .into_iter()
            .map(|e| FieldError {
                field: e.field,
                message: e.message,
            })
            .collect(),
    )
}

fn check_period(days: Option<i32>) -> ApiResult<()> {
    match days {
        Some(d) if !(1..=3650).contains(&d) => {
            Err(ApiError::field("verify_period_days", "between 1 and 3650"))
        }
        _ => Ok(()),
    }
}

/// Fields may only be added: every old key stays with its type, choices only grow.
fn check_evolution(old: &[FieldDef], new: &[FieldDef]) -> ApiResult<()> {
    for (i, o) in old.iter().enumerate() {
        match new.iter().find(|n| n.key == o.key) {
            None => {
                return Err(ApiError::field(
                    &format!("fields[{i}]"),
                    format!("{} cannot be removed (retire the type instead)", o.key),
                ));
            }
            Some(n) if n.field_type != o.field_type => {
                return Err(ApiError::field(
                    &format!("fields[{i}].type"),
                    format!("{} keeps its type", o.key),
                ));
            }
            Some(n) if o.choices.iter().any(|c| !n.choices.contains(c)) => {
                return Err(ApiError::field(
                    &format!("fields[{i}].choices"),
                    format!("{} choices can only be added", o.key),
                ));
            }
            Some(n) if n.required && !o.required => {
                return Err(ApiError::field(
                    &format!("fields[{i}].required"),
                    format!("{} cannot become required", o.key),
                ));
            }
            Some(_) => {}
        }
    }
    if new
        .iter()
        .any(|n| n.required && !old.iter().any(|o| o.key == n.key))
    {
        return Err(ApiError::field(
            "fields",
            "added fields cannot be required: existing records lack them",
        ));
    }
    Ok(())
}

/// List ledger types
///
/// The district's built-in types and those of the caller's streets and communities.
#[utoipa::path(tag = "ledgers", params(PageQuery), responses((status = 200, body = Paged<LedgerTypeView>)))]
#[get("/ledger-types")]
pub async fn list_ledger_types(
    state: Data<AppState>,
    caller: Caller,
    page: Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let page = page.request()?;
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
    check_name("name", &body.name, 100)?;
    if let Some(d) = &body.description {
        check_name("description", d, 1000)?;
    }
    if !onegrid_domain::departments::is_valid_department_code(&body.code) {
        return Err(ApiError::field(
            "code",
            "lowercase letters, digits and _, starting with a letter, 2-40 characters",
        ));
    }
    check_period(body.verify_period_days)?;
    check_fields(&body.fields).map_err(field_errors)?;
    let hash = crate::http::request_hash(&body);
    // The owning scope is named in the body: it is found (422 when it is not)
    // and checked in the create.
    state
        .create(
            caller,
            (Action::LedgerTypeManage, On::Anywhere),
            (key, hash),
            move |c, p, _| {
                Box::pin(async move {
                    let scope = body.scope.resolve(c, &p).await?;
                    let (street_id, community_id) = match scope {
                        Scope::District { .. } => (None, None),
                        Scope::Street { street, .. } => (Some(street), None),
                        Scope::Community {
                            street, community, ..
                        } => (Some(street), Some(community)),
                        _ => {
                            return Err(ApiError::field(
                                "scope",
                                "a ledger type belongs to the district, a street or a community",
                            ));
                        }
                    };
                    p.require(Action::LedgerTypeManage, &scope.as_target())?;
                    let new = NewLedgerType {
                        district_id: p.district_id,
                        street_id,
                        community_id,
                        code: body.code,
                        name: body.name,
                        description: body.description,
                        subject: body.subject,
                        sensitivity: body.sensitivity,
                        mask_name: body.mask_name,
                        verify_period_days: body.verify_period_days.unwrap_or(180),
                        fields: body.fields,
                    };
                    let t = ledgers::create_type(c, new).await?;
                    Created::new(
                        LedgerTypeView::from(&t),
                        format!("/api/v1/ledger-types/{}", t.id),
                        Some(t.version),
                    )
                })
            },
        )
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
    if let Some(n) = &body.name {
        check_name("name", n, 100)?;
    }
    if let Some(Some(d)) = &body.description {
        check_name("description", d, 1000)?;
    }
    check_period(body.verify_period_days)?;
    if let Some(f) = &body.fields {
        check_fields(f).map_err(field_errors)?;
    }
    let t = state
        .on_row(
            caller,
            Action::LedgerTypeManage,
            move |c| Box::pin(ledgers::get_type(c, id)),
            move |c, _, current| {
                Box::pin(async move {
                    let version = if_match.version()?;
                    if let Some(f) = &body.fields {
                        check_evolution(&current.field_defs(), f)?;
                    }
                    let changes = LedgerTypeChanges {
                        name: body.name,
                        description: body.description,
                        verify_period_days: body.verify_period_days,
                        mask_name: body.mask_name,
                        active: body.active,
                        fields: body.fields.as_deref().map(ledgers::to_json),
                    };
                    Ok(ledgers::update_type(c, id, version, changes).await?)
                })
            },
        )
        .await?;
    Ok(ok_with_etag(&LedgerTypeView::from(&t), t.version))
}

/// A new sensitivity for a ledger type, and why.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SensitivityChange {
    pub sensitivity: Sensitivity,
    /// Why (at least 5 characters), kept in the audit log.
    #[schema(min_length = 5, max_length = 500)]
    pub reason: String,
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
    if body.reason.trim().chars().count() < 5 {
        return Err(ApiError::field(
            "reason",
            "state why (at least 5 characters)",
        ));
    }
    check_name("reason", &body.reason, 500)?;
    let request_id = crate::http::request_id::current();
    let t = state
        .on_row(
            caller,
            Action::LedgerTypeManage,
            move |c| Box::pin(ledgers::get_type(c, id)),
            move |c, p, current| {
                Box::pin(async move {
                    let version = if_match.version()?;
                    let changed =
                        ledgers::set_sensitivity(c, id, version, body.sensitivity).await?;
                    let event = onegrid_store::platform::audit::Event {
                        street_id: current.street_id,
                        action: "ledger_type.sensitivity",
                        subject_type: "ledger_type",
                        subject_id: Some(current.id),
                        field: Some("sensitivity"),
                        purpose: Some(&body.reason),
                        request_id: &request_id,
                        details: serde_json::json!({
                            "code": current.code,
                            "from": current.sensitivity().as_str(),
                            "to": body.sensitivity.as_str(),
                        }),
                    };
                    onegrid_store::platform::audit::record(c, &p, event).await?;
                    Ok(changed)
                })
            },
        )
        .await?;
    Ok(ok_with_etag(&LedgerTypeView::from(&t), t.version))
}
