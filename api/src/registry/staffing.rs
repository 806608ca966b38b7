//! 一格三员: who staffs a grid, by kind, over which days.

use crate::http::input::Json;
use crate::http::input::Query;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, delete, get, post};
use chrono::{DateTime, NaiveDate, Utc};
use onegrid_domain::permissions::Action;
use onegrid_domain::staffing::StaffKind;
use onegrid_store::platform::staff::{self, GridAssignment};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::staffing_use::{self, NewGridAssignmentBody};
use crate::http::error::{ApiError, ApiResult, Code};
use crate::http::{IdempotencyKey, parse_day};
use crate::platform::auth::Caller;
use crate::state::{AppState, Created};
use onegrid_store::targets::On;

/// A staff member assigned to a grid.
#[derive(Debug, Serialize, ToSchema)]
pub struct GridAssignmentView {
    pub id: Uuid,
    pub grid_id: Uuid,
    pub street_id: Uuid,
    pub user_id: Uuid,
    pub kind: StaffKind,
    /// The department of a department grid worker (部门网格员).
    pub department_id: Option<Uuid>,
    /// e.g. 楼栋长 (building head), 单元长 (unit head), 老党员.
    pub duty: Option<String>,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

impl GridAssignmentView {
    fn from_row(a: GridAssignment) -> ApiResult<GridAssignmentView> {
        let kind = StaffKind::parse(&a.kind)
            .ok_or_else(|| ApiError::new(Code::Internal, "unknown staff kind"))?;
        Ok(GridAssignmentView {
            id: a.id,
            grid_id: a.grid_id,
            street_id: a.street_id,
            user_id: a.user_id,
            kind,
            department_id: a.department_id,
            duty: a.duty,
            valid_from: a.valid_from,
            valid_to: a.valid_to,
            created_by: a.created_by,
            created_at: a.created_at,
        })
    }
}

/// Which assignments to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StaffFilter {
    /// Only those active on this day (`YYYY-MM-DD`); default: all, past and future.
    pub on: Option<String>,
}

/// List a grid's staff
///
/// The grid's assignments of the three kinds of staff (一格三员).
#[utoipa::path(tag = "staff", params(("grid_id" = Uuid, Path, description = "Grid id"), StaffFilter), responses((status = 200, body = Vec<GridAssignmentView>)))]
#[get("/grids/{grid_id}/staff")]
pub async fn list_grid_staff(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    filter: Query<StaffFilter>,
) -> ApiResult<HttpResponse> {
    let grid_id = id.into_inner();
    let on = parse_day("on", filter.on.as_deref())
        .map_err(|e| ApiError::new(Code::InvalidParameter, e.detail))?;
    let rows = state
        .proven(caller, Action::HierarchyRead, On::Grid(grid_id), move |c| {
            Box::pin(async move { staff::list_grid_staff(c, grid_id, on).await })
        })
        .await?;
    let views: ApiResult<Vec<_>> = rows.into_iter().map(GridAssignmentView::from_row).collect();
    Ok(HttpResponse::Ok().json(views?))
}

/// Assign grid staff
///
/// Assigns a full-time, part-time or department grid worker to a grid for a
/// window of days. The account must be visible to the caller.
#[utoipa::path(tag = "staff", params(("grid_id" = Uuid, Path, description = "Grid id")), request_body = NewGridAssignmentBody, responses((status = 201, body = GridAssignmentView)))]
#[post("/grids/{grid_id}/staff")]
pub async fn assign_grid_staff(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    key: IdempotencyKey,
    body: Json<NewGridAssignmentBody>,
) -> ApiResult<HttpResponse> {
    let grid_id = id.into_inner();
    let body = body.into_inner();
    let window = staffing_use::check(&body, state.clock.today())?;
    let hash = crate::http::request_hash(&serde_json::json!((grid_id, &body)));
    let on = (Action::GridStaffAssign, On::Grid(grid_id));
    state
        .create(caller, on, (key, hash), move |c, p, grid| {
            Box::pin(async move {
                let row = staffing_use::assign(c, &p, (grid_id, grid), body, window).await?;
                let location = format!("/api/v1/grids/{grid_id}/staff");
                Created::new(GridAssignmentView::from_row(row)?, location, None)
            })
        })
        .await
}

/// End a grid assignment
///
/// Ends the assignment now; coverage counts it no longer from today on.
#[utoipa::path(tag = "staff", params(("grid_assignment_id" = Uuid, Path, description = "Grid assignment id")), responses((status = 200, body = GridAssignmentView)))]
#[delete("/grid-assignments/{grid_assignment_id}")]
pub async fn end_grid_assignment(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let today = state.clock.today();
    let row = state
        .proven(
            caller,
            Action::GridStaffAssign,
            On::GridAssignment(id),
            move |c| Box::pin(async move { staff::end_grid_assignment(c, id, today).await }),
        )
        .await?;
    Ok(HttpResponse::Ok().json(GridAssignmentView::from_row(row)?))
}
