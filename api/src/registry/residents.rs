//! Residents (居民): the registry of a grid, with ID numbers and phones sealed,
//! shown masked, and revealed only with a permission and a stated purpose.

use crate::http::input::Json;
use crate::http::input::Query;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, get, patch, post};
use chrono::{DateTime, Utc};
use onegrid_domain::identity::{Gender, age_on, normalize_phone, parse_id_number};
use onegrid_domain::masking::{mask_id_number, mask_phone};
use onegrid_domain::permissions::Action;
use onegrid_store::registry::households::{
    self, NewResident, Resident, ResidentChanges, SensitiveField,
};
use onegrid_store::targets::{self, On};
use onegrid_store::{Conn, platform::audit, registry::hierarchy};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::error::{ApiError, ApiResult, Code, reference};
use crate::http::{
    IdempotencyKey, IfMatch, PageQuery, Paged, check_name, double_option, ok_with_etag,
};
use crate::platform::auth::Caller;
use crate::state::{AppState, Created};

/// A resident, with sensitive values masked.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResidentView {
    pub id: Uuid,
    pub street_id: Uuid,
    pub grid_id: Uuid,
    pub household_id: Option<Uuid>,
    /// 与户主关系: head, spouse, child, parent, grandchild, sibling, other.
    pub relation: Option<String>,
    pub name: String,
    /// Derived from the ID number.
    pub gender: Option<Gender>,
    /// Whole years today, derived from the ID number.
    pub age: Option<i32>,
    /// Masked, e.g. `1***************2X`; reveal with `POST /residents/{id}/reveal`.
    #[schema(example = "1***************2X")]
    pub id_number: Option<String>,
    /// Masked, e.g. `138****1234`.
    #[schema(example = "138****1234")]
    pub phone: Option<String>,
    pub tags: Vec<String>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Builds the masked view (an undecryptable value shows as fully masked).
pub fn view(state: &AppState, r: &Resident) -> ResidentView {
    let masked = |field, mask: fn(&str) -> String| match r.open(&state.keys, field) {
        Ok(v) => v.map(|v| mask(&v)),
        Err(_) => r.has(field).then(|| "***".to_owned()),
    };
    ResidentView {
        id: r.id,
        street_id: r.street_id,
        grid_id: r.grid_id,
        household_id: r.household_id,
        relation: r.relation.clone(),
        name: r.name.clone(),
        gender: r.gender.as_deref().and_then(Gender::parse),
        age: r.birth_date.map(|b| age_on(b, state.clock.today())),
        id_number: masked(SensitiveField::IdNumber, mask_id_number),
        phone: masked(SensitiveField::Phone, mask_phone),
        tags: r.tags.clone(),
        version: r.version,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

const RELATIONS: [&str; 7] = [
    "head",
    "spouse",
    "child",
    "parent",
    "grandchild",
    "sibling",
    "other",
];

/// A new resident.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewResidentBody {
    #[schema(example = "张芬")]
    pub name: String,
    pub household_id: Option<Uuid>,
    pub relation: Option<String>,
    /// 18-character citizen ID number (GB 11643); birth date and gender are derived.
    pub id_number: Option<String>,
    pub phone: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
}

/// Changes to a resident; `null` clears a field.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResidentPatch {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub relation: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub household_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub id_number: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    pub tags: Option<Vec<String>>,
}

/// A move to another grid of the street.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveBody {
    pub grid_id: Uuid,
    pub reason: Option<String>,
}

/// A recorded move.
#[derive(Debug, Serialize, ToSchema)]
pub struct MoveView {
    pub id: Uuid,
    pub resident_id: Uuid,
    pub from_grid_id: Uuid,
    pub to_grid_id: Uuid,
    pub reason: Option<String>,
    pub moved_by: Uuid,
    pub moved_at: DateTime<Utc>,
}

impl From<households::Move> for MoveView {
    fn from(m: households::Move) -> Self {
        MoveView {
            id: m.id,
            resident_id: m.resident_id,
            from_grid_id: m.from_grid_id,
            to_grid_id: m.to_grid_id,
            reason: m.reason,
            moved_by: m.moved_by,
            moved_at: m.moved_at,
        }
    }
}

/// Which sensitive field to reveal.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RevealField {
    IdNumber,
    Phone,
}

/// A reveal request: the purpose is written to the audit log.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevealBody {
    pub field: RevealField,
    /// Why the value is needed (5-200 characters), e.g. 低保复核入户核对.
    pub purpose: String,
}

/// A revealed value.
#[derive(Debug, Serialize, ToSchema)]
pub struct Revealed {
    pub resident_id: Uuid,
    pub field: RevealField,
    pub value: Option<String>,
}

/// Exact lookup by a sensitive value (sent in the body, never in a URL).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchBody {
    pub id_number: Option<String>,
    pub phone: Option<String>,
}

/// Valid values of a resident, checked before any database work.
struct Checked {
    id_number: Option<Option<onegrid_domain::identity::IdNumber>>,
    phone: Option<Option<String>>,
}

fn check_id(state: &AppState, raw: &str) -> ApiResult<onegrid_domain::identity::IdNumber> {
    parse_id_number(raw, state.clock.today())
        .map_err(|e| ApiError::field("id_number", e.to_string()))
}

pub(crate) fn check_phone(raw: &str) -> ApiResult<String> {
    normalize_phone(raw).ok_or_else(|| {
        ApiError::field(
            "phone",
            "must be a mobile (11 digits from 1) or a landline (7-12 digits)",
        )
    })
}

fn check_relation(relation: Option<&str>) -> ApiResult<()> {
    match relation {
        Some(r) if !RELATIONS.contains(&r) => Err(ApiError::field(
            "relation",
            format!("one of {}", RELATIONS.join(", ")),
        )),
        _ => Ok(()),
    }
}

fn check_tags(tags: &[String]) -> ApiResult<()> {
    if tags.len() > 20 {
        return Err(ApiError::field("tags", "at most 20 tags"));
    }
    tags.iter().try_for_each(|t| check_name("tags", t, 40))
}

/// 422 unless household `id` exists in `street` (a district user sees several
/// streets; a resident's household is always in the resident's street).
async fn check_household(c: &mut Conn, street: Uuid, id: Uuid) -> ApiResult<()> {
    let household = households::get_household(c, id)
        .await
        .map_err(reference("household_id"))?;
    if household.street_id != street {
        return Err(ApiError::new(
            Code::InvalidReference,
            "household_id does not exist in your scope",
        ));
    }
    Ok(())
}

/// Register a resident
///
/// Records a resident of a grid. An ID number is checked (GB 11643 check
/// digit), its birth date and gender derived, and it is stored only encrypted
/// with a keyed hash for exact lookup; responses show it masked.
#[utoipa::path(tag = "registry", params(("grid_id" = Uuid, Path, description = "Grid id")), request_body = NewResidentBody, responses((status = 201, body = ResidentView)))]
#[post("/grids/{grid_id}/residents")]
pub async fn create_resident(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    key: IdempotencyKey,
    body: Json<NewResidentBody>,
) -> ApiResult<HttpResponse> {
    let grid_id = id.into_inner();
    let body = body.into_inner();
    check_name("name", &body.name, 100)?;
    check_relation(body.relation.as_deref())?;
    check_tags(&body.tags)?;
    let id_number = body
        .id_number
        .as_deref()
        .map(|v| check_id(&state, v))
        .transpose()?;
    let phone = body.phone.as_deref().map(check_phone).transpose()?;
    let hash = crate::http::request_hash(&serde_json::json!((grid_id, &body)));
    let st = state.clone();
    state
        .create(
            caller,
            (Action::RegistryWrite, On::Grid(grid_id)),
            (key, hash),
            move |c, _, target| {
                Box::pin(async move {
                    if let Some(h) = body.household_id {
                        check_household(c, target.street.unwrap_or_default(), h).await?;
                    }
                    let street_id = target.street.unwrap_or_default();
                    let new = NewResident {
                        street_id,
                        grid_id,
                        household_id: body.household_id,
                        relation: body.relation,
                        name: body.name,
                        id_number,
                        phone,
                        tags: body.tags,
                    };
                    let r = households::create_resident(c, &st.keys, new).await?;
                    let location = format!("/api/v1/residents/{}", r.id);
                    Created::new(view(&st, &r), location, Some(r.version))
                })
            },
        )
        .await
}

/// List a grid's residents
///
/// The residents of a grid, masked.
#[utoipa::path(tag = "registry", params(("grid_id" = Uuid, Path, description = "Grid id"), PageQuery), responses((status = 200, body = Paged<ResidentView>)))]
#[get("/grids/{grid_id}/residents")]
pub async fn list_residents(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    page: Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let grid_id = id.into_inner();
    let page = page.request()?;
    let rows = state
        .proven(caller, Action::RegistryRead, On::Grid(grid_id), move |c| {
            Box::pin(async move { households::list_residents(c, grid_id, &page).await })
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(rows, |r| view(&state, &r))))
}

/// Get a resident
///
/// One resident, masked. 404 outside the caller's grids.
#[utoipa::path(tag = "registry", params(("resident_id" = Uuid, Path, description = "Resident id")), responses((status = 200, body = ResidentView)))]
#[get("/residents/{resident_id}")]
pub async fn get_resident(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let r = state
        .load_checked(caller, Action::RegistryRead, move |c| {
            Box::pin(targets::resident(c, id))
        })
        .await?
        .resident;
    Ok(ok_with_etag(&view(&state, &r), r.version))
}

/// Update a resident
///
/// Changes a resident; `null` clears the ID number, phone, relation or
/// household. Requires `If-Match`.
#[utoipa::path(tag = "registry", params(("resident_id" = Uuid, Path, description = "Resident id"), ("If-Match" = String, Header, description = "ETag of the last read")), request_body = ResidentPatch, responses((status = 200, body = ResidentView)))]
#[patch("/residents/{resident_id}")]
pub async fn update_resident(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    if_match: IfMatch,
    body: Json<ResidentPatch>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let body = body.into_inner();
    if let Some(n) = &body.name {
        check_name("name", n, 100)?;
    }
    check_relation(body.relation.clone().flatten().as_deref())?;
    if let Some(t) = &body.tags {
        check_tags(t)?;
    }
    let checked = Checked {
        id_number: body
            .id_number
            .as_ref()
            .map(|v| v.as_deref().map(|v| check_id(&state, v)).transpose())
            .transpose()?,
        phone: body
            .phone
            .as_ref()
            .map(|v| v.as_deref().map(check_phone).transpose())
            .transpose()?,
    };
    let st = state.clone();
    let r = state
        .on_row(
            caller,
            Action::RegistryWrite,
            move |c| Box::pin(targets::resident(c, id)),
            move |c, _, placed| {
                Box::pin(async move {
                    let current = placed.resident;
                    let version = if_match.version()?;
                    if let Some(Some(h)) = body.household_id {
                        check_household(c, current.street_id, h).await?;
                    }
                    let changes = ResidentChanges {
                        name: body.name,
                        relation: body.relation,
                        household_id: body.household_id,
                        id_number: checked.id_number,
                        phone: checked.phone,
                        tags: body.tags,
                    };
                    if version != current.version {
                        return Err(onegrid_store::StoreError::VersionMismatch {
                            current: current.version,
                        }
                        .into());
                    }
                    Ok(
                        households::update_resident(c, &st.keys, &current, version, changes)
                            .await?,
                    )
                })
            },
        )
        .await?;
    Ok(ok_with_etag(&view(&state, &r), r.version))
}

/// Move a resident to another grid
///
/// Moves the resident, and the ledger records about them, to another grid of
/// the same street. The old grid's workers lose access at once; the move is
/// kept in the resident's history.
#[utoipa::path(tag = "registry", params(("resident_id" = Uuid, Path, description = "Resident id")), request_body = MoveBody, responses((status = 200, body = MoveView)))]
#[post("/residents/{resident_id}/move")]
pub async fn move_resident(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    body: Json<MoveBody>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let body = body.into_inner();
    if let Some(r) = &body.reason {
        check_name("reason", r, 200)?;
    }
    let moved = state
        .on_row(caller, Action::RegistryWrite, move |c| Box::pin(targets::resident(c, id)), move |c, p, placed| {
            Box::pin(async move {
                let current = placed.resident;
                let to = hierarchy::get_grid(c, body.grid_id)
                    .await
                    .map_err(reference("grid_id"))?;
                if to.street_id != current.street_id {
                    return Err(ApiError::field(
                        "grid_id",
                        "residents move within their street; another street registers them anew",
                    ));
                }
                if to.id == current.grid_id {
                    return Err(ApiError::field(
                        "grid_id",
                        "the resident already lives in this grid",
                    ));
                }
                let (_, record) = households::move_resident(
                    c,
                    &current,
                    to.id,
                    body.reason,
                    p.accountable_user(),
                )
                .await?;
                Ok(record)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(MoveView::from(moved)))
}

/// A resident's moves
///
/// Every move between grids, oldest first.
#[utoipa::path(tag = "registry", params(("resident_id" = Uuid, Path, description = "Resident id")), responses((status = 200, body = Vec<MoveView>)))]
#[get("/residents/{resident_id}/moves")]
pub async fn list_moves(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let moves = state
        .on_row(
            caller,
            Action::RegistryRead,
            move |c| Box::pin(targets::resident(c, id)),
            move |c, _, _| Box::pin(async move { Ok(households::list_moves(c, id).await?) }),
        )
        .await?;
    Ok(HttpResponse::Ok().json(moves.into_iter().map(MoveView::from).collect::<Vec<_>>()))
}

/// Reveal a sensitive value
///
/// Returns the unmasked ID number or phone. Needs the `resident.reveal`
/// permission over the resident's grid and a stated purpose; at most 30
/// reveals per user per hour. Every reveal writes an audit record (actor,
/// time, resident, field, purpose, request id — never the value).
#[utoipa::path(tag = "registry", params(("resident_id" = Uuid, Path, description = "Resident id")), request_body = RevealBody, responses((status = 200, body = Revealed)))]
#[post("/residents/{resident_id}/reveal")]
pub async fn reveal(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    body: Json<RevealBody>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let body = body.into_inner();
    crate::http::check_purpose(&body.purpose)?;
    let st = state.clone();
    let request_id = crate::http::request_id::current();
    let revealed = state
        .on_row(
            caller,
            Action::ResidentReveal,
            move |c| Box::pin(targets::resident(c, id)),
            move |c, p, placed| {
                Box::pin(async move {
                    let r = placed.resident;
                    st.reveals.take(c, p.id(), p.now).await?;
                    let field = match body.field {
                        RevealField::IdNumber => SensitiveField::IdNumber,
                        RevealField::Phone => SensitiveField::Phone,
                    };
                    let value = r.open(&st.keys, field).map_err(|e| {
                        ApiError::new(
                            Code::Internal,
                            format!("cannot open {}: {e}", field.column()),
                        )
                    })?;
                    let event = audit::Event {
                        street_id: Some(r.street_id),
                        action: "resident.reveal",
                        subject_type: "resident",
                        subject_id: Some(r.id),
                        field: Some(field.column()),
                        purpose: Some(&body.purpose),
                        request_id: &request_id,
                        details: serde_json::json!({}),
                    };
                    audit::record(c, &p, event).await?;
                    Ok(Revealed {
                        resident_id: r.id,
                        field: body.field,
                        value,
                    })
                })
            },
        )
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(revealed))
}

/// Find residents by ID number or phone
///
/// Exact lookup through the keyed hash, within the caller's streets; results
/// are masked and limited to the residents the caller may read. The value
/// travels in the body, never in a URL; the search is audited (without it).
#[utoipa::path(tag = "registry", request_body = SearchBody, responses((status = 200, body = Vec<ResidentView>)))]
#[post("/residents/search")]
pub async fn search(
    state: Data<AppState>,
    caller: Caller,
    body: Json<SearchBody>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let (field, value) = match (&body.id_number, &body.phone) {
        (Some(id), None) => (SensitiveField::IdNumber, check_id(&state, id)?.value),
        (None, Some(phone)) => (SensitiveField::Phone, check_phone(phone)?),
        _ => {
            return Err(ApiError::field(
                "body",
                "give exactly one of id_number, phone",
            ));
        }
    };
    let st = state.clone();
    let request_id = crate::http::request_id::current();
    let found = state
        .checked(caller, Action::RegistryRead, On::Anywhere, move |c, p, _| {
            Box::pin(async move {
                let candidates = households::find_residents(c, &st.keys, &p.streets, field, &value).await?;
                let mut visible = Vec::new();
                for r in candidates {
                    let target = targets::grid(c, &p, r.grid_id).await?;
                    if p.can(Action::RegistryRead, &target) {
                        visible.push(r);
                    }
                }
                let event = audit::Event {
                    street_id: None,
                    action: "resident.search",
                    subject_type: "resident",
                    subject_id: None,
                    field: Some(field.column()),
                    purpose: None,
                    request_id: &request_id,
                    details: serde_json::json!({ "results": visible.iter().map(|r| r.id).collect::<Vec<_>>() }),
                };
                audit::record(c, &p, event).await?;
                Ok(visible)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(found.iter().map(|r| view(&state, r)).collect::<Vec<_>>()))
}
