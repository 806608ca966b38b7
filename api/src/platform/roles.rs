//! Dated role assignments: a role held in a scope from one day to another.

use crate::http::input::Json;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, delete, get, post};
use chrono::{DateTime, NaiveDate, Utc};
use onegrid_domain::permissions::{Action, Role, may_grant};
use onegrid_store::platform::staff::{self, RoleAssignment};
use onegrid_store::targets::On;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::IdempotencyKey;
use crate::http::error::{ApiError, ApiResult, Code};
use crate::platform::auth::Caller;
use crate::platform::grants_use::{self, NewRoleAssignment};
use crate::platform::scope_ref::ScopeView;
use crate::state::{AppState, Created};

/// A role held in a scope during a window of days (China time, inclusive).
#[derive(Debug, Serialize, ToSchema)]
pub struct RoleAssignmentView {
    pub id: Uuid,
    pub user_id: Uuid,
    pub role: Role,
    pub scope: ScopeView,
    pub valid_from: NaiveDate,
    /// Last valid day; absent when open-ended.
    pub valid_to: Option<NaiveDate>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

impl RoleAssignmentView {
    pub fn from_row(r: RoleAssignment) -> ApiResult<RoleAssignmentView> {
        let role = Role::parse(&r.role)
            .ok_or_else(|| ApiError::new(Code::Internal, format!("unknown role {}", r.role)))?;
        let scope = r
            .scope()
            .ok_or_else(|| ApiError::new(Code::Internal, "role assignment with a broken scope"))?;
        Ok(RoleAssignmentView {
            id: r.id,
            user_id: r.user_id,
            role,
            scope: ScopeView::from(&scope),
            valid_from: r.valid_from,
            valid_to: r.valid_to,
            created_by: r.created_by,
            created_at: r.created_at,
        })
    }
}

/// List a user's roles
///
/// Every role assignment of the account the caller can see, past and future ones included.
#[utoipa::path(tag = "staff", params(("user_id" = Uuid, Path, description = "User id")), responses((status = 200, body = Vec<RoleAssignmentView>)))]
#[get("/users/{user_id}/roles")]
pub async fn list_roles(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let rows = crate::platform::users::read_account(&state, caller, id, move |c, _| {
        Box::pin(async move { Ok(staff::list_roles(c, id).await?) })
    })
    .await?;
    let views: ApiResult<Vec<_>> = rows.into_iter().map(RoleAssignmentView::from_row).collect();
    Ok(HttpResponse::Ok().json(views?))
}

/// Grant a role
///
/// Grants a role in a scope for a window of days. The granter needs
/// `role.assign` over the scope and may only grant the roles their own role
/// may grant (see the permission matrix).
#[utoipa::path(tag = "staff", params(("user_id" = Uuid, Path, description = "User id")), request_body = NewRoleAssignment, responses((status = 201, body = RoleAssignmentView)))]
#[post("/users/{user_id}/roles")]
pub async fn assign_role(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    key: IdempotencyKey,
    body: Json<NewRoleAssignment>,
) -> ApiResult<HttpResponse> {
    let (user_id, body) = (id.into_inner(), body.into_inner());
    let window = grants_use::check_window(&body, state.clock.today())?;
    let hash_input = serde_json::json!((user_id, &body));
    // The scope is named in the body: it is found (422 when it is not) and
    // checked in the create.
    state
        .create(
            caller,
            (Action::RoleAssign, On::AnywhereForAccount(user_id)),
            (key, crate::http::request_hash(&hash_input)),
            move |c, p, _| {
                Box::pin(async move {
                    let row = grants_use::grant_role(c, &p, user_id, body, window).await?;
                    let location = format!("/api/v1/users/{user_id}/roles");
                    Created::new(RoleAssignmentView::from_row(row)?, location, None)
                })
            },
        )
        .await
}

/// End a role assignment
///
/// Ends the assignment now: it no longer counts from today on, and requests
/// already in flight with the role are refused on their next call. Only roles
/// the caller may grant can be ended. Ending an ended assignment is a no-op.
#[utoipa::path(tag = "staff", params(("role_assignment_id" = Uuid, Path, description = "Role assignment id")), responses((status = 200, body = RoleAssignmentView)))]
#[delete("/role-assignments/{role_assignment_id}")]
pub async fn end_role(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let today = state.clock.today();
    let row = state
        .on_row(
            caller,
            Action::RoleAssign,
            move |c| Box::pin(staff::get_role(c, id)),
            move |c, p, row| {
                Box::pin(async move {
                    let scope = row.scope().ok_or_else(|| {
                        ApiError::new(Code::Internal, "role assignment with a broken scope")
                    })?;
                    let role = Role::parse(&row.role)
                        .ok_or_else(|| ApiError::new(Code::Internal, "unknown role"))?;
                    if !may_grant(&p.grants, role, &scope) {
                        return Err(ApiError::forbidden("role.assign")
                            .with_detail(format!("your role may not end {} here", role.as_str())));
                    }
                    Ok(staff::end_role(c, id, today).await?)
                })
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(RoleAssignmentView::from_row(row)?))
}
