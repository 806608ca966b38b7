//! Residents (居民): the registry of a grid, with ID numbers and phones sealed,
//! shown masked, and revealed only with a permission and a stated purpose.

use crate::http::input::Json;
use crate::http::input::Listed;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, get, patch, post};
use chrono::{DateTime, Utc};
use onegrid_domain::identity::{Gender, age_on};
use onegrid_domain::masking::{mask_id_number, mask_phone};
use onegrid_domain::permissions::Action;
use onegrid_store::registry::households::{self, Resident, SensitiveField};
use onegrid_store::targets::{self, On};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::error::ApiResult;
use crate::http::{IdempotencyKey, IfMatch, PageQuery, Paged, ok_with_etag};
use crate::platform::auth::Caller;
use crate::state::{AppState, Created};

use super::residents_use::{
    self, MoveBody, NewResidentBody, ResidentPatch, ResidentRevealBody, Revealed, SearchBody,
};

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
    let sealed = residents_use::check_new(&body, state.clock.today())?;
    let hash = crate::http::request_hash(&serde_json::json!((grid_id, &body)));
    let st = state.clone();
    let on = (Action::RegistryWrite, On::Grid(grid_id));
    state
        .create(caller, on, (key, hash), move |c, _, grid| {
            Box::pin(async move {
                let r = residents_use::register(c, &st.keys, (grid_id, grid), body, sealed).await?;
                let location = format!("/api/v1/residents/{}", r.id);
                Created::new(view(&st, &r), location, Some(r.version))
            })
        })
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
    Listed(_query, page): Listed,
) -> ApiResult<HttpResponse> {
    let grid_id = id.into_inner();
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
    let sealed = residents_use::check_patch(&body, state.clock.today())?;
    let st = state.clone();
    let r = state
        .on_row(
            caller,
            Action::RegistryWrite,
            move |c| Box::pin(targets::resident(c, id)),
            move |c, _, placed| {
                Box::pin(async move {
                    let read = (placed.resident, if_match.version()?);
                    residents_use::update(c, &st.keys, read, body, sealed).await
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
    residents_use::check_move(&body)?;
    let moved = state
        .on_row(
            caller,
            Action::RegistryWrite,
            move |c| Box::pin(targets::resident(c, id)),
            move |c, p, placed| {
                Box::pin(async move { residents_use::move_to(c, &p, placed.resident, body).await })
            },
        )
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
#[utoipa::path(tag = "registry", params(("resident_id" = Uuid, Path, description = "Resident id")), request_body = ResidentRevealBody, responses((status = 200, body = Revealed)))]
#[post("/residents/{resident_id}/reveal")]
pub async fn reveal(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    body: Json<ResidentRevealBody>,
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
                    st.reveals.take(c, p.id(), p.now).await?;
                    let asked = (body, request_id.as_str());
                    residents_use::reveal(c, &p, &st.keys, placed.resident, asked).await
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
    let sought = residents_use::sought(&body.into_inner(), state.clock.today())?;
    let st = state.clone();
    let request_id = crate::http::request_id::current();
    let found = state
        .checked(
            caller,
            Action::RegistryRead,
            On::Anywhere,
            move |c, p, _| {
                Box::pin(async move {
                    residents_use::search(c, &p, &st.keys, sought, &request_id).await
                })
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(found.iter().map(|r| view(&state, r)).collect::<Vec<_>>()))
}
