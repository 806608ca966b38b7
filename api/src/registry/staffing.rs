//! 一格三员: who staffs a grid, by kind, over which days.

use crate::http::input::Json;
use crate::http::input::Query;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, delete, get, post};
use chrono::{DateTime, NaiveDate, Utc};
use onegrid_domain::permissions::Action;
use onegrid_domain::staffing::StaffKind;
use onegrid_store::platform::staff::{self, GridAssignment, NewGridAssignment};
use onegrid_store::registry::departments;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::http::error::{ApiError, ApiResult, Code};
use crate::http::{IdempotencyKey, check_name, parse_day};
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

/// A staff member to assign.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGridAssignmentBody {
    pub user_id: Uuid,
    pub kind: StaffKind,
    /// Required for `department`, refused otherwise.
    pub department_id: Option<Uuid>,
    pub duty: Option<String>,
    #[schema(format = Date)]
    pub valid_from: Option<String>,
    #[schema(format = Date)]
    pub valid_to: Option<String>,
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
    let today = state.clock.today();
    let valid_from = parse_day("valid_from", body.valid_from.as_deref())?.unwrap_or(today);
    let valid_to = parse_day("valid_to", body.valid_to.as_deref())?;
    if valid_to.is_some_and(|to| to < valid_from) {
        return Err(ApiError::field("valid_to", "must not be before valid_from"));
    }
    if let Some(d) = &body.duty {
        check_name("duty", d, 100)?;
    }
    match (body.kind, body.department_id) {
        (StaffKind::Department, None) => {
            return Err(ApiError::field(
                "department_id",
                "required for a department grid worker",
            ));
        }
        (StaffKind::FullTime | StaffKind::PartTime, Some(_)) => {
            return Err(ApiError::field(
                "department_id",
                "only department grid workers have a department",
            ));
        }
        _ => {}
    }
    let hash_input = serde_json::json!((grid_id, &body));
    state
        .create(
            caller,
            (Action::GridStaffAssign, On::Grid(grid_id)),
            (key, crate::http::request_hash(&hash_input)),
            move |c, p, grid| {
                Box::pin(async move {
                    let user = staff::get_user(c, body.user_id)
                        .await
                        .map_err(crate::http::error::reference("user_id"))?;
                    if let Some(d) = body.department_id {
                        departments::get(c, d)
                            .await
                            .map_err(crate::http::error::reference("department_id"))?;
                    }
                    let row = staff::assign_grid_staff(
                        c,
                        NewGridAssignment {
                            street_id: grid.street.unwrap_or_default(),
                            grid_id,
                            user_id: user.id,
                            kind: body.kind,
                            district_id: p.district_id,
                            department_id: body.department_id,
                            duty: body.duty,
                            valid_from,
                            valid_to,
                            created_by: Some(p.accountable_user()),
                        },
                    )
                    .await?;
                    let location = format!("/api/v1/grids/{grid_id}/staff");
                    Created::new(GridAssignmentView::from_row(row)?, location, None)
                })
            },
        )
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
