//! The use case of staffing a grid (一格三员): the assignment a caller asks
//! for, checked for its window, its duty and its kind's department, and
//! written for an account and a department the caller can see. It knows no
//! HTTP.

use chrono::NaiveDate;
use onegrid_domain::permissions::Target;
use onegrid_domain::staffing::StaffKind;
use onegrid_store::platform::staff::{self, GridAssignment, NewGridAssignment};
use onegrid_store::registry::departments;
use onegrid_store::{Conn, Principal};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::error::{ApiError, ApiResult, reference};
use crate::http::{check_name, parse_day};

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

/// An assignment's window of days: from `valid_from` (default `today`) to
/// `valid_to`, if any.
pub type Window = (NaiveDate, Option<NaiveDate>);

/// Checks what can be checked without the database and returns the
/// assignment's window.
pub fn check(body: &NewGridAssignmentBody, today: NaiveDate) -> ApiResult<Window> {
    let valid_from = parse_day("valid_from", body.valid_from.as_deref())?.unwrap_or(today);
    let valid_to = parse_day("valid_to", body.valid_to.as_deref())?;
    if valid_to.is_some_and(|to| to < valid_from) {
        return Err(ApiError::field("valid_to", "must not be before valid_from"));
    }
    if let Some(d) = &body.duty {
        check_name("duty", d, 100)?;
    }
    match (body.kind, body.department_id) {
        (StaffKind::Department, None) => Err(ApiError::field(
            "department_id",
            "required for a department grid worker",
        )),
        (StaffKind::FullTime | StaffKind::PartTime, Some(_)) => Err(ApiError::field(
            "department_id",
            "only department grid workers have a department",
        )),
        _ => Ok((valid_from, valid_to)),
    }
}

/// Assigns `body.user_id` to the proven `grid` for `window`.
pub async fn assign(
    c: &mut Conn,
    p: &Principal,
    (grid_id, grid): (Uuid, Target),
    body: NewGridAssignmentBody,
    (valid_from, valid_to): Window,
) -> ApiResult<GridAssignment> {
    let user = staff::get_user(c, body.user_id)
        .await
        .map_err(reference("user_id"))?;
    if let Some(d) = body.department_id {
        departments::get(c, d)
            .await
            .map_err(reference("department_id"))?;
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
    Ok(row)
}
