//! Buildings (楼栋), units (单元), dwellings (户) and households of a grid.

use crate::http::input::Json;
use crate::http::input::Listed;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, get, post};
use chrono::{DateTime, Utc};
use onegrid_domain::permissions::Action;
use onegrid_store::registry::households::{self, Building, Dwelling, Household, Unit};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::error::{ApiError, ApiResult};
use crate::http::{IdempotencyKey, PageQuery, Paged, check_name};
use crate::platform::auth::Caller;
use crate::registry::residents::{ResidentView, view as resident_view};
use crate::state::{AppState, Created};

use super::households_use::{self, HouseholdBody};
use onegrid_store::targets::{self, On};

/// A building of a grid.
#[derive(Debug, Serialize, ToSchema)]
pub struct BuildingView {
    pub id: Uuid,
    pub grid_id: Uuid,
    /// e.g. 3号楼.
    pub name: String,
    pub address: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<Building> for BuildingView {
    fn from(b: Building) -> Self {
        BuildingView {
            id: b.id,
            grid_id: b.grid_id,
            name: b.name,
            address: b.address,
            created_at: b.created_at,
        }
    }
}

/// A unit (entrance) of a building.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnitView {
    pub id: Uuid,
    pub building_id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

impl From<Unit> for UnitView {
    fn from(u: Unit) -> Self {
        UnitView {
            id: u.id,
            building_id: u.building_id,
            name: u.name,
            created_at: u.created_at,
        }
    }
}

/// A dwelling of a unit.
#[derive(Debug, Serialize, ToSchema)]
pub struct DwellingView {
    pub id: Uuid,
    pub unit_id: Uuid,
    pub grid_id: Uuid,
    /// e.g. 502.
    pub number: String,
    pub created_at: DateTime<Utc>,
}

impl From<Dwelling> for DwellingView {
    fn from(d: Dwelling) -> Self {
        DwellingView {
            id: d.id,
            unit_id: d.unit_id,
            grid_id: d.grid_id,
            number: d.number,
            created_at: d.created_at,
        }
    }
}

/// A household, with its members when read one by one.
#[derive(Debug, Serialize, ToSchema)]
pub struct HouseholdView {
    pub id: Uuid,
    pub grid_id: Uuid,
    pub dwelling_id: Option<Uuid>,
    pub address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub members: Option<Vec<ResidentView>>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
}

fn household_view(h: Household, members: Option<Vec<ResidentView>>) -> HouseholdView {
    HouseholdView {
        id: h.id,
        grid_id: h.grid_id,
        dwelling_id: h.dwelling_id,
        address: h.address,
        members,
        version: h.version,
        created_at: h.created_at,
    }
}

/// A named thing (building or unit).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NamedBody {
    pub name: String,
    pub address: Option<String>,
}

/// A new dwelling.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DwellingBody {
    pub number: String,
}

/// Add a building
///
/// Records a building (楼栋) of a grid.
#[utoipa::path(tag = "registry", params(("grid_id" = Uuid, Path, description = "Grid id")), request_body = NamedBody, responses((status = 201, body = BuildingView)))]
#[post("/grids/{grid_id}/buildings")]
pub async fn create_building(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    key: IdempotencyKey,
    body: Json<NamedBody>,
) -> ApiResult<HttpResponse> {
    let grid_id = id.into_inner();
    let body = body.into_inner();
    check_name("name", &body.name, 100)?;
    if let Some(a) = &body.address {
        check_name("address", a, 200)?;
    }
    let hash = crate::http::request_hash(&serde_json::json!((grid_id, &body)));
    state
        .create(
            caller,
            (Action::RegistryWrite, On::Grid(grid_id)),
            (key, hash),
            move |c, _, target| {
                Box::pin(async move {
                    let b = households::create_building(
                        c,
                        target.street.unwrap_or_default(),
                        grid_id,
                        &body.name,
                        body.address.as_deref(),
                    )
                    .await?;
                    Created::new(
                        BuildingView::from(b),
                        format!("/api/v1/grids/{grid_id}/buildings"),
                        None,
                    )
                })
            },
        )
        .await
}

/// List a grid's buildings
///
/// The buildings of a grid, by name.
#[utoipa::path(tag = "registry", params(("grid_id" = Uuid, Path, description = "Grid id")), responses((status = 200, body = Vec<BuildingView>)))]
#[get("/grids/{grid_id}/buildings")]
pub async fn list_buildings(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let grid_id = id.into_inner();
    let rows = state
        .proven(caller, Action::RegistryRead, On::Grid(grid_id), move |c| {
            Box::pin(async move { households::list_buildings(c, grid_id).await })
        })
        .await?;
    Ok(HttpResponse::Ok().json(rows.into_iter().map(BuildingView::from).collect::<Vec<_>>()))
}

/// Add a unit
///
/// Records a unit (单元) of a building.
#[utoipa::path(tag = "registry", params(("building_id" = Uuid, Path, description = "Building id")), request_body = NamedBody, responses((status = 201, body = UnitView)))]
#[post("/buildings/{building_id}/units")]
pub async fn create_unit(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    key: IdempotencyKey,
    body: Json<NamedBody>,
) -> ApiResult<HttpResponse> {
    let building_id = id.into_inner();
    let body = body.into_inner();
    check_name("name", &body.name, 100)?;
    if body.address.is_some() {
        return Err(ApiError::field(
            "address",
            "units have no address of their own",
        ));
    }
    let hash = crate::http::request_hash(&serde_json::json!((building_id, &body)));
    state
        .create(
            caller,
            (Action::RegistryWrite, On::Building(building_id)),
            (key, hash),
            move |c, _, _| {
                Box::pin(async move {
                    let b = households::get_building(c, building_id).await?;
                    let u = households::create_unit(c, &b, &body.name).await?;
                    Created::new(
                        UnitView::from(u),
                        format!("/api/v1/buildings/{building_id}/units"),
                        None,
                    )
                })
            },
        )
        .await
}

/// List a building's units
///
/// The units of a building, by name.
#[utoipa::path(tag = "registry", params(("building_id" = Uuid, Path, description = "Building id")), responses((status = 200, body = Vec<UnitView>)))]
#[get("/buildings/{building_id}/units")]
pub async fn list_units(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let building_id = id.into_inner();
    let rows = state
        .proven(
            caller,
            Action::RegistryRead,
            On::Building(building_id),
            move |c| Box::pin(async move { households::list_units(c, building_id).await }),
        )
        .await?;
    Ok(HttpResponse::Ok().json(rows.into_iter().map(UnitView::from).collect::<Vec<_>>()))
}

/// Add a dwelling
///
/// Records a dwelling (户) of a unit.
#[utoipa::path(tag = "registry", params(("unit_id" = Uuid, Path, description = "Unit id")), request_body = DwellingBody, responses((status = 201, body = DwellingView)))]
#[post("/units/{unit_id}/dwellings")]
pub async fn create_dwelling(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    key: IdempotencyKey,
    body: Json<DwellingBody>,
) -> ApiResult<HttpResponse> {
    let unit_id = id.into_inner();
    let body = body.into_inner();
    check_name("number", &body.number, 40)?;
    let hash = crate::http::request_hash(&serde_json::json!((unit_id, &body)));
    state
        .create(
            caller,
            (Action::RegistryWrite, On::Unit(unit_id)),
            (key, hash),
            move |c, _, target| {
                Box::pin(async move {
                    let u = households::get_unit(c, unit_id).await?;
                    let grid_id = target.grid.unwrap_or_default();
                    let d = households::create_dwelling(c, &u, grid_id, &body.number).await?;
                    Created::new(
                        DwellingView::from(d),
                        format!("/api/v1/units/{unit_id}/dwellings"),
                        None,
                    )
                })
            },
        )
        .await
}

/// List a unit's dwellings
///
/// The dwellings of a unit, by number.
#[utoipa::path(tag = "registry", params(("unit_id" = Uuid, Path, description = "Unit id")), responses((status = 200, body = Vec<DwellingView>)))]
#[get("/units/{unit_id}/dwellings")]
pub async fn list_dwellings(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let unit_id = id.into_inner();
    let rows = state
        .proven(caller, Action::RegistryRead, On::Unit(unit_id), move |c| {
            Box::pin(async move { households::list_dwellings(c, unit_id).await })
        })
        .await?;
    Ok(HttpResponse::Ok().json(rows.into_iter().map(DwellingView::from).collect::<Vec<_>>()))
}

/// Add a household
///
/// Records a household of a grid, optionally at a dwelling of the same grid.
#[utoipa::path(tag = "registry", params(("grid_id" = Uuid, Path, description = "Grid id")), request_body = HouseholdBody, responses((status = 201, body = HouseholdView)))]
#[post("/grids/{grid_id}/households")]
pub async fn create_household(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    key: IdempotencyKey,
    body: Json<HouseholdBody>,
) -> ApiResult<HttpResponse> {
    let grid_id = id.into_inner();
    let body = body.into_inner();
    households_use::check_new(&body)?;
    let hash = crate::http::request_hash(&serde_json::json!((grid_id, &body)));
    let on = (Action::RegistryWrite, On::Grid(grid_id));
    state
        .create(caller, on, (key, hash), move |c, _, grid| {
            Box::pin(async move {
                let h = households_use::record(c, (grid_id, grid), body).await?;
                let location = format!("/api/v1/households/{}", h.id);
                let version = h.version;
                Created::new(household_view(h, None), location, Some(version))
            })
        })
        .await
}

/// List a grid's households
///
/// The households of a grid, in creation order.
#[utoipa::path(tag = "registry", params(("grid_id" = Uuid, Path, description = "Grid id"), PageQuery), responses((status = 200, body = Paged<HouseholdView>)))]
#[get("/grids/{grid_id}/households")]
pub async fn list_households(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    Listed(_query, page): Listed,
) -> ApiResult<HttpResponse> {
    let grid_id = id.into_inner();
    let rows = state
        .proven(caller, Action::RegistryRead, On::Grid(grid_id), move |c| {
            Box::pin(async move { households::list_households(c, grid_id, &page).await })
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(rows, |h| household_view(h, None))))
}

/// Get a household
///
/// One household with its members (masked).
#[utoipa::path(tag = "registry", params(("household_id" = Uuid, Path, description = "Household id")), responses((status = 200, body = HouseholdView)))]
#[get("/households/{household_id}")]
pub async fn get_household(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let (h, members) = state
        .checked(
            caller,
            Action::RegistryRead,
            On::Anywhere,
            move |c, p, _| {
                Box::pin(async move {
                    let h = households::get_household(c, id).await?;
                    let target = targets::grid(c, &p, h.grid_id).await?;
                    if !p.can(Action::RegistryRead, &target) {
                        return Err(ApiError::not_found());
                    }
                    // A member who moved to a grid the caller may not read is left out.
                    let mut members = Vec::new();
                    for r in households::household_members(c, id).await? {
                        if r.grid_id == h.grid_id
                            || p.can(
                                Action::RegistryRead,
                                &targets::grid(c, &p, r.grid_id).await?,
                            )
                        {
                            members.push(r);
                        }
                    }
                    Ok((h, members))
                })
            },
        )
        .await?;
    let members = members.iter().map(|r| resident_view(&state, r)).collect();
    Ok(HttpResponse::Ok().json(household_view(h, Some(members))))
}
