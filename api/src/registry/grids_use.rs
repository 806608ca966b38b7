//! The use case of drawing a new grid in a community: its code under the
//! community's, its name, target and boundary checked. It knows no HTTP.

use onegrid_domain::codes::{Level, check_code};
use onegrid_store::Conn;
use onegrid_store::registry::hierarchy::{self, Grid, NewGrid};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::check_name;
use crate::http::error::{ApiError, ApiResult};
use crate::registry::geo::check_boundary;

/// A new grid.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGridBody {
    /// Full 15-digit code starting with the community's code.
    #[schema(example = "150203001001001")]
    pub code: String,
    #[schema(example = "第一网格")]
    pub name: String,
    #[schema(minimum = 1, maximum = 100000, example = 450)]
    pub target_households: Option<i32>,
    /// GeoJSON Polygon or MultiPolygon (WGS 84).
    #[schema(value_type = Option<Object>)]
    pub boundary: Option<serde_json::Value>,
}

/// 422 unless a grid's target is 1 to 100,000 households.
pub fn check_households(value: Option<i32>) -> ApiResult<()> {
    match value {
        Some(n) if !(1..=100_000).contains(&n) => Err(ApiError::field(
            "target_households",
            "must be between 1 and 100000",
        )),
        _ => Ok(()),
    }
}

/// Checks a new grid's values that need no database.
pub fn check_new(body: &NewGridBody) -> ApiResult<()> {
    check_name("name", &body.name, 100)?;
    check_households(body.target_households)?;
    match &body.boundary {
        Some(b) => check_boundary(b),
        None => Ok(()),
    }
}

/// Creates the grid in community `community_id`, its code under the
/// community's.
pub async fn create(c: &mut Conn, community_id: Uuid, body: NewGridBody) -> ApiResult<Grid> {
    let community = hierarchy::get_community(c, community_id).await?;
    check_code(Level::Grid, &body.code, Some(&community.code))
        .map_err(|e| ApiError::field("code", e.to_string()))?;
    let new = NewGrid {
        street_id: community.street_id,
        community_id,
        code: &body.code,
        name: &body.name,
        target_households: body.target_households,
        boundary: body.boundary,
    };
    Ok(hierarchy::create_grid(c, new).await?)
}
