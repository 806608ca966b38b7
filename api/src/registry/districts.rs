//! 区: the caller's district.

use actix_web::{HttpResponse, get, web::Data};
use chrono::{DateTime, Utc};
use onegrid_domain::permissions::Action;
use onegrid_store::registry::hierarchy;
use onegrid_store::targets::On;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::error::ApiResult;
use crate::platform::auth::Caller;
use crate::state::AppState;

/// A district (区/旗县) with its 6-digit GB/T 2260 code.
#[derive(Debug, Serialize, ToSchema)]
pub struct DistrictView {
    pub id: Uuid,
    /// GB/T 2260 code, 6 digits.
    pub code: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

/// Get my district
///
/// The district (区) the caller belongs to: the root of the hierarchy
/// district → streets (街道) → communities (社区) → grids (网格).
#[utoipa::path(tag = "hierarchy", responses((status = 200, body = DistrictView)))]
#[get("/district")]
pub async fn get_my_district(state: Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let d = state
        .checked(caller, Action::HierarchyRead, On::Anywhere, |c, p, _| {
            Box::pin(async move { Ok(hierarchy::get_district(c, p.district_id).await?) })
        })
        .await?;
    Ok(HttpResponse::Ok().json(DistrictView {
        id: d.id,
        code: d.code,
        name: d.name,
        created_at: d.created_at,
    }))
}
