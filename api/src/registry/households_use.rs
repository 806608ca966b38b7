//! The use case of recording a household (户) of a grid, at a dwelling of
//! the same grid if one is named. It knows no HTTP.

use onegrid_domain::permissions::Target;
use onegrid_store::Conn;
use onegrid_store::registry::households::{self, Household};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::check_name;
use crate::http::error::{ApiError, ApiResult, Code, reference};

/// A new household.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HouseholdBody {
    pub dwelling_id: Option<Uuid>,
    pub address: Option<String>,
}

/// Checks a new household's values that need no database.
pub fn check_new(body: &HouseholdBody) -> ApiResult<()> {
    match &body.address {
        Some(a) => check_name("address", a, 200),
        None => Ok(()),
    }
}

/// Records the household in the proven `grid`.
pub async fn record(
    c: &mut Conn,
    (grid_id, grid): (Uuid, Target),
    body: HouseholdBody,
) -> ApiResult<Household> {
    if let Some(d) = body.dwelling_id {
        let dwelling = households::get_dwelling(c, d)
            .await
            .map_err(reference("dwelling_id"))?;
        if dwelling.grid_id != grid_id {
            return Err(ApiError::new(
                Code::InvalidReference,
                "dwelling_id is not in this grid",
            ));
        }
    }
    let street_id = grid.street.unwrap_or_default();
    let h = households::create_household(c, street_id, grid_id, body.dwelling_id, body.address);
    Ok(h.await?)
}
