//! 网格: grids of about 450 households, with their 15-digit code and boundary.

use crate::http::input::Json;
use crate::http::input::Listed;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, get, patch, post};
use chrono::{DateTime, Utc};
use onegrid_domain::permissions::Action;
use onegrid_store::registry::hierarchy::{self, GridChanges};
use onegrid_store::targets::On;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::error::ApiResult;
use crate::http::{
    IdempotencyKey, IfMatch, PageQuery, Paged, check_name, double_option, ok_with_etag,
};
use crate::platform::auth::Caller;
use crate::registry::geo::check_boundary;
use crate::state::{AppState, Created};

use super::grids_use::{self, NewGridBody, check_households};

/// A grid (网格).
#[derive(Debug, Serialize, ToSchema)]
pub struct GridView {
    pub id: Uuid,
    pub street_id: Uuid,
    pub community_id: Uuid,
    /// 15 digits: district 6 + street 3 + community 3 + grid 3.
    pub code: String,
    pub name: String,
    /// Households the grid is sized for (about 450).
    pub target_households: Option<i32>,
    /// GeoJSON Polygon or MultiPolygon (WGS 84).
    #[schema(value_type = Option<Object>)]
    pub boundary: Option<serde_json::Value>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<hierarchy::Grid> for GridView {
    fn from(g: hierarchy::Grid) -> Self {
        GridView {
            id: g.id,
            street_id: g.street_id,
            community_id: g.community_id,
            code: g.code,
            name: g.name,
            target_households: g.target_households,
            boundary: g.boundary,
            version: g.version,
            created_at: g.created_at,
            updated_at: g.updated_at,
        }
    }
}

/// Changes to a grid; `null` clears `target_households` or `boundary`.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GridPatch {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i32>, minimum = 1, maximum = 100000)]
    pub target_households: Option<Option<i32>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Object>)]
    pub boundary: Option<Option<serde_json::Value>>,
}

/// List grids of a community
///
/// The grids (网格) of one community, in creation order.
#[utoipa::path(tag = "hierarchy", params(("community_id" = Uuid, Path, description = "Community id"), PageQuery), responses((status = 200, body = Paged<GridView>)))]
#[get("/communities/{community_id}/grids")]
pub async fn list_grids(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    Listed(_query, page): Listed,
) -> ApiResult<HttpResponse> {
    let community_id = id.into_inner();
    let rows = state
        .proven(
            caller,
            Action::HierarchyRead,
            On::Community(community_id),
            move |c| Box::pin(async move { hierarchy::list_grids(c, community_id, &page).await }),
        )
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(rows, GridView::from)))
}

/// Create a grid
///
/// Community admins split their community into grids. The code extends the
/// community's 12-digit code by 3 digits. Send `Idempotency-Key` to make retries safe.
#[utoipa::path(tag = "hierarchy", params(("community_id" = Uuid, Path, description = "Community id")), request_body = NewGridBody, responses((status = 201, body = GridView)))]
#[post("/communities/{community_id}/grids")]
pub async fn create_grid(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    key: IdempotencyKey,
    body: Json<NewGridBody>,
) -> ApiResult<HttpResponse> {
    let community_id = id.into_inner();
    let body = body.into_inner();
    grids_use::check_new(&body)?;
    let hash = crate::http::request_hash(&serde_json::json!((community_id, &body)));
    let on = (Action::GridCreate, On::Community(community_id));
    state
        .create(caller, on, (key, hash), move |c, _, _| {
            Box::pin(async move {
                let grid = grids_use::create(c, community_id, body).await?;
                let location = format!("/api/v1/grids/{}", grid.id);
                let version = grid.version;
                Created::new(GridView::from(grid), location, Some(version))
            })
        })
        .await
}

/// Get a grid
///
/// One grid with its boundary. 404 when it is not in the caller's scope.
#[utoipa::path(tag = "hierarchy", params(("grid_id" = Uuid, Path, description = "Grid id")), responses((status = 200, body = GridView)))]
#[get("/grids/{grid_id}")]
pub async fn get_grid(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let grid = state
        .load_checked(caller, Action::HierarchyRead, move |c| {
            Box::pin(hierarchy::get_grid(c, id))
        })
        .await?;
    let version = grid.version;
    Ok(ok_with_etag(&GridView::from(grid), version))
}

/// Update a grid
///
/// Changes a grid's name, target households or boundary (`null` clears the
/// last two). Requires `If-Match` (428 without, 412 on a stale ETag).
#[utoipa::path(tag = "hierarchy", params(("grid_id" = Uuid, Path, description = "Grid id"), ("If-Match" = String, Header, description = "ETag of the last read")), request_body = GridPatch, responses((status = 200, body = GridView)))]
#[patch("/grids/{grid_id}")]
pub async fn update_grid(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    if_match: IfMatch,
    body: Json<GridPatch>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let body = body.into_inner();
    if let Some(name) = &body.name {
        check_name("name", name, 100)?;
    }
    check_households(body.target_households.flatten())?;
    if let Some(Some(b)) = &body.boundary {
        check_boundary(b)?;
    }
    let grid = state
        .checked(caller, Action::GridUpdate, On::Grid(id), move |c, _, _| {
            Box::pin(async move {
                let version = if_match.version()?;
                let changes = GridChanges {
                    name: body.name,
                    target_households: body.target_households,
                    boundary: body.boundary,
                };
                Ok(hierarchy::update_grid(c, id, version, changes).await?)
            })
        })
        .await?;
    let version = grid.version;
    Ok(ok_with_etag(&GridView::from(grid), version))
}
