//! 社区: communities of a street.

use crate::http::input::Json;
use crate::http::input::Listed;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, get, patch, post};
use chrono::{DateTime, Utc};
use onegrid_domain::codes::{Level, check_code};
use onegrid_domain::permissions::Action;
use onegrid_store::registry::hierarchy;
use onegrid_store::targets::On;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::error::{ApiError, ApiResult};
use crate::http::{IdempotencyKey, IfMatch, PageQuery, Paged, check_name, ok_with_etag};
use crate::platform::auth::Caller;
use crate::state::{AppState, Created};

/// A community (社区/村).
#[derive(Debug, Serialize, ToSchema)]
pub struct CommunityView {
    pub id: Uuid,
    pub street_id: Uuid,
    /// 12 digits: the street's 9 plus 3.
    pub code: String,
    pub name: String,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<hierarchy::Community> for CommunityView {
    fn from(c: hierarchy::Community) -> Self {
        CommunityView {
            id: c.id,
            street_id: c.street_id,
            code: c.code,
            name: c.name,
            version: c.version,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// A new community.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCommunity {
    /// Full 12-digit code starting with the street's code.
    #[schema(example = "150203001001")]
    pub code: String,
    #[schema(example = "明日星城社区")]
    pub name: String,
}

/// Changes to a community.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommunityPatch {
    pub name: Option<String>,
}

/// List communities of a street
///
/// The communities (社区) of one street, in creation order.
#[utoipa::path(tag = "hierarchy", params(("street_id" = Uuid, Path, description = "Street id"), PageQuery), responses((status = 200, body = Paged<CommunityView>)))]
#[get("/streets/{street_id}/communities")]
pub async fn list_communities(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    Listed(_query, page): Listed,
) -> ApiResult<HttpResponse> {
    let street_id = id.into_inner();
    let rows = state
        .proven(
            caller,
            Action::HierarchyRead,
            On::Street(street_id),
            move |c| {
                Box::pin(async move { hierarchy::list_communities(c, street_id, &page).await })
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(rows, CommunityView::from)))
}

/// Create a community
///
/// Street admins add a community (社区) to their street. The code extends the
/// street's 9-digit code by 3 digits. Send `Idempotency-Key` to make retries safe.
#[utoipa::path(tag = "hierarchy", params(("street_id" = Uuid, Path, description = "Street id")), request_body = NewCommunity, responses((status = 201, body = CommunityView)))]
#[post("/streets/{street_id}/communities")]
pub async fn create_community(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    key: IdempotencyKey,
    body: Json<NewCommunity>,
) -> ApiResult<HttpResponse> {
    let street_id = id.into_inner();
    let body = body.into_inner();
    check_name("name", &body.name, 100)?;
    let request = (street_id, &body);
    let hash_input = serde_json::json!(request);
    state
        .create(
            caller,
            (Action::CommunityCreate, On::Street(street_id)),
            (key, crate::http::request_hash(&hash_input)),
            move |c, _, _| {
                Box::pin(async move {
                    let s = hierarchy::get_street(c, street_id).await?;
                    check_code(Level::Community, &body.code, Some(&s.code))
                        .map_err(|e| ApiError::field("code", e.to_string()))?;
                    let community =
                        hierarchy::create_community(c, s.id, &body.code, &body.name).await?;
                    let location = format!("/api/v1/communities/{}", community.id);
                    let version = community.version;
                    Created::new(CommunityView::from(community), location, Some(version))
                })
            },
        )
        .await
}

/// Get a community
///
/// One community. 404 when it is not in the caller's scope.
#[utoipa::path(tag = "hierarchy", params(("community_id" = Uuid, Path, description = "Community id")), responses((status = 200, body = CommunityView)))]
#[get("/communities/{community_id}")]
pub async fn get_community(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let community = state
        .load_checked(caller, Action::HierarchyRead, move |c| {
            Box::pin(hierarchy::get_community(c, id))
        })
        .await?;
    let version = community.version;
    Ok(ok_with_etag(&CommunityView::from(community), version))
}

/// Update a community
///
/// Renames a community. Requires `If-Match` (428 without, 412 on a stale ETag).
#[utoipa::path(tag = "hierarchy", params(("community_id" = Uuid, Path, description = "Community id"), ("If-Match" = String, Header, description = "ETag of the last read")), request_body = CommunityPatch, responses((status = 200, body = CommunityView)))]
#[patch("/communities/{community_id}")]
pub async fn update_community(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    if_match: IfMatch,
    body: Json<CommunityPatch>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let body = body.into_inner();
    if let Some(name) = &body.name {
        check_name("name", name, 100)?;
    }
    let community = state
        .checked(
            caller,
            Action::CommunityUpdate,
            On::Community(id),
            move |c, _, _| {
                Box::pin(async move {
                    let version = if_match.version()?;
                    Ok(hierarchy::update_community(c, id, version, body.name.as_deref()).await?)
                })
            },
        )
        .await?;
    let version = community.version;
    Ok(ok_with_etag(&CommunityView::from(community), version))
}
