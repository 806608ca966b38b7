//! 部门: the district's departments (police, justice, urban management, ...).

use crate::http::input::Json;
use crate::http::input::Listed;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, get, patch, post};
use chrono::{DateTime, Utc};
use onegrid_domain::departments::is_valid_department_code;
use onegrid_domain::permissions::Action;
use onegrid_store::registry::departments::{self, DepartmentChanges};
use onegrid_store::targets::On;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::error::{ApiError, ApiResult};
use crate::http::{IdempotencyKey, IfMatch, PageQuery, Paged, check_name, ok_with_etag};
use crate::platform::auth::Caller;
use crate::state::{AppState, Created};

/// A department of the district. New districts start with the ten of the seed.
#[derive(Debug, Serialize, ToSchema)]
pub struct DepartmentView {
    pub id: Uuid,
    pub district_id: Uuid,
    /// Stable code, e.g. `police`, `urban_management`.
    pub code: String,
    pub name: String,
    pub active: bool,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<departments::Department> for DepartmentView {
    fn from(d: departments::Department) -> Self {
        DepartmentView {
            id: d.id,
            district_id: d.district_id,
            code: d.code,
            name: d.name,
            active: d.active,
            version: d.version,
            created_at: d.created_at,
            updated_at: d.updated_at,
        }
    }
}

/// A new department.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDepartment {
    /// Lowercase letters, digits and `_`, starting with a letter (2-40).
    #[schema(example = "civil_affairs")]
    pub code: String,
    #[schema(example = "民政")]
    pub name: String,
}

/// Changes to a department.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DepartmentPatch {
    pub name: Option<String>,
    /// Inactive departments stay on record but take no new work.
    pub active: Option<bool>,
}

/// List departments
///
/// The departments of the caller's district.
#[utoipa::path(tag = "departments", params(PageQuery), responses((status = 200, body = Paged<DepartmentView>)))]
#[get("/departments")]
pub async fn list_departments(
    state: Data<AppState>,
    caller: Caller,
    Listed(_query, page): Listed,
) -> ApiResult<HttpResponse> {
    let rows = state
        .proven(caller, Action::DepartmentRead, On::Anywhere, move |c| {
            Box::pin(async move { departments::list(c, &page).await })
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(rows, DepartmentView::from)))
}

/// Create a department
///
/// District admins add a department beyond the ten defaults.
#[utoipa::path(tag = "departments", request_body = NewDepartment, responses((status = 201, body = DepartmentView)))]
#[post("/departments")]
pub async fn create_department(
    state: Data<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    body: Json<NewDepartment>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    check_name("name", &body.name, 100)?;
    if !is_valid_department_code(&body.code) {
        return Err(ApiError::field(
            "code",
            "lowercase letters, digits and _, starting with a letter, 2-40 characters",
        ));
    }
    state
        .create(
            caller,
            (Action::DepartmentManage, On::District),
            (key, crate::http::request_hash(&body)),
            move |c, p, _| {
                Box::pin(async move {
                    let d = departments::create(c, p.district_id, &body.code, &body.name).await?;
                    let location = format!("/api/v1/departments/{}", d.id);
                    let version = d.version;
                    Created::new(DepartmentView::from(d), location, Some(version))
                })
            },
        )
        .await
}

/// Get a department
///
/// One department of the caller's district.
#[utoipa::path(tag = "departments", params(("department_id" = Uuid, Path, description = "Department id")), responses((status = 200, body = DepartmentView)))]
#[get("/departments/{department_id}")]
pub async fn get_department(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let d = state
        .proven(caller, Action::DepartmentRead, On::Anywhere, move |c| {
            Box::pin(async move { departments::get(c, id).await })
        })
        .await?;
    let version = d.version;
    Ok(ok_with_etag(&DepartmentView::from(d), version))
}

/// Update a department
///
/// Renames or (de)activates a department. Requires `If-Match`.
#[utoipa::path(tag = "departments", params(("department_id" = Uuid, Path, description = "Department id"), ("If-Match" = String, Header, description = "ETag of the last read")), request_body = DepartmentPatch, responses((status = 200, body = DepartmentView)))]
#[patch("/departments/{department_id}")]
pub async fn update_department(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    if_match: IfMatch,
    body: Json<DepartmentPatch>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let body = body.into_inner();
    if let Some(name) = &body.name {
        check_name("name", name, 100)?;
    }
    let d = state
        .on_row(
            caller,
            Action::DepartmentManage,
            move |c| Box::pin(departments::get(c, id)),
            move |c, _, _| {
                Box::pin(async move {
                    let version = if_match.version()?;
                    Ok(departments::update(
                        c,
                        id,
                        version,
                        DepartmentChanges {
                            name: body.name,
                            active: body.active,
                        },
                    )
                    .await?)
                })
            },
        )
        .await?;
    let version = d.version;
    Ok(ok_with_etag(&DepartmentView::from(d), version))
}
