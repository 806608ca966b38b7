//! 一格三员 coverage: which grids lack one of the three kinds of staff.

use crate::http::input::Query;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, get};
use chrono::NaiveDate;
use onegrid_domain::permissions::Action;
use onegrid_domain::staffing::StaffKind;
use onegrid_store::platform::staff;
use onegrid_store::targets::On;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::http::error::{ApiError, ApiResult, Code};
use crate::http::parse_day;
use crate::platform::auth::Caller;
use crate::state::AppState;

/// One grid's staffing.
#[derive(Debug, Serialize, ToSchema)]
pub struct GridCoverageView {
    pub grid_id: Uuid,
    pub community_id: Uuid,
    pub code: String,
    pub name: String,
    pub full_time: u32,
    pub part_time: u32,
    pub department: u32,
    /// Kinds with nobody assigned: the staffing gap.
    pub missing: Vec<StaffKind>,
}

/// Totals over the grids.
#[derive(Debug, Serialize, ToSchema)]
pub struct CoverageSummary {
    pub grids: usize,
    /// Grids with all three kinds of staff.
    pub fully_staffed: usize,
    pub missing_full_time: usize,
    pub missing_part_time: usize,
    pub missing_department: usize,
}

/// Coverage of a community or street on a day.
#[derive(Debug, Serialize, ToSchema)]
pub struct CoverageView {
    pub street_id: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub community_id: Option<Uuid>,
    pub on: NaiveDate,
    pub summary: CoverageSummary,
    pub grids: Vec<GridCoverageView>,
}

/// Coverage options.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CoverageQuery {
    /// Day to evaluate (`YYYY-MM-DD`, default today in China).
    pub on: Option<String>,
    /// Only list grids with a gap.
    pub gaps_only: Option<bool>,
}

fn build(
    street_id: Uuid,
    community_id: Option<Uuid>,
    on: NaiveDate,
    rows: Vec<staff::GridCoverage>,
    gaps_only: bool,
) -> CoverageView {
    let grids: Vec<GridCoverageView> = rows
        .into_iter()
        .map(|g| GridCoverageView {
            missing: g.counts.missing(),
            grid_id: g.grid_id,
            community_id: g.community_id,
            code: g.code,
            name: g.name,
            full_time: g.counts.full_time,
            part_time: g.counts.part_time,
            department: g.counts.department,
        })
        .collect();
    let lacking = |k: StaffKind| grids.iter().filter(|g| g.missing.contains(&k)).count();
    let summary = CoverageSummary {
        grids: grids.len(),
        fully_staffed: grids.iter().filter(|g| g.missing.is_empty()).count(),
        missing_full_time: lacking(StaffKind::FullTime),
        missing_part_time: lacking(StaffKind::PartTime),
        missing_department: lacking(StaffKind::Department),
    };
    let grids = if gaps_only {
        grids
            .into_iter()
            .filter(|g| !g.missing.is_empty())
            .collect()
    } else {
        grids
    };
    CoverageView {
        street_id,
        community_id,
        on,
        summary,
        grids,
    }
}

fn day(state: &AppState, q: &CoverageQuery) -> ApiResult<NaiveDate> {
    Ok(parse_day("on", q.on.as_deref())
        .map_err(|e| ApiError::new(Code::InvalidParameter, e.detail))?
        .unwrap_or_else(|| state.clock.today()))
}

/// Staffing coverage of a community
///
/// For every grid of the community: how many full-time, part-time and
/// department grid workers are assigned on the day, and which kinds are missing.
#[utoipa::path(tag = "staff", params(("community_id" = Uuid, Path, description = "Community id"), CoverageQuery), responses((status = 200, body = CoverageView)))]
#[get("/communities/{community_id}/coverage")]
pub async fn community_coverage(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    q: Query<CoverageQuery>,
) -> ApiResult<HttpResponse> {
    let community_id = id.into_inner();
    let on = day(&state, &q)?;
    let gaps_only = q.gaps_only.unwrap_or(false);
    let view = state
        .checked(
            caller,
            Action::CoverageRead,
            On::Community(community_id),
            move |c, _, t| {
                Box::pin(async move {
                    let street_id = t.street.unwrap_or_default();
                    let rows = staff::coverage(c, street_id, Some(community_id), on).await?;
                    Ok(build(street_id, Some(community_id), on, rows, gaps_only))
                })
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Staffing coverage of a street
///
/// The same as the community coverage, over every grid of the street.
#[utoipa::path(tag = "staff", params(("street_id" = Uuid, Path, description = "Street id"), CoverageQuery), responses((status = 200, body = CoverageView)))]
#[get("/streets/{street_id}/coverage")]
pub async fn street_coverage(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    q: Query<CoverageQuery>,
) -> ApiResult<HttpResponse> {
    let street_id = id.into_inner();
    let on = day(&state, &q)?;
    let gaps_only = q.gaps_only.unwrap_or(false);
    let view = state
        .checked(
            caller,
            Action::CoverageRead,
            On::Street(street_id),
            move |c, _, _| {
                Box::pin(async move {
                    let rows = staff::coverage(c, street_id, None, on).await?;
                    Ok(build(street_id, None, on, rows, gaps_only))
                })
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(view))
}
