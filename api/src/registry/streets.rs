//! 街道: streets, the tenants of a deployment.

use crate::http::input::Json;
use crate::http::input::Listed;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, get, patch, post};
use chrono::{DateTime, Utc};
use onegrid_domain::codes::{Level, check_code};
use onegrid_domain::permissions::Action;
use onegrid_domain::text::Name;
use onegrid_store::targets::On;
use onegrid_store::{registry::hierarchy, scope};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::error::{ApiError, ApiResult};
use crate::http::{IdempotencyKey, IfMatch, PageQuery, Paged, check_name, ok_with_etag};
use crate::platform::auth::Caller;
use crate::state::{AppState, Created};

/// A street (街道/镇), the tenant: nothing of one street is visible to another.
#[derive(Debug, Serialize, ToSchema)]
pub struct StreetView {
    pub id: Uuid,
    pub district_id: Uuid,
    /// 9 digits: the district's 6 plus 3.
    pub code: String,
    pub name: String,
    /// Version for `If-Match` (also the `ETag`).
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<hierarchy::Street> for StreetView {
    fn from(s: hierarchy::Street) -> Self {
        StreetView {
            id: s.id,
            district_id: s.district_id,
            code: s.code,
            name: s.name,
            version: s.version,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

/// A new street.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStreet {
    /// Full 9-digit code starting with the district's code.
    #[schema(example = "150203001", pattern = "^[0-9]{9}$")]
    pub code: String,
    #[schema(example = "团结街道")]
    pub name: Name<100>,
}

/// Changes to a street.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StreetPatch {
    pub name: Option<String>,
}

/// List streets
///
/// The streets the caller can see: their own street, or every street of the
/// district for district-level roles and department staff.
#[utoipa::path(tag = "hierarchy", params(PageQuery), responses((status = 200, body = Paged<StreetView>)))]
#[get("/streets")]
pub async fn list_streets(
    state: Data<AppState>,
    caller: Caller,
    Listed(_query, page): Listed,
) -> ApiResult<HttpResponse> {
    let rows = state
        .proven(caller, Action::HierarchyRead, On::Anywhere, move |c| {
            Box::pin(async move { hierarchy::list_streets(c, &page).await })
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(rows, StreetView::from)))
}

/// Create a street
///
/// District admins add a street (街道) to their district. The code must extend
/// the district's 6-digit code by 3 digits. Send `Idempotency-Key` to make
/// retries safe.
#[utoipa::path(tag = "hierarchy", request_body = NewStreet, responses((status = 201, body = StreetView)))]
#[post("/streets")]
pub async fn create_street(
    state: Data<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    body: Json<NewStreet>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    state
        .create(
            caller,
            (Action::StreetCreate, On::District),
            (key, crate::http::request_hash(&body)),
            move |c, mut p, _| {
                Box::pin(async move {
                    let district = hierarchy::get_district(c, p.district_id).await?;
                    check_code(Level::Street, &body.code, Some(&district.code))
                        .map_err(|e| ApiError::field("code", e.to_string()))?;
                    let street =
                        hierarchy::create_street(c, district.id, &body.code, &body.name).await?;
                    scope::refresh_streets(c, &mut p).await?;
                    let location = format!("/api/v1/streets/{}", street.id);
                    let version = street.version;
                    Created::new(StreetView::from(street), location, Some(version))
                })
            },
        )
        .await
}

/// Get a street
///
/// One street. 404 when it is not in the caller's scope.
#[utoipa::path(tag = "hierarchy", params(("street_id" = Uuid, Path, description = "Street id")), responses((status = 200, body = StreetView)))]
#[get("/streets/{street_id}")]
pub async fn get_street(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let street = state
        .load_checked(caller, Action::HierarchyRead, move |c| {
            Box::pin(hierarchy::get_street(c, id))
        })
        .await?;
    let version = street.version;
    Ok(ok_with_etag(&StreetView::from(street), version))
}

/// Update a street
///
/// Renames a street. Requires `If-Match` with the ETag of the last read
/// (428 without it, 412 when the street changed meanwhile).
#[utoipa::path(tag = "hierarchy", params(("street_id" = Uuid, Path, description = "Street id"), ("If-Match" = String, Header, description = "ETag of the last read")), request_body = StreetPatch, responses((status = 200, body = StreetView)))]
#[patch("/streets/{street_id}")]
pub async fn update_street(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    if_match: IfMatch,
    body: Json<StreetPatch>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let body = body.into_inner();
    if let Some(name) = &body.name {
        check_name("name", name, 100)?;
    }
    let street = state
        .checked(
            caller,
            Action::StreetUpdate,
            On::Street(id),
            move |c, _, _| {
                Box::pin(async move {
                    let version = if_match.version()?;
                    Ok(hierarchy::update_street(c, id, version, body.name.as_deref()).await?)
                })
            },
        )
        .await?;
    let version = street.version;
    Ok(ok_with_etag(&StreetView::from(street), version))
}
